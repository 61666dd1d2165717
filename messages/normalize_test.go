package messages

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"  Hello   World  ", "hello world"},
		{"YES!", "yes"},
		{"ok.", "ok"},
		{"what?!?", "what"},
		{"Stop ", "stop"},
		{"tab\tand\nnewline\r\n", "tab and newline"},
		{"café", "cafe"},
		{"ＹＥＳ", "yes"},  // full-width
		{"ﬁne", "fine"}, // ligature
		// alef and hamza forms
		{"أحمد", "احمد"},
		{"إلغاء", "الغاء"},
		{"آه", "اه"},
		{"ٱلله", "الله"},
		{"مؤسسة", "موسسه"},
		{"رئيس", "رييس"},
		{"لأ", "لا"},
		// alef maqsura, taa marbuta
		{"مستشفى", "مستشفي"},
		{"المدرسة", "المدرسه"},
		// letters from Persian keyboards
		{"کتاب", "كتاب"},
		{"عربی", "عربي"},
		// diacritics, shadda, tanween, dagger alef, tatweel
		{"مُحَمَّدٌ", "محمد"},
		{"شكراً", "شكرا"},
		{"هٰذا", "هذا"},
		{"تعهّدًا", "تعهدا"},
		{"نـــعـــم", "نعم"},
		// presentation forms, as some keyboards send them
		{"ﻧﻌﻢ", "نعم"},
		{"ﻻ", "لا"},
		// digits
		{"٣", "3"},
		{"۳", "3"},
		{"١٢٣٤٥٦٧٨٩٠", "1234567890"},
		{"۱۲۳۴۵۶۷۸۹۰", "1234567890"},
		// trailing punctuation, Arabic and Latin
		{"نعم؟", "نعم"},
		{"نعم،", "نعم"},
		{"نعم!", "نعم"},
		{"نعم .", "نعم"},
		{"ok؛", "ok"},
		{"...", ""},
		{"3.", "3"},
		{"3.5", "3.5"},
		{"رام الله، البيرة", "رام الله، البيره"},
		// invisible characters people paste
		{"\u200fنعم\u200e", "نعم"},
		{"\u2068Ali\u2069", "ali"},
		{"\ufeffyes", "yes"},
		{"ka\u200bla", "kala"},
		{"a\u00a0b", "a b"},
		// invalid UTF-8 is dropped
		{"ye\xffs", "yes"},
		{"/start peace2026", "/start peace2026"},
		{"👍", "👍"},
		{"ء", "ء"},
	} {
		got := Normalize(tc.in)
		assert.Equal(t, tc.want, got, "Normalize(%+q)", tc.in)
		assert.Equal(t, got, Normalize(got), "Normalize(Normalize(%+q))", tc.in)
	}
	// the same word spelled every common way folds to one form
	for _, s := range []string{"أيوه", "ايوه", "أيوة", "ايوة", "أَيْوَه", "ايــوه", "أيوه!"} {
		assert.Equal(t, "ايوه", Normalize(s), s)
	}
}

func TestToASCIIDigits(t *testing.T) {
	assert.Equal(t, "0123456789", ToASCIIDigits("٠١٢٣٤٥٦٧٨٩"))
	assert.Equal(t, "0123456789", ToASCIIDigits("۰۱۲۳۴۵۶۷۸۹"))
	assert.Equal(t, "/campaign 12 أ", ToASCIIDigits("/campaign ١٢ أ"), "only digits change")
	assert.Equal(t, "1٬000", ToASCIIDigits("١٬٠٠٠"))
}

func TestParseNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"3", 3, true},
		{"٣", 3, true},
		{"۳", 3, true},
		{"12", 12, true},
		{"١٢", 12, true},
		{"۱۲", 12, true},
		{" 7 ", 7, true},
		{"\t7\n", 7, true},
		{"\u200f7\u200e", 7, true},
		{"0", 0, true},
		{"007", 7, true},
		{"1,000", 1000, true},
		{"١٬٠٠٠", 1000, true},
		{"1٬000", 1000, true},
		{"1،000", 1000, true},
		{"12,345,678", 12345678, true},
		{"1000000000", 1_000_000_000, true},
		{"1,000,000,000", 1_000_000_000, true},
		{"1000000001", 0, false},
		{"99999999999999999999999999", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"abc", 0, false},
		{"", 0, false},
		{"  ", 0, false},
		{"1.5", 0, false},
		{"1.000", 0, false},
		{"٣٫٥", 0, false},
		{"1 000", 0, false},
		{"1,00", 0, false},
		{"1,0000", 0, false},
		{"1234,567", 0, false},
		{",100", 0, false},
		{"100,", 0, false},
		{"1,,000", 0, false},
		{"1,000٬000", 0, false},
		{"3a", 0, false},
		{"٣ تعهدات", 0, false},
	} {
		got, ok := ParseNumber(tc.in)
		assert.Equal(t, tc.ok, ok, "ParseNumber(%+q) ok", tc.in)
		assert.Equal(t, tc.want, got, "ParseNumber(%+q)", tc.in)
	}
}

