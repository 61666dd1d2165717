package schedule

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"mobilise/messages"
)

// ErrNotUnderstood matches every *ParseError: Parse could not account for
// the whole phrase, and refused it rather than guess.
var ErrNotUnderstood = errors.New("schedule not understood")

// ErrAmbiguous matches every *AmbiguousError.
var ErrAmbiguous = errors.New("schedule time is ambiguous")

// Reason says why Parse refused a phrase, so the conversation can answer
// to the point and show an example that works.
type Reason int

// The reasons Parse refuses a phrase.
const (
	ReasonEmpty       Reason = iota + 1 // nothing typed
	ReasonUnknownWord                   // Word is not part of any phrase Parse knows
	ReasonNoTime                        // no time of day: "every friday"
	ReasonNoDays                        // a time but no days: "at 9 am"
	ReasonConflict                      // two days, times or end dates: Word is the second
	ReasonBadTime                       // no such time: "25:00", "13 am"
	ReasonBadDate                       // no such date: "31/2/2027"
	ReasonPast                          // the until date is already gone
	ReasonNeverFires                    // nothing left to fire: every day except every day, Feb 30, a Friday until Thursday
	ReasonBadCron                       // five fields that are no valid cron expression
	ReasonBadInterval                   // every 0 days, or more than MaxEveryDays / MaxEveryWeeks
)

// String names the reason in English, for logs.
func (r Reason) String() string {
	switch r {
	case ReasonEmpty:
		return "empty"
	case ReasonUnknownWord:
		return "unknown word"
	case ReasonNoTime:
		return "no time of day"
	case ReasonNoDays:
		return "no days"
	case ReasonConflict:
		return "conflicting words"
	case ReasonBadTime:
		return "no such time"
	case ReasonBadDate:
		return "no such date"
	case ReasonPast:
		return "end date passed"
	case ReasonNeverFires:
		return "never fires"
	case ReasonBadCron:
		return "bad cron expression"
	case ReasonBadInterval:
		return "interval out of range"
	}
	return fmt.Sprintf("reason %d", int(r))
}

// ParseError is a refusal: the phrase was not understood in full.
type ParseError struct {
	Reason Reason
	// Word is the word or phrase at fault (normalised), when there is one.
	Word string
}

// Error describes the refusal in English, for logs; Explain gives the reply.
func (e *ParseError) Error() string {
	if e.Word != "" {
		return fmt.Sprintf("schedule not understood: %s %q", e.Reason, e.Word)
	}
	return "schedule not understood: " + e.Reason.String()
}

// Is makes errors.Is(err, ErrNotUnderstood) hold.
func (e *ParseError) Is(target error) bool { return target == ErrNotUnderstood }

// AmbiguousError says the phrase was understood except whether its hour is
// in the morning or the evening ("at 5", «الساعة ٦:٣٠»). Options holds the
// two readings, morning first; the conversation asks which one is meant.
type AmbiguousError struct {
	// Clock is the time as it was typed, normalised ("5", "6:30").
	Clock   string
	Options [2]Schedule
}

// Error names both readings in 24-hour time, for logs.
func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("schedule time %q is ambiguous: %02d:%02d or %02d:%02d",
		e.Clock, e.Options[0].Hour, e.Options[0].Minute, e.Options[1].Hour, e.Options[1].Minute)
}

// Is makes errors.Is(err, ErrAmbiguous) hold.
func (e *AmbiguousError) Is(target error) bool { return target == ErrAmbiguous }

var (
	cronField   = regexp.MustCompile(`^[0-9*,/-]+$`)
	cronAny     = regexp.MustCompile(`^[0-9a-z*,/?-]+$`)
	clockToken  = regexp.MustCompile(`^(\d{1,2})(?:[:.](\d{2}))?$`)
	gluedPeriod = regexp.MustCompile(`^(\d{1,2}(?:[:.]\d{2})?)(am|pm|a\.m|p\.m|ص|م|h)$`)
	isoDate     = regexp.MustCompile(`^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$`)
	dmyDate     = regexp.MustCompile(`^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$`)
	dayNumber   = regexp.MustCompile(`^(\d{1,2})(st|nd|rd|th)?$`)
)

