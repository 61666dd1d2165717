// Package schedule says when reminders repeat and when messages must wait:
// schedules typed in words (Arabic, standard or Palestinian colloquial, and
// English) or as cron, computed in wall-clock time, put back into words,
// and the quiet hours broadcasts and reminders keep.
//
// # The week
//
// The working week runs Saturday to Thursday; Friday is the day off. So
// "weekdays", "working days", "business days", «أيام الدوام», «أيام العمل»
// and «أيام الشغل» mean Saturday to Thursday, and "weekend", «نهاية الأسبوع»
// and «العطلة» mean Friday. "Every 2 weeks" counts weeks that start on
// Saturday.
//
// # What Parse understands
//
// Parse understands a phrase in full or refuses it: every word must be
// part of one of these pieces, in any order, or the reply is a *ParseError
// naming the word (errors.Is ErrNotUnderstood). Explain turns it into a
// reply with examples that work.
//
//   - Days: "every day", "daily", «كل يوم», «يوميًا»; "every friday",
//     "fridays", "on mondays and thursdays", «كل جمعة», «كل يوم جمعة»,
//     «يوم الجمعة», «كل اثنين وخميس», «أيام الأحد والثلاثاء»; "weekdays",
//     «أيام الدوام»; "weekend", «العطلة»; "every week", «كل أسبوع» (on the
//     weekday of the first firing).
//   - Except: "every day except friday", «كل يوم عدا / ما عدا / إلا / غير /
//     باستثناء الجمعة»; after any set of days.
//   - Intervals: "every 2 days", "every other day", "every 3 weeks", "every
//     other week on monday", "fortnightly", «كل يومين», «كل ٣ أيام»,
//     «كل ١١ يومًا», «يوم بعد يوم», «كل أسبوعين»; counted from the first
//     firing, which Describe shows. "Biweekly" is refused: it means both
//     twice a week and every two weeks.
//   - Time: "at 9am", "18:30", "10.00 pm", "noon", "midnight", "half past
//     6 pm", "quarter to 7 pm"; «الساعة ٥ مساءً», «٦ ونص المسا», «٧ وربع
//     الصبح», «٨ الا ربع بالليل», «١٢ الظهر», «الساعة الخامسة مساءً»,
//     «منتصف الليل». Parts of the day: am/pm, in the morning/afternoon/
//     evening, at night, صباحًا/الصبح/ص/فجرًا, مساءً/المسا/م, العصر/بعد الظهر,
//     الظهر/ظهرًا, بالليل/ليلًا. Digits may be Western, Arabic-Indic or Persian.
//   - End: "until 2027-01-31", "till 31 january", "through 31/1/2027",
//     "until the end of the month", «حتى ٢٠٢٧-١-٣١», «لغاية ٣١/١/٢٠٢٧»,
//     «لحد ٣١ كانون الثاني», «لغاية آخر الشهر», «حتى نهاية السنة»,
//     «لآخر الشهر الجاي». Numeric dates are day first, as written locally,
//     unless the year comes first; a day and month alone mean the next such
//     date.
//   - Cron, for experts: five standard fields, "0 10 * * 5".
//
// A time is needed, and so are days or an interval. An hour from 1 to 12
// with no part of the day and no 24-hour form is ambiguous ("at 5",
// «الساعة ٦:٣٠», "10:00"): a 24-hour form is 0:xx, 13:00–23:59, or an hour
// written with a leading zero ("05:00"). Parse then returns an
// *AmbiguousError with both readings, and the conversation asks.
//
// # Wall-clock time
//
// A schedule fires at its local time whatever the offset: 18:00 stays
// 18:00 across DST changes. A time a spring-forward change skips fires at
// the first instant after the gap; a time a fall-back change repeats fires
// once, the first time round. Quiet hours follow the same rule (Date.At).
package schedule
