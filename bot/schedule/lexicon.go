package schedule

import (
	"strings"
	"time"

	"github.com/go-playground/locales/ar"
	"github.com/go-playground/locales/ar_PS"
	"github.com/go-playground/locales/en"

	"mobilise/messages"
)

// period is the part of the day a clock reading is said to be in.
type period int

const (
	noPeriod  period = iota
	morning          // am, صباحًا, الصبح
	evening          // pm, مساءً, المسا
	afternoon        // in the afternoon, العصر, بعد الظهر
	noon             // الظهر, ظهرًا
	night            // at night, بالليل
)

// words holds every word and phrase Parse knows, normalised as
// messages.Normalize leaves them, so lookups compare like with like.
// It is built once and only read.
type words struct {
	weekdays  map[string]time.Weekday
	periods   map[string]period // phrases, space-separated
	months    map[string]time.Month
	hourWords map[string]int // hours spelt out, only after "at"/«الساعة»
	counts    map[string]int // interval counts spelt out: "three", «ثلاث»
	sets      map[string][]string
	longest   int // words in the longest phrase of periods, months and sets
}

var lex = buildWords()

// Word sets, by role. Phrases are written as people type them and
// normalised when the lexicon is built.
func wordSets() map[string][]string {
	return map[string][]string{
		"every":    {"every", "each", "كل"},
		"daily":    {"daily", "everyday", "every day", "each day", "يوميا", "يوميًا", "يومي", "بشكل يومي", "كل يوم"},
		"weekly":   {"weekly", "every week", "each week", "once a week", "اسبوعيا", "أسبوعيًا", "بشكل اسبوعي", "كل اسبوع", "كل أسبوع", "من كل اسبوع", "من كل أسبوع", "مرة بالأسبوع", "مرة في الأسبوع"},
		"day":      {"day", "days", "يوم", "يومًا", "أيام", "ايام", "نهار"},
		"week":     {"week", "weeks", "أسبوع", "أسبوعًا", "أسابيع"},
		"two_days": {"يومين"},
		"two_wks":  {"أسبوعين", "fortnight"},
		"fortnightly": {
			"fortnightly", "every fortnight", "every other week", "every second week", "أسبوع بعد أسبوع", "اسبوع اه واسبوع لا", "أسبوع آه وأسبوع لا", "أسبوع وأسبوع لا",
		},
		"every_other_day": {
			"every other day", "every second day", "يوم بعد يوم", "يوم آه ويوم لا", "يوم اه ويوم لا", "يوم ويوم لا",
		},
		"other": {"other", "second"},
		"workweek": {
			"weekdays", "weekday", "workdays", "workday", "working days", "working day", "business days", "business day",
			"the working week", "أيام الدوام", "ايام الدوام", "يوم دوام", "أيام العمل", "يوم عمل", "أيام الشغل", "يوم شغل",
			"كل أيام الدوام", "كل أيام العمل", "كل أيام الشغل", "في أيام الدوام", "في أيام العمل",
			"on weekdays", "on working days", "on workdays", "on business days",
		},
		"weekend": {
			"weekend", "weekends", "the weekend", "on weekends", "on the weekend", "at weekends", "at the weekend", "in the weekend", "في العطلة", "نهاية الأسبوع", "نهاية الاسبوع", "نهاية اسبوع", "العطلة", "عطلة", "يوم العطلة", "أيام العطلة",
		},
		"all_days":   {"كل الأيام", "كل أيام الأسبوع", "all days", "every day of the week", "all week"},
		"except":     {"except", "except for", "excluding", "but not", "عدا", "ما عدا", "ماعدا", "إلا", "الا", "غير", "باستثناء", "بإستثناء", "بدون"},
		"on":         {"on", "يوم", "أيام", "ايام", "في", "ب"},
		"and":        {"and", "و", "&"},
		"at":         {"at", "@", "الساعة", "ساعة", "ع", "على", "عالساعة", "ع الساعة", "على الساعة", "بالساعة", "في الساعة", "عند", "عند الساعة"},
		"oclock":     {"o'clock", "oclock", "sharp", "بالضبط", "تمامًا", "تماما", "بالزبط"},
		"noon_exact": {"noon", "midday", "12 noon", "الظهر تماما"},
		"midnight":   {"midnight", "12 midnight", "منتصف الليل", "نص الليل", "نصف الليل"},
		"half":       {"ونص", "و نص", "ونصف", "و نصف"},
		"quarter":    {"وربع", "و ربع"},
		"third":      {"وثلث", "و ثلث"},
		"to_quarter": {"إلا ربع", "الا ربع", "غير ربع"},
		"to_third":   {"إلا ثلث", "الا ثلث", "غير ثلث"},
		"half_past":  {"half past"},
		"qtr_past":   {"quarter past", "a quarter past"},
		"qtr_to":     {"quarter to", "a quarter to"},
		"until":      {"until", "till", "til", "through", "thru", "up to", "up until", "حتى", "لغاية", "لغايه", "لحد", "إلى", "الى", "ل", "لـ", "حتى تاريخ", "لغاية تاريخ", "ولغاية", "وحتى"},
		"end":        {"end of", "the end of", "آخر", "اخر", "نهاية"},
		"this_month": {"month", "the month", "this month", "the month", "الشهر", "هالشهر", "هذا الشهر", "الشهر الحالي"},
		"next_month": {"next month", "the next month", "الشهر الجاي", "الشهر القادم", "الشهر الجاية", "الشهر المقبل"},
		"this_year":  {"year", "the year", "this year", "السنة", "هالسنة", "هذه السنة", "العام", "هذا العام"},
	}
}

