package schedule

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/messages"
)

func catalog(t *testing.T) *messages.Catalog {
	t.Helper()
	c, err := messages.New()
	require.NoError(t, err)
	return c.WithLogger(slog.New(slog.DiscardHandler))
}

func TestDescribe(t *testing.T) {
	cat := catalog(t)
	for _, tc := range []struct {
		s      Schedule
		ar, en string
	}{
		{Schedule{Hour: 18}, "كل يوم الساعة ٦:٠٠ مساءً", "every day at 6:00 pm"},
		{Schedule{Days: []time.Weekday{time.Friday}, Hour: 10}, "كل جمعة الساعة ١٠:٠٠ صباحًا", "every Friday at 10:00 am"},
		{Schedule{Days: []time.Weekday{time.Monday, time.Thursday}, Hour: 18, Minute: 45}, "كل اثنين وخميس الساعة ٦:٤٥ مساءً", "every Monday and Thursday at 6:45 pm"},
		{Schedule{Days: []time.Weekday{time.Sunday, time.Tuesday, time.Thursday}, Hour: 19}, "كل أحد وثلاثاء وخميس الساعة ٧:٠٠ مساءً", "every Sunday, Tuesday and Thursday at 7:00 pm"},
		{Schedule{Days: []time.Weekday{0, 1, 2, 3, 4, 6}, Hour: 9}, "كل يوم عدا الجمعة الساعة ٩:٠٠ صباحًا", "every day except Friday at 9:00 am"},
		{Schedule{Days: []time.Weekday{0, 1, 2, 3, 4}, Hour: 17}, "كل يوم عدا الجمعة والسبت الساعة ٥:٠٠ مساءً", "every day except Friday and Saturday at 5:00 pm"},
		{Schedule{Days: []time.Weekday{time.Friday, time.Saturday}, Hour: 12}, "كل جمعة وسبت الساعة ١٢:٠٠ ظهرًا", "every Friday and Saturday at 12:00 noon"},
		{Schedule{Hour: 0}, "كل يوم الساعة ١٢:٠٠ منتصف الليل", "every day at 12:00 midnight"},
		{Schedule{EveryDays: 2, From: Date{2026, 12, 3}, Hour: 9}, "كل يومين الساعة ٩:٠٠ صباحًا، ابتداءً من الخميس ٣ كانون الأول ٢٠٢٦", "every 2 days at 9:00 am, starting Thursday 3 December 2026"},
		{Schedule{EveryDays: 3, From: Date{2026, 12, 3}, Hour: 9}, "كل ٣ أيام الساعة ٩:٠٠ صباحًا، ابتداءً من الخميس ٣ كانون الأول ٢٠٢٦", "every 3 days at 9:00 am, starting Thursday 3 December 2026"},
		{Schedule{EveryDays: 10, From: Date{2026, 12, 3}, Hour: 9}, "كل ١٠ أيام الساعة ٩:٠٠ صباحًا، ابتداءً من الخميس ٣ كانون الأول ٢٠٢٦", "every 10 days at 9:00 am, starting Thursday 3 December 2026"},
		{Schedule{EveryDays: 11, From: Date{2026, 12, 3}, Hour: 9}, "كل ١١ يومًا الساعة ٩:٠٠ صباحًا، ابتداءً من الخميس ٣ كانون الأول ٢٠٢٦", "every 11 days at 9:00 am, starting Thursday 3 December 2026"},
		{Schedule{EveryDays: 100, From: Date{2026, 12, 3}, Hour: 9}, "كل ١٠٠ يوم الساعة ٩:٠٠ صباحًا، ابتداءً من الخميس ٣ كانون الأول ٢٠٢٦", "every 100 days at 9:00 am, starting Thursday 3 December 2026"},
		{Schedule{EveryWeeks: 2, Days: []time.Weekday{time.Monday}, From: Date{2026, 12, 7}, Hour: 19},
			"كل أسبوعين يوم الاثنين الساعة ٧:٠٠ مساءً، ابتداءً من الاثنين ٧ كانون الأول ٢٠٢٦", "every 2 weeks on Monday at 7:00 pm, starting Monday 7 December 2026"},
		{Schedule{EveryWeeks: 3, Days: []time.Weekday{time.Monday, time.Thursday}, From: Date{2026, 12, 3}, Hour: 19},
			"كل ٣ أسابيع أيام الاثنين والخميس الساعة ٧:٠٠ مساءً، ابتداءً من الخميس ٣ كانون الأول ٢٠٢٦", "every 3 weeks on Monday and Thursday at 7:00 pm, starting Thursday 3 December 2026"},
		{Schedule{Hour: 21, Until: Date{2027, 1, 31}}, "كل يوم الساعة ٩:٠٠ مساءً، حتى الأحد ٣١ كانون الثاني ٢٠٢٧", "every day at 9:00 pm, until Sunday 31 January 2027"},
		// cron, in words
		{Schedule{Cron: "0 10 * * 5"}, "كل جمعة الساعة ١٠:٠٠ صباحًا", "every Friday at 10:00 am"},
		{Schedule{Cron: "0 9,18 * * *"}, "كل يوم الساعة ٩:٠٠ صباحًا و٦:٠٠ مساءً", "every day at 9:00 am and 6:00 pm"},
		{Schedule{Cron: "0 9,18 1,15 * *"}, "في اليوم ١ و١٥ من كل شهر الساعة ٩:٠٠ صباحًا و٦:٠٠ مساءً", "on day 1 and 15 of every month at 9:00 am and 6:00 pm"},
		{Schedule{Cron: "30 8 * 1,7 0"}, "كل أحد في شهر كانون الثاني وتموز الساعة ٨:٣٠ صباحًا", "every Sunday in January and July at 8:30 am"},
		{Schedule{Cron: "0 12 1 * 5"}, "في اليوم ١ من كل شهر، وكذلك كل جمعة الساعة ١٢:٠٠ ظهرًا", "on day 1 of every month, and also every Friday at 12:00 noon"},
		{Schedule{Cron: "15 * * * *"}, "كل ساعة عند الدقيقة ١٥", "every hour at minute 15"},
		{Schedule{Cron: "* * * * *"}, "كل دقيقة", "every minute"},
		{Schedule{Cron: "15 * * * 5"}, "كل جمعة كل ساعة عند الدقيقة ١٥", "every Friday every hour at minute 15"},
		{Schedule{Cron: "0,30 9-11 * * 6"}, "كل سبت الساعة ٩:٠٠ صباحًا و٩:٣٠ صباحًا و١٠:٠٠ صباحًا و١٠:٣٠ صباحًا و١١:٠٠ صباحًا و١١:٣٠ صباحًا", "every Saturday at 9:00 am, 9:30 am, 10:00 am, 10:30 am, 11:00 am and 11:30 am"},
		{Schedule{Cron: "0,30 9-12 * * 6"}, "كل سبت عند الدقيقة ٠ و٣٠ من الساعات التي تبدأ ٩:٠٠ صباحًا و١٠:٠٠ صباحًا و١١:٠٠ صباحًا و١٢:٠٠ ظهرًا", "every Saturday at minute 0 and 30 of the hours starting 9:00 am, 10:00 am, 11:00 am and 12:00 noon"},
		{Schedule{Cron: "0 9 * * *", Until: Date{2027, 1, 31}}, "كل يوم الساعة ٩:٠٠ صباحًا، حتى الأحد ٣١ كانون الثاني ٢٠٢٧", "every day at 9:00 am, until Sunday 31 January 2027"},
	} {
		assert.Equal(t, tc.ar, tc.s.Describe(cat, "ar"), "%+v", tc.s)
		assert.Equal(t, tc.en, tc.s.Describe(cat, "en"), "%+v", tc.s)
		for _, lang := range messages.Langs() {
			assert.NotContains(t, tc.s.Describe(cat, lang), "*", "no raw cron")
		}
	}
}

