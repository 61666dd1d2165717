package messages

import (
	"time"

	cldr "github.com/go-playground/locales"
	"github.com/go-playground/locales/ar_PS"
	"github.com/go-playground/locales/en_GB"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Dates and times are written the way people read them, never as ISO
// strings:
//
//	Arabic:  «الجمعة ٢٠ كانون الأول، ٦:٠٠ مساءً»
//	English: "Friday 20 December, 6:00 pm"
//
// Month and weekday names are CLDR's, from go-playground/locales: ar_PS
// gives the Levantine months (كانون الثاني، شباط، آذار … كانون الأول) that
// Palestinians use, rather than the Egyptian يناير/فبراير of plain "ar".
// That library writes every number in Western digits, so digits come from
// golang.org/x/text instead: Arabic-Indic for Arabic, Western for English.
//
// The clock is 12-hour. CLDR's Arabic day periods are the bare letters ص/م,
// which read as abbreviations; the words people write are used instead:
// صباحًا (before noon), ظهرًا (12:00–12:59), مساءً (13:00–23:59), and
// exactly 00:00 is «١٢:٠٠ منتصف الليل». English uses am/pm, with "12:00
// noon" and "12:00 midnight" for the two times a bare "12:00 am/pm" leaves
// people unsure of. A midnight belongs to the date it starts: Friday
// 00:00 is «الجمعة … ١٢:٠٠ منتصف الليل», the night between Thursday and
// Friday.
//
// The year is written unless the caller passes Around(now) and the date is
// less than 182 calendar days from now, either way: within that window a day and a
// month can only mean one date, so «٥ كانون الثاني» read in December is
// next January, and a date half a year or more away always shows its year.
//
// Callers convert to the wanted location first: FormatDate(lang, t.In(loc)).

// The translators are read-only CLDR tables, built once.
var (
	arabicCalendar  cldr.Translator = ar_PS.New()
	englishCalendar cldr.Translator = en_GB.New()
)

// yearlessDays is how many days from the reference a date may be and
// still be written without its year: under half a year, so no day and
// month can mean two dates.
const yearlessDays = 182

// DateOption changes how FormatDate and FormatDateTime write a date.
type DateOption func(*dateOptions)

type dateOptions struct {
	ref time.Time
}

// Around leaves the year out of dates less than 182 days before or after
// ref (usually now), where the day and month alone are clear.
func Around(ref time.Time) DateOption {
	return func(o *dateOptions) { o.ref = ref }
}

// calendar returns the CLDR names and the number printer for lang.
func calendar(lang string) (cldr.Translator, *message.Printer) {
	if NormalizeLang(lang) == English {
		return englishCalendar, message.NewPrinter(language.English)
	}
	return arabicCalendar, message.NewPrinter(language.Arabic)
}

// WeekdayName returns the full name of d in lang: «الجمعة», "Friday".
func WeekdayName(lang string, d time.Weekday) string {
	cal, _ := calendar(lang)
	return cal.WeekdayWide(d)
}

// MonthName returns the full name of m in lang: Levantine in Arabic
// («كانون الأول»), "December" in English.
func MonthName(lang string, m time.Month) string {
	cal, _ := calendar(lang)
	return cal.MonthWide(m)
}

// FormatDate writes t's date with its weekday: «الجمعة ٢٠ كانون الأول ٢٠٢٦»,
// "Friday 20 December 2026"; with Around(ref) the year is left out of dates
// near ref. t must already be in the wanted location.
func FormatDate(lang string, t time.Time, opts ...DateOption) string {
	var o dateOptions
	for _, opt := range opts {
		opt(&o)
	}
	cal, p := calendar(lang)
	s := cal.WeekdayWide(t.Weekday()) + " " + p.Sprint(number.Decimal(t.Day())) + " " + cal.MonthWide(t.Month())
	if o.ref.IsZero() || absDays(t, o.ref.In(t.Location())) >= yearlessDays {
		s += " " + p.Sprint(number.Decimal(t.Year(), number.NoSeparator()))
	}
	return s
}

// FormatDateTime writes t's date and clock: «الجمعة ٢٠ كانون الأول، ٦:٠٠ مساءً»,
// "Friday 20 December, 6:00 pm" (with Around; else the year follows the month).
func FormatDateTime(lang string, t time.Time, opts ...DateOption) string {
	sep := "، "
	if NormalizeLang(lang) == English {
		sep = ", "
	}
	return FormatDate(lang, t, opts...) + sep + FormatClock(lang, t)
}

// dayPeriods are the words after a 12-hour clock, per language.
var dayPeriods = map[string]struct{ midnight, morning, noon, evening string }{
	Arabic:  {midnight: "منتصف الليل", morning: "صباحًا", noon: "ظهرًا", evening: "مساءً"},
	English: {midnight: "midnight", morning: "am", noon: "noon", evening: "pm"},
}

// FormatClock writes t's time of day on a 12-hour clock: «٦:٠٠ مساءً»,
// «٩:٣٠ صباحًا», «١٢:١٥ ظهرًا», «١٢:٠٠ منتصف الليل»; "6:00 pm", "12:00 noon",
// "12:00 midnight". Seconds are dropped.
func FormatClock(lang string, t time.Time) string {
	lang = NormalizeLang(lang)
	_, p := calendar(lang)
	h, m := t.Hour(), t.Minute()
	words := dayPeriods[lang]
	var period string
	switch {
	case h == 0 && m == 0:
		period = words.midnight
	case h < 12:
		period = words.morning
	case h == 12 && (lang == Arabic || m == 0):
		period = words.noon
	default:
		period = words.evening
	}
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	return p.Sprint(number.Decimal(h12)) + ":" + p.Sprint(number.Decimal(m, number.MinIntegerDigits(2))) + " " + period
}

// absDays counts the calendar days between the dates of a and b, however
// long DST makes them.
func absDays(a, b time.Time) int {
	day := func(t time.Time) time.Time {
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	n := int(day(a).Sub(day(b)).Hours() / 24)
	if n < 0 {
		return -n
	}
	return n
}
