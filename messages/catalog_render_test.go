package messages

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"
)

// TestEveryMessageRendersWell renders every message of both catalogs with
// realistic data, every plural form with a number of its form, and fails on
// what a reader would stumble over: "<no value>", an empty field (a label
// with nothing after it, empty quotes, a doubled space), a number whose
// noun is in the wrong form for it (the plural rules bypassed), a Latin
// letter or a Western digit loose in an Arabic sentence (a command, a code,
// an English name not isolated; an ID in the other digit system), or an
// Arabic-Indic digit in an English one.
func TestEveryMessageRendersWell(t *testing.T) {
	cat, err := New()
	require.NoError(t, err)
	sources := catalogSources(t)
	declared := declaredKeys(t)
	require.NotEmpty(t, declared)
	keys := make([]Key, 0, len(declared))
	for _, k := range declared {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, lang := range Langs() {
		data := sampleData(cat, lang)
		for _, key := range keys {
			src, ok := sources[lang][key]
			require.True(t, ok, "%s missing in %s", key, lang)
			for _, name := range templateFields(src) {
				if name == "Count" {
					continue
				}
				if _, ok := data[name]; !ok {
					t.Errorf("%s %s: no realistic value for {{.%s}}: add one to sampleData", lang, key, name)
				}
			}
			var renders []rendered
			if forms, plural := src.(map[string]any); plural {
				for form := range forms {
					n, ok := formNumber(lang, form)
					require.True(t, ok, "%s %s: unknown plural form %q", lang, key, form)
					renders = append(renders, rendered{fmt.Sprintf("%s[%s n=%d]", key, form, n), cat.Count(lang, key, n, data)})
				}
			} else {
				renders = append(renders, rendered{string(key), cat.Text(lang, key, data)})
			}
			for _, r := range renders {
				for _, problem := range textProblems(lang, r.text, !strings.HasPrefix(string(key), "poster.")) {
					t.Errorf("%s %s: %s\n\t%q", lang, r.label, problem, r.text)
				}
			}
		}
	}
}

type rendered struct{ label, text string }

// formNumber is a number of the CLDR plural form of lang.
func formNumber(lang, form string) (int, bool) {
	if lang == English {
		n, ok := map[string]int{"one": 1, "other": 5}[form]
		return n, ok
	}
	n, ok := map[string]int{"zero": 0, "one": 1, "two": 2, "few": 3, "many": 11, "other": 100}[form]
	return n, ok
}

// arabicForm is the CLDR plural category of n in Arabic.
func arabicForm(n int) string {
	switch m := n % 100; {
	case n == 0:
		return "zero"
	case n == 1:
		return "one"
	case n == 2:
		return "two"
	case m >= 3 && m <= 10:
		return "few"
	case m >= 11 && m <= 99:
		return "many"
	}
	return "other"
}

// countedNouns are the nouns the bot counts, folded as Normalize folds,
// with the plural forms each may stand in after a number: in Arabic the
// plural after 3–10, the accusative singular after 11–99 and the genitive
// singular after 100, 1000…; in English the singular after 1.
var countedNouns = map[string][]string{
	"تعهدات": {"few"}, "تعهدا": {"many"}, "تعهد": {"other"},
	"اشخاص": {"few"}, "شخصا": {"many"}, "شخص": {"other"},
	"رسائل": {"few"}, "رساله": {"many", "other"},
	"ساعات": {"few"}, "ساعه": {"many", "other"},
	"دقائق": {"few"}, "دقيقه": {"many", "other"},
	"احرف": {"few"}, "حرفا": {"many"}, "حرف": {"other"},
	"ايام": {"few"}, "يوما": {"many"}, "يوم": {"other"},
	"تذكيرات": {"few"}, "تذكيرا": {"many"}, "تذكير": {"other"},
	"pledge": {"one"}, "pledges": {"other"}, "person": {"one"}, "people": {"other"},
	"message": {"one"}, "messages": {"other"}, "hour": {"one"}, "hours": {"other"},
	"minute": {"one"}, "minutes": {"other"}, "character": {"one"}, "characters": {"other"},
	"day": {"one"}, "days": {"other"}, "reminder": {"one"}, "reminders": {"other"},
}

var (
	numberThenWord = regexp.MustCompile(`([0-9٠-٩][0-9٠-٩,٬]*)\s+([\p{L}\p{M}]+)`)
	emptyField     = regexp.MustCompile(`(?m)(: +$|«\s*»|\(\s*\)|“\s*”|\S  +\S| [.,،:؛])`)
)

// textProblems lists what is wrong with a rendered text in lang; bidi says
// whether it is shown in a chat (a printed poster is laid out by its own
// shaper and has no isolates).
func textProblems(lang, s string, bidi bool) []string {
	var out []string
	if strings.Contains(s, "<no value>") {
		out = append(out, "a placeholder without a value")
	}
	words := strings.Fields(s)
	for i := 1; i < len(words); i++ {
		if w := strings.Trim(words[i], ".,،:;؛!?؟«»()"); w != "" && strings.EqualFold(w, strings.Trim(words[i-1], "«»()")) && unicode.IsLetter([]rune(w)[0]) {
			out = append(out, fmt.Sprintf("%q twice: a counted value followed by its noun again", w))
		}
	}
	if m := emptyField.FindString(s); m != "" {
		out = append(out, fmt.Sprintf("an empty field (%q)", m))
	}
	for _, m := range numberThenWord.FindAllStringSubmatch(s, -1) {
		n, ok := ParseNumber(m[1])
		forms, counted := countedNouns[Normalize(m[2])]
		if !ok || !counted {
			continue
		}
		form := "other"
		if lang == Arabic {
			form = arabicForm(n)
		} else if n == 1 {
			form = "one"
		}
		if !contains(forms, form) {
			out = append(out, fmt.Sprintf("%q after %d: the noun is not in the form for that number (use a plural message)", m[2], n))
		}
	}
	if bidi {
		out = append(out, looseRuns(lang, s)...)
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// looseRuns finds, outside every isolate, Latin letters or Western digits
// in Arabic and Arabic-Indic digits in English.
func looseRuns(lang string, s string) []string {
	var out []string
	depth := 0
	var run strings.Builder
	flush := func() {
		if run.Len() > 0 {
			out = append(out, fmt.Sprintf("%q is not isolated (messages.Isolate, or ⁨…⁩ in the catalog)", run.String()))
			run.Reset()
		}
	}
	for _, r := range s {
		switch r {
		case fsi, lri, rli:
			flush()
			depth++
			continue
		case pdi:
			depth--
			continue
		}
		loose := false
		if depth == 0 {
			if lang == Arabic {
				loose = r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r))
			} else {
				loose = r >= '٠' && r <= '٩'
			}
		}
		if loose {
			run.WriteRune(r)
		} else if run.Len() > 0 && !strings.ContainsRune(" _-.:@/+*", r) {
			flush()
		}
	}
	flush()
	return out
}

// catalogSources reads every locales/*.json as written: key → string, or
// form → string for a plural.
func catalogSources(t *testing.T) map[string]map[Key]any {
	t.Helper()
	out := map[string]map[Key]any{Arabic: {}, English: {}}
	paths, err := fs.Glob(locales, "locales/*.json")
	require.NoError(t, err)
	for _, p := range paths {
		raw, err := fs.ReadFile(locales, p)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m), p)
		lang := English
		if strings.HasSuffix(p, "ar.json") {
			lang = Arabic
		}
		for k, v := range m {
			out[lang][Key(k)] = v
		}
	}
	return out
}

