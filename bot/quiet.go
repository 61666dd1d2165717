package bot

import (
	"fmt"
	"strings"
	"time"
)

// QuietHours are the times broadcasts and reminders wait out: a nightly
// window, plus weekly ones such as Friday noon prayers. Urgent broadcasts
// go through them.
type QuietHours struct {
	// Nightly runs from Start to End every day; it may wrap past midnight.
	// Equal bounds mean no nightly window.
	Nightly Window
	// Weekly windows hold only on their day.
	Weekly []Window
}

// Window is a span of local time, minutes from midnight; Day is only for weekly windows.
type Window struct {
	Day        time.Weekday
	Start, End int
}

// DefaultQuietHours holds messages from 22:00 to 07:00.
func DefaultQuietHours() QuietHours {
	return QuietHours{Nightly: Window{Start: 22 * 60, End: 7 * 60}}
}

// HoldUntil returns when a message due at t may go out: zero if now, else
// the end of the window t falls in (windows that touch are waited out together).
func (q QuietHours) HoldUntil(t time.Time, loc *time.Location) time.Time {
	local := t.In(loc)
	until := time.Time{}
	for range 8 { // windows can chain; a week of them at most
		end, ok := q.windowEnd(local)
		if !ok {
			break
		}
		until, local = end, end
	}
	return until
}

// windowEnd returns the end of a window that contains local.
func (q QuietHours) windowEnd(local time.Time) (time.Time, bool) {
	mins := local.Hour()*60 + local.Minute()
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, local.Location())
	at := func(day time.Time, m int) time.Time { return day.Add(time.Duration(m) * time.Minute) }
	if n := q.Nightly; n.Start != n.End {
		switch {
		case n.Start < n.End && mins >= n.Start && mins < n.End:
			return at(midnight, n.End), true
		case n.Start > n.End && mins >= n.Start:
			return at(midnight.AddDate(0, 0, 1), n.End), true
		case n.Start > n.End && mins < n.End:
			return at(midnight, n.End), true
		}
	}
	for _, w := range q.Weekly {
		if w.Day == local.Weekday() && mins >= w.Start && mins < w.End {
			return at(midnight, w.End), true
		}
	}
	return time.Time{}, false
}

// ParseQuietHours reads "22:00-07:00" optionally followed by weekly windows
// such as ",fri 11:30-13:30"; "off" means none.
func ParseQuietHours(s string) (QuietHours, error) {
	var q QuietHours
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" || s == "off" || s == "none" {
		return q, nil
	}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		day := time.Weekday(-1)
		if d, rest, ok := strings.Cut(part, " "); ok {
			wd, known := weekdays()[d]
			if !known {
				return q, fmt.Errorf("quiet hours %q: unknown day %q", part, d)
			}
			day, part = wd, strings.TrimSpace(rest)
		}
		from, to, ok := strings.Cut(part, "-")
		if !ok {
			return q, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM", part)
		}
		start, err1 := parseClock(from)
		end, err2 := parseClock(to)
		if err1 != nil || err2 != nil {
			return q, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM", part)
		}
		switch {
		case day >= 0:
			if end <= start {
				return q, fmt.Errorf("quiet hours %q: a weekly window must end after it starts", part)
			}
			q.Weekly = append(q.Weekly, Window{Day: day, Start: start, End: end})
		case i == 0:
			q.Nightly = Window{Start: start, End: end}
		default:
			return q, fmt.Errorf("quiet hours %q: only the first window may be daily", part)
		}
	}
	return q, nil
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

func weekdays() map[string]time.Weekday {
	return map[string]time.Weekday{
		"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
		"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	}
}
