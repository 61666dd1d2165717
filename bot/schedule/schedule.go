package schedule

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule says how a reminder repeats. It is stored as JSON on reminder
// records, and Validate checks one read back.
//
// Without Cron, it fires once on each matching local date at Hour:Minute
// wall-clock time in the location passed to Next:
//   - Days empty, no interval: every day;
//   - Days set, no interval: on those weekdays ("every day except Friday"
//     is the six other days);
//   - EveryDays N ≥ 2: on From and every N days after it (Days empty);
//   - EveryWeeks N ≥ 2: on Days, in the week of From and every N weeks
//     after it. Weeks run Saturday to Friday, the local working week.
//
// From, when set, is the first date it may fire; Until the last. With Cron,
// the standard 5-field expression decides the minutes instead (Until still
// applies) and the other fields are zero. The zero Schedule fires every day
// at 00:00.
type Schedule struct {
	// Days are the weekdays it fires on, sorted Sunday (0) first; empty means every day.
	Days []time.Weekday `json:"days,omitempty"`
	// EveryDays, when 2 or more, makes it fire every that many days from From.
	EveryDays int `json:"every_days,omitempty"`
	// EveryWeeks, when 2 or more, makes it fire on Days every that many weeks from From's week.
	EveryWeeks int `json:"every_weeks,omitempty"`
	// Hour (0–23) and Minute (0–59) are the local wall-clock time it fires at.
	Hour   int `json:"hour,omitempty"`
	Minute int `json:"minute,omitempty"`
	// From is the first date it may fire on, and the anchor of EveryDays and EveryWeeks.
	From Date `json:"from,omitzero"`
	// Until is the last date it may fire on; zero means no end.
	Until Date `json:"until,omitzero"`
	// Cron is a standard 5-field cron expression ("0 10 * * 5"), for experts.
	Cron string `json:"cron,omitempty"`
}

// Limits on intervals: longer ones are better expressed as separate reminders.
const (
	MaxEveryDays  = 365
	MaxEveryWeeks = 52
)

// ErrInvalid is wrapped by Validate's errors.
var ErrInvalid = errors.New("invalid schedule")

// Validate checks that s is a schedule Next can compute, as Parse makes
// them; a record read back from storage should pass it before use.
func (s Schedule) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	if !s.From.IsZero() && !s.From.valid() {
		return bad("from %v is no date", s.From)
	}
	if !s.Until.IsZero() && !s.Until.valid() {
		return bad("until %v is no date", s.Until)
	}
	if !s.From.IsZero() && !s.Until.IsZero() && s.Until.Before(s.From) {
		return bad("until %s is before from %s", s.Until, s.From)
	}
	if s.Cron != "" {
		if len(s.Days) > 0 || s.EveryDays != 0 || s.EveryWeeks != 0 || s.Hour != 0 || s.Minute != 0 || !s.From.IsZero() {
			return bad("a cron schedule has only cron and until")
		}
		_, err := parseCron(s.Cron)
		return err
	}
	if s.Hour < 0 || s.Hour > 23 || s.Minute < 0 || s.Minute > 59 {
		return bad("time %d:%02d", s.Hour, s.Minute)
	}
	for i, d := range s.Days {
		if d < time.Sunday || d > time.Saturday {
			return bad("weekday %d", d)
		}
		if i > 0 && d <= s.Days[i-1] {
			return bad("weekdays must be sorted and distinct")
		}
	}
	if len(s.Days) == 7 {
		return bad("all seven weekdays: leave days empty")
	}
	switch {
	case s.EveryDays != 0 && s.EveryWeeks != 0:
		return bad("every_days and every_weeks together")
	case s.EveryDays != 0:
		if s.EveryDays < 2 || s.EveryDays > MaxEveryDays {
			return bad("every_days %d out of 2–%d", s.EveryDays, MaxEveryDays)
		}
		if len(s.Days) > 0 || s.From.IsZero() {
			return bad("every_days needs from and no days")
		}
	case s.EveryWeeks != 0:
		if s.EveryWeeks < 2 || s.EveryWeeks > MaxEveryWeeks {
			return bad("every_weeks %d out of 2–%d", s.EveryWeeks, MaxEveryWeeks)
		}
		if len(s.Days) == 0 || s.From.IsZero() {
			return bad("every_weeks needs from and days")
		}
	}
	return nil
}

