package messages

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize folds what a person typed into the form keywords, options and
// names are compared in. It is for matching only: store what people wrote
// (see ValidText), never the normalised form. Normalize is idempotent.
//
// In order, it:
//   - drops bytes that are not valid UTF-8;
//   - applies NFKD, so presentation forms and ligatures (ﻻ, ﺃ), full-width
//     Latin and other compatibility characters become plain letters, and
//     letters with hamza or madda split into base letter plus mark;
//   - lower-cases every letter;
//   - removes every non-spacing mark: Arabic harakat and tanween
//     (U+064B–U+065F), dagger alef (U+0670), Quranic marks, and Latin accents.
//     Because of the NFKD step this also folds أ إ آ → ا, ؤ → و, ئ → ي;
//   - removes tatweel (ـ) and format characters (RLM, LRM, ZWJ, isolates, BOM);
//   - folds ٱ → ا, ى → ي, ة → ه, and the Persian-keyboard ی → ي, ک → ك;
//   - maps Arabic-Indic (٠–٩) and Extended Arabic-Indic (۰–۹) digits to 0–9;
//   - turns every run of white space or control characters into one space
//     and trims both ends;
//   - strips trailing punctuation: . ! ? ؟ , ، ; ؛ : ۔
//
// So "أيوه!" and "ايوة" both become "ايوه", and "لأ" becomes "لا". The
// standalone hamza ء is kept.
func Normalize(s string) string {
	return strings.TrimRightFunc(fold(s), func(r rune) bool { return r == ' ' || isTrailingPunct(r) })
}

// fold is Normalize without the stripping of trailing punctuation, which
// Understand needs to see: a message that is only "؟" asks for help.
func fold(s string) string {
	s = norm.NFKD.String(strings.ToValidUTF8(s, ""))
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = unicode.ToLower(r)
		switch {
		case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Cf, r), r == tatweel:
			// dropped
		case unicode.IsSpace(r), unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(foldRune(r))
		}
	}
	return strings.Join(strings.Fields(norm.NFC.String(b.String())), " ")
}

const tatweel = 'ـ' // U+0640, stretches a word; carries no meaning

// foldRune maps the Arabic letter variants people use interchangeably, and
// Eastern digits, to one form.
func foldRune(r rune) rune {
	switch r {
	case 'ٱ', 'ٲ', 'ٳ': // alef wasla, alef with wavy hamza above/below
		return 'ا'
	case 'ى', 'ی': // alef maqsura, Farsi yeh
		return 'ي'
	case 'ة':
		return 'ه'
	case 'ک': // keheh, from Persian keyboards
		return 'ك'
	}
	return digitRune(r)
}

// digitRune maps an Arabic-Indic or Extended Arabic-Indic digit to ASCII.
func digitRune(r rune) rune {
	switch {
	case r >= '٠' && r <= '٩':
		return '0' + r - '٠'
	case r >= '۰' && r <= '۹':
		return '0' + r - '۰'
	}
	return r
}

func isTrailingPunct(r rune) bool {
	return strings.ContainsRune(".!?؟,،;؛:۔", r)
}

// ToASCIIDigits maps Arabic-Indic (٠–٩) and Extended Arabic-Indic (۰–۹)
// digits to 0–9 and leaves everything else as it is.
func ToASCIIDigits(s string) string {
	return strings.Map(digitRune, s)
}

// MaxNumber is the largest number ParseNumber accepts.
const MaxNumber = 1_000_000_000

// ParseNumber reads a non-negative whole number as people type it: Western,
// Arabic-Indic or Extended Arabic-Indic digits, surrounding spaces and
// direction marks ignored, optionally grouped in thousands by ",", "٬"
// (Arabic thousands separator) or "،" (the comma an Arabic keyboard types),
// with every group after the first exactly three digits long. "." is not a
// separator, since "1.500" reads as a decimal to many. Signs, decimals and
// numbers above MaxNumber are rejected.
func ParseNumber(s string) (int, bool) {
	s = strings.TrimFunc(ToASCIIDigits(s), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)
	})
	if s == "" {
		return 0, false
	}
	n, group := 0, 0
	var sep rune
	grouped := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			n = n*10 + int(r-'0')
			if n > MaxNumber {
				return 0, false
			}
			group++
			if grouped && group > 3 {
				return 0, false
			}
		case r == ',' || r == '٬' || r == '،':
			// the first group has 1–3 digits, later ones exactly 3, one kind of separator
			if group == 0 || group > 3 || (grouped && group != 3) || (sep != 0 && r != sep) {
				return 0, false
			}
			sep, grouped, group = r, true, 0
		default:
			return 0, false
		}
	}
	if group == 0 || (grouped && group != 3) {
		return 0, false
	}
	return n, true
}

// IsYes reports whether the whole message means yes ("نعم", "أيوه", "اه",
// "أكيد", "موافق", "ما عندي مانع", "تمام", "yes", "ok", "👍" …): it is
// Understand(s).Is(IntentYes).
func IsYes(s string) bool { return Understand(s).Is(IntentYes) }

// IsNo reports whether the whole message means no ("لا", "لأ", "كلا",
// "مش موافق", "ما بدي", "no", "nope" …): it is Understand(s).Is(IntentNo).
func IsNo(s string) bool { return Understand(s).Is(IntentNo) }

// IsStopWord reports whether the whole message asks to stop all messages
// ("stop", "unsubscribe", "ايقاف", "توقف", "أوقف", "ما بدي رسائل" …):
// Understand(s).Is(IntentStop). A message merely containing such a word is
// not one, and «إلغاء», "cancel", "quit" never are: they leave a step.
//
// Deprecated: use Understand and Meaning.At, which read a message at the
// kind of step it answers.
func IsStopWord(s string) bool { return Understand(s).Is(IntentStop) }