// Parse reads how a reminder repeats from what a person typed, in Arabic
// (standard or Palestinian colloquial) or English, or as a standard 5-field
// cron expression. now and loc fix the first date of "every 2 days" and
// the year of "until 31 January".
//
// Every word must be accounted for; anything else is refused with a
// *ParseError (errors.Is ErrNotUnderstood). An hour from 1 to 12 with no
// am/pm and no 24-hour form (05:00, 17:00) gives an *AmbiguousError
// (errors.Is ErrAmbiguous) carrying both readings. An accepted schedule
// always fires at least once after now.
func Parse(text string, now time.Time, loc *time.Location) (Schedule, error) {
	raw := strings.ToLower(strings.TrimSpace(messages.ToASCIIDigits(text)))
	if fields := strings.Fields(raw); len(fields) == 5 && cronField.MatchString(fields[0]) && cronField.MatchString(fields[1]) {
		return parseCronText(fields, now, loc)
	}
	toks := tokenize(text)
	if len(toks) == 0 {
		return Schedule{}, &ParseError{Reason: ReasonEmpty}
	}
	p := &parser{toks: toks, now: now.In(loc), loc: loc}
	if err := p.run(); err != nil {
		return Schedule{}, err
	}
	return p.build()
}

// parseCronText accepts five fields that robfig/cron can parse.
func parseCronText(fields []string, now time.Time, loc *time.Location) (Schedule, error) {
	for _, f := range fields {
		if !cronAny.MatchString(f) {
			return Schedule{}, &ParseError{Reason: ReasonBadCron, Word: f}
		}
	}
	s := Schedule{Cron: strings.Join(fields, " ")}
	if err := s.Validate(); err != nil {
		return Schedule{}, &ParseError{Reason: ReasonBadCron, Word: s.Cron}
	}
	if s.Next(now, loc).IsZero() {
		return Schedule{}, &ParseError{Reason: ReasonNeverFires, Word: s.Cron}
	}
	return s, nil
}

// tokenize normalises text and splits it into words: commas and
// semicolons separate, "9am" is "9 am", and a «و» glued to a word Parse
// knows («والخميس», «ونص», «وحتى») is a word of its own.
func tokenize(text string) []string {
	n := messages.Normalize(text)
	n = strings.NewReplacer("،", " ", ",", " ", "؛", " ", ";", " ", "(", " ", ")", " ", "&", " and ", "ـ", "").Replace(n)
	var out []string
	for _, f := range strings.Fields(n) {
		if f != "." && f != "a.m." && f != "p.m." {
			f = strings.TrimRight(f, ".")
		}
		if f == "" {
			continue
		}
		if m := gluedPeriod.FindStringSubmatch(f); m != nil {
			out = append(out, m[1], m[2])
			continue
		}
		if rest, ok := strings.CutPrefix(f, "و"); ok && rest != "" && !lex.known(f) && lex.known(rest) {
			out = append(out, "و", rest)
			continue
		}
		if rest, ok := strings.CutPrefix(f, "ل"); ok && (rest == "اخر" || rest == "نهايه") {
			out = append(out, "ل", rest)
			continue
		}
		out = append(out, f)
	}
	return out
}

// daySource says where the parser's weekdays came from.
type daySource int

const (
	noDays daySource = iota
	daysEvery
	daysWorkWeek
	daysWeekend
	daysNamed
)

// parser walks the words once; each step consumes a phrase or refuses.
type parser struct {
	toks []string
	i    int
	now  time.Time
	loc  *time.Location

	days      uint8
	source    daySource
	except    uint8
	everyDays int // 1: daily; ≥2: every N days
	weeks     int // 1: weekly; ≥2: every N weeks

	hasTime      bool
	hour, minute int
	per          period
	explicit     bool // hour written in 24-hour form (0, 13–23, or zero-padded)
	clock        string

	until    Date
	hasUntil bool
}

// phrase returns the next n words joined, or "" when fewer remain.
func (p *parser) phrase(at, n int) string {
	if at+n > len(p.toks) {
		return ""
	}
	return strings.Join(p.toks[at:at+n], " ")
}

// match returns how many words from at form a phrase of role, longest first, or 0.
func (p *parser) match(role string, at int) int {
	for n := min(lex.longest, len(p.toks)-at); n > 0; n-- {
		if lex.in(role, p.phrase(at, n)) {
			return n
		}
	}
	return 0
}

