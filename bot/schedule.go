package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"mobilise/messages"
)

// errBadSchedule means a typed schedule could not be read.
var errBadSchedule = errors.New("schedule not understood")

// parseSchedule reads how a reminder repeats and returns a standard cron
// spec. It takes a cron expression ("0 10 * * 5") or words in either
// language: "every friday at 10:00", "كل جمعة الساعة ١٠:٠٠", "daily 18:30",
// "كل يوم ٦:٣٠".
func parseSchedule(text string) (string, error) {
	n := messages.Normalize(text)
	if _, err := cron.ParseStandard(n); err == nil && strings.Count(n, " ") == 4 {
		return n, nil
	}
	var day = -1
	var clock = -1
	for _, w := range strings.Fields(strings.NewReplacer("،", " ", ",", " ").Replace(n)) {
		if d, ok := weekdayWords()[w]; ok {
			day = int(d)
			continue
		}
		if m, err := parseClock(w); err == nil {
			clock = m
			continue
		}
		if h, ok := messages.ParseNumber(w); ok && h < 24 && clock < 0 {
			clock = h * 60
		}
	}
	daily := strings.Contains(n, "day") || strings.Contains(n, "daily") || strings.Contains(n, "يوم") || strings.Contains(n, "يوميا")
	switch {
	case clock < 0:
		return "", errBadSchedule
	case day >= 0:
		return fmt.Sprintf("%d %d * * %d", clock%60, clock/60, day), nil
	case daily:
		return fmt.Sprintf("%d %d * * *", clock%60, clock/60), nil
	}
	return "", errBadSchedule
}

// nextFire returns the first time after after that spec fires, in loc.
func nextFire(spec string, after time.Time, loc *time.Location) (time.Time, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule %q: %w", spec, err)
	}
	next := sched.Next(after.In(loc))
	if next.IsZero() {
		return time.Time{}, fmt.Errorf("schedule %q never fires", spec)
	}
	return next.UTC(), nil
}

// minRepeat is the shortest interval between two sendings of a recurring
// reminder: more often would be spam, whatever the audience.
const minRepeat = time.Hour

// tooOften reports whether spec fires twice within minRepeat.
func tooOften(spec string, now time.Time, loc *time.Location) bool {
	first, err := nextFire(spec, now, loc)
	if err != nil {
		return true
	}
	for range 48 { // a day's worth of slots is enough to find a short gap
		next, err := nextFire(spec, first, loc)
		if err != nil {
			return true
		}
		if next.Sub(first) < minRepeat {
			return true
		}
		first = next
	}
	return false
}

// weekdayWords are the day names people type, normalised.
func weekdayWords() map[string]time.Weekday {
	return map[string]time.Weekday{
		"sunday": time.Sunday, "sun": time.Sunday, "الاحد": time.Sunday, "احد": time.Sunday,
		"monday": time.Monday, "mon": time.Monday, "الاثنين": time.Monday, "اثنين": time.Monday, "الاتنين": time.Monday,
		"tuesday": time.Tuesday, "tue": time.Tuesday, "الثلاثاء": time.Tuesday, "ثلاثاء": time.Tuesday, "الثلاثا": time.Tuesday,
		"wednesday": time.Wednesday, "wed": time.Wednesday, "الاربعاء": time.Wednesday, "اربعاء": time.Wednesday, "الاربعا": time.Wednesday,
		"thursday": time.Thursday, "thu": time.Thursday, "الخميس": time.Thursday, "خميس": time.Thursday,
		"friday": time.Friday, "fri": time.Friday, "الجمعه": time.Friday, "جمعه": time.Friday,
		"saturday": time.Saturday, "sat": time.Saturday, "السبت": time.Saturday, "سبت": time.Saturday,
	}
}
