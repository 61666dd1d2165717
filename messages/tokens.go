package messages

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind tells the pieces of a message apart: words and numbers carry
// meaning, punctuation ends the reach of a negation, and emoji are read
// like words.
type tokenKind uint8

const (
	tokWord     tokenKind = iota
	tokNumber             // a run of digits, its value in piece.num
	tokEmoji              // one emoji or symbol, or a flag (two regional indicators)
	tokPunct              // any other punctuation: . , ، ( ) - # …
	tokQuestion           // ? or ؟
)

type piece struct {
	kind  tokenKind
	text  string
	num   int  // tokNumber only; -1 when too large to be a choice
	glued bool // no space between it and the piece before
}

// maxTokenNumber bounds a number read as a choice; longer digit runs are
// kept as text ("2026" is still a word a label can contain).
const maxTokenNumber = 1_000_000

// tokenize splits folded text (see fold) into tokens. A word is a run of
// letters and digits, except that Arabic letters and digits are split
// apart («رقم2» is «رقم» and 2) while Latin ones are kept together, since
// Arabizi writes letters with digits ("la2", "5alas", "mar7aba") and
// English writes "2nd". An apostrophe between Latin letters stays in the
// word ("don't"). Keycap marks, emoji modifiers (skin tones, gender signs,
// the variation selector) are dropped, so 2️⃣ is the number 2 and 👍🏽 is 👍.
func tokenize(s string) []piece {
	var toks []piece
	var word strings.Builder
	glued := false // whether the next piece starts right after the last one
	add := func(p piece) {
		p.glued = glued && len(toks) > 0
		toks = append(toks, p)
		glued = true
	}
	wordScript := 0 // 0 none yet, 1 Arabic letters, 2 Latin or other letters, 3 digits only
	flush := func() {
		if word.Len() == 0 {
			return
		}
		w := word.String()
		word.Reset()
		if isDigits(w) {
			n, err := strconv.Atoi(w)
			if err != nil || n > maxTokenNumber || len(w) > 7 {
				n = -1
			}
			add(piece{kind: tokNumber, text: w, num: n})
		} else {
			add(piece{kind: tokWord, text: w})
		}
		wordScript = 0
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case isEmojiModifier(r):
			// dropped; a keycap mark leaves its digit as a number
		case r >= '0' && r <= '9':
			if wordScript == 1 {
				flush()
			}
			if wordScript == 0 {
				wordScript = 3
			}
			word.WriteRune(r)
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r):
			script := 2
			if unicode.Is(unicode.Arabic, r) {
				script = 1
			}
			if (wordScript == 1 && script == 2) || (wordScript == 2 && script == 1) || (wordScript == 3 && script == 1) {
				flush()
			}
			if wordScript == 0 || wordScript == 3 {
				wordScript = script
			}
			word.WriteRune(r)
		case (r == '\'' || r == '’') && wordScript == 2 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]) && !unicode.Is(unicode.Arabic, rs[i+1]):
			word.WriteRune('\'')
		case r == ' ':
			flush()
			glued = false
		case isRegionalIndicator(r):
			flush()
			if i+1 < len(rs) && isRegionalIndicator(rs[i+1]) {
				add(piece{kind: tokEmoji, text: string(rs[i : i+2])})
				i++
			}
		case r == '?' || r == '؟' || r == '⁉' || r == '‽' || r == '⸮':
			flush()
			add(piece{kind: tokQuestion, text: "?"})
		case isEmoji(r):
			flush()
			add(piece{kind: tokEmoji, text: string(r)})
		default:
			flush()
			add(piece{kind: tokPunct, text: string(r)})
		}
	}
	flush()
	return toks
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isEmojiModifier reports the code points that only change how the emoji
// before them looks: skin tones, the emoji and text variation selectors,
// the combining keycap, and the gender signs of a ZWJ sequence (Normalize
// has already removed the joiner itself).
func isEmojiModifier(r rune) bool {
	switch {
	case r >= 0x1F3FB && r <= 0x1F3FF, r == 0xFE0F, r == 0xFE0E, r == 0x20E3, r == '♂', r == '♀':
		return true
	}
	return false
}

func isRegionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// isEmoji reports symbols read as words: pictographs and dingbats (👍 ✅ ❌ 🛑),
// which people send as answers. Plain punctuation is not one.
func isEmoji(r rune) bool {
	return r > 0x7F && (unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) || (r >= 0x1F000 && r <= 0x1FAFF))
}

// flagCountry returns the ISO 3166 code a flag emoji stands for ("PS" for 🇵🇸).
func flagCountry(s string) (string, bool) {
	rs := []rune(s)
	if len(rs) != 2 || !isRegionalIndicator(rs[0]) || !isRegionalIndicator(rs[1]) {
		return "", false
	}
	return string([]rune{'A' + rs[0] - 0x1F1E6, 'A' + rs[1] - 0x1F1E6}), true
}

// squeeze folds every run of one repeated letter to a single letter, so
// emphasis («لاااا», «نعممم», "yesss", "nooo") meets the plain word. Words
// are looked up as typed first: squeezing is only a fallback, since some
// words spell a letter twice.
func squeeze(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	var last rune = -1
	for _, r := range s {
		if r != last {
			b.WriteRune(r)
		}
		last = r
	}
	return b.String()
}

// withinOneEdit reports whether a and b differ by at most one insertion,
// deletion, substitution or swap of two neighbouring letters (the
// Damerau–Levenshtein distance is at most 1): the typos a hurried thumb makes.
func withinOneEdit(a, b string) bool {
	if a == b {
		return true
	}
	ra, rb := []rune(a), []rune(b)
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	switch len(ra) - len(rb) {
	case 0:
		i := 0
		for i < len(ra) && ra[i] == rb[i] {
			i++
		}
		if i+1 < len(ra) && ra[i] == rb[i+1] && ra[i+1] == rb[i] {
			return string(ra[i+2:]) == string(rb[i+2:])
		}
		return string(ra[i+1:]) == string(rb[i+1:])
	case 1:
		i := 0
		for i < len(rb) && ra[i] == rb[i] {
			i++
		}
		return string(ra[i+1:]) == string(rb[i:])
	}
	return false
}

// deletions returns s with each one of its letters removed in turn: the
// keys of the index that finds words within one edit without comparing
// against every word.
func deletions(s string) []string {
	out := make([]string, 0, utf8.RuneCountInString(s))
	for i, r := range s {
		out = append(out, s[:i]+s[i+utf8.RuneLen(r):])
	}
	return out
}

func letterCount(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

func hasDigit(s string) bool {
	return strings.IndexFunc(s, unicode.IsDigit) >= 0
}
