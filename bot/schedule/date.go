package schedule

import (
	"fmt"
	"time"
)

// Date is a calendar day with no time or zone: the local date a schedule
// starts or ends on. It is written "2027-01-31" in JSON. The zero Date means
// none.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate reads "2027-01-31" (month and day may have one digit).
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-1-2", s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: %w", s, err)
	}
	return DateOf(t), nil
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String writes d as "2027-01-31", or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// MarshalText writes d as "2027-01-31".
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads what MarshalText wrote; "" is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// utc is d at midnight UTC, where every day is 24 hours long: the basis of
// day arithmetic that no DST change can disturb.
func (d Date) utc() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date { return DateOf(d.utc().AddDate(0, 0, n)) }

// DaysUntil returns the number of days from d to e: negative when e is earlier.
func (d Date) DaysUntil(e Date) int { return int(e.utc().Sub(d.utc()) / (24 * time.Hour)) }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int { return d.utc().Compare(e.utc()) }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// Weekday returns d's day of the week.
func (d Date) Weekday() time.Weekday { return d.utc().Weekday() }

// valid reports whether d names a real day (not 31 April).
func (d Date) valid() bool {
	return d.Year >= 1 && d.Year <= 9999 && DateOf(d.utc()) == d
}

// At returns the instant the wall clock in loc first shows h:m on d. A time
// skipped by a spring-forward change gives the first instant after the gap
// (the change itself); a time repeated by a fall-back change gives its first
// occurrence, so a schedule fires once on that day.
func (d Date) At(h, m int, loc *time.Location) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, h, m, 0, 0, loc)
	want := time.Date(d.Year, d.Month, d.Day, h, m, 0, 0, time.UTC)
	switch got := wallClock(t); {
	case got.After(want): // in a gap, and time.Date moved forward past the change
		start, _ := t.ZoneBounds()
		return start
	case got.Before(want): // in a gap, moved back before the change
		_, end := t.ZoneBounds()
		return end
	}
	// the same wall time may also exist earlier, under the previous offset
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return t
	}
	_, prevOffset := start.Add(-time.Second).Zone()
	earlier := want.Add(-time.Duration(prevOffset) * time.Second).In(loc)
	if earlier.Before(start) && wallClock(earlier).Equal(want) {
		return earlier
	}
	return t
}

// wallClock returns what t's clock shows, as the same reading in UTC.
func wallClock(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}
