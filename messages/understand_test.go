package messages

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUnderstandCleanAndMentioned(t *testing.T) {
	for _, tc := range []struct {
		in              string
		clean, mentions Intent
	}{
		{"نعم", IntentYes, IntentYes},
		{"أكيد لو سمحت", IntentYes, IntentYes},
		{"نعم بس بدي اسأل عن الحملة", 0, IntentYes | IntentDone | IntentCancel},
		{"نعم لا", 0, IntentYes | IntentNo},
		{"yes no", 0, IntentYes | IntentNo},
		{"خلص", IntentDone | IntentCancel, IntentDone | IntentCancel},
		{"بلاش", IntentSkip | IntentCancel | IntentNo, IntentSkip | IntentCancel | IntentNo},
		{"إلغاء", IntentCancel, IntentCancel},
		{"جمعية الإلغاء الحر", 0, IntentCancel},
		{"مرحبا، نعم", IntentYes, IntentYes | IntentGreeting},
		{"تمام خلصت", IntentDone, IntentDone | IntentYes},
		{"ok cancel", IntentCancel, IntentCancel | IntentYes},
		{"", 0, 0},
		{"😂", 0, 0},
		{"؟", IntentHelp, IntentHelp},
		{"نعم؟", IntentYes, IntentYes},
	} {
		m := Understand(tc.in)
		assert.Equal(t, tc.clean, m.Intents, "Understand(%q).Intents = %s", tc.in, m.Intents)
		assert.Equal(t, tc.mentions, m.Mentioned, "Understand(%q).Mentioned = %s", tc.in, m.Mentioned)
		assert.Equal(t, tc.clean, m.Intents&m.Mentioned, "what is said cleanly is mentioned")
	}
}

// TestNegation checks that a negation turns round the word it governs,
// however it is written, and no further.
func TestNegation(t *testing.T) {
	for in, want := range map[string]Intent{
		"مش موافق":         IntentNo,
		"ما بدي":           IntentNo,
		"مابدي":            IntentNo,
		"بديش":             IntentNo,
		"مابديش":           IntentNo,
		"لا اريد":          IntentNo,
		"I don't want":     IntentNo,
		"ما عندي مانع":     IntentYes,
		"معنديش مانع":      IntentYes,
		"لا مانع":          IntentYes,
		"مش مشكلة":         IntentYes,
		"no problem":       IntentYes,
		"i don't mind":     IntentYes,
		"لا مش هلق":        IntentNo,
		"مش فاهم":          IntentHelp,
		"ما بدي أكمل":      IntentCancel,
		"ما بدي رسائل":     IntentStop,
		"بطّلوا تبعتولي":   IntentStop,
		"لا تبعتولي":       IntentStop,
		"no more messages": IntentStop,
		"بطلت بدي رسائل":   IntentStop,
	} {
		m := Understand(in)
		assert.True(t, m.Is(want), "Understand(%q) = %s, want %s", in, m.Intents, want)
		if want != IntentNo {
			assert.False(t, m.Is(IntentNo), "Understand(%q) = %s: not a no", in, m.Intents)
		}
	}
	// a negation reaches the next word only: punctuation ends it
	assert.Equal(t, IntentStop, Understand("لا، وقفوا الرسائل").Intents)
	assert.True(t, Understand("لا تتوقف").Intents == 0, "don't stop is not a stop")
	assert.True(t, Understand("مش متأكد").Intents == 0, "not sure is neither yes nor no")
	assert.True(t, Understand("ما بعرف").Intents == 0)
}

// TestLaBdi pins the decision on «لا بدي»: «لا» is not how Palestinians
// negate «بدي» («ما بدي», «بديش» are), so it reads as "no, I do want" —
// two answers — and the bot asks again rather than guess.
func TestLaBdi(t *testing.T) {
	for _, s := range []string{"لا بدي", "لا لا بدي", "la bdi"} {
		m := Understand(s)
		assert.Zero(t, m.Intents, s)
		assert.True(t, m.Mentions(IntentYes) && m.Mentions(IntentNo), s)
		_, ok := Choose(s, []string{"نعم", "لا"})
		assert.False(t, ok, "Choose(%q, yes/no)", s)
	}
	assert.True(t, Understand("لا أريد").Is(IntentNo), "Standard Arabic negates with لا")
}

