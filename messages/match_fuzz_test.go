package messages

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzMatchOption checks how typed answers are matched to menu options:
// never a panic, an index in range, and every option's own text, in either
// script's digits for its number, selecting it. Options come from the
// fuzzer's second string split at "|".
func FuzzMatchOption(f *testing.F) {
	for _, seed := range [][2]string{
		{"2", "نعم|لا"}, {"٢", "نعم|لا"}, {"لأ", "نعم|لا"}, {" English ", "العربية|English"}, {"2026", "2025|2026"},
		{"0", "a|b"}, {"", "a|b"}, {"3", ""}, {"x\xff", "x\xff|y"}, {"🌐 English", "📣 الحملات|🌐 English"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, input, optionList string) {
		var options []string
		if optionList != "" {
			options = strings.Split(optionList, "|")
		}
		i, ok := MatchOption(input, options)
		if ok && (i < 0 || i >= len(options)) {
			t.Fatalf("MatchOption(%+q, %+q) = %d: out of range", input, options, i)
		}
		if !ok && i != -1 {
			t.Fatalf("MatchOption(%+q, %+q) = %d, false: want -1", input, options, i)
		}
		if len(options) > 0 && len(options) <= MaxNumber {
			n := len(options)
			for _, typed := range []string{FormatNumber("ar", n), FormatNumber("en", n)} {
				if got, ok := MatchOption(typed, options); !ok || got != n-1 {
					t.Fatalf("MatchOption(%+q, %+q) = %d, %v: want the last option", typed, options, got, ok)
				}
			}
		}
	})
}

// FuzzValidText checks the cleaning of single-line answers: never a panic,
// and clean text is valid UTF-8 without control characters or edge or double
// spaces, within the limit, and comes back unchanged when cleaned again.
func FuzzValidText(f *testing.F) {
	for _, s := range []string{"مركز  السلام", " Peace\u200fCenter ", "a\nb", "a\x00b", "\xff", "", "   ", "\u202bنص\u202c", "e\u0301", strings.Repeat("ب", 81)} {
		f.Add(s, 80)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		got, err := ValidText(s, max)
		if err != nil {
			if got != "" {
				t.Fatalf("ValidText(%+q, %d) = %+q with error %v", s, max, got, err)
			}
			return
		}
		if !utf8.ValidString(got) || got == "" || got != strings.TrimSpace(got) || strings.Contains(got, "  ") {
			t.Fatalf("ValidText(%+q, %d) = %+q", s, max, got)
		}
		if strings.IndexFunc(got, unicode.IsControl) >= 0 {
			t.Fatalf("ValidText(%+q, %d) = %+q: control character", s, max, got)
		}
		if max > 0 && utf8.RuneCountInString(got) > max {
			t.Fatalf("ValidText(%+q, %d) = %+q: over the limit", s, max, got)
		}
		if again, err := ValidText(got, max); err != nil || again != got {
			t.Fatalf("ValidText not idempotent on %+q: %+q then %+q, %v", s, got, again, err)
		}
	})
}
