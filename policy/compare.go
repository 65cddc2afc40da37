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

// parseDate reads an ISO 8601 date-time or date, or epoch seconds (an integer, optionally with
// a fraction of at most nine digits). The ISO 8601 forms: YYYY-MM-DD, optionally followed by
// Thh:mm, Thh:mm:ss or Thh:mm:ss.fraction, then Z, ±hh:mm, ±hhmm or nothing (UTC); and the basic
// form YYYYMMDDThhmmss with the same endings. It does not allocate (it runs on every decision
// with a Date condition).
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, ok := parseISO8601(s); ok {
		return t, true
	}
	if sec, nsec, ok := epochSeconds(s); ok {
		return time.Unix(sec, nsec).UTC(), true
	}
	return time.Time{}, false
}

// digits reads n decimal digits at s[i:].
func digits(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func parseISO8601(s string) (time.Time, bool) {
	var year, month, day, hour, minute, sec, nsec int
	var ok bool
	i := 0
	basic := len(s) >= 9 && s[8] == 'T' // YYYYMMDDT...
	if year, ok = digits(s, 0, 4); !ok {
		return time.Time{}, false
	}
	i = 4
	sep := func(c byte) bool {
		if basic {
			return true
		}
		if i < len(s) && s[i] == c {
			i++
			return true
		}
		return false
	}
	// two reads two digits into *v.
	two := func(v *int) bool {
		n, ok := digits(s, i, 2)
		*v, i = n, i+2
		return ok
	}
	if !sep('-') || !two(&month) || !sep('-') || !two(&day) {
		return time.Time{}, false
	}
	offset := 0
	if i < len(s) {
		if s[i] != 'T' {
			return time.Time{}, false
		}
		i++
		if !two(&hour) || !sep(':') || !two(&minute) {
			return time.Time{}, false
		}
		if basic || i < len(s) && s[i] == ':' {
			if !sep(':') || !two(&sec) {
				return time.Time{}, false
			}
			if i < len(s) && (s[i] == '.' || s[i] == ',') {
				i++
				n := 0
				for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
					if n < 9 {
						nsec = nsec*10 + int(s[i]-'0')
					}
					n++
				}
				if n == 0 {
					return time.Time{}, false
				}
				for ; n < 9; n++ {
					nsec *= 10
				}
			}
		}
		switch {
		case i == len(s):
		case s[i] == 'Z' && i+1 == len(s):
		case s[i] == '+' || s[i] == '-':
			sign := 1
			if s[i] == '-' {
				sign = -1
			}
			i++
			oh, ok1 := digits(s, i, 2)
			i += 2
			if i < len(s) && s[i] == ':' {
				i++
			}
			om, ok2 := digits(s, i, 2)
			if !ok1 || !ok2 || i+2 != len(s) || oh > 23 || om > 59 {
				return time.Time{}, false
			}
			offset = sign * (oh*3600 + om*60)
		default:
			return time.Time{}, false
		}
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
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
