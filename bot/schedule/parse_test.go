package schedule

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseCases are checked against the next fire times from testNow
// (Wednesday 2 December 2026, 10:00, Asia/Hebron).
var parseCases = []struct {
	in     string
	want   []string // the next three fires, local
	count  int      // when >0: how many fires in all (schedules with an end)
	am, pm []string // for an ambiguous time: the next three fires of each reading
	reason Reason   // for a refusal
}{
	// the schedules users met, with their real meaning
	{in: "every 2 days", reason: ReasonNoTime},
	{in: "كل يوم عدا الجمعة ١٠:٠٠",
		am: []string{"2026-12-03 10:00", "2026-12-05 10:00", "2026-12-06 10:00"},
		pm: []string{"2026-12-02 22:00", "2026-12-03 22:00", "2026-12-05 22:00"}},
	{in: "كل سبت الساعة ٥ مساءً", want: []string{"2026-12-05 17:00", "2026-12-12 17:00", "2026-12-19 17:00"}},
	{in: "every friday 10:00 pm", want: []string{"2026-12-04 22:00", "2026-12-11 22:00", "2026-12-18 22:00"}},
	{in: "every weekday 9:00",
		am: []string{"2026-12-03 09:00", "2026-12-05 09:00", "2026-12-06 09:00"},
		pm: []string{"2026-12-02 21:00", "2026-12-03 21:00", "2026-12-05 21:00"}},

	// English
	{in: "every day at 9pm", want: []string{"2026-12-02 21:00", "2026-12-03 21:00", "2026-12-04 21:00"}},
	{in: "daily at 18:30", want: []string{"2026-12-02 18:30", "2026-12-03 18:30", "2026-12-04 18:30"}},
	{in: "Every 2 days at 9am", want: []string{"2026-12-03 09:00", "2026-12-05 09:00", "2026-12-07 09:00"}},
	{in: "every other week on monday 7pm", want: []string{"2026-12-07 19:00", "2026-12-21 19:00", "2027-01-04 19:00"}},
	{in: "weekdays 09:00", want: []string{"2026-12-03 09:00", "2026-12-05 09:00", "2026-12-06 09:00"}},
	{in: "weekdays 9:00 am until 2027-01-31", want: []string{"2026-12-03 09:00", "2026-12-05 09:00", "2026-12-06 09:00"}, count: 51},
	{in: "every weekend at 10 am", want: []string{"2026-12-04 10:00", "2026-12-11 10:00", "2026-12-18 10:00"}},
	{in: "every day at noon", want: []string{"2026-12-02 12:00", "2026-12-03 12:00", "2026-12-04 12:00"}},
	{in: "every day at midnight", want: []string{"2026-12-03 00:00", "2026-12-04 00:00", "2026-12-05 00:00"}},
	{in: "every day at 12 am", want: []string{"2026-12-03 00:00", "2026-12-04 00:00", "2026-12-05 00:00"}},
	{in: "every day at 12 pm", want: []string{"2026-12-02 12:00", "2026-12-03 12:00", "2026-12-04 12:00"}},
	{in: "every sunday at half past 6 pm", want: []string{"2026-12-06 18:30", "2026-12-13 18:30", "2026-12-20 18:30"}},
	{in: "every thursday at quarter to 7 pm", want: []string{"2026-12-03 18:45", "2026-12-10 18:45", "2026-12-17 18:45"}},
	{in: "every 3 weeks at 21:00", want: []string{"2026-12-02 21:00", "2026-12-23 21:00", "2027-01-13 21:00"}},
	{in: "every other day at 7am", want: []string{"2026-12-03 07:00", "2026-12-05 07:00", "2026-12-07 07:00"}},
	{in: "every two days at 7 in the evening", want: []string{"2026-12-02 19:00", "2026-12-04 19:00", "2026-12-06 19:00"}},
	{in: "mondays and thursdays at 7pm until 2027-01-31", want: []string{"2026-12-03 19:00", "2026-12-07 19:00", "2026-12-10 19:00"}, count: 17},
	{in: "every friday at 10pm till 31 january", want: []string{"2026-12-04 22:00", "2026-12-11 22:00", "2026-12-18 22:00"}, count: 9},
	{in: "every day except friday and saturday at 17:00", want: []string{"2026-12-02 17:00", "2026-12-03 17:00", "2026-12-06 17:00"}},
	{in: "every 2 weeks on sunday and tuesday at 8am", want: []string{"2026-12-06 08:00", "2026-12-08 08:00", "2026-12-20 08:00"}},
	{in: "until 2027-01-31 every friday at 9 pm", want: []string{"2026-12-04 21:00", "2026-12-11 21:00", "2026-12-18 21:00"}, count: 9},
	{in: "every friday at 9 pm until the end of the year", want: []string{"2026-12-04 21:00", "2026-12-11 21:00", "2026-12-18 21:00"}, count: 4},
	{in: "every friday 10.00 pm", want: []string{"2026-12-04 22:00", "2026-12-11 22:00", "2026-12-18 22:00"}},
	{in: "fortnightly on wednesday at 08:00", want: []string{"2026-12-09 08:00", "2026-12-23 08:00", "2027-01-06 08:00"}},
	{in: "every day at 6:30",
		am: []string{"2026-12-03 06:30", "2026-12-04 06:30", "2026-12-05 06:30"},
		pm: []string{"2026-12-02 18:30", "2026-12-03 18:30", "2026-12-04 18:30"}},
	{in: "at 5 every day",
		am: []string{"2026-12-03 05:00", "2026-12-04 05:00", "2026-12-05 05:00"},
		pm: []string{"2026-12-02 17:00", "2026-12-03 17:00", "2026-12-04 17:00"}},
	{in: "every day at 12",
		am: []string{"2026-12-03 00:00", "2026-12-04 00:00", "2026-12-05 00:00"},
		pm: []string{"2026-12-02 12:00", "2026-12-03 12:00", "2026-12-04 12:00"}},

	// Arabic, standard and colloquial
	{in: "كل يوم الساعة ٦:٣٠ مساءً", want: []string{"2026-12-02 18:30", "2026-12-03 18:30", "2026-12-04 18:30"}},
	{in: "يوميًا الساعة ٨ الصبح", want: []string{"2026-12-03 08:00", "2026-12-04 08:00", "2026-12-05 08:00"}},
	{in: "كل جمعة الساعة ١٢ الظهر", want: []string{"2026-12-04 12:00", "2026-12-11 12:00", "2026-12-18 12:00"}},
	{in: "كل يوم جمعة الساعة ١١ الصبح", want: []string{"2026-12-04 11:00", "2026-12-11 11:00", "2026-12-18 11:00"}},
	{in: "كل يوم ما عدا الجمعة والسبت الساعة ١٧:٠٠", want: []string{"2026-12-02 17:00", "2026-12-03 17:00", "2026-12-06 17:00"}},
	{in: "كل يوم إلا الجمعة الساعة ٧ المسا", want: []string{"2026-12-02 19:00", "2026-12-03 19:00", "2026-12-05 19:00"}},
	{in: "كل يوم غير الجمعة ٧ الصبح", want: []string{"2026-12-03 07:00", "2026-12-05 07:00", "2026-12-06 07:00"}},
	{in: "كل يومين الساعة ٦ ونص المسا", want: []string{"2026-12-02 18:30", "2026-12-04 18:30", "2026-12-06 18:30"}},
	{in: "كل ٣ أيام الساعة ٨ الصبح", want: []string{"2026-12-03 08:00", "2026-12-06 08:00", "2026-12-09 08:00"}},
	{in: "كل ثلاث ايام الساعه ٨ الصبح", want: []string{"2026-12-03 08:00", "2026-12-06 08:00", "2026-12-09 08:00"}},
	{in: "كل ١١ يوم الساعة ٢٠:٠٠", want: []string{"2026-12-02 20:00", "2026-12-13 20:00", "2026-12-24 20:00"}},
	{in: "يوم بعد يوم الساعة ٩ بالليل", want: []string{"2026-12-02 21:00", "2026-12-04 21:00", "2026-12-06 21:00"}},
	{in: "كل أسبوعين يوم الاثنين الساعة ٧ مساءً", want: []string{"2026-12-07 19:00", "2026-12-21 19:00", "2027-01-04 19:00"}},
	{in: "كل اسبوع يوم الخميس الساعة ٩ الصبح", want: []string{"2026-12-03 09:00", "2026-12-10 09:00", "2026-12-17 09:00"}},
	{in: "الجمعة من كل أسبوع الساعة ١١ صباحًا", want: []string{"2026-12-04 11:00", "2026-12-11 11:00", "2026-12-18 11:00"}},
	{in: "أيام الدوام الساعة ٨ صباحًا", want: []string{"2026-12-03 08:00", "2026-12-05 08:00", "2026-12-06 08:00"}},
	{in: "كل أيام العمل الساعة ٨:٣٠ صباحا", want: []string{"2026-12-03 08:30", "2026-12-05 08:30", "2026-12-06 08:30"}},
	{in: "نهاية الأسبوع الساعة ١٠ صباحا", want: []string{"2026-12-04 10:00", "2026-12-11 10:00", "2026-12-18 10:00"}},
	{in: "العطلة الساعة ١٠ الصبح", want: []string{"2026-12-04 10:00", "2026-12-11 10:00", "2026-12-18 10:00"}},
	{in: "كل اثنين وخميس الساعة ٧ الا ربع المسا", want: []string{"2026-12-03 18:45", "2026-12-07 18:45", "2026-12-10 18:45"}},
	{in: "الأحد والثلاثاء الساعة ١٩:٠٠", want: []string{"2026-12-06 19:00", "2026-12-08 19:00", "2026-12-13 19:00"}},
	{in: "يوم السبت ويوم الثلاثاء ع الساعة ٤ العصر", want: []string{"2026-12-05 16:00", "2026-12-08 16:00", "2026-12-12 16:00"}},
	{in: "كل أربعاء الساعة ٣ بعد الظهر", want: []string{"2026-12-02 15:00", "2026-12-09 15:00", "2026-12-16 15:00"}},
	{in: "كل خميس الساعة ٩ بالليل", want: []string{"2026-12-03 21:00", "2026-12-10 21:00", "2026-12-17 21:00"}},
	{in: "كل يوم الساعة ١٢ بالليل", want: []string{"2026-12-03 00:00", "2026-12-04 00:00", "2026-12-05 00:00"}},
	{in: "كل يوم منتصف الليل", want: []string{"2026-12-03 00:00", "2026-12-04 00:00", "2026-12-05 00:00"}},
	{in: "كل يوم الساعة الخامسة مساءً", want: []string{"2026-12-02 17:00", "2026-12-03 17:00", "2026-12-04 17:00"}},
	{in: "كل يوم ٥م", want: []string{"2026-12-02 17:00", "2026-12-03 17:00", "2026-12-04 17:00"}},
	{in: "كل يوم ۸ صباحا", want: []string{"2026-12-03 08:00", "2026-12-04 08:00", "2026-12-05 08:00"}},
	{in: "كل يوم الساعه ٩:١٥ ص", want: []string{"2026-12-03 09:15", "2026-12-04 09:15", "2026-12-05 09:15"}},
	{in: "كل جمعة الساعة ٦ الا ربع المسا", want: []string{"2026-12-04 17:45", "2026-12-11 17:45", "2026-12-18 17:45"}},
	{in: "كل يوم الساعة ٧ وربع الصبح", want: []string{"2026-12-03 07:15", "2026-12-04 07:15", "2026-12-05 07:15"}},
	{in: "كل سبت الساعة ٩ الصبح حتى ٢٠٢٦-١٢-١٢", want: []string{"2026-12-05 09:00", "2026-12-12 09:00"}, count: 2},
	{in: "كل يوم الساعة ٩ مساءً لغاية آخر الشهر", want: []string{"2026-12-02 21:00", "2026-12-03 21:00", "2026-12-04 21:00"}, count: 30},
	{in: "كل يوم الساعة ٩ مساءً حتى ٣١ كانون الثاني ٢٠٢٧", want: []string{"2026-12-02 21:00", "2026-12-03 21:00", "2026-12-04 21:00"}, count: 61},
	{in: "كل جمعة ٩ مساء لحد ٨/١/٢٠٢٧", want: []string{"2026-12-04 21:00", "2026-12-11 21:00", "2026-12-18 21:00"}, count: 6},
	{in: "كل جمعة الساعة ٩ مساءً لآخر الشهر الجاي", want: []string{"2026-12-04 21:00", "2026-12-11 21:00", "2026-12-18 21:00"}, count: 9},
	{in: "كل يوم الساعة ٥",
		am: []string{"2026-12-03 05:00", "2026-12-04 05:00", "2026-12-05 05:00"},
		pm: []string{"2026-12-02 17:00", "2026-12-03 17:00", "2026-12-04 17:00"}},
	{in: "كل يوم الساعة ٦ ونص",
		am: []string{"2026-12-03 06:30", "2026-12-04 06:30", "2026-12-05 06:30"},
		pm: []string{"2026-12-02 18:30", "2026-12-03 18:30", "2026-12-04 18:30"}},

	// cron, for experts
	{in: "0 10 * * 5", want: []string{"2026-12-04 10:00", "2026-12-11 10:00", "2026-12-18 10:00"}},
	{in: "30 18 * * 0,3", want: []string{"2026-12-02 18:30", "2026-12-06 18:30", "2026-12-09 18:30"}},
	{in: "٠ ٩ * * *", want: []string{"2026-12-03 09:00", "2026-12-04 09:00", "2026-12-05 09:00"}},
	{in: "99 99 * * *", reason: ReasonBadCron},
	{in: "0 0 30 2 *", reason: ReasonNeverFires},
	{in: "@daily", reason: ReasonUnknownWord},

	// refusals
	{in: "", reason: ReasonEmpty},
	{in: "sometimes", reason: ReasonUnknownWord},
	{in: "every day at 9pm please", reason: ReasonUnknownWord},
	{in: "biweekly on monday 9am", reason: ReasonUnknownWord},
	{in: "every day around 9pm", reason: ReasonUnknownWord},
	{in: "كل جمعة", reason: ReasonNoTime},
	{in: "كل يوم عدا الجمعة", reason: ReasonNoTime},
	{in: "every day until 2027-01-31", reason: ReasonNoTime},
	{in: "الساعة ٥ مساءً", reason: ReasonNoDays},
	{in: "every friday at 25:00", reason: ReasonBadTime},
	{in: "every day at 13 am", reason: ReasonBadTime},
	{in: "every day at 9pm until 2026-11-30", reason: ReasonPast},
	{in: "every day at 9pm until 31/2/2027", reason: ReasonBadDate},
	{in: "every day at 9pm until tomorrow", reason: ReasonBadDate},
	{in: "every monday at 9pm until 2026-12-06", reason: ReasonNeverFires},
	{in: "كل يوم عدا السبت والأحد والاثنين والثلاثاء والأربعاء والخميس والجمعة الساعة ٩ صباحًا", reason: ReasonNeverFires},
	{in: "every friday every monday 9pm", reason: ReasonConflict},
	{in: "every day at 9pm at 10pm", reason: ReasonConflict},
	{in: "every day 18:30 until 2027-01-31 until 2027-02-01", reason: ReasonConflict},
	{in: "every 2 days on friday at 9pm", reason: ReasonConflict},
	{in: "every 400 days at 9am", reason: ReasonBadInterval},
	{in: "at at 9pm daily", reason: ReasonUnknownWord},
	{in: "and every day 9pm", reason: ReasonUnknownWord},
	{in: "every monday or thursday 9pm", reason: ReasonUnknownWord},
	{in: "every friday at 5 pm pm", reason: ReasonUnknownWord},
	{in: "كل اثنين ايام الساعة ٩ الصبح", reason: ReasonUnknownWord},
	{in: "except friday at 9am", reason: ReasonNoDays},
}

func TestParse(t *testing.T) {
	loc, now := hebron(t), testNow(t)
	require.GreaterOrEqual(t, len(parseCases), 60)
	for _, tc := range parseCases {
		t.Run(tc.in, func(t *testing.T) {
			s, err := Parse(tc.in, now, loc)
			switch {
			case tc.reason != 0:
				var pe *ParseError
				require.ErrorAs(t, err, &pe, "want a refusal, got %+v", s)
				assert.Equal(t, tc.reason, pe.Reason, "%v", err)
				assert.ErrorIs(t, err, ErrNotUnderstood)
			case tc.am != nil:
				var amb *AmbiguousError
				require.ErrorAs(t, err, &amb, "want an ambiguity, got %+v", s)
				assert.ErrorIs(t, err, ErrAmbiguous)
				assert.Equal(t, tc.am, locals(amb.Options[0].NextN(now, loc, 3), loc), "morning reading")
				assert.Equal(t, tc.pm, locals(amb.Options[1].NextN(now, loc, 3), loc), "evening reading")
			default:
				require.NoError(t, err)
				require.NoError(t, s.Validate())
				assert.Equal(t, tc.want, locals(s.NextN(now, loc, 3), loc))
				if tc.count > 0 {
					assert.Len(t, s.NextN(now, loc, 1000), tc.count, "fires before the end date")
				}
			}
		})
	}
}

// TestUnknownWordNamesTheWord: a refusal names the word not understood,
// not the «كل», "every" before it, which the person typed rightly.
func TestUnknownWordNamesTheWord(t *testing.T) {
	loc, now := hebron(t), testNow(t)
	for in, word := range map[string]string{
		"كل شهر الساعة ٥ مساء": "شهر",
		"every banana at 5pm":  "banana",
		"sometimes":            "sometimes",
		"every day around 9pm": "around",
	} {
		_, err := Parse(in, now, loc)
		var pe *ParseError
		require.ErrorAs(t, err, &pe, in)
		assert.Equal(t, ReasonUnknownWord, pe.Reason, in)
		assert.Equal(t, word, pe.Word, in)
	}
}

func TestParseKeepsEveryDetail(t *testing.T) {
	loc, now := hebron(t), testNow(t)
	for in, want := range map[string]Schedule{
		"every weekday at 9am": {Days: []time.Weekday{0, 1, 2, 3, 4, 6}, Hour: 9},
		"كل يوم عدا الجمعة الساعة ١٠ صباحًا": {Days: []time.Weekday{0, 1, 2, 3, 4, 6}, Hour: 10},
		"every 2 days at 9am":            {EveryDays: 2, From: Date{2026, 12, 3}, Hour: 9},
		"every other week on monday 7pm": {Days: []time.Weekday{time.Monday}, EveryWeeks: 2, From: Date{2026, 12, 7}, Hour: 19},
		"every week at 21:00":            {Days: []time.Weekday{time.Wednesday}, Hour: 21},
		"every 1 days at 9am":            {Hour: 9},
		"daily 18:30 until 2027-01-31":   {Hour: 18, Minute: 30, Until: Date{2027, 1, 31}},
		"0 10 * * 5":                     {Cron: "0 10 * * 5"},
		"0  10 * *   fri":                {Cron: "0 10 * * fri"},
	} {
		got, err := Parse(in, now, loc)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
}

func TestAmbiguousErrorCarriesBothReadings(t *testing.T) {
	loc, now := hebron(t), testNow(t)
	_, err := Parse("every friday at 5", now, loc)
	var amb *AmbiguousError
	require.ErrorAs(t, err, &amb)
	assert.Equal(t, "5", amb.Clock)
	assert.Equal(t, Schedule{Days: []time.Weekday{time.Friday}, Hour: 5}, amb.Options[0])
	assert.Equal(t, Schedule{Days: []time.Weekday{time.Friday}, Hour: 17}, amb.Options[1])
	assert.False(t, errors.Is(err, ErrNotUnderstood), "an ambiguity is no refusal")
	assert.Contains(t, err.Error(), "05:00 or 17:00")
}

func TestScheduleJSON(t *testing.T) {
	s := Schedule{Days: []time.Weekday{time.Monday}, EveryWeeks: 2, Hour: 19, From: Date{2026, 12, 7}, Until: Date{2027, 1, 31}}
	buf, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"days":[1],"every_weeks":2,"hour":19,"from":"2026-12-07","until":"2027-01-31"}`, string(buf))
	var back Schedule
	require.NoError(t, json.Unmarshal(buf, &back))
	assert.Equal(t, s, back)

	buf, err = json.Marshal(Schedule{Cron: "0 10 * * 5"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"cron":"0 10 * * 5"}`, string(buf))
	assert.Error(t, json.Unmarshal([]byte(`{"until":"2027-02-30"}`), &back))
}

