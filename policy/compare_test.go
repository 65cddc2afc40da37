package policy

import (
	"testing"
	"time"
)

func TestParseNumber(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"10", 10, true}, {"-2.5", -2.5, true}, {"+3", 3, true}, {".5", 0.5, true}, {"5.", 5, true},
		{"1e3", 1000, true}, {"1E-2", 0.01, true},
		{"", 0, false}, {"-", 0, false}, {".", 0, false}, {"1e", 0, false}, {"0x10", 0, false},
		{"Inf", 0, false}, {"NaN", 0, false}, {" 1", 0, false}, {"1_000", 0, false}, {"1e999", 0, false},
	} {
		got, ok := parseNumber(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("parseNumber(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestParseDate(t *testing.T) {
	ref := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"2026-01-01T00:00:00Z", ref},
		{"2026-01-01T01:00:00+01:00", ref},
		{"2026-01-01T00:00Z", ref},
		{"2026-01-01T00:00:00", ref},
		{"2026-01-01T00:00", ref},
		{"2026-01-01", ref},
		{"20260101T000000Z", ref},
		{"2026-01-01T00:00:00.25Z", ref.Add(250 * time.Millisecond)},
		{"1767225600", ref},
		{"1767225600.25", ref.Add(250 * time.Millisecond)},
		{"-1", time.Unix(-1, 0)},
		{"2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"2026-01-01T00:00:00-0130", ref.Add(90 * time.Minute)},
		{"2026-01-01T00:00:00,5Z", ref.Add(500 * time.Millisecond)},
		{"2026-01-01T00:00:00.1234567891Z", ref.Add(123456789)},
	} {
		got, ok := parseDate(c.in)
		if !ok || !got.Equal(c.want) {
			t.Errorf("parseDate(%q) = %v, %v; want %v", c.in, got, ok, c.want)
		}
	}
	for _, in := range []string{
		"2026-02-29", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00Zx", "2026-01-01T00:00:00+01",
		"2026-01-01T", "2026-01-01 00:00:00", "2026-1-01", "", "yesterday", "2026-13-01", "1767225600.",
		"1767225600.1234567890", "99999999999999999999",
	} {
		if got, ok := parseDate(in); ok {
			t.Errorf("parseDate(%q) = %v, want not a date", in, got)
		}
	}
}

// TestCompareNoAlloc: Numeric and Date conditions run on every decision; they must not allocate.
func TestCompareNoAlloc(t *testing.T) {
	set := MustCompileJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{
	  "NumericLessThan":{"context:n":"100"},"DateGreaterThan":{"context:t":"2026-01-01T00:00:00Z"},"DateLessThan":{"context:e":"2030-01-01"}}}]}`)
	v := &Vars{Context: map[string]string{"n": "42.5", "t": "2026-06-01T12:00:00+02:00", "e": "1767225600"}}
	if got := set.Evaluate(ActionPublish, "arn:aws:iot:us-east-1:123456789012:topic/x", v); got != Allowed {
		t.Fatalf("Evaluate = %s", got)
	}
	if n := testing.AllocsPerRun(100, func() { set.Evaluate(ActionPublish, "arn:aws:iot:us-east-1:123456789012:topic/x", v) }); n != 0 {
		t.Errorf("Evaluate with Numeric and Date conditions allocates %v times", n)
	}
	v.Context["t"] = "not a date"
	if n := testing.AllocsPerRun(100, func() { set.Evaluate(ActionPublish, "arn:aws:iot:us-east-1:123456789012:topic/x", v) }); n != 0 {
		t.Errorf("Evaluate with an unparsable date allocates %v times", n)
	}
}

// BenchmarkEvaluate_numericDate is one decision with a Numeric and two Date conditions.
func BenchmarkEvaluate_numericDate(b *testing.B) {
	set := MustCompileJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{
	  "NumericLessThan":{"context:n":"100"},"DateGreaterThan":{"context:t":"2026-01-01T00:00:00Z"},"DateLessThan":{"context:e":"2030-01-01"}}}]}`)
	v := &Vars{Context: map[string]string{"n": "42.5", "t": "2026-06-01T12:00:00+02:00", "e": "1767225600"}}
	for b.Loop() {
		if set.Evaluate(ActionPublish, "arn:aws:iot:us-east-1:123456789012:topic/x", v) != Allowed {
			b.Fatal("not allowed")
		}
	}
}

// FuzzParseDate checks parseDate against the standard library: whatever time.Parse reads as
// RFC 3339 (or a date alone) in its canonical form, parseDate reads as the same instant; whatever parseDate reads
// survives a round trip through RFC 3339.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-01-01T00:00:00Z", "2026-01-01T01:00:00.5+01:00", "2026-01-01", "20260101T000000Z", "1767225600.25", "-1", "2024-02-29T23:59:59-23:59"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseDate(s)
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
			// Only the canonical texts: time.Parse also takes one-digit hours, which ISO 8601 does not.
			if want, err := time.Parse(layout, s); err == nil && want.Format(layout) == s && (!ok || !got.Equal(want)) {
				t.Fatalf("parseDate(%q) = %v, %v; time.Parse = %v", s, got, ok, want)
			}
		}
		if ok && got.Year() >= 0 && got.Year() <= 9999 {
			back, ok2 := parseDate(got.Format(time.RFC3339Nano))
			if !ok2 || !back.Equal(got) {
				t.Fatalf("parseDate(%q) = %v; its RFC 3339 form reads back as %v, %v", s, got, back, ok2)
			}
		}
	})
}