var placeholderPattern = regexp.MustCompile(`\{\{(?:if )?\.(\w+)\}\}`)

// templateFields lists the {{.Name}}s a message's source uses.
func templateFields(src any) []string {
	var texts []string
	switch v := src.(type) {
	case string:
		texts = []string{v}
	case map[string]any:
		for _, f := range v {
			texts = append(texts, fmt.Sprint(f))
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range texts {
		for _, m := range placeholderPattern.FindAllStringSubmatch(s, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	return out
}

// sampleData is realistic data for every placeholder, as the code fills
// it: numbers formatted for the language, counts already in their plural
// message, times as FormatDateTime writes them, and codes, links, commands
// and addresses isolated by the caller. What people type is given as they
// might type it (a place in Latin letters, an English title), unisolated:
// the Arabic catalog isolates those where it shows them.
func sampleData(cat *Catalog, lang string) map[string]any {
	ar := lang == Arabic
	pick := func(a, e string) string {
		if ar {
			return a
		}
		return e
	}
	loc := time.FixedZone("EET", 2*3600)
	now := time.Date(2026, 12, 7, 11, 30, 0, 0, loc)
	at := func(d time.Duration) string { return FormatDateTime(lang, now.Add(d), Around(now)) }
	people := func(n int) string { return cat.Count(lang, PeopleCount, n, nil) }
	num := func(n int) string { return FormatNumber(lang, n) }
	data := map[string]any{
		"Count": num(7), "ID": num(12), "Sent": num(120), "Failed": num(3), "Blocked": num(2), "Left": pick("نحو ٥ دقائق", "about 5 minutes"),
		"Percent": num(50), "Referrals": num(3), "Target": num(12), "Max": num(5), "Pledges": num(5),
		"Value": pick("الاثنين ٢١ كانون الأول، ٦:٣٠ مساءً", "Monday 21 December, 6:30 pm"),
		"Total": people(250), "Threshold": people(20), "Covers": people(300), "Citizens": people(1200), "Members": people(14),
		"Removed": cat.Count(lang, MessageCount, 230, nil), "Duration": cat.Count(lang, Minutes, 12, nil),
		"Hours":   pick("قبل ٢٤ ساعة، وقبل ساعة واحدة", "24 hours, 1 hour"),
		"Minutes": num(30),
		"Name":    pick("مركز الحوار", "Dialogue Centre"), "NameAR": "مركز الحوار", "NameEN": "Dialogue Centre",
		"Person": pick("سمر خليل", "Samar Khalil"), "Contact": Isolate("+970599123456"),
		"Details": pick(Isolate("سمر خليل")+"، "+Isolate("+970599123456"), Isolate("Samar Khalil")+", "+Isolate("+970599123456")),
		"Titles":  pick("مسيرة السلام وعهد الحوار", "Peace walk and Dialogue pledge"),
		"Who":     Isolate("#7 Samar (telegram)"),
		"Role":    pick("منسّق", "coordinator"), "Status": pick("ينتظر الموافقة", "awaiting approval"),
		"Title": pick("مسيرة السلام", "Peace walk"), "TitleAR": "مسيرة السلام", "TitleEN": "Peace walk",
		"Campaign": pick("مسيرة السلام", "Peace walk"),
		"Text":     pick("انضمّوا إلينا يوم الجمعة في الساحة.", "Join us on Friday in the square."),
		"TextAR":   "انضمّوا إلينا يوم الجمعة في الساحة.", "TextEN": "Join us on Friday in the square.",
		"CallAR": "وقّعوا على التعهّد بالحوار.", "CallEN": "Sign the pledge to dialogue.",
		"Code": Isolate("peace2026"), "Link": Isolate("https://t.me/mobilise_bot?start=peace2026"),
		"Command": Isolate("/campaigns"), "Example": Isolate("2026-12-14 18:00"), "Address": Isolate("/appoint telegram:123456"), "RefCode": Isolate("k3x9p2qa"),
		"Clock": Isolate("5"),
		"When":  at(72 * time.Hour), "Next": at(26 * time.Hour), "Until": at(10 * time.Hour), "Since": at(-2 * time.Hour),
		"Start": at(time.Hour), "End": at(30 * 24 * time.Hour), "At": at(-3 * time.Hour),
		"Place":       "Nablus",
		"Audience":    pick("سكان محافظة: نابلس", "People of one governorate: Nablus"),
		"Repeat":      pick("كل جمعة الساعة ١٠:٠٠ صباحًا", "every Friday at 10:00 am"),
		"What":        cat.Text(lang, FlowNewCampaign, nil),
		"Governorate": pick("نابلس", "Nablus"), "Governorates": pick("نابلس، رام الله والبيرة", "Nablus, Ramallah & al-Bireh"),
		"Chosen": pick("نابلس", "Nablus"), "Field": cat.Text(lang, FieldKey("youth"), nil), "Kind": cat.Text(lang, KindBoth, nil),
		"Lang": cat.Text(lang, LangKey(lang), nil), "Channel": cat.Text(lang, ChannelTelegram, nil),
		"Channels":  pick("• تيليجرام: ٢٠٠ — ٨ دقائق\n• واتساب: ٥٠ — ١٢ دقيقة", "• Telegram: 200 — 8 minutes\n• WhatsApp: 50 — 12 minutes"),
		"Addresses": pick("تيليجرام ⁨5551⁩، واتساب ⁨970599123456⁩", "Telegram ⁨5551⁩, WhatsApp ⁨970599123456⁩"),
		"Consent":   pick("نعم", "Yes"), "Stopped": pick("لا", "No"), "Urgent": pick("لا", "No"),
		"Button":  cat.Text(lang, BroadcastOpenCampaign, nil),
		"Content": pick("النص العربي:\nانضمّوا إلينا", "Arabic text:\nانضمّوا إلينا"),
		"Summary": pick("العنوان: مسيرة السلام", "Title: Peace walk"),
		"Items":   pick("• البثّ رقم ١٢", "• broadcast no. 12"),
		"Reason":  pick("البيانات ناقصة", "the details are incomplete"),
		"Detail":  "connection refused",
		// the schedule's sentence parts, as schedule.Describe fills them
		"Word": "fridya", "Days": pick("جمعة", "Friday"), "Day": pick("الجمعة", "Friday"), "Every": pick("كل أسبوعين", "every 2 weeks"),
		"Time": pick("١٠:٠٠ صباحًا", "10:00 am"), "Date": pick("٣١ كانون الثاني ٢٠٢٧", "31 January 2027"),
		"Months": pick("كانون الثاني", "January"), "A": pick("الجمعة", "Friday"), "B": pick("السبت", "Saturday"),
		"Morning": pick("٥:٠٠ صباحًا", "5:00 am"), "Evening": pick("٥:٠٠ مساءً", "5:00 pm"),
		// a poster's date, printed
		"Weekday": pick("الخميس", "Thursday"), "Month": pick("كانون الأول", "December"), "Year": pick("٢٠٢٦", "2026"),
		// a poll: its question and answers as the coordinator typed them, an
		// answer's number as the menu shows it, the people asked and counted
		"Question": pick("هل ستشارك في مسيرة الجمعة؟", "Will you join Friday's walk?"),
		"Option":   pick("نعم، سأحضر", "Yes, I will come"), "Previous": pick("لم أقرّر بعد", "Not sure yet"),
		"N": FormatID(lang, 2), "Asked": num(250), "People": people(40),
		"Answers": cat.Count(lang, PollAnswers, 7, nil), "State": cat.Text(lang, PollStateOpen, nil),
		// a fake call quoted in a warning, and a poster's files on the server
		"Quote": pick("عاجل: أُلغيت مسيرة الجمعة، لا تحضروا.", "URGENT: Friday's walk is cancelled, do not come."),
		"PDF":   Isolate("/var/lib/mobilise/posters/poster-peace2026.pdf"), "PNG": Isolate("/var/lib/mobilise/posters/poster-peace2026.png"),
		// a file sent with a call: its size, the largest taken, and the line that names it
		"Size": pick("٣٤٠ ك.ب", "340 KB"), "Limit": pick("١٦ م.ب", "16 MB"),
		"File": pick("📎 ملصق: "+Isolate("walk-poster.png")+" (٣٤٠ ك.ب)", "📎 Poster: walk-poster.png (340 KB)"),
	}
	for k, v := range institutionsSampleData(cat, lang) {
		data[k] = v
	}
	return data
}