func (p *parser) fail(r Reason, word string) error { return &ParseError{Reason: r, Word: word} }

func (p *parser) run() error {
	for p.i < len(p.toks) {
		start := p.i
		ok, err := p.step()
		if err != nil {
			return err
		}
		if !ok {
			// a conjunction between two phrases is fine; anywhere else it is noise
			if n := p.match("and", p.i); n > 0 && p.i > 0 && p.i+n < len(p.toks) {
				p.i += n
				if ok, err = p.step(); err != nil {
					return err
				}
			}
			if !ok {
				word := p.toks[start]
				if lex.in("every", word) && start+1 < len(p.toks) {
					// «كل شهر», "every banana": the word after "every" is the one not understood
					word = p.toks[start+1]
				}
				return p.fail(ReasonUnknownWord, word)
			}
		}
	}
	return nil
}

// step consumes one phrase at p.i, reporting false if none starts there.
func (p *parser) step() (bool, error) {
	for _, try := range []func() (bool, error){p.untilPhrase, p.exceptPhrase, p.frequency, p.dayList, p.timePhrase} {
		if ok, err := try(); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// setDays records where the weekdays come from; a second source conflicts.
func (p *parser) setDays(src daySource, mask uint8, word string) error {
	if p.source != noDays {
		return p.fail(ReasonConflict, word)
	}
	p.source, p.days = src, mask
	return nil
}

func (p *parser) setInterval(days, weeks int, word string) error {
	if p.everyDays != 0 || p.weeks != 0 {
		return p.fail(ReasonConflict, word)
	}
	p.everyDays, p.weeks = days, weeks
	return nil
}

// frequency reads "every …", "daily", "weekly", "weekdays", «كل …», «يوميًا» ….
func (p *parser) frequency() (bool, error) {
	at := p.i
	word := p.toks[at]
	// «كل يوم جمعة», «كل يوم الاثنين والخميس»: "day" names the days that follow
	if lex.in("every", word) && at+2 < len(p.toks) && lex.in("day", p.toks[at+1]) {
		if _, ok := lex.weekdays[p.toks[at+2]]; ok {
			p.i = at + 2
			mask, ok := p.weekdayList()
			if !ok {
				return false, nil
			}
			return true, p.setDays(daysNamed, mask, word)
		}
	}
	if n := p.match("all_days", at); n > 0 {
		p.i += n
		return true, p.setDays(daysEvery, allDays, p.phrase(at, n))
	}
	if n := p.match("workweek", at); n > 0 {
		p.i += n
		return true, p.setDays(daysWorkWeek, workWeek, p.phrase(at, n))
	}
	if n := p.match("weekend", at); n > 0 {
		p.i += n
		return true, p.setDays(daysWeekend, weekend, p.phrase(at, n))
	}
	if n := p.match("every_other_day", at); n > 0 {
		p.i += n
		return true, p.setInterval(2, 0, p.phrase(at, n))
	}
	if n := p.match("fortnightly", at); n > 0 {
		p.i += n
		return true, p.setInterval(0, 2, p.phrase(at, n))
	}
	if n := p.match("daily", at); n > 0 {
		p.i += n
		if err := p.setDays(daysEvery, allDays, p.phrase(at, n)); err != nil {
			return true, err
		}
		return true, p.setInterval(1, 0, p.phrase(at, n))
	}
	if n := p.match("weekly", at); n > 0 {
		p.i += n
		return true, p.setInterval(0, 1, p.phrase(at, n))
	}
	if !lex.in("every", word) || at+1 >= len(p.toks) {
		return false, nil
	}
	next := p.toks[at+1]
	// every + workweek/weekend words: "every weekday", «كل يوم دوام»
	for _, role := range []string{"workweek", "weekend"} {
		if n := p.match(role, at+1); n > 0 {
			p.i = at + 1 + n
			src := map[string]daySource{"workweek": daysWorkWeek, "weekend": daysWeekend}[role]
			mask := map[string]uint8{"workweek": workWeek, "weekend": weekend}[role]
			return true, p.setDays(src, mask, p.phrase(at, 1+n))
		}
	}
	if _, ok := lex.weekdays[next]; ok {
		p.i = at + 1
		mask, ok := p.weekdayList()
		if !ok {
			return false, nil
		}
		return true, p.setDays(daysNamed, mask, word)
	}
	switch {
	case lex.in("two_days", next):
		p.i = at + 2
		return true, p.setInterval(2, 0, next)
	case lex.in("two_wks", next):
		p.i = at + 2
		return true, p.setInterval(0, 2, next)
	}
	// every N days / weeks, N in digits or words; "every other week"
	n, ok := 0, false
	if lex.in("other", next) {
		n, ok = 2, true
	} else if c, isCount := lex.counts[next]; isCount {
		n, ok = c, true
	} else if v, err := strconv.Atoi(next); err == nil && isNumberish(next) {
		n, ok = v, true
	}
	if ok && at+2 < len(p.toks) {
		unit := p.toks[at+2]
		switch {
		case lex.in("day", unit):
			if n < 1 || n > MaxEveryDays {
				return true, p.fail(ReasonBadInterval, p.phrase(at, 3))
			}
			p.i = at + 3
			if n == 1 {
				if err := p.setDays(daysEvery, allDays, p.phrase(at, 3)); err != nil {
					return true, err
				}
			}
			return true, p.setInterval(n, 0, p.phrase(at, 3))
		case lex.in("week", unit):
			if n < 1 || n > MaxEveryWeeks {
				return true, p.fail(ReasonBadInterval, p.phrase(at, 3))
			}
			p.i = at + 3
			return true, p.setInterval(0, n, p.phrase(at, 3))
		}
	}
	return false, nil
}

// weekdayList reads one or more weekdays from p.i: "monday and thursday",
// «الاثنين والخميس», «السبت ويوم الثلاثاء».
func (p *parser) weekdayList() (uint8, bool) {
	var mask uint8
	for {
		d, ok := lex.weekdays[p.tokAt(p.i)]
		if !ok {
			return mask, mask != 0
		}
		mask |= 1 << d
		p.i++
		// a further day after "and"/«و», optionally repeating «يوم»/"on"
		j := p.i
		if n := p.match("and", j); n > 0 {
			j += n
		}
		if n := p.match("on", j); n > 0 {
			if _, ok := lex.weekdays[p.tokAt(j+n)]; ok {
				j += n
			}
		}
		if _, ok := lex.weekdays[p.tokAt(j)]; !ok {
			return mask, true
		}
		p.i = j
	}
}

func (p *parser) tokAt(i int) string {
	if i < 0 || i >= len(p.toks) {
		return ""
	}
	return p.toks[i]
}

// dayList reads weekdays with an optional "on"/«يوم»/«أيام» before them:
// "on fridays", «يوم الجمعة», «الأحد والثلاثاء».
func (p *parser) dayList() (bool, error) {
	at := p.i
	if n := p.match("on", at); n > 0 {
		if _, ok := lex.weekdays[p.tokAt(at+n)]; !ok {
			return false, nil
		}
		p.i += n
	}
	if _, ok := lex.weekdays[p.tokAt(p.i)]; !ok {
		p.i = at
		return false, nil
	}
	mask, _ := p.weekdayList()
	return true, p.setDays(daysNamed, mask, p.toks[at])
}

// exceptPhrase reads "except friday", «عدا الجمعة», «ما عدا الجمعة والسبت».
func (p *parser) exceptPhrase() (bool, error) {
	at := p.i
	n := p.match("except", at)
	if n == 0 {
		return false, nil
	}
	j := at + n
	if m := p.match("on", j); m > 0 {
		j += m
	}
	if _, ok := lex.weekdays[p.tokAt(j)]; !ok {
		return false, nil
	}
	if p.except != 0 {
		return true, p.fail(ReasonConflict, p.toks[at])
	}
	p.i = j
	mask, _ := p.weekdayList()
	p.except = mask
	return true, nil
}

// timePhrase reads a time of day: "at 9am", "18:30", "10:00 pm",
// «الساعة ٥ مساءً», «٦ ونص المسا», «الساعة سبعة الا ربع», "noon", "half past 6".
func (p *parser) timePhrase() (bool, error) {
	at := p.i
	j := at
	connector := false
	if n := p.match("at", j); n > 0 {
		j, connector = j+n, true
	}
	if n := p.match("noon_exact", j); n > 0 {
		return true, p.setTime(j+n, p.phrase(j, n), 12, 0, true, noPeriod)
	}
	if n := p.match("midnight", j); n > 0 {
		return true, p.setTime(j+n, p.phrase(j, n), 0, 0, true, noPeriod)
	}
	// "half past 6", "quarter to 7"
	for role, offset := range map[string]int{"half_past": 30, "qtr_past": 15, "qtr_to": -15} {
		if n := p.match(role, j); n > 0 {
			h, ok := hourValue(p.tokAt(j+n), true)
			if !ok || h < 1 || h > 12 {
				return false, nil
			}
			hour, minute := h, offset
			if offset < 0 { // a quarter to 1 is 12:45
				hour, minute = (h+10)%12+1, 60+offset
			}
			return true, p.finishClock(j+n+1, p.phrase(j, n+1), hour, minute, false)
		}
	}
	tok := p.tokAt(j)
	var hour, minute int
	explicit := false
	if m := clockToken.FindStringSubmatch(tok); m != nil {
		hour, _ = strconv.Atoi(m[1])
		if m[2] != "" {
			minute, _ = strconv.Atoi(m[2])
		}
		explicit = hour == 0 || hour > 12 || (len(m[1]) == 2 && m[1][0] == '0')
	} else if h, ok := hourValue(tok, connector); ok {
		hour = h
	} else {
		return false, nil
	}
	// a bare number is a time only after "at"/«الساعة» or before a period or fraction
	if !connector && !strings.ContainsAny(tok, ":.") && !p.clockFollows(j+1) {
		return false, nil
	}
	if hour > 23 || minute > 59 {
		return true, p.fail(ReasonBadTime, tok)
	}
	j++
	clock := tok
	// «ونص», «وربع», «الا ربع»: only after a whole hour
	if !strings.ContainsAny(tok, ":.") {
		for role, m := range map[string]int{"half": 30, "quarter": 15, "third": 20, "to_quarter": -15, "to_third": -20} {
			if n := p.match(role, j); n > 0 {
				clock = p.phrase(j-1, n+1)
				j += n
				if m < 0 {
					minute = 60 + m
					switch {
					case hour == 0:
						hour = 23
					case hour == 1 && !explicit:
						hour = 12
					default:
						hour--
					}
				} else {
					minute = m
				}
				break
			}
		}
	}
	if n := p.match("oclock", j); n > 0 {
		j += n
	}
	return true, p.finishClock(j, clock, hour, minute, explicit)
}

// clockFollows reports whether a period or an hour fraction starts at i.
func (p *parser) clockFollows(i int) bool {
	if _, n := p.periodAt(i); n > 0 {
		return true
	}
	for _, role := range []string{"half", "quarter", "third", "to_quarter", "to_third", "oclock"} {
		if p.match(role, i) > 0 {
			return true
		}
	}
	return false
}

// periodAt returns the period phrase starting at i and its length.
func (p *parser) periodAt(i int) (period, int) {
	for n := min(lex.longest, len(p.toks)-i); n > 0; n-- {
		if per, ok := lex.periods[p.phrase(i, n)]; ok {
			return per, n
		}
	}
	return noPeriod, 0
}

// finishClock reads an optional period after the clock ending before j and records the time.
func (p *parser) finishClock(j int, clock string, hour, minute int, explicit bool) error {
	per, n := p.periodAt(j)
	if n > 0 {
		clock += " " + p.phrase(j, n)
		j += n
		h, ok := withPeriod(hour, per)
		if !ok {
			return p.fail(ReasonBadTime, clock)
		}
		hour, explicit = h, true
	}
	return p.setTime(j, clock, hour, minute, explicit, per)
}

func (p *parser) setTime(end int, clock string, hour, minute int, explicit bool, per period) error {
	if p.hasTime {
		return p.fail(ReasonConflict, clock)
	}
	p.i = end
	p.hasTime, p.hour, p.minute, p.explicit, p.clock, p.per = true, hour, minute, explicit, clock, per
	return nil
}

// hourValue reads an hour in digits or, after "at"/«الساعة», in words.
func hourValue(tok string, words bool) (int, bool) {
	if v, err := strconv.Atoi(tok); err == nil && isNumberish(tok) && len(tok) <= 2 {
		return v, true
	}
	if !words {
		return 0, false
	}
	h, ok := lex.hourWords[tok]
	return h, ok
}

// withPeriod turns an hour said with a part of the day into 0–23.
func withPeriod(h int, per period) (int, bool) {
	switch per {
	case morning:
		switch {
		case h == 12:
			return 0, true
		case h >= 0 && h < 12:
			return h, true
		}
	case evening:
		switch {
		case h >= 1 && h < 12:
			return h + 12, true
		case h == 12 || (h > 12 && h < 24):
			return h, true
		}
	case afternoon:
		switch {
		case h == 12 || (h >= 13 && h <= 18):
			return h, true
		case h >= 1 && h <= 6:
			return h + 12, true
		}
	case noon:
		switch {
		case h == 12 || (h >= 13 && h <= 15):
			return h, true
		case h >= 1 && h <= 3:
			return h + 12, true
		}
	case night:
		switch {
		case h == 12 || h == 0:
			return 0, true
		case h >= 1 && h <= 4:
			return h, true
		case h >= 6 && h <= 11:
			return h + 12, true
		case h >= 18 && h <= 23:
			return h, true
		}
	}
	return 0, false
}

// untilPhrase reads the last date: "until 2027-01-31", «حتى ٣١/١/٢٠٢٧»,
// «لغاية آخر الشهر», "till 31 january", "until the end of the year".
func (p *parser) untilPhrase() (bool, error) {
	at := p.i
	n := p.match("until", at)
	if n == 0 {
		return false, nil
	}
	d, m, err := p.dateAt(at + n)
	if err != nil {
		return true, err
	}
	if m == 0 {
		return true, p.fail(ReasonBadDate, p.phrase(at, min(n+1, len(p.toks)-at)))
	}
	if p.hasUntil {
		return true, p.fail(ReasonConflict, p.phrase(at, n+m))
	}
	if d.Before(DateOf(p.now)) {
		return true, p.fail(ReasonPast, p.phrase(at+n, m))
	}
	p.i, p.until, p.hasUntil = at+n+m, d, true
	return true, nil
}

// dateAt reads a date starting at word i, returning it and its length in words (0: none).
func (p *parser) dateAt(i int) (Date, int, error) {
	today := DateOf(p.now)
	tok := p.tokAt(i)
	bad := func(word string) (Date, int, error) { return Date{}, 0, p.fail(ReasonBadDate, word) }
	if m := isoDate.FindStringSubmatch(tok); m != nil {
		d, ok := mkDate(m[1], m[2], m[3])
		if !ok {
			return bad(tok)
		}
		return d, 1, nil
	}
	if m := dmyDate.FindStringSubmatch(tok); m != nil {
		// the day comes first, as it is written locally
		d, ok := mkDate(m[3], m[2], m[1])
		if !ok {
			return bad(tok)
		}
		return d, 1, nil
	}
	// the end of this month, next month or this year
	if n := p.match("end", i); n > 0 {
		j := i + n
		switch {
		case p.match("next_month", j) > 0:
			k := p.match("next_month", j)
			first := Date{today.Year, today.Month, 1}
			return DateOf(first.utc().AddDate(0, 2, -1)), n + k, nil
		case p.match("this_month", j) > 0:
			k := p.match("this_month", j)
			first := Date{today.Year, today.Month, 1}
			return DateOf(first.utc().AddDate(0, 1, -1)), n + k, nil
		case p.match("this_year", j) > 0:
			return Date{today.Year, time.December, 31}, n + p.match("this_year", j), nil
		}
		return Date{}, 0, nil
	}
	// "31 january [2027]", «٣١ كانون الثاني [٢٠٢٧]», "january 31[st] [2027]"
	if m := dayNumber.FindStringSubmatch(tok); m != nil {
		if month, k := p.monthAt(i + 1); k > 0 {
			return p.dayMonthYear(m[1], month, i+1+k, 1+k)
		}
	}
	if month, k := p.monthAt(i); k > 0 {
		if m := dayNumber.FindStringSubmatch(p.tokAt(i + k)); m != nil {
			return p.dayMonthYear(m[1], month, i+k+1, k+1)
		}
	}
	return Date{}, 0, nil
}

// dayMonthYear completes a date whose day and month were read: the year
// follows at word j, or is the next year in which the date is not past.
func (p *parser) dayMonthYear(day string, month time.Month, j, used int) (Date, int, error) {
	today := DateOf(p.now)
	dayN, _ := strconv.Atoi(day)
	if y := p.tokAt(j); len(y) == 4 && isNumberish(y) {
		d, ok := mkDate(y, strconv.Itoa(int(month)), day)
		if !ok {
			return Date{}, 0, p.fail(ReasonBadDate, day+" "+y)
		}
		return d, used + 1, nil
	}
	d := Date{today.Year, month, dayN}
	if !d.valid() && !(month == time.February && dayN == 29) {
		return Date{}, 0, p.fail(ReasonBadDate, day)
	}
	for !d.valid() || d.Before(today) { // 29 February waits for a leap year
		d.Year++
		if d.Year > today.Year+8 {
			return Date{}, 0, p.fail(ReasonBadDate, day)
		}
	}
	return d, used, nil
}

// monthAt returns the month named at word i (one or two words) and its length.
func (p *parser) monthAt(i int) (time.Month, int) {
	for n := 2; n > 0; n-- {
		if m, ok := lex.months[p.phrase(i, n)]; ok {
			return m, n
		}
	}
	return 0, 0
}

func mkDate(y, m, d string) (Date, bool) {
	yy, _ := strconv.Atoi(y)
	mm, _ := strconv.Atoi(m)
	dd, _ := strconv.Atoi(d)
	date := Date{yy, time.Month(mm), dd}
	return date, mm >= 1 && mm <= 12 && date.valid()
}

// build turns what was read into a schedule, or refuses.
func (p *parser) build() (Schedule, error) {
	mask := p.days
	if p.source == noDays {
		switch {
		case p.everyDays > 0:
			mask = allDays
		case p.weeks > 0:
			mask = 0 // the first date's weekday, chosen below
		default:
			return Schedule{}, p.fail(ReasonNoDays, "")
		}
	}
	if p.everyDays > 1 && p.source != noDays {
		return Schedule{}, p.fail(ReasonConflict, "")
	}
	if p.everyDays > 1 && p.except != 0 {
		return Schedule{}, p.fail(ReasonConflict, "")
	}
	if p.except != 0 {
		if mask == 0 {
			return Schedule{}, p.fail(ReasonConflict, "")
		}
		mask &^= p.except
		if mask == 0 {
			return Schedule{}, p.fail(ReasonNeverFires, "")
		}
	}
	if !p.hasTime {
		return Schedule{}, p.fail(ReasonNoTime, "")
	}
	mk := func(hour int) (Schedule, error) { return p.schedule(mask, hour, p.minute) }
	if !p.explicit && p.hour >= 1 && p.hour <= 12 {
		am, err := mk(p.hour % 12)
		if err != nil {
			return Schedule{}, err
		}
		pm, err := mk(p.hour%12 + 12)
		if err != nil {
			return Schedule{}, err
		}
		return Schedule{}, &AmbiguousError{Clock: p.clock, Options: [2]Schedule{am, pm}}
	}
	return mk(p.hour)
}

// schedule builds the schedule for weekdays mask (0: the first date's) at hour:minute.
func (p *parser) schedule(mask uint8, hour, minute int) (Schedule, error) {
	s := Schedule{Hour: hour, Minute: minute, Until: p.until}
	today := DateOf(p.now)
	// the first date on or after today whose time is still ahead, among mask's days
	first := today
	for range 8 {
		if (mask == 0 || mask&(1<<first.Weekday()) != 0) && first.At(hour, minute, p.loc).After(p.now) {
			break
		}
		first = first.AddDays(1)
	}
	switch {
	case p.everyDays > 1:
		s.EveryDays, s.From = p.everyDays, first
	case p.weeks > 0:
		if mask == 0 {
			mask = 1 << first.Weekday()
		}
		s.Days = weekdaySet(mask)
		if p.weeks > 1 {
			s.EveryWeeks, s.From = p.weeks, first
		}
	default:
		s.Days = weekdaySet(mask)
	}
	if err := s.Validate(); err != nil {
		return Schedule{}, fmt.Errorf("building schedule: %w", err)
	}
	if s.Next(p.now, p.loc).IsZero() {
		return Schedule{}, p.fail(ReasonNeverFires, p.until.String())
	}
	return s, nil
}