// TestDescribeParsed reads the user's phrases back in both languages.
func TestDescribeParsed(t *testing.T) {
	loc, now, cat := hebron(t), testNow(t), catalog(t)
	for in, want := range map[string][2]string{
		"كل سبت الساعة ٥ مساءً":                 {"كل سبت الساعة ٥:٠٠ مساءً", "every Saturday at 5:00 pm"},
		"every friday 10:00 pm":                 {"كل جمعة الساعة ١٠:٠٠ مساءً", "every Friday at 10:00 pm"},
		"weekdays 08:00":                        {"كل يوم عدا الجمعة الساعة ٨:٠٠ صباحًا", "every day except Friday at 8:00 am"},
		"العطلة الساعة ١٠ الصبح":                {"كل جمعة الساعة ١٠:٠٠ صباحًا", "every Friday at 10:00 am"},
		"كل يوم الساعة ٩ مساءً لغاية آخر الشهر": {"كل يوم الساعة ٩:٠٠ مساءً، حتى الخميس ٣١ كانون الأول ٢٠٢٦", "every day at 9:00 pm, until Thursday 31 December 2026"},
	} {
		s, err := Parse(in, now, loc)
		require.NoError(t, err, in)
		assert.Equal(t, want[0], s.Describe(cat, "ar"), in)
		assert.Equal(t, want[1], s.Describe(cat, "en"), in)
	}
}