// TestCancelIsNotStop keeps leaving a step apart from stopping all
// messages: only words that name stopping, or a refusal that names the
// messages, are a stop.
func TestCancelIsNotStop(t *testing.T) {
	for _, s := range []string{"إلغاء", "الغاء", "cancel", "خلص", "خلاص", "بلاش", "exit", "خروج", "بطلت", "❌", "وقف التسجيل", "سكّر القائمة"} {
		m := Understand(s)
		assert.True(t, m.Is(IntentCancel), "Understand(%q) = %s: a cancel", s, m.Intents)
		assert.False(t, m.Is(IntentStop), "Understand(%q) = %s: not a stop", s, m.Intents)
	}
	for _, s := range []string{"إيقاف", "stop", "unsubscribe", "🔕", "🛑", "الغاء الاشتراك", "كفى رسائل", "شيلوني من القائمة"} {
		m := Understand(s)
		assert.True(t, m.Only(IntentStop), "Understand(%q) = %s: only a stop", s, m.Intents)
	}
}

func TestFirst(t *testing.T) {
	yesNo := []Intent{IntentYes, IntentNo, IntentStop, IntentCancel, IntentHelp}
	optional := []Intent{IntentSkip, IntentNo, IntentStop, IntentCancel, IntentHelp}
	freeText := []Intent{IntentStop, IntentCancel, IntentHelp}
	m := Understand("بلاش")
	assert.Equal(t, IntentNo, m.First(yesNo...))
	assert.Equal(t, IntentSkip, m.First(optional...))
	assert.Equal(t, IntentCancel, m.First(freeText...))
	assert.Equal(t, Intent(0), Understand("جمعية الإلغاء الحر").First(freeText...))
	assert.Equal(t, Intent(0), Understand("نعم").First(freeText...))
}

func TestIntentString(t *testing.T) {
	assert.Equal(t, "none", Intent(0).String())
	assert.Equal(t, "yes", IntentYes.String())
	assert.Equal(t, "cancel|done", (IntentDone | IntentCancel).String())
	assert.Equal(t, "number", IntentNumber.String())
}

func TestUnderstandLanguageAndNumber(t *testing.T) {
	for in, want := range map[string]string{"ع": "ar", "عربي": "ar", "بالعربي": "ar", "En": "en", "انجليش": "en", "🇵🇸": "ar", "🇬🇧": "en", "🇺🇸": "en"} {
		m := Understand(in)
		assert.True(t, m.Only(IntentLanguage), in)
		assert.Equal(t, want, m.Lang, in)
	}
	assert.Zero(t, Understand("عربي English").Intents, "two languages")
	for in, want := range map[string]int{"2": 2, "٢)": 2, "رقم 3": 3, "التالت": 3, "اتنين": 2, "two": 2, "2️⃣": 2, "🔟": 10, "الأخير": LastOption, "the first one": 1} {
		m := Understand(in)
		assert.True(t, m.Only(IntentNumber), "Understand(%q) = %s", in, m.Intents)
		assert.Equal(t, want, m.Number, in)
	}
	assert.Zero(t, Understand("2 3").Intents, "two numbers")
	assert.Zero(t, Understand("-1").Intents, "a negative number")
	assert.Zero(t, Understand("0599123456").Intents, "a phone number")
}

// TestTypos checks that one typo in a long word is read and flagged, and
// that a stop is never read from a short misspelt word.
func TestTypos(t *testing.T) {
	for in, want := range map[string]Intent{"cancle": IntentCancel, "englsh": IntentLanguage, "unsubscibe": IntentStop, "مساعدو": IntentHelp} {
		m := Understand(in)
		assert.True(t, m.Is(want), "Understand(%q) = %s", in, m.Intents)
		assert.True(t, m.Typo, in)
	}
	for _, in := range []string{"اوقاف", "stpo", "نعمان", "الغار"} {
		assert.False(t, Understand(in).Is(IntentStop), in)
	}
	assert.False(t, Understand("cancel").Typo)
	assert.False(t, Understand("نعممممم").Typo, "repeated letters are emphasis, not a typo")
	assert.True(t, Understand("نعممممم").Is(IntentYes))
}

