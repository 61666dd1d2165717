package schedule

import (
	"errors"
	"math/bits"
	"slices"
	"time"

	"github.com/robfig/cron/v3"

	"mobilise/messages"
)

// Describe puts s in words in lang, with the wording of the catalog:
// «كل يوم عدا الجمعة الساعة ١٠:٠٠ صباحًا»، "every 2 days at 9:00 am,
// starting Thursday 3 December 2026". Arabic gets Arabic-Indic digits,
// English Western ones. A cron expression is put in words too, field by
// field, never shown raw.
func (s Schedule) Describe(cat *messages.Catalog, lang string) string {
	d := describer{cat: cat, lang: lang}
	if s.Cron != "" {
		spec, err := parseCron(s.Cron)
		if err != nil {
			return d.text(messages.ScheduleErrBadCron, map[string]any{"Word": messages.Isolate(s.Cron)})
		}
		times := d.cronTimes(spec)
		if allDaysOf(spec) && spec.Hour&starBit != 0 && s.Until.IsZero() {
			return times // "every hour at minute 15" needs no "every day"
		}
		return d.sentence(d.cronDays(spec), times, "", d.until(s.Until))
	}
	var days, start string
	switch {
	case s.EveryDays > 1:
		days = cat.Count(lang, messages.ScheduleEveryNDays, s.EveryDays, nil)
		start = d.text(messages.ScheduleStarting, map[string]any{"Date": messages.FormatDate(lang, s.From.utc())})
	case s.EveryWeeks > 1:
		every := cat.Count(lang, messages.ScheduleEveryNWeeks, s.EveryWeeks, nil)
		if len(s.Days) == 1 {
			days = d.text(messages.ScheduleWeeksOnDay, map[string]any{"Every": every, "Day": d.day(s.Days[0])})
		} else {
			days = d.text(messages.ScheduleWeeksOnDays, map[string]any{"Every": every, "Days": d.list(d.dayNames(s.Days, false))})
		}
		start = d.text(messages.ScheduleStarting, map[string]any{"Date": messages.FormatDate(lang, s.From.utc())})
	default:
		days = d.weekdays(s.Days)
	}
	at := d.text(messages.ScheduleAt, map[string]any{"Clock": messages.FormatClock(lang, clockTime(s.Hour, s.Minute))})
	return d.sentence(days, at, start, d.until(s.Until))
}

// describer carries the catalog and language through the pieces of a description.
type describer struct {
	cat  *messages.Catalog
	lang string
}

func (d describer) text(key messages.Key, data map[string]any) string {
	return d.cat.Text(d.lang, key, data)
}

func (d describer) sentence(days, at, start, until string) string {
	return d.text(messages.ScheduleSentence, map[string]any{"Days": days, "Time": at, "Start": start, "Until": until})
}

func (d describer) until(u Date) string {
	if u.IsZero() {
		return ""
	}
	return d.text(messages.ScheduleUntil, map[string]any{"Date": messages.FormatDate(d.lang, u.utc())})
}

// weekdays words a set of days: every day, the working week, "every day
// except …" when that is shorter, or "every …".
func (d describer) weekdays(days []time.Weekday) string {
	mask := uint8(0)
	for _, w := range days {
		mask |= 1 << w
	}
	switch {
	case len(days) == 0 || mask == allDays:
		return d.text(messages.ScheduleEveryDay, nil)
	case len(days) >= 5: // the working week, Saturday to Thursday, reads «كل يوم عدا الجمعة»
		return d.text(messages.ScheduleExceptDays, map[string]any{"Days": d.list(d.dayNames(weekdaySet(allDays&^mask), false))})
	}
	return d.text(messages.ScheduleOnDays, map[string]any{"Days": d.list(d.dayNames(days, true))})
}

var dayKeys = [7]messages.Key{
	messages.ScheduleDaySunday, messages.ScheduleDayMonday, messages.ScheduleDayTuesday, messages.ScheduleDayWednesday,
	messages.ScheduleDayThursday, messages.ScheduleDayFriday, messages.ScheduleDaySaturday,
}

var bareDayKeys = [7]messages.Key{
	messages.ScheduleBareDaySunday, messages.ScheduleBareDayMonday, messages.ScheduleBareDayTuesday, messages.ScheduleBareDayWednesday,
	messages.ScheduleBareDayThursday, messages.ScheduleBareDayFriday, messages.ScheduleBareDaySaturday,
}

func (d describer) day(w time.Weekday) string { return d.text(dayKeys[w], nil) }

// dayNames names days in the order they come round in the week, starting
// after the longest stretch without one: «الجمعة والسبت», «السبت والأحد»,
// «الاثنين والخميس».
func (d describer) dayNames(days []time.Weekday, bare bool) []string {
	if len(days) == 0 {
		return nil
	}
	first, longest := days[0], -1
	for i, w := range days {
		prev := days[(i+len(days)-1)%len(days)]
		if gap := (int(w) - int(prev) + 7) % 7; gap == 0 || gap > longest {
			first, longest = w, gap
			if gap == 0 { // a single day
				break
			}
		}
	}
	var out []string
	for i := range 7 {
		w := (first + time.Weekday(i)) % 7
		if !slices.Contains(days, w) {
			continue
		}
		if bare {
			out = append(out, d.text(bareDayKeys[w], nil))
		} else {
			out = append(out, d.day(w))
		}
	}
	return out
}

// list joins items the language's way: «أ وب وج», "a, b and c".
func (d describer) list(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	case 2:
		return d.text(messages.ScheduleListPair, map[string]any{"A": items[0], "B": items[1]})
	}
	return d.text(messages.ScheduleListMore, map[string]any{"A": items[0], "B": d.list(items[1:])})
}