func TestIsYesNo(t *testing.T) {
	yes := []string{
		"نعم", "نعم!", "اه", "آه", "أه", "أيوه", "ايوه", "أيوة", "ايوا", "اكيد", "أكيد", "أكيد!", "موافق", "موافقة", "تمام", "طيب",
		"ماشي", "أجل", "بلى", "إي", "ايه", "طبعاً", "نعم موافق",
		"yes", "Yes", "YES", "y", "Y", "yeah", "yep", "yup", "ok", "OK", "okay", "Okay.", "sure", "of course", "👍", "👍🏽", "✅",
	}
	no := []string{
		"لا", "لا.", "لأ", "لاء", "كلا", "مش موافق", "مش موافقة", "غير موافق", "لا شكراً", "أبداً", "أرفض",
		"no", "No", "NO!", "n", "nope", "nah", "no thanks", "👎",
	}
	neither := []string{"", "ربما", "maybe", "نعم لا", "yes no", "لا أعرف", "okay then", "نعمان", "know", "1"}
	for _, s := range yes {
		assert.True(t, IsYes(s), "IsYes(%q)", s)
		assert.False(t, IsNo(s), "IsNo(%q)", s)
	}
	for _, s := range no {
		assert.True(t, IsNo(s), "IsNo(%q)", s)
		assert.False(t, IsYes(s), "IsYes(%q)", s)
	}
	for _, s := range neither {
		assert.False(t, IsYes(s), "IsYes(%q)", s)
		assert.False(t, IsNo(s), "IsNo(%q)", s)
	}
}

func TestIsStopWord(t *testing.T) {
	for _, s := range []string{
		"stop", "STOP", "Stop.", "stop all", "STOPALL", "unsubscribe",
		"إلغاء الاشتراك", "ايقاف", "إيقاف", "إيقاف!", "توقف", "توقّف", "اوقف", "أوقف", "أوقفوا الرسائل", "وقف",
	} {
		assert.True(t, IsStopWord(s), "IsStopWord(%q)", s)
	}
	for _, s := range []string{"", "please stop the war", "stop it now", "لا تتوقف", "ايقاف مؤقت للحملة", "stopwatch", "نعم"} {
		assert.False(t, IsStopWord(s), "IsStopWord(%q): a stop word is the whole message", s)
	}
	for _, s := range []string{"cancel", "quit", "إلغاء", "الغاء"} {
		assert.False(t, IsStopWord(s), "IsStopWord(%q): leaving a step is not stopping the messages", s)
	}
}

func TestIsCancelAndSkip(t *testing.T) {
	for _, s := range []string{"cancel", "Cancel", "إلغاء", "الغاء", "خروج", "exit"} {
		assert.True(t, IsCancelWord(s), "IsCancelWord(%q)", s)
	}
	assert.False(t, IsCancelWord("stop"))
	for _, s := range []string{"skip", "Skip", "تخطي", "تخطى", "تخطٍّ", "تجاوز", "لاحقاً", "later", "بعدين"} {
		assert.True(t, IsSkip(s), "IsSkip(%q)", s)
	}
	assert.False(t, IsSkip("نعم"))
}

func TestParseLanguage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"العربية", "ar"}, {"العربيه", "ar"}, {"عربي", "ar"}, {"عربى", "ar"}, {"عربية", "ar"}, {"arabic", "ar"}, {"Arabic", "ar"},
		{"ar", "ar"}, {"AR", "ar"}, {"بالعربي", "ar"}, {"3arabi", "ar"},
		{"english", "en"}, {"English", "en"}, {"ENGLISH!", "en"}, {"en", "en"}, {"إنجليزي", "en"}, {"انجليزي", "en"},
		{"انكليزي", "en"}, {"الإنجليزية", "en"}, {"الانكليزية", "en"}, {"إنجليزية", "en"}, {"بالإنجليزي", "en"},
	} {
		got, ok := ParseLanguage(tc.in)
		assert.True(t, ok, "ParseLanguage(%q)", tc.in)
		assert.Equal(t, tc.want, got, "ParseLanguage(%q)", tc.in)
	}
	for _, s := range []string{"", "french", "فرنسي", "عبري", "1", "arabic english"} {
		got, ok := ParseLanguage(s)
		assert.False(t, ok, "ParseLanguage(%q)", s)
		assert.Empty(t, got)
	}
}

func TestMatchOption(t *testing.T) {
	opts := []string{"تعهّد", "سجّلني في الفعالية", "English", "2026"}
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"1", 0, true},
		{"٣", 2, true},
		{"۲", 1, true},
		{" 4 ", 3, true},
		{"4.", 3, true},
		{"تعهد", 0, true},
		{"تَعَهُّد!", 0, true},
		{"سجلني في الفعاليه", 1, true},
		{"english", 2, true},
		{"ENGLISH", 2, true},
		{"2026", 3, true}, // out of range as a number, matches as text
		{"٢٠٢٦", 3, true},
		{"0", -1, false},
		{"5", -1, false},
		{"-1", -1, false},
		{"", -1, false},
		{"تعهدات", -1, false},
		{"سجلني", -1, false},
	} {
		got, ok := MatchOption(tc.in, opts)
		assert.Equal(t, tc.ok, ok, "MatchOption(%q) ok", tc.in)
		assert.Equal(t, tc.want, got, "MatchOption(%q)", tc.in)
	}
	_, ok := MatchOption("1", nil)
	assert.False(t, ok)
	_, ok = MatchOption("", []string{""})
	assert.False(t, ok, "empty input never matches an empty label")
}