func buildWords() *words {
	w := &words{
		weekdays:  map[string]time.Weekday{},
		periods:   map[string]period{},
		months:    map[string]time.Month{},
		hourWords: map[string]int{},
		counts:    map[string]int{},
		sets:      map[string][]string{},
	}
	note := func(phrase string) string {
		p := messages.Normalize(phrase)
		w.longest = max(w.longest, len(strings.Fields(p)))
		return p
	}
	for role, list := range wordSets() {
		for _, s := range list {
			w.sets[role] = append(w.sets[role], note(s))
		}
	}
	for d, names := range map[time.Weekday][]string{
		time.Sunday:    {"sunday", "sundays", "sun", "الأحد", "أحد", "الحد"},
		time.Monday:    {"monday", "mondays", "mon", "الاثنين", "الإثنين", "اثنين", "إثنين", "الاتنين", "اتنين", "التنين"},
		time.Tuesday:   {"tuesday", "tuesdays", "tue", "tues", "الثلاثاء", "ثلاثاء", "الثلاثا", "ثلاثا", "التلاتا", "تلاتا", "التلات", "الثلاث"},
		time.Wednesday: {"wednesday", "wednesdays", "wed", "الأربعاء", "أربعاء", "الاربعا", "اربعا", "الأربعا", "الربوع"},
		time.Thursday:  {"thursday", "thursdays", "thu", "thur", "thurs", "الخميس", "خميس"},
		time.Friday:    {"friday", "fridays", "fri", "الجمعة", "جمعة", "الجمعه", "جمعه"},
		time.Saturday:  {"saturday", "saturdays", "sat", "السبت", "سبت"},
	} {
		for _, n := range names {
			w.weekdays[note(n)] = d
		}
	}
	for p, list := range map[period][]string{
		morning: {"am", "a.m", "a.m.", "in the morning", "morning", "the morning", "صباحًا", "صباحا", "صباح", "الصبح", "الصباح", "بالصبح", "الصبح بدري", "صبحًا", "ص", "فجرًا", "الفجر", "فجر"},
		evening: {"pm", "p.m", "p.m.", "in the evening", "evening", "the evening", "مساءً", "مساءا", "مساء", "مسا", "المسا", "المساء", "بالمسا", "بالمساء", "م", "عشية", "العشية"},
		afternoon: {
			"in the afternoon", "afternoon", "the afternoon", "العصر", "عصرًا", "بالعصر", "بعد الظهر", "بعد الضهر", "بعد الظهيرة",
		},
		noon:  {"الظهر", "ظهرًا", "الضهر", "ضهرًا", "بالظهر", "بالضهر", "ظهر"},
		night: {"at night", "in the night", "night", "بالليل", "ليلًا", "ليلا", "الليل", "في الليل", "بالليل"},
	} {
		for _, s := range list {
			w.periods[note(s)] = p
		}
	}
	// month names from CLDR: the Levantine ones (كانون الثاني), the ones
	// used in Egypt and the Gulf (يناير), and English, wide and abbreviated
	for _, names := range [][]string{
		ar_PS.New().MonthsWide(), ar.New().MonthsWide(), en.New().MonthsWide(), en.New().MonthsAbbreviated(),
	} {
		for i, n := range names {
			w.months[note(n)] = time.Month(i + 1)
		}
	}
	w.months[note("sept")] = time.September
	for n, list := range map[int][]string{
		1:  {"one", "واحدة", "وحدة", "الواحدة", "الأولى"},
		2:  {"two", "ثنتين", "اثنتين", "تنتين", "الثانية"},
		3:  {"three", "ثلاثة", "ثلاث", "تلاتة", "تلات", "الثالثة"},
		4:  {"four", "أربعة", "أربع", "الرابعة"},
		5:  {"five", "خمسة", "خمس", "الخامسة"},
		6:  {"six", "ستة", "ست", "السادسة"},
		7:  {"seven", "سبعة", "سبع", "السابعة"},
		8:  {"eight", "ثمانية", "ثمان", "ثماني", "تمانية", "تمان", "تمن", "الثامنة"},
		9:  {"nine", "تسعة", "تسع", "التاسعة"},
		10: {"ten", "عشرة", "عشر", "العاشرة"},
		11: {"eleven", "أحد عشر", "احدعش", "حداعش", "حدعش", "الحادية عشرة"},
		12: {"twelve", "اثنا عشر", "اطنعش", "طنعش", "ثنعش", "الثانية عشرة"},
	} {
		for _, s := range list {
			w.hourWords[note(s)] = n
		}
	}
	for n, list := range map[int][]string{
		2:  {"two"},
		3:  {"three", "ثلاث", "ثلاثة", "تلات", "تلاتة"},
		4:  {"four", "أربع", "أربعة"},
		5:  {"five", "خمس", "خمسة"},
		6:  {"six", "ست", "ستة"},
		7:  {"seven", "سبع", "سبعة"},
		8:  {"eight", "ثمان", "ثماني", "ثمانية", "تمن", "تمان", "تمانية"},
		9:  {"nine", "تسع", "تسعة"},
		10: {"ten", "عشر", "عشرة"},
	} {
		for _, s := range list {
			w.counts[note(s)] = n
		}
	}
	return w
}

// in reports whether the phrase toks (already normalised) is in the role's set.
func (w *words) in(role string, phrase string) bool {
	for _, s := range w.sets[role] {
		if s == phrase {
			return true
		}
	}
	return false
}

// known reports whether a single normalised word means anything to the parser.
func (w *words) known(word string) bool {
	if _, ok := w.weekdays[word]; ok {
		return true
	}
	if _, ok := w.periods[word]; ok {
		return true
	}
	if _, ok := w.hourWords[word]; ok {
		return true
	}
	for _, list := range w.sets {
		for _, s := range list {
			if s == word || strings.HasPrefix(s, word+" ") {
				return true
			}
		}
	}
	for m := range w.months {
		if m == word || strings.HasPrefix(m, word+" ") {
			return true
		}
	}
	return isNumberish(word)
}

// isNumberish reports whether s starts with an ASCII digit: a clock, date or count.
func isNumberish(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }
