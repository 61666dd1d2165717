package messages

// Schedules in words (package bot/schedule): how a reminder repeats, and
// why a typed schedule was refused.
const (
	// ScheduleSentence assembles a schedule: {{.Days}} {{.Time}}, then an optional {{.Start}} and {{.Until}}.
	ScheduleSentence Key = "schedule.sentence"
	// ScheduleEveryDay is «كل يوم».
	ScheduleEveryDay Key = "schedule.every_day"
	// ScheduleOnDays is «كل {{.Days}}», with the bare day names: «كل اثنين وخميس».
	ScheduleOnDays Key = "schedule.on_days"
	// ScheduleExceptDays is «كل يوم عدا {{.Days}}».
	ScheduleExceptDays Key = "schedule.except_days"
	// ScheduleEveryNDays counts days between firings: «كل يومين», «كل ٣ أيام».
	ScheduleEveryNDays Key = "schedule.every_n_days"
	// ScheduleEveryNWeeks counts weeks between firings: «كل أسبوعين».
	ScheduleEveryNWeeks Key = "schedule.every_n_weeks"
	// ScheduleWeeksOnDay is {{.Every}} (ScheduleEveryNWeeks) on one {{.Day}}.
	ScheduleWeeksOnDay Key = "schedule.weeks_on_day"
	// ScheduleWeeksOnDays is {{.Every}} on several {{.Days}}.
	ScheduleWeeksOnDays Key = "schedule.weeks_on_days"
	// ScheduleAt is the time of day: «الساعة {{.Clock}}».
	ScheduleAt Key = "schedule.at"
	// ScheduleStarting is the first date of an every-N schedule.
	ScheduleStarting Key = "schedule.starting"
	// ScheduleUntil is the last date.
	ScheduleUntil Key = "schedule.until"
	// ScheduleListPair joins the last two items of a list: «الأحد والخميس», "Sunday and Thursday".
	ScheduleListPair Key = "schedule.list_pair"
	// ScheduleListMore joins an item to the rest of a list: «السبت والأحد…», "Saturday, Sunday…".
	ScheduleListMore Key = "schedule.list_more"
	// ScheduleEveryMinute, ScheduleEveryHourAt and ScheduleMinutesOfHours put cron minute and hour fields in words.
	ScheduleEveryMinute    Key = "schedule.every_minute"
	ScheduleEveryHourAt    Key = "schedule.every_hour_at"
	ScheduleMinutesOfHours Key = "schedule.minutes_of_hours"
	// ScheduleMonthDays is a cron day-of-month field: «في اليوم ١ و١٥ من كل شهر».
	ScheduleMonthDays Key = "schedule.month_days"
	// ScheduleDaysOr is a cron expression restricting both day fields, which fires on either.
	ScheduleDaysOr Key = "schedule.days_or"
	// ScheduleInMonths restricts {{.Days}} to {{.Months}}.
	ScheduleInMonths Key = "schedule.in_months"
	// ScheduleAmbiguous asks whether a time is in the morning or the evening.
	ScheduleAmbiguous Key = "schedule.ambiguous"
	// ScheduleExamples shows phrases that work, after a refusal.
	ScheduleExamples Key = "schedule.examples"
)

// Weekday names for schedules: the definite form («الجمعة») after «عدا» and
// «أيام», the bare form («جمعة») after «كل». English uses the same name twice.
const (
	ScheduleDaySunday        Key = "schedule.day.sunday"
	ScheduleDayMonday        Key = "schedule.day.monday"
	ScheduleDayTuesday       Key = "schedule.day.tuesday"
	ScheduleDayWednesday     Key = "schedule.day.wednesday"
	ScheduleDayThursday      Key = "schedule.day.thursday"
	ScheduleDayFriday        Key = "schedule.day.friday"
	ScheduleDaySaturday      Key = "schedule.day.saturday"
	ScheduleBareDaySunday    Key = "schedule.bare_day.sunday"
	ScheduleBareDayMonday    Key = "schedule.bare_day.monday"
	ScheduleBareDayTuesday   Key = "schedule.bare_day.tuesday"
	ScheduleBareDayWednesday Key = "schedule.bare_day.wednesday"
	ScheduleBareDayThursday  Key = "schedule.bare_day.thursday"
	ScheduleBareDayFriday    Key = "schedule.bare_day.friday"
	ScheduleBareDaySaturday  Key = "schedule.bare_day.saturday"
)

// Why a typed schedule was refused, one per schedule.Reason; {{.Word}} is
// the word at fault, or empty.
const (
	ScheduleErrEmpty       Key = "schedule.error.empty"
	ScheduleErrUnknownWord Key = "schedule.error.unknown_word"
	ScheduleErrNoTime      Key = "schedule.error.no_time"
	ScheduleErrNoDays      Key = "schedule.error.no_days"
	ScheduleErrConflict    Key = "schedule.error.conflict"
	ScheduleErrBadTime     Key = "schedule.error.bad_time"
	ScheduleErrBadDate     Key = "schedule.error.bad_date"
	ScheduleErrPast        Key = "schedule.error.past"
	ScheduleErrNeverFires  Key = "schedule.error.never_fires"
	ScheduleErrBadCron     Key = "schedule.error.bad_cron"
	ScheduleErrBadInterval Key = "schedule.error.bad_interval"
)