func TestValidate(t *testing.T) {
	for _, bad := range []Schedule{
		{Hour: 24}, {Minute: 60}, {Days: []time.Weekday{5, 1}}, {Days: []time.Weekday{1, 1}}, {Days: []time.Weekday{7}},
		{Days: []time.Weekday{0, 1, 2, 3, 4, 5, 6}}, {EveryDays: 1, From: Date{2026, 1, 1}}, {EveryDays: 3},
		{EveryDays: 3, From: Date{2026, 1, 1}, Days: []time.Weekday{1}}, {EveryWeeks: 2, From: Date{2026, 1, 1}},
		{EveryWeeks: 53, From: Date{2026, 1, 1}, Days: []time.Weekday{1}}, {Cron: "0 10 * * 5", Hour: 3},
		{Cron: "@daily"}, {Cron: "0 10 * *"}, {From: Date{2027, 1, 1}, Until: Date{2026, 1, 1}}, {Until: Date{2026, 2, 30}},
	} {
		assert.ErrorIs(t, bad.Validate(), ErrInvalid, "%+v", bad)
		assert.True(t, bad.Next(time.Now(), time.UTC).IsZero(), "an invalid schedule never fires: %+v", bad)
	}
}

func TestMinGap(t *testing.T) {
	loc, now := hebron(t), testNow(t)
	for _, tc := range []struct {
		s    Schedule
		want time.Duration
	}{
		{Schedule{Hour: 9}, 24 * time.Hour},
		{Schedule{Days: []time.Weekday{time.Monday, time.Tuesday}, Hour: 9}, 24 * time.Hour},
		// 64 fires three days apart reach March 2027: the night clocks go forward, a gap is an hour short
		{Schedule{EveryDays: 3, From: Date{2026, 12, 3}, Hour: 9}, 71 * time.Hour},
		{Schedule{EveryDays: 3, From: Date{2026, 12, 3}, Hour: 9, Until: Date{2027, 2, 1}}, 72 * time.Hour},
		{Schedule{Cron: "*/30 * * * *"}, 30 * time.Minute},
		{Schedule{Cron: "0 9,10 * * *"}, time.Hour},
		{Schedule{Cron: "0,20 9 * * 5"}, 20 * time.Minute},
		{Schedule{Hour: 9, Until: Date{2026, 12, 3}}, 0}, // fires once more only
	} {
		assert.Equal(t, tc.want, tc.s.MinGap(now, loc), "%+v", tc.s)
	}
	assert.True(t, Schedule{Cron: "0,30 9 * * *"}.FiresWithin(time.Hour, now, loc))
	assert.False(t, Schedule{Cron: "0 9,10 * * *"}.FiresWithin(time.Hour, now, loc), "exactly an hour apart is allowed")
	assert.False(t, Schedule{Hour: 9, Until: Date{2026, 12, 3}}.FiresWithin(time.Hour, now, loc))
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in)
	}
	for _, s := range []string{"كل", "every", "الا ربع", "until", "حتى ٢٩ شباط", "every 0 days at 9am", "at 0 every day", "00:00 daily",
		"every day at 9pm until 29 february", "كل يوم ١٢ الا ربع بالليل", "* * * * *", "0 0 29 2 1", "\u2067كل يوم ٩م\u2069"} {
		f.Add(s)
	}
	loc := hebron(f)
	now := testNow(f)
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in, now, loc)
		var amb *AmbiguousError
		switch {
		case errors.As(err, &amb):
			for _, o := range amb.Options {
				if o.Validate() != nil || o.Next(now, loc).IsZero() {
					t.Fatalf("Parse(%q): ambiguous reading %+v is unusable", in, o)
				}
			}
		case err != nil:
			if !errors.Is(err, ErrNotUnderstood) {
				t.Fatalf("Parse(%q): untyped error %v", in, err)
			}
		default:
			if err := s.Validate(); err != nil {
				t.Fatalf("Parse(%q) = %+v: %v", in, s, err)
			}
			if next := s.Next(now, loc); !next.After(now) {
				t.Fatalf("Parse(%q) = %+v has no next fire", in, s)
			}
		}
	})
}
