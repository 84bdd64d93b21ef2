package envelope

import (
	"fmt"
	"strconv"
	"time"
)

// VietnamTime is UTC+07:00, the zone edXML timestamps are written in (they
// carry no zone of their own; QĐ 28/2018 Art. 14.4).
var VietnamTime = time.FixedZone("ICT", 7*60*60)

// Date is a calendar date without time or zone, written yyyy/MM/dd.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the date of t in Vietnam time.
func DateOf(t time.Time) Date {
	y, m, d := t.In(VietnamTime).Date()
	return Date{y, m, d}
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == Date{} }

// String is the canonical wire form yyyy/MM/dd ("" for the zero date).
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d/%02d/%02d", d.Year, int(d.Month), d.Day)
}

// Time is the start of d in Vietnam time.
func (d Date) Time() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, VietnamTime)
}

// After reports whether d is later than e.
func (d Date) After(e Date) bool { return d.Time().After(e.Time()) }

// ParseDate reads a date. The canonical form is yyyy/MM/dd; dd/MM/yyyy (seen
// from one provincial hub) and yyyy-MM-dd are accepted with noncanonical set.
func ParseDate(s string) (d Date, noncanonical bool, err error) {
	var y, m, day string
	switch {
	case len(s) == 10 && s[4] == '/' && s[7] == '/':
		y, m, day = s[0:4], s[5:7], s[8:10]
	case len(s) == 10 && s[2] == '/' && s[5] == '/':
		day, m, y, noncanonical = s[0:2], s[3:5], s[6:10], true
	case len(s) == 10 && s[4] == '-' && s[7] == '-':
		y, m, day, noncanonical = s[0:4], s[5:7], s[8:10], true
	default:
		return Date{}, false, fmt.Errorf("%q is not a date in the form yyyy/MM/dd", s)
	}
	yi, e1 := atoiDigits(y)
	mi, e2 := atoiDigits(m)
	di, e3 := atoiDigits(day)
	if e1 != nil || e2 != nil || e3 != nil {
		return Date{}, false, fmt.Errorf("%q is not a date in the form yyyy/MM/dd", s)
	}
	if yi < 1900 || mi < 1 || mi > 12 || di < 1 || di > daysIn(time.Month(mi), yi) {
		return Date{}, false, fmt.Errorf("%q is not a calendar date", s)
	}
	return Date{yi, time.Month(mi), di}, noncanonical, nil
}

// MustDate parses a canonical date or panics; for tests and literals.
func MustDate(s string) Date {
	d, _, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

const timestampLayout = "2006/01/02 15:04:05"

// FormatTimestamp writes t as yyyy/MM/dd HH:mm:ss in Vietnam time.
func FormatTimestamp(t time.Time) string {
	return t.In(VietnamTime).Format(timestampLayout)
}

// ParseTimestamp reads a timestamp. The canonical form is yyyy/MM/dd HH:mm:ss
// in Vietnam time; dd/MM/yyyy HH:mm:ss and RFC 3339 are accepted with
// noncanonical set. The result is in VietnamTime, to the second.
func ParseTimestamp(s string) (t time.Time, noncanonical bool, err error) {
	if len(s) == 19 && s[10] == ' ' {
		d, nc, err := ParseDate(s[:10])
		if err == nil {
			clock, err := time.Parse("15:04:05", s[11:])
			if err == nil {
				h, m, sec := clock.Clock()
				return time.Date(d.Year, d.Month, d.Day, h, m, sec, 0, VietnamTime), nc, nil
			}
		}
	}
	if rt, err := time.Parse(time.RFC3339, s); err == nil {
		return rt.In(VietnamTime).Truncate(time.Second), true, nil
	}
	return time.Time{}, false, fmt.Errorf("%q is not a timestamp in the form yyyy/MM/dd HH:mm:ss", s)
}

func atoiDigits(s string) (int, error) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.Atoi(s)
}

func daysIn(m time.Month, y int) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