func (d describer) numbers(mask uint64, lo, hi int) []string {
	var out []string
	for i := lo; i <= hi; i++ {
		if mask&(1<<i) != 0 {
			out = append(out, messages.FormatNumber(d.lang, i))
		}
	}
	return out
}

// clockTime is a time of day to hand to messages.FormatClock.
func clockTime(h, m int) time.Time { return time.Date(2000, 1, 1, h, m, 0, 0, time.UTC) }

// maxListedTimes is how many clock times a cron description lists one by one.
const maxListedTimes = 6

// cronTimes words the minute and hour fields.
func (d describer) cronTimes(spec *cron.SpecSchedule) string {
	minutes := bits.OnesCount64(spec.Minute &^ starBit)
	hours := bits.OnesCount64(spec.Hour &^ starBit)
	switch {
	case minutes == 60 && hours == 24:
		return d.text(messages.ScheduleEveryMinute, nil)
	case hours == 24:
		return d.text(messages.ScheduleEveryHourAt, map[string]any{"Minutes": d.list(d.numbers(spec.Minute, 0, 59))})
	case minutes*hours <= maxListedTimes:
		var clocks []string
		for h := range 24 {
			for m := range 60 {
				if spec.Hour&(1<<h) != 0 && spec.Minute&(1<<m) != 0 {
					clocks = append(clocks, messages.FormatClock(d.lang, clockTime(h, m)))
				}
			}
		}
		return d.text(messages.ScheduleAt, map[string]any{"Clock": d.list(clocks)})
	}
	var hourClocks []string
	for h := range 24 {
		if spec.Hour&(1<<h) != 0 {
			hourClocks = append(hourClocks, messages.FormatClock(d.lang, clockTime(h, 0)))
		}
	}
	return d.text(messages.ScheduleMinutesOfHours, map[string]any{
		"Minutes": d.list(d.numbers(spec.Minute, 0, 59)), "Hours": d.list(hourClocks),
	})
}

// allDaysOf reports whether spec fires on every day of the year.
func allDaysOf(spec *cron.SpecSchedule) bool {
	return spec.Dom&starBit != 0 && spec.Dow&starBit != 0 && spec.Month&starBit != 0
}

// cronDays words the day-of-month, month and day-of-week fields.
func (d describer) cronDays(spec *cron.SpecSchedule) string {
	domAll := spec.Dom&starBit != 0
	dowAll := spec.Dow&starBit != 0
	var weekdays []time.Weekday
	for w := time.Sunday; w <= time.Saturday; w++ {
		if spec.Dow&(1<<w) != 0 {
			weekdays = append(weekdays, w)
		}
	}
	monthDays := d.text(messages.ScheduleMonthDays, map[string]any{"Days": d.list(d.numbers(spec.Dom, 1, 31))})
	var days string
	switch {
	case domAll:
		days = d.weekdays(weekdays)
	case dowAll:
		days = monthDays
	default: // both restricted: cron fires on either
		days = d.text(messages.ScheduleDaysOr, map[string]any{"A": monthDays, "B": d.weekdays(weekdays)})
	}
	if spec.Month&starBit != 0 || bits.OnesCount64(spec.Month) == 12 {
		return days
	}
	var months []string
	for m := time.January; m <= time.December; m++ {
		if spec.Month&(1<<m) != 0 {
			months = append(months, messages.MonthName(d.lang, m))
		}
	}
	return d.text(messages.ScheduleInMonths, map[string]any{"Days": days, "Months": d.list(months)})
}

// reasonKeys give each refusal its reply.
var reasonKeys = map[Reason]messages.Key{
	ReasonEmpty:       messages.ScheduleErrEmpty,
	ReasonUnknownWord: messages.ScheduleErrUnknownWord,
	ReasonNoTime:      messages.ScheduleErrNoTime,
	ReasonNoDays:      messages.ScheduleErrNoDays,
	ReasonConflict:    messages.ScheduleErrConflict,
	ReasonBadTime:     messages.ScheduleErrBadTime,
	ReasonBadDate:     messages.ScheduleErrBadDate,
	ReasonPast:        messages.ScheduleErrPast,
	ReasonNeverFires:  messages.ScheduleErrNeverFires,
	ReasonBadCron:     messages.ScheduleErrBadCron,
	ReasonBadInterval: messages.ScheduleErrBadInterval,
}

// Explain answers an error from Parse in lang: for a refusal, what was
// wrong and examples of what works; for an ambiguous time, the question
// "morning or evening?" with both readings in words. Any other error gets
// the examples alone.
func Explain(err error, cat *messages.Catalog, lang string) string {
	d := describer{cat: cat, lang: lang}
	examples := d.text(messages.ScheduleExamples, nil)
	var amb *AmbiguousError
	if errors.As(err, &amb) {
		return d.text(messages.ScheduleAmbiguous, map[string]any{
			"Morning": messages.FormatClock(lang, clockTime(amb.Options[0].Hour, amb.Options[0].Minute)),
			"Evening": messages.FormatClock(lang, clockTime(amb.Options[1].Hour, amb.Options[1].Minute)),
		})
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		return examples
	}
	key, ok := reasonKeys[pe.Reason]
	if !ok {
		return examples
	}
	word := pe.Word
	if date, err := ParseDate(word); err == nil && pe.Reason == ReasonNeverFires {
		word = messages.FormatDate(lang, date.utc())
	} else if word != "" {
		word = messages.Isolate(word)
	}
	return d.text(key, map[string]any{"Word": word}) + "\n" + examples
}
