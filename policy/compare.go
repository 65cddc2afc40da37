package policy

import (
	"strconv"
	"strings"
	"time"
)

// The Numeric and Date condition operators of IAM's grammar, which AWS IoT policies share
// ("AWS IoT Core policies ... follow the same conventions as IAM policies"; operators:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
//
// IAM's rules, as implemented here:
//   - a policy value that is not a number (Numeric) or a date (Date) makes the policy invalid;
//   - a request value that is not one makes the condition false, whatever the operator (the
//     negated ones too: the values cannot be compared);
//   - Date values are ISO 8601 date-times or dates, or epoch seconds (the two forms IAM's
//     aws:CurrentTime and aws:EpochTime take).

// cmpOp is how a Numeric or Date operator compares the request's value x with a policy value y.
type cmpOp uint8

const (
	cmpEq cmpOp = iota // x == y (NotEquals: the negation)
	cmpLt              // x < y
	cmpLe              // x <= y
	cmpGt              // x > y
	cmpGe              // x >= y
)

// holds reports whether c relates x to y, given x compared to y as -1, 0 or +1.
func (op cmpOp) holds(order int) bool {
	switch op {
	case cmpEq:
		return order == 0
	case cmpLt:
		return order < 0
	case cmpLe:
		return order <= 0
	case cmpGt:
		return order > 0
	default:
		return order >= 0
	}
}

// parseNumber reads a decimal number as IAM's Numeric operators take it: an optional sign,
// digits with an optional fraction, an optional exponent. Not hexadecimal, not "Inf" or "NaN",
// no white space, no digit separators.
func parseNumber(s string) (float64, bool) {
	i, n := 0, len(s)
	if i < n && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := 0
	for ; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < n && s[i] == '.' {
		i++
		for ; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < n && (s[i] == '-' || s[i] == '+') {
			i++
		}
		exp := 0
		for ; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != n {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // out of float64's range
		return 0, false
	}
	return f, true
}

// dateLayouts are the ISO 8601 forms a Date operator reads. A date-time without a zone is UTC,
// as is a date alone (its midnight).
var dateLayouts = [...]string{
	time.RFC3339Nano,                // 2026-12-05T06:00:00Z, 2026-12-05T06:00:00.5+01:00
	"2006-01-02T15:04Z07:00",        // without seconds
	"2006-01-02T15:04:05.999999999", // no zone: UTC
	"2006-01-02T15:04",
	"2006-01-02",
	"20060102T150405Z07:00", // ISO 8601 basic format
}

// parseDate reads an ISO 8601 date-time or date, or epoch seconds (an integer, optionally with
// a fraction).
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if c := s[0]; c >= '0' && c <= '9' || c == '-' {
		if sec, frac, ok := epochSeconds(s); ok {
			return time.Unix(sec, frac).UTC(), true
		}
	}
	if len(s) < 10 {
		return time.Time{}, false
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// epochSeconds reads "1733378400" or "1733378400.25" (at most nine fraction digits).
func epochSeconds(s string) (sec int64, nsec int64, ok bool) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || whole == "-" {
		return 0, 0, false
	}
	for i := 0; i < len(whole); i++ {
		if c := whole[i]; !(c >= '0' && c <= '9' || i == 0 && c == '-') {
			return 0, 0, false
		}
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if hasFrac {
		if frac == "" || len(frac) > 9 {
			return 0, 0, false
		}
		for i := 0; i < len(frac); i++ {
			if c := frac[i]; c < '0' || c > '9' {
				return 0, 0, false
			}
			nsec = nsec*10 + int64(frac[i]-'0')
		}
		for i := len(frac); i < 9; i++ {
			nsec *= 10
		}
		if whole[0] == '-' {
			nsec = -nsec
		}
	}
	return sec, nsec, true
}

// compareNumbers orders x and y.
func compareNumbers(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// evalCompare is a Numeric or Date condition on one request value: false when the value does not
// parse; otherwise whether some policy value relates to it (or, negated, none does).
func (c *cond) evalCompare(val string) bool {
	in := false
	if c.family == famNumeric {
		x, ok := parseNumber(val)
		if !ok {
			return false
		}
		for _, y := range c.nums {
			if c.cmp.holds(compareNumbers(x, y)) {
				in = true
				break
			}
		}
	} else {
		x, ok := parseDate(val)
		if !ok {
			return false
		}
		for _, y := range c.times {
			if c.cmp.holds(x.Compare(y)) {
				in = true
				break
			}
		}
	}
	return in != c.neg
}
