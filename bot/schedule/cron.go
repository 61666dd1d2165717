package schedule

import (
	"time"

	"github.com/robfig/cron/v3"
)

// cronYears is how far ahead cronNext looks, as robfig/cron does.
const cronYears = 5

// starBit is set in a robfig/cron field that was written "*" or "?".
const starBit = 1 << 63

// cronNext returns the first time after after that spec fires, in
// wall-clock time in loc, or zero if none within cronYears (or past until).
//
// robfig/cron parses the expression, but its own Next steps through
// instants, so it skips a time a spring-forward change removes and may fire
// twice in a repeated hour; here each matching local date and clock reading
// becomes one instant through Date.At, the rule every schedule follows.
func cronNext(spec *cron.SpecSchedule, until Date, after time.Time, loc *time.Location) time.Time {
	local := after.In(loc)
	first := DateOf(local)
	// readings more than 3 hours before after cannot come after it, whatever a DST change does
	floor := wallClock(local).Add(-3 * time.Hour)
	d := first.AddDays(-1)
	last := first.AddDays(366 * cronYears)
	for ; !d.After(last); d = d.AddDays(1) {
		if !until.IsZero() && d.After(until) {
			return time.Time{}
		}
		if !cronDayMatches(spec, d) {
			continue
		}
		for h := range 24 {
			if spec.Hour&(1<<h) == 0 {
				continue
			}
			for m := range 60 {
				if spec.Minute&(1<<m) == 0 {
					continue
				}
				if d.Compare(first) <= 0 && time.Date(d.Year, d.Month, d.Day, h, m, 0, 0, time.UTC).Before(floor) {
					continue
				}
				if t := d.At(h, m, loc); t.After(after) {
					return t
				}
			}
		}
	}
	return time.Time{}
}

// cronDayMatches applies cron's day rule to d: the month must match, and
// the day of month and day of week both, unless both are restricted, in
// which case either one (as in Vixie cron and robfig/cron).
func cronDayMatches(spec *cron.SpecSchedule, d Date) bool {
	if spec.Month&(1<<uint(d.Month)) == 0 {
		return false
	}
	dom := spec.Dom&(1<<uint(d.Day)) != 0
	dow := spec.Dow&(1<<uint(d.Weekday())) != 0
	if spec.Dom&starBit != 0 || spec.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}
