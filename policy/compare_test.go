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
		ok   bool
	}{
		{"2026-01-01T00:00:00Z", ref, true},
		{"2026-01-01T01:00:00+01:00", ref, true},
		{"2026-01-01T00:00Z", ref, true},
		{"2026-01-01T00:00:00", ref, true},
		{"2026-01-01T00:00", ref, true},
		{"2026-01-01", ref, true},
		{"20260101T000000Z", ref, true},
		{"2026-01-01T00:00:00.25Z", ref.Add(250 * time.Millisecond), true},
		{"1767225600", ref, true},
		{"1767225600.25", ref.Add(250 * time.Millisecond), true},
		{"-1", time.Unix(-1, 0), true},
		{"", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"2026-13-01", time.Time{}, false},
		{"1767225600.", time.Time{}, false},
		{"1767225600.1234567890", time.Time{}, false},
		{"99999999999999999999", time.Time{}, false},
	} {
		got, ok := parseDate(c.in)
		if ok != c.ok || ok && !got.Equal(c.want) {
			t.Errorf("parseDate(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
