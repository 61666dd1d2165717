package schedule

import (
	"errors"
	"time"
)

// Clock is a time of day, on the wall clock.
type Clock struct {
	Hour, Minute int
}

// On returns the clock's time on the local date of day in loc.
func (c Clock) On(day time.Time, loc *time.Location) time.Time {
	return DateOf(day.In(loc)).At(c.Hour, c.Minute, loc)
}

// ParseClock reads a time of day as people type it, in the words Parse
// understands: "18:00", "6 pm", «٦ مساءً», «الساعة ٦ ونص». An hour from 1
// to 12 with no am/pm is ambiguous, as in Parse: the *AmbiguousError holds
// both readings, as daily schedules whose Hour and Minute are the clock.
// Anything more than a time (a day, a repeat) is refused.
func ParseClock(text string) (Clock, error) {
	ref := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := Parse("every day "+text, ref, time.UTC)
	if errors.Is(err, ErrNotUnderstood) {
		// a bare "6" or "6:30" is a clock here, where Parse wants "at 6"
		if s2, err2 := Parse("every day at "+text, ref, time.UTC); err2 == nil || errors.Is(err2, ErrAmbiguous) {
			s, err = s2, err2
		}
	}
	if err != nil {
		return Clock{}, err
	}
	if len(s.Days) > 0 || s.EveryDays > 1 || s.EveryWeeks > 1 || !s.Until.IsZero() || s.Cron != "" {
		return Clock{}, &ParseError{Reason: ReasonUnknownWord, Word: text}
	}
	return Clock{Hour: s.Hour, Minute: s.Minute}, nil
}
