package messages

import (
	"slices"
	"strings"
)

// Choose picks the option of a menu that text selects, by number or by
// label, and refuses when it cannot tell: ok is false when no option fits
// and when two fit equally well.
//
// A number selects by position: "2", «٢», "2.", "2)", "(2)", "2-", "#2",
// «رقم 2», «الخيار الثاني», ordinal and number words in both languages
// («الأول», «التاني», «التالت», «اتنين», «تلاتة», "two", "second", "3rd"),
// keycap emoji 1️⃣–🔟, and «الأخير» or "last" for the last option. A number
// out of range is tried as a label word, so "2026" still selects
// «حملة الزيتون 2026».
//
// Otherwise the words of text are matched against each label's, loosely:
// emoji and punctuation do not count, nor do politeness and words such as
// «بدي» or «الخيار» around the label; the article, repeated letters and,
// in words of five letters or more, one typo do not matter. So «بياناتي»,
// «بدي بياناتي» and «🔒 بياناتي» all select «🔒 بياناتي», "my data"
// selects "🔒 My data", and «الإفطار» selects «🍲 إفطار رمضان الجماعي». Every
// word typed must be in the label; a label is preferred when all its words
// were typed. When text says an intent that a label also says, they match:
// «بطّلوا تبعتولي» selects «🔕 إيقاف الرسائل», «اه» selects «نعم», «انجليزي»
// selects «🌐 English». A word that is itself a command («مساعدة») does not
// select a label that merely contains it («المساعدة القانونية»).
func Choose(text string, labels []string) (int, bool) {
	if len(labels) == 0 {
		return -1, false
	}
	if n, ok := ParseNumber(Normalize(text)); ok && n >= 1 && n <= len(labels) {
		return n - 1, true
	}
	lx := theLexicon()
	toks, us, m := lx.analyse(text)
	if i, ok := numberChoice(m, len(labels)); ok {
		return i, true
	}
	in := typedWords(toks, us)
	if len(in) == 0 && m.Intents == 0 {
		return -1, false
	}
	saysIntent := m.Intents&^IntentNumber != 0
	best, bestQ, tie := -1, 0, false
	consider := func(i, q int) {
		switch {
		case q > bestQ:
			best, bestQ, tie = i, q, false
		case q == bestQ && q > 0 && i != best:
			tie = true
		}
	}
	for i, l := range labels {
		ltoks, lus, lm := lx.analyse(l)
		q := matchLabel(in, labelWords(ltoks, lus))
		if q == qPartial && saysIntent {
			q = 0
		}
		consider(i, q)
		if saysIntent && sameMeaning(m, lm) {
			consider(i, qMeaning)
		}
	}
	if best < 0 || tie {
		return -1, false
	}
	return best, true
}

// numberChoice reads a clean number or ordinal as a position among n options.
func numberChoice(m Meaning, n int) (int, bool) {
	if !m.Only(IntentNumber) {
		return -1, false
	}
	switch {
	case m.Number == LastOption:
		return n - 1, true
	case m.Number >= 1 && m.Number <= n:
		return m.Number - 1, true
	}
	return -1, false
}

// How well a label matches what was typed, best last.
const (
	qPartial = 1 + iota // every word typed is in the label, but not all its words were typed
	qMeaning            // the label says the same intent
	qFull               // every word of the label was typed
	qExact              // the same words in the same order
)

// typedWord is one word of the input or of a label. Ignorable words may be
// left out of a label match («لو سمحت», «الخيار»); a leading one («بدي»)
// only when it leads to a word of the label, so «بدي بياناتي» selects
// «بياناتي» but «لا بدي» does not select «لا». A meaningful word of a label
// (its «إيقاف», its «Help») may not be left out: «بدي رسائل» does not
// select «🔕 إيقاف الرسائل».
type typedWord struct {
	text       string
	ignorable  bool
	leading    bool
	meaningful bool
}

