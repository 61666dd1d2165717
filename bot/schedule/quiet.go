package schedule

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"mobilise/messages"
)

// QuietHours are the local times broadcasts and reminders wait out: a
// nightly window, plus weekly ones such as Friday noon prayers. Urgent
// broadcasts go through them.
//
// Every bound is a wall-clock time on a local date, turned into an instant
// with Date.At: 07:00 stays 07:00 on the night a DST change makes 23 or 25
// hours long, and a bound inside a spring-forward gap falls on the change.
type QuietHours struct {
	// Nightly runs from Start to End every day; it may wrap past midnight.
	// Equal bounds mean no nightly window.
	Nightly Span
	// Weekly spans hold only on their day, and end after they start.
	Weekly []Span
}

// Span is a stretch of local time, in minutes from midnight; Day is only
// for weekly spans.
type Span struct {
	Day        time.Weekday
	Start, End int
}

// DefaultQuietHours holds messages from 22:00 to 07:00.
func DefaultQuietHours() QuietHours {
	return QuietHours{Nightly: Span{Start: 22 * 60, End: 7 * 60}}
}

// interval is one occurrence of a span, as instants, end excluded.
type interval struct{ start, end time.Time }

// reach is how many days around t Window looks for spans to merge: a week
// of windows chained end to start, as before.
const reach = 8

// occurrences returns every occurrence of q's spans on the local dates
// around t, sorted by start, merged where they overlap or touch.
func (q QuietHours) occurrences(t time.Time, loc *time.Location) []interval {
	day := DateOf(t.In(loc))
	var all []interval
	at := func(d Date, minutes int) time.Time { return d.At(minutes/60, minutes%60, loc) }
	for i := -reach; i <= reach; i++ {
		d := day.AddDays(i)
		if n := q.Nightly; n.Start != n.End {
			end := d
			if n.End < n.Start {
				end = d.AddDays(1)
			}
			all = append(all, interval{at(d, n.Start), at(end, n.End)})
		}
		for _, w := range q.Weekly {
			if w.Day == d.Weekday() && w.End > w.Start {
				all = append(all, interval{at(d, w.Start), at(d, w.End)})
			}
		}
	}
	slices.SortFunc(all, func(a, b interval) int { return a.start.Compare(b.start) })
	var merged []interval
	for _, iv := range all {
		if !iv.end.After(iv.start) {
			continue // a span emptied by a DST gap
		}
		if n := len(merged); n > 0 && !iv.start.After(merged[n-1].end) {
			if iv.end.After(merged[n-1].end) {
				merged[n-1].end = iv.end
			}
			continue
		}
		merged = append(merged, iv)
	}
	return merged
}

// Window returns the quiet window containing t, with windows that touch
// merged into one (the night running into Friday prayers, say): t is in
// [start, end). ok is false when t is outside quiet hours.
func (q QuietHours) Window(t time.Time, loc *time.Location) (start, end time.Time, ok bool) {
	for _, iv := range q.occurrences(t, loc) {
		if !t.Before(iv.start) && t.Before(iv.end) {
			return iv.start.In(loc), iv.end.In(loc), true
		}
	}
	return time.Time{}, time.Time{}, false
}

// HoldUntil returns when a message due at t may go out: zero if at once,
// else the end of the quiet window t falls in.
func (q QuietHours) HoldUntil(t time.Time, loc *time.Location) time.Time {
	_, end, ok := q.Window(t, loc)
	if !ok {
		return time.Time{}
	}
	return end
}

// DeliverBefore returns when to send a message due at due that is useless
// after deadline (the event it announces). Quiet hours are kept, but a
// reminder may not arrive after its event, so it moves earlier rather than
// later:
//   - due itself, if due is outside quiet hours;
//   - else the last minute before the quiet window starts, if that is still
//     ahead of now (quiet from 21:00, event at 22:17, reminder due 21:17:
//     sent at 20:59);
//   - else now, if now is outside the window (it starts within the minute,
//     or is already over) or the window lasts until the deadline or later:
//     a late reminder in quiet hours beats none;
//   - else the window's end, which is before the deadline.
//
// A zero deadline means the message never goes stale: the window's end.
func (q QuietHours) DeliverBefore(due, deadline, now time.Time, loc *time.Location) time.Time {
	start, end, ok := q.Window(due, loc)
	if !ok {
		return due
	}
	if before := start.Add(-time.Minute); before.After(now) {
		return before
	}
	if now.Before(start) || !now.Before(end) {
		return now
	}
	if deadline.IsZero() || end.Before(deadline) {
		return end
	}
	return now
}

// ParseQuietHours reads "22:00-07:00", optionally followed by weekly spans
// such as ",fri 11:30-13:30"; "off", "none" or "" mean none. Digits may be
// Arabic-Indic.
func ParseQuietHours(s string) (QuietHours, error) {
	var q QuietHours
	s = strings.TrimSpace(strings.ToLower(messages.ToASCIIDigits(s)))
	if s == "" || s == "off" || s == "none" {
		return q, nil
	}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		day := time.Weekday(-1)
		if d, rest, ok := strings.Cut(part, " "); ok {
			wd, known := shortWeekdays()[d]
			if !known {
				return q, fmt.Errorf("quiet hours %q: unknown day %q", part, d)
			}
			day, part = wd, strings.TrimSpace(rest)
		}
		from, to, ok := strings.Cut(part, "-")
		start, err1 := parseClock(from)
		end, err2 := parseClock(to)
		if !ok || err1 != nil || err2 != nil {
			return q, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM", part)
		}
		switch {
		case day >= 0:
			if end <= start {
				return q, fmt.Errorf("quiet hours %q: a weekly window must end after it starts", part)
			}
			q.Weekly = append(q.Weekly, Span{Day: day, Start: start, End: end})
		case i == 0:
			q.Nightly = Span{Start: start, End: end}
		default:
			return q, fmt.Errorf("quiet hours %q: only the first window may be daily", part)
		}
	}
	return q, nil
}

// String writes q the way ParseQuietHours reads it.
func (q QuietHours) String() string {
	var parts []string
	if q.Nightly.Start != q.Nightly.End {
		parts = append(parts, clockText(q.Nightly.Start)+"-"+clockText(q.Nightly.End))
	}
	for _, w := range q.Weekly {
		parts = append(parts, strings.ToLower(w.Day.String()[:3])+" "+clockText(w.Start)+"-"+clockText(w.End))
	}
	if len(parts) == 0 {
		return "off"
	}
	return strings.Join(parts, ",")
}

func clockText(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// parseClock reads "HH:MM" as minutes from midnight.
func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("clock %q: %w", s, err)
	}
	return t.Hour()*60 + t.Minute(), nil
}

func shortWeekdays() map[string]time.Weekday {
	return map[string]time.Weekday{
		"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
		"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	}
}