func TestChoose(t *testing.T) {
	main := []string{"📣 الحملات", "🔗 ادعُ الآخرين", "🔒 بياناتي", "🌐 English", "🔕 إيقاف الرسائل", "🏛️ تسجيل مؤسسة", "❓ مساعدة"}
	for in, want := range map[string]int{
		"2": 1, "٢": 1, "2)": 1, "(2)": 1, "#2": 1, "رقم 2": 1, "التاني": 1, "2️⃣": 1, "الأخير": 6,
		"بياناتي": 2, "🔒 بياناتي": 2, "بدي بياناتي": 2, "حملات": 0, "انجليزي": 3, "بطلوا تبعتولي": 4, "؟": 6,
	} {
		got, ok := Choose(in, main)
		assert.True(t, ok, "Choose(%q)", in)
		assert.Equal(t, want, got, "Choose(%q)", in)
	}
	for _, in := range []string{"", "8", "0", "شو في حملات", "مرحبا", "2 3"} {
		_, ok := Choose(in, main)
		assert.False(t, ok, "Choose(%q)", in)
	}
	_, ok := Choose("1", nil)
	assert.False(t, ok)
	en := []string{"📣 Campaigns", "🔗 Invite others", "🔒 My data"}
	got, ok := Choose("my data", en)
	assert.True(t, ok)
	assert.Equal(t, 2, got)
}

// TestChooseRefusesAmbiguity: two labels matched equally well select
// neither, and a command word does not select a label that contains it.
func TestChooseRefusesAmbiguity(t *testing.T) {
	_, ok := Choose("حملة", []string{"حملة الزيتون", "حملة المدارس"})
	assert.False(t, ok, "both labels contain the word")
	got, ok := Choose("حملة الزيتون", []string{"حملة الزيتون", "حملة المدارس"})
	assert.True(t, ok)
	assert.Equal(t, 0, got)
	_, ok = Choose("yes", []string{"✅ Yes", "👍 Yes"})
	assert.False(t, ok, "two labels say yes")
	_, ok = Choose("خلص", []string{"✅ انتهيت", "❌ إلغاء"})
	assert.False(t, ok, "«خلص» is both done and cancel")
	_, ok = Choose("مساعدة", []string{"المصالحة", "المساعدة القانونية"})
	assert.False(t, ok, "a request for help is not the legal-aid field")
	got, ok = Choose("2026", []string{"2025", "حملة 2026"})
	assert.True(t, ok, "a number out of range is a label word")
	assert.Equal(t, 1, got)
}

func TestLexicon(t *testing.T) {
	lx, err := buildLexicon(lexiconGroups())
	require.NoError(t, err)
	// squeezing never turns one known word into another
	for w := range lx.known {
		assert.Equal(t, w, firstOr(lx.canonWord(w, true)), "a known word stays itself")
	}
	// no word that stops all messages is read from a typo under eight letters
	for k, ws := range lx.fuzzy {
		for _, w := range ws {
			e := lx.words[w]
			if (e.pos|e.neg)&IntentStop != 0 {
				assert.GreaterOrEqual(t, letterCount(w), minFuzzyStopLetters, "%q (from %q) stops", w, k)
			}
		}
	}
	// a duplicate spelling with another meaning is an error
	_, err = buildLexicon([]group{{entry{pos: IntentYes}, "أيوه"}, {entry{pos: IntentNo}, "ايوة"}})
	assert.ErrorContains(t, err, "two meanings")
}

func firstOr(ws []string, _ bool) string {
	if len(ws) == 0 {
		return ""
	}
	return strings.Join(ws, " ")
}

