package messages

import (
	"math"
	"strings"
	"testing"
)

// FuzzUnderstand checks that Understand never panics, says cleanly only
// what it mentions, gives a language or number only with that intent, and
// reads the same meaning from the text folded, padded with spaces, or
// followed by a polite emoji.
func FuzzUnderstand(f *testing.F) {
	for _, s := range []string{
		"", "نعم", "لا بدي", "ما عندي مانع", "بطّلوا تبعتولي", "2️⃣", "رقم ٢", "🇵🇸", "؟", "no. 2", "la2", "مابديش",
		"نعم بس بدي اسأل عن الحملة", "الخيار الثاني", "\xff\xfe", "يا", "اي", "من", "- 2", "yesss", "cancle", "ـــ", "\u200f?",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := Understand(s)
		if m.Intents&^m.Mentioned != 0 {
			t.Fatalf("Understand(%+q): clean %s not all mentioned (%s)", s, m.Intents, m.Mentioned)
		}
		if m.Is(IntentLanguage) && m.Lang != Arabic && m.Lang != English {
			t.Fatalf("Understand(%+q): language %q", s, m.Lang)
		}
		if m.Is(IntentNumber) && m.Number < LastOption {
			t.Fatalf("Understand(%+q): number %d", s, m.Number)
		}
		for _, variant := range []string{fold(s), "  " + s + "  ", s + " 🙏"} {
			if v := Understand(variant); v.Intents != m.Intents || v.Lang != m.Lang || v.Number != m.Number {
				t.Fatalf("Understand(%+q) = %+v but Understand(%+q) = %+v", s, m, variant, v)
			}
		}
	})
}

// FuzzChoose checks that Choose never panics and returns an index in
// range, that the last option's number selects it, and that an option's
// own label selects it when no other label has the same words. Labels come
// from the fuzzer's second string split at "|".
func FuzzChoose(f *testing.F) {
	for _, seed := range [][2]string{
		{"2", "📣 الحملات|🔒 بياناتي"}, {"بياناتي", "📣 الحملات|🔒 بياناتي"}, {"التاني", "a|b|c"}, {"اه", "نعم|لا"},
		{"خلص", "✅ انتهيت|❌ إلغاء"}, {"2026", "2025|حملة 2026"}, {"", ""}, {"x\xff", "x\xff|y"}, {"الأخير", "a|b"},
		{"my data", "📣 Campaigns|🔒 My data"}, {"1️⃣", "👍|👎"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, input, labelList string) {
		var labels []string
		if labelList != "" {
			labels = strings.Split(labelList, "|")
		}
		if len(labels) > 50 {
			return // a menu is short; long ones only slow the fuzzer
		}
		i, ok := Choose(input, labels)
		if ok && (i < 0 || i >= len(labels)) || !ok && i != -1 {
			t.Fatalf("Choose(%+q, %+q) = %d, %v", input, labels, i, ok)
		}
		if n := len(labels); n > 0 {
			for _, typed := range []string{FormatNumber("ar", n), FormatNumber("en", n)} {
				if got, ok := Choose(typed, labels); !ok || got != n-1 {
					t.Fatalf("Choose(%+q, %+q) = %d, %v: want the last option", typed, labels, got, ok)
				}
			}
		}
		for j, l := range labels {
			if !selectsItself(j, labels) {
				continue
			}
			if got, ok := Choose(l, labels); !ok || got != j {
				t.Fatalf("Choose(%+q, %+q) = %d, %v: want %d", l, labels, got, ok, j)
			}
		}
	})
}

// selectsItself reports whether typing label j must select it: it has
// words, no other label has the same words, and it reads as no number.
func selectsItself(j int, labels []string) bool {
	l := labels[j]
	words := plainWords(l)
	if words == "" || Understand(l).Mentions(IntentNumber) {
		return false
	}
	if _, isNumber := ParseNumber(Normalize(l)); isNumber {
		return false
	}
	for k, o := range labels {
		if k != j && plainWords(o) == words {
			return false
		}
	}
	return true
}

// FuzzNearestGovernorate checks that every position on Earth gets a
// governorate at a distance no more than half the Earth's circumference,
// and anything else gets none.
func FuzzNearestGovernorate(f *testing.F) {
	for _, p := range [][2]float64{{31.9038, 35.2034}, {31.5017, 34.4668}, {0, 0}, {-90, 180}, {90, -180}, {math.NaN(), 1}, {1, math.Inf(-1)}, {1e300, 1}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, lat, lon float64) {
		key, km := NearestGovernorate(lat, lon)
		valid := !math.IsNaN(lat) && !math.IsNaN(lon) && math.Abs(lat) <= 90 && math.Abs(lon) <= 180
		switch {
		case !valid && (key != "" || !math.IsInf(km, 1)):
			t.Fatalf("NearestGovernorate(%v, %v) = %q, %v: not a position", lat, lon, key, km)
		case valid && (!IsGovernorate(key) || km < 0 || km > math.Pi*earthRadiusKm+1e-6):
			t.Fatalf("NearestGovernorate(%v, %v) = %q, %v", lat, lon, key, km)
		}
	})
}

// FuzzMatchGovernorate checks that MatchGovernorate never panics, returns
// only governorate keys, and reads the text and its normalised form alike.
func FuzzMatchGovernorate(f *testing.F) {
	for _, s := range []string{"الخليل", "انا من الخليل", "ساكن بنابلس", "بيت لحم وبيت جالا", "الخليل ونابلس", "قلقيلة", "al-Quds", "", "و", "\xff", "من"} {
		f.Add(s)
	}
	c, err := New()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, ok := c.MatchGovernorate(s)
		if ok != IsGovernorate(g) || !ok && g != "" {
			t.Fatalf("MatchGovernorate(%+q) = %q, %v", s, g, ok)
		}
		if g2, ok2 := c.MatchGovernorate(Normalize(s)); g2 != g || ok2 != ok {
			t.Fatalf("MatchGovernorate(%+q) = %q but of its normal form %q", s, g, g2)
		}
	})
}