func TestValidText(t *testing.T) {
	for _, tc := range []struct {
		label, in string
		max       int
		want      string
		err       error
	}{
		{"plain", "جمعية الشبان", 50, "جمعية الشبان", nil},
		{"trimmed and collapsed", "  Peace   Now \t", 50, "Peace Now", nil},
		{"trailing newline trimmed", "Ali\n", 50, "Ali", nil},
		{"direction marks removed", "\u200fمركز\u200f \u202bالسلام\u202c", 50, "مركز السلام", nil},
		{"NFC", "cafe\u0301", 50, "caf\u00e9", nil},
		{"exactly max runes", "أحمد", 4, "أحمد", nil},
		{"no limit", strings.Repeat("x", 10000), 0, strings.Repeat("x", 10000), nil},
		{"empty", "", 50, "", ErrEmpty},
		{"blank", " \t\n ", 50, "", ErrEmpty},
		{"only marks", "\u200f\u200e", 50, "", ErrEmpty},
		{"too long", "أحمدي", 4, "", ErrTooLong},
		{"newline", "line one\nline two", 50, "", ErrNewline},
		{"carriage return", "a\rb", 50, "", ErrNewline},
		{"line separator", "a\u2028b", 50, "", ErrNewline},
		{"NUL", "a\x00b", 50, "", ErrControlChars},
		{"escape", "a\x1b[31mb", 50, "", ErrControlChars},
		{"tab inside", "a\tb", 50, "", ErrControlChars},
		{"DEL", "a\x7fb", 50, "", ErrControlChars},
		{"C1 control", "a\u0085b", 50, "", ErrControlChars},
		{"invalid UTF-8", "a\xffb", 50, "", ErrInvalidUTF8},
	} {
		t.Run(tc.label, func(t *testing.T) {
			got, err := ValidText(tc.in, tc.max)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := ValidText("a\nb", 10)
	assert.ErrorIs(t, err, ErrControlChars, "a line break is a control character to callers that do not single it out")
	_, err = ValidText("a\xffb", 10)
	assert.ErrorIs(t, err, ErrControlChars)
	_, err = ValidText("abcdef", 3)
	assert.EqualError(t, err, "text too long: 6 characters, at most 3")
}

func TestValidMultiline(t *testing.T) {
	got, err := ValidMultiline("  سطر أول\r\nسطر  ثانٍ\r\n\n\tسطر ثالث\n  ", 100)
	require.NoError(t, err)
	assert.Equal(t, "سطر أول\nسطر  ثانٍ\n\n\tسطر ثالث", got)
	_, err = ValidMultiline("a\x00\nb", 100)
	assert.ErrorIs(t, err, ErrControlChars)
	_, err = ValidMultiline("\n\n", 100)
	assert.ErrorIs(t, err, ErrEmpty)
	_, err = ValidMultiline("ab\ncd", 4)
	assert.ErrorIs(t, err, ErrTooLong, "a line break counts as a character")
}

// FuzzNormalize checks that Normalize never panics, returns valid UTF-8,
// is idempotent, and leaves no edge spaces, double spaces or trailing punctuation.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "أيوه!", "  Hello   World ", "لأ", "ﻻ", "١٬٠٠٠", "e\u064b\u0301", "ye\xffs", "\u0130stanbul", "ℌ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Normalize(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Normalize(%+q) = %+q: invalid UTF-8", s, got)
		}
		if again := Normalize(got); again != got {
			t.Fatalf("Normalize not idempotent on %+q: %+q then %+q", s, got, again)
		}
		if strings.TrimSpace(got) != got || strings.Contains(got, "  ") {
			t.Fatalf("Normalize(%+q) = %+q: stray spaces", s, got)
		}
		if last, _ := utf8.DecodeLastRuneInString(got); got != "" && isTrailingPunct(last) {
			t.Fatalf("Normalize(%+q) = %+q: trailing punctuation", s, got)
		}
	})
}

// FuzzParseNumber checks that ParseNumber never panics, accepts only
// numbers in range, and reads back what it and FormatNumber write.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"3", "٣", "۳", "1,000", "١٬٠٠٠", "-1", "abc", "99999999999999999999", " 7 ", "1,00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := ParseNumber(s)
		if !ok {
			if n != 0 {
				t.Fatalf("ParseNumber(%+q) = %d, false: want 0", s, n)
			}
			return
		}
		if n < 0 || n > MaxNumber {
			t.Fatalf("ParseNumber(%+q) = %d: out of range", s, n)
		}
		for _, text := range []string{strconv.Itoa(n), FormatNumber("ar", n), FormatNumber("en", n)} {
			if back, ok := ParseNumber(text); !ok || back != n {
				t.Fatalf("ParseNumber(%+q) = %d, %v: want %d", text, back, ok, n)
			}
		}
	})
}