func TestTokenize(t *testing.T) {
	kinds := func(s string) []string {
		var out []string
		for _, p := range tokenize(fold(s)) {
			out = append(out, p.text)
		}
		return out
	}
	assert.Equal(t, []string{"رقم", "2"}, kinds("رقم2"), "Arabic letters and digits split")
	assert.Equal(t, []string{"la2"}, kinds("la2"), "Arabizi keeps its digits")
	assert.Equal(t, []string{"2"}, kinds("2️⃣"), "keycap")
	assert.Equal(t, []string{"👍"}, kinds("👍🏽"), "skin tone")
	assert.Equal(t, []string{"🇵🇸"}, kinds("🇵🇸"), "flag")
	assert.Equal(t, []string{"don't", "send"}, kinds("Don’t send"))
	assert.Equal(t, []string{"(", "2", ")"}, kinds("(٢)"))
	assert.Equal(t, []string{"?", "?"}, kinds("؟?"))
}

func TestNearestGovernorate(t *testing.T) {
	for _, tc := range []struct {
		place    string
		lat, lon float64
		want     string
	}{
		{"Birzeit University", 31.9600, 35.1820, "ramallah"},
		{"al-Manara Square, Ramallah", 31.9038, 35.2034, "ramallah"},
		{"An-Najah University, Nablus", 32.2270, 35.2220, "nablus"},
		{"Church of the Nativity", 31.7043, 35.2076, "bethlehem"},
		{"Dome of the Rock", 31.7780, 35.2354, "jerusalem"},
		{"Ibrahimi Mosque, Hebron", 31.5247, 35.1107, "hebron"},
		{"Jenin camp", 32.4610, 35.2880, "jenin"},
		{"Hisham's Palace, Jericho", 31.8800, 35.4600, "jericho"},
		{"Palestine Square, Gaza", 31.5040, 34.4630, "gaza"},
		{"Nasser hospital, Khan Yunis", 31.3505, 34.2896, "khan_yunis"},
		{"Rafah crossing", 31.2470, 34.2580, "rafah"},
	} {
		got, km := NearestGovernorate(tc.lat, tc.lon)
		assert.Equal(t, tc.want, got, tc.place)
		assert.Less(t, km, 10.0, tc.place)
	}
	for _, c := range governorateCentres() {
		got, km := NearestGovernorate(c.lat, c.lon)
		assert.Equal(t, c.key, got)
		assert.InDelta(t, 0, km, 1e-9)
		assert.True(t, IsGovernorate(c.key), c.key)
	}
	assert.Len(t, governorateCentres(), len(Governorates()))
	// Amman is beyond the Jordan: the nearest centre is Jericho's, too far to suggest
	got, km := NearestGovernorate(31.9539, 35.9106)
	assert.Equal(t, "jericho", got)
	assert.Greater(t, km, float64(NearGovernorateKm))
	assert.InDelta(t, 43, km, 3, "Jericho to Amman is about 43 km")
	for _, p := range [][2]float64{{math.NaN(), 35}, {31, math.Inf(1)}, {91, 35}, {31, -181}} {
		got, km := NearestGovernorate(p[0], p[1])
		assert.Empty(t, got)
		assert.True(t, math.IsInf(km, 1))
	}
}

func TestMatchGovernorateColloquial(t *testing.T) {
	c := newCatalog(t)
	for in, want := range map[string]string{
		"خليل": "hebron", "el khalil": "hebron", "الخليل لو سمحت": "hebron", "انا من الخليل": "hebron", "يطا": "hebron",
		"رامالله": "ramallah", "رام اللة": "ramallah", "بيرزيت": "ramallah", "انا ساكن في رام الله": "ramallah",
		"بيتلحم": "bethlehem", "ساكن بنابلس": "nablus", "from Nablus": "nablus", "قدس": "jerusalem",
		"قلقيلة": "qalqilya", "مخيم جنين": "jenin", "النصيرات": "deir_al_balah", "Bethlehm": "bethlehem",
	} {
		got, ok := c.MatchGovernorate(in)
		assert.True(t, ok, "MatchGovernorate(%q)", in)
		assert.Equal(t, want, got, "MatchGovernorate(%q)", in)
	}
	for _, in := range []string{"الخليل ونابلس", "عمان", "يافا", "مساعدة", "لا", "انا من"} {
		_, ok := c.MatchGovernorate(in)
		assert.False(t, ok, "MatchGovernorate(%q)", in)
	}
}