func TestExplain(t *testing.T) {
	loc, now, cat := hebron(t), testNow(t), catalog(t)
	_, err := Parse("كل يوم عدا الجمعة ١٠:٠٠", now, loc)
	assert.Equal(t, "هل تقصد ١٠:٠٠ صباحًا، أم ١٠:٠٠ مساءً؟", Explain(err, cat, "ar"))
	assert.Equal(t, "Do you mean 10:00 am, or 10:00 pm?", Explain(err, cat, "en"))

	_, err = Parse("every day at 9pm please", now, loc)
	en := Explain(err, cat, "en")
	assert.True(t, strings.HasPrefix(en, "I didn't understand “"+messages.Isolate("please")+"”"), en)
	assert.Contains(t, en, "every friday at 6 pm", "examples follow")
	_, err = Parse("كل جمعة", now, loc)
	assert.True(t, strings.HasPrefix(Explain(err, cat, "ar"), "في أيّ ساعة؟"))
	_, err = Parse("every monday at 9pm until 2026-12-06", now, loc)
	assert.Contains(t, Explain(err, cat, "ar"), "الأحد ٦ كانون الأول ٢٠٢٦", "the date in words")

	// every refusal has its reply, in both languages
	for r := ReasonEmpty; r <= ReasonBadInterval; r++ {
		for _, lang := range messages.Langs() {
			msg := Explain(&ParseError{Reason: r, Word: "x"}, cat, lang)
			assert.NotContains(t, msg, "schedule.error", "reason %s has a catalog text", r)
			assert.Contains(t, msg, cat.Text(lang, messages.ScheduleExamples, nil))
		}
	}
}

// TestExamplesWork parses every example the refusal shows, and every
// phrase the package doc promises.
func TestExamplesWork(t *testing.T) {
	loc, now, cat := hebron(t), testNow(t), catalog(t)
	var phrases []string
	for _, lang := range messages.Langs() {
		text := cat.Text(lang, messages.ScheduleExamples, nil)
		for _, quotes := range [][2]string{{"«", "»"}, {"“", "”"}} {
			for _, part := range strings.Split(text, quotes[0])[1:] {
				phrase, _, ok := strings.Cut(part, quotes[1])
				require.True(t, ok, part)
				phrases = append(phrases, phrase)
			}
		}
	}
	require.GreaterOrEqual(t, len(phrases), 10)
	phrases = append(phrases,
		"every day at 9 am through 31/1/2027", "every friday at 10.00 pm", "كل يوم ٨ الا ربع بالليل",
		"كل جمعة الساعة ٦ مساءً لحد ٣١ كانون الثاني", "كل جمعة الساعة ٦ مساءً حتى نهاية السنة",
		"كل جمعة الساعة ٦ مساءً حتى ٣١ يناير ٢٠٢٧", "on weekdays at 8 am", "at the weekend at 10 am",
		"في أيام الدوام الساعة ٨ الصبح", "كل يوم الساعة ٧ الصبح لآخر الشهر الجاي", "every day at 9am till january 31st",
	)
	for _, p := range phrases {
		s, err := Parse(p, now, loc)
		if assert.NoError(t, err, p) {
			assert.False(t, s.Next(now, loc).IsZero(), p)
		}
	}
}