// IsCancelWord reports whether the whole message asks to leave the current
// dialog and can mean nothing else ("cancel", "إلغاء", "خروج", "بدي الغي" …):
// Understand(s).Only(IntentCancel), typos excepted. Words that may also
// mean done or skip («خلص», «بلاش») are left to the step.
func IsCancelWord(s string) bool {
	m := Understand(s)
	return m.Only(IntentCancel) && !m.Typo
}

// IsSkip reports whether the whole message asks to skip an optional
// question ("skip", "تخطي", "تجاوز", "لاحقًا", "بعدين", "بلاش" …).
func IsSkip(s string) bool {
	m := Understand(s)
	return m.Is(IntentSkip) && !m.Typo
}

// ParseLanguage reads a language name typed in either language ("العربية",
// "عربي", "ع", "arabic", "ar", "English", "إنجليزي", "انجليش", "En", 🇵🇸 …)
// and returns "ar" or "en".
func ParseLanguage(s string) (string, bool) {
	m := Understand(s)
	if !m.Is(IntentLanguage) {
		return "", false
	}
	return m.Lang, true
}

// MatchOption picks one of options from input: a number 1..len(options)
// written in digits ("3", "٣", "3.", "3)", "(3)", "رقم 3", 3️⃣) gives index
// number-1; otherwise input equal to an option's text after Normalize on
// both sides, or to its words without emoji and punctuation ("English" for
// "🌐 English"), gives that option's index. A number out of range is tried
// as text, so an option labelled "2026" can still be typed.
//
// MatchOption is strict, for callers that offer a menu beside a free-text
// question; a menu question should use Choose, which also reads ordinal
// words and parts of labels.
func MatchOption(input string, options []string) (int, bool) {
	in := Normalize(input)
	if n, ok := ParseNumber(in); ok && n >= 1 && n <= len(options) {
		return n - 1, true
	}
	if in == "" {
		return -1, false
	}
	if m := Understand(input); hasDigit(in) && !m.Typo {
		if i, ok := numberChoice(m, len(options)); ok && m.Number != LastOption {
			return i, true
		}
	}
	for i, o := range options {
		if Normalize(o) == in {
			return i, true
		}
	}
	plain := plainWords(input)
	if plain == "" {
		return -1, false
	}
	for i, o := range options {
		if plainWords(o) == plain {
			return i, true
		}
	}
	return -1, false
}

// plainWords is s normalised with its emoji and punctuation left out.
func plainWords(s string) string {
	var words []string
	for _, t := range tokenize(fold(s)) {
		if t.kind == tokWord || t.kind == tokNumber {
			words = append(words, t.text)
		}
	}
	return strings.Join(words, " ")
}

// Errors ValidText and ValidMultiline return; pick the reply with errors.Is.
// ErrNewline and ErrInvalidUTF8 also match ErrControlChars, so a caller
// that does not single them out still answers sensibly.
var (
	ErrEmpty        = errors.New("empty text")
	ErrTooLong      = errors.New("text too long")
	ErrControlChars = errors.New("control characters in text")
	ErrNewline      = fmt.Errorf("line break in a single-line answer: %w", ErrControlChars)
	ErrInvalidUTF8  = fmt.Errorf("invalid utf-8: %w", ErrControlChars)
)

// ValidText checks a single-line answer (a name, a title, a phone number)
// and returns it cleaned: NFC, trimmed, runs of spaces collapsed to one,
// direction marks and embeddings removed (messages.Isolate adds clean ones
// where the text is shown). It rejects text that is empty after trimming
// (ErrEmpty), longer than max characters when max > 0 (ErrTooLong), not
// valid UTF-8 (ErrInvalidUTF8), containing a line break (ErrNewline) or
// any other control character (ErrControlChars).
func ValidText(s string, max int) (string, error) {
	return validate(s, max, false)
}

// ValidMultiline is ValidText for free text that may span lines (a call to
// action, a broadcast): line breaks and tabs are kept, "\r\n" and "\r"
// become "\n", and spaces inside lines are left as typed.
func ValidMultiline(s string, max int) (string, error) {
	return validate(s, max, true)
}

func validate(s string, max int, multiline bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", ErrInvalidUTF8
	}
	s = strings.Map(func(r rune) rune {
		if isBidiControl(r) || r == '\uFEFF' {
			return -1
		}
		return r
	}, s)
	if multiline {
		s = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n").Replace(s)
	}
	s = norm.NFC.String(strings.TrimSpace(s))
	if s == "" {
		return "", ErrEmpty
	}
	for i, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\t'):
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			return "", ErrNewline
		case unicode.IsControl(r):
			return "", fmt.Errorf("%w: %U at byte %d", ErrControlChars, r, i)
		}
	}
	if !multiline {
		s = strings.Join(strings.Fields(s), " ")
	}
	if n := utf8.RuneCountInString(s); max > 0 && n > max {
		return "", fmt.Errorf("%w: %d characters, at most %d", ErrTooLong, n, max)
	}
	return s, nil
}

// isBidiControl reports the invisible characters that steer text direction:
// marks, embeddings, overrides and isolates.
func isBidiControl(r rune) bool {
	switch {
	case r == '\u061C', r == '\u200E', r == '\u200F':
		return true
	case r >= '\u202A' && r <= '\u202E':
		return true
	case r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}