// typedWords returns the words and numbers of a message, emoji and
// punctuation left out, marking those that may be left out of a label match.
func typedWords(toks []piece, us []unit) []typedWord {
	ignorable, leading, meaningful := make([]bool, len(toks)), make([]bool, len(toks)), make([]bool, len(toks))
	for _, u := range us {
		if u.kind != uEntry {
			continue
		}
		for _, t := range u.toks {
			ignorable[t] = isIgnorable(u.e)
			leading[t] = ignorable[t] && u.e.role == roleConcept
			meaningful[t] = u.e.role == roleNeg || u.e.role == roleNo || u.e.pos|u.e.neg != 0
		}
	}
	var out []typedWord
	for k, t := range toks {
		if t.kind == tokWord || t.kind == tokNumber {
			out = append(out, typedWord{text: t.text, ignorable: ignorable[k], leading: leading[k], meaningful: meaningful[k]})
		}
	}
	return out
}

func isIgnorable(e *entry) bool {
	switch e.role {
	case rolePolite, roleFiller, roleMarker, roleVocative:
		return true
	}
	return e.has(fIgnorable)
}

// labelWords returns the words of a label; only fillers and politeness
// («و», "the», «لو سمحت») may be missing from what was typed.
func labelWords(toks []piece, us []unit) []typedWord {
	ws := typedWords(toks, us)
	for i := range ws {
		ws[i].ignorable = ws[i].ignorable && !ws[i].leading
		ws[i].leading = false
	}
	return ws
}

// matchLabel grades how well the typed words match a label's.
func matchLabel(in, label []typedWord) int {
	if len(label) == 0 || len(in) == 0 {
		return 0
	}
	if joinWords(in) == joinWords(label) {
		return qExact
	}
	used := make([]bool, len(label))
	lastMatched := -1
	for i, w := range in {
		found := false
		for j, l := range label {
			if !used[j] && sameWord(w.text, l.text) {
				used[j], found = true, true
				break
			}
		}
		if found {
			lastMatched = i
		} else if !w.ignorable {
			return 0
		}
	}
	if lastMatched < 0 {
		return 0
	}
	for i, w := range in {
		if w.leading && i > lastMatched && !slices.ContainsFunc(label, func(l typedWord) bool { return sameWord(w.text, l.text) }) {
			return 0 // «لا بدي»: a want after the label's word is a second answer
		}
	}
	q := qFull
	for j, l := range label {
		switch {
		case used[j] || l.ignorable:
		case l.meaningful:
			return 0
		default:
			q = qPartial
		}
	}
	return q
}

func joinWords(ws []typedWord) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.text
	}
	return strings.Join(parts, " ")
}

// sameWord compares two folded words loosely: the article and other
// proclitics, repeated letters and, in long words, one typo do not matter.
func sameWord(a, b string) bool {
	if a == b {
		return true
	}
	a, b = withoutArticle(a), withoutArticle(b)
	if a == b || squeeze(a) == squeeze(b) {
		return true
	}
	return letterCount(a) >= minFuzzyLetters && letterCount(b) >= minFuzzyLetters && !hasDigit(a) && !hasDigit(b) && withinOneEdit(a, b)
}

// withoutArticle removes the Arabic article, with a preposition or "and"
// glued before it: «الحملات», «بالحملات», «للحملات» → «حملات».
func withoutArticle(w string) string {
	for _, p := range []string{"وبال", "وال", "بال", "لل", "ال"} {
		if rest, ok := strings.CutPrefix(w, p); ok && len([]rune(rest)) >= 2 {
			return rest
		}
	}
	return w
}

// sameMeaning reports whether a label cleanly says one of the intents the
// input cleanly says, naming the same language or number where it names one.
func sameMeaning(in, label Meaning) bool {
	common := in.Intents & label.Intents &^ IntentNumber
	if common == 0 {
		return false
	}
	if common == IntentLanguage && in.Lang != label.Lang {
		return false
	}
	return true
}