// Next returns the first time after after that s fires, computed in
// wall-clock time in loc: 18:00 stays 18:00 across DST changes. A time
// skipped by a spring-forward change fires at the first instant after the
// gap, and a time a fall-back change repeats fires once, at its first
// occurrence. Next returns the zero time when s never fires again (past its
// Until date) or is invalid.
func (s Schedule) Next(after time.Time, loc *time.Location) time.Time {
	if s.Validate() != nil {
		return time.Time{}
	}
	if s.Cron != "" {
		spec, _ := parseCron(s.Cron) // valid: checked above
		return cronNext(spec, s.Until, after, loc)
	}
	// one day earlier, in case a change around midnight moved a fire time across dates
	d := DateOf(after.In(loc)).AddDays(-1)
	if d.Before(s.From) {
		d = s.From
	}
	// a match comes within one period; two periods leave room for the day skipped above
	limit := 2 * max(7*s.EveryWeeks, s.EveryDays, 7)
	for range limit {
		if !s.Until.IsZero() && d.After(s.Until) {
			return time.Time{}
		}
		if s.onDate(d) {
			if t := d.At(s.Hour, s.Minute, loc); t.After(after) {
				return t
			}
		}
		d = d.AddDays(1)
	}
	return time.Time{}
}

// onDate reports whether a non-cron s fires on local date d.
func (s Schedule) onDate(d Date) bool {
	if d.Before(s.From) {
		return false
	}
	switch {
	case s.EveryDays > 0:
		return s.From.DaysUntil(d)%s.EveryDays == 0
	case s.EveryWeeks > 0:
		weeks := weekStart(s.From).DaysUntil(weekStart(d)) / 7
		return weeks%s.EveryWeeks == 0 && slices.Contains(s.Days, d.Weekday())
	}
	return len(s.Days) == 0 || slices.Contains(s.Days, d.Weekday())
}

// weekStart returns the Saturday that begins d's working week.
func weekStart(d Date) Date {
	return d.AddDays(-int((d.Weekday() - time.Saturday + 7) % 7))
}

// NextN returns up to n times s fires after after, in order; fewer when it
// stops firing.
func (s Schedule) NextN(after time.Time, loc *time.Location, n int) []time.Time {
	var out []time.Time
	for len(out) < n {
		t := s.Next(after, loc)
		if t.IsZero() {
			break
		}
		out = append(out, t)
		after = t
	}
	return out
}

// gapSample is how many consecutive fires MinGap compares: enough to see
// every pattern a day, a week or a cron hour list can make, and more.
const gapSample = 64

// MinGap returns the shortest time between two consecutive fires among the
// next ones after after (it looks at 64 of them), or 0 when s fires fewer
// than twice. Callers refuse schedules whose MinGap is under their minimum
// (an hour, for reminders); 0 needs no check, as the schedule cannot repeat.
func (s Schedule) MinGap(after time.Time, loc *time.Location) time.Duration {
	fires := s.NextN(after, loc, gapSample)
	var gap time.Duration
	for i := 1; i < len(fires); i++ {
		if d := fires[i].Sub(fires[i-1]); gap == 0 || d < gap {
			gap = d
		}
	}
	return gap
}

// FiresWithin reports whether s fires twice less than d apart, among its
// next 64 fires after after.
func (s Schedule) FiresWithin(d time.Duration, after time.Time, loc *time.Location) bool {
	gap := s.MinGap(after, loc)
	return gap > 0 && gap < d
}

// weekdaySet returns the sorted weekdays of mask (bit i = weekday i), or nil for all seven.
func weekdaySet(mask uint8) []time.Weekday {
	if mask&allDays == allDays {
		return nil
	}
	var days []time.Weekday
	for d := time.Sunday; d <= time.Saturday; d++ {
		if mask&(1<<d) != 0 {
			days = append(days, d)
		}
	}
	return days
}

// Weekday masks.
const (
	allDays  uint8 = 0x7f
	weekend  uint8 = 1 << time.Friday
	workWeek       = allDays &^ weekend
)

// parseCron reads a standard 5-field cron expression. Descriptors (@daily,
// @every 1h) and CRON_TZ= prefixes are refused: the location is the
// coalition's, and only a plain expression can be described in words.
func parseCron(expr string) (*cron.SpecSchedule, error) {
	fields := strings.Fields(expr)
	if len(fields) != 5 || strings.ContainsAny(expr, "@=") {
		return nil, fmt.Errorf("%w: cron %q: want 5 fields", ErrInvalid, expr)
	}
	sched, err := cron.ParseStandard(strings.Join(fields, " "))
	if err != nil {
		return nil, fmt.Errorf("%w: cron %q: %w", ErrInvalid, expr, err)
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("%w: cron %q: not a field expression", ErrInvalid, expr)
	}
	return spec, nil
}
