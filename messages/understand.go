package messages

import (
	"slices"
	"strings"
	"unicode"
)

// Intent is one thing a message can say. Intents are bits, because one
// phrase can be read more than one way and only the step it answers tells
// which reading is meant: «خلص» is "done" at a several-choices question and
// "cancel" inside a wizard, «بلاش» is "skip" at an optional question and "no"
// at a yes/no question.
type Intent uint32

// The intents Understand reports.
const (
	IntentYes      Intent = 1 << iota // نعم، اه، أكيد، بدي، ما عندي مانع، 👍
	IntentNo                          // لا، مش موافق، ما بدي، بديش، 👎
	IntentStop                        // stop all messages: إيقاف، بطّلوا تبعتولي، ما بدي رسائل، 🔕، 🛑
	IntentCancel                      // leave this step or close this menu: إلغاء، cancel، خلص، بلاش
	IntentHelp                        // ؟، مساعدة، شو الأوامر، مش فاهم
	IntentSkip                        // pass over an optional question: تخطي، بعدين، مش هلق
	IntentDone                        // finished choosing: انتهيت، خلص، هيك بكفي
	IntentNow                         // هلق، الآن، now
	IntentBack                        // the previous step: رجوع، back
	IntentMenu                        // the main menu: القائمة، menu
	IntentGreeting                    // مرحبا، السلام عليكم، hi, start
	IntentLanguage                    // a language: عربي، ع، English، En، 🇵🇸 — see Meaning.Lang
	IntentNumber                      // a number or ordinal: 2، ٢)، رقم 2، التاني، 2️⃣ — see Meaning.Number
)

// LastOption is the Meaning.Number of «الأخير», "last": the last option of
// whatever menu is showing.
const LastOption = -1

// String names the intents in i, joined by "|" ("done|cancel"), or "none".
func (i Intent) String() string {
	if i == 0 {
		return "none"
	}
	intentNames := [...]string{"yes", "no", "stop", "cancel", "help", "skip", "done", "now", "back", "menu", "greeting", "language", "number"}
	var names []string
	for b, n := range intentNames {
		if i&(1<<b) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, "|")
}

// Meaning is what Understand read in a message.
//
// Intents holds the readings of the message when the whole of it says one
// thing: nothing is left over once politeness («لو سمحت», "please", «يعطيك
// العافية»), fillers («انا», «والله»), greetings before an answer, repeated
// letters and decorative emoji are set aside. «أكيد لو سمحت» is cleanly yes.
// «نعم بس بدي اسأل عن الحملة» is not: it only mentions yes, so Intents is
// zero and Mentioned has IntentYes. A message that says two different
// things («نعم لا», "yes no", «لا بدي») is clean in nothing.
type Meaning struct {
	// Intents are the readings of the whole message; zero unless it says
	// one thing and nothing more. Several bits are several readings of the
	// same words, among which the step picks (see First).
	Intents Intent
	// Mentioned is every intent said anywhere in the message, clean or not.
	Mentioned Intent
	// Lang is Arabic or English when the message names that language.
	Lang string
	// Number is the number or ordinal chosen (1-based), or LastOption, when
	// the message says one.
	Number int
	// Typo is set when a word was read by allowing one wrong, missing,
	// extra or swapped letter ("cancle", «انجلزي»). A step that takes free
	// text should not act on such a reading: the word may be a real one.
	Typo bool
}

// Is reports whether the whole message says intent i (one of its readings).
func (m Meaning) Is(i Intent) bool { return m.Intents&i != 0 }

// Only reports whether the whole message says i and can be read no other
// way: «إلغاء» is only cancel, «خلص» is cancel or done.
func (m Meaning) Only(i Intent) bool { return m.Intents == i }

// Mentions reports whether i is said anywhere in the message, possibly
// beside other content or other intents.
func (m Meaning) Mentions(i Intent) bool { return m.Mentioned&i != 0 }

// First returns the first of order that the whole message says, or 0. A
// step lists what it asks for first, then what any step understands:
//
//	yes/no question     IntentYes, IntentNo, IntentStop, IntentCancel, IntentHelp, IntentBack, IntentMenu
//	language question   IntentLanguage, IntentStop, IntentCancel, IntentHelp, IntentBack, IntentMenu
//	several choices     IntentDone, IntentStop, IntentCancel, IntentHelp, IntentBack, IntentMenu
//	"when?"             IntentNow, IntentStop, IntentCancel, IntentHelp, IntentBack, IntentMenu
//	optional question   IntentSkip, IntentNo (as skip), IntentStop, IntentCancel, IntentHelp, IntentBack, IntentMenu
//	free text           IntentStop, IntentCancel, IntentHelp, IntentBack, IntentMenu (and not if Typo)
//	a list menu         Choose first, then IntentStop, IntentCancel, IntentHelp, IntentBack, IntentMenu, IntentGreeting
//	the main menu       Choose first, then IntentStop, IntentCancel (ask whether to stop), IntentHelp,
//	                    IntentGreeting, IntentMenu, IntentLanguage, IntentBack
//
// So «بلاش» skips an optional question, answers no to a yes/no question and
// leaves a wizard at a free-text one; «خلص» finishes a several-choices
// question and cancels anywhere else; «إلغاء» is never a stop.
func (m Meaning) First(order ...Intent) Intent {
	for _, i := range order {
		if m.Is(i) {
			return i
		}
	}
	return 0
}

// Understand reads what a message says, whatever step it answers. It is
// the one classifier every step should use; the older helpers (IsYes,
// IsStopWord, MatchOption …) are built on it.
//
// It folds spelling as Normalize does, splits the text into words, numbers,
// emoji and punctuation, and reads the words against a lexicon of phrases
// in Standard Arabic, Palestinian colloquial, common Arabizi and English.
// Words typed with repeated letters («لاااا», "yesss") and, in words of
// five letters or more, one typo are read as the word meant (see
// Meaning.Typo). Then, as a speaker would:
//
//   - a negation (ما، مش، لست، not, don't, a glued «مابدي», the suffix of
//     «بديش») turns the next word around: «مش موافق» is no, «ما عندي مانع»
//     and «مش مشكلة» are yes, «مش هلق» is no or skip, «مش فاهم» asks for help;
//   - لا and "no" negate a word right after them that takes them in Standard
//     Arabic or English («لا أريد», «لا مانع», «لا تبعتولي», "no problem"),
//     and are a "no" of their own before anything else: so «لا بدي» («no, I
//     do want») says no and yes, and is clean in neither — the bot asks again;
//   - a verb of wanting, preferring or going back hands its negation to what
//     follows: «بدي عربي» names Arabic, «ما بدي أكمل» cancels, «ارجع
//     للقائمة» is the menu;
//   - a refusal that names the messages themselves is a stop: «ما بدي
//     رسائل», «بطّلوا تبعتولي», «كفى رسائل», «الغاء الاشتراك», "no more messages";
//   - acknowledgements (تمام، ok، طيب) and greetings give way to anything
//     else said with them: «تمام خلصت» is done, «مرحبا، نعم» is yes;
//   - a message of nothing but question marks, or a question word with
//     nothing but words about using the bot («شو الأوامر؟», «كيف بشتغل
//     هاد»), asks for help.
//
// Understand never fails: text it cannot read has no intents.
func Understand(text string) Meaning {
	_, _, m := theLexicon().analyse(text)
	return m
}

// analyse returns the pieces of text, its phrases and its meaning.
func (lx *lexicon) analyse(text string) ([]piece, []unit, Meaning) {
	toks := tokenize(fold(text))
	us := lx.units(lx.canonical(toks))
	return toks, us, evaluate(us)
}

// maxFuzzyWords is the longest message in which typos are looked for: a
// longer one is free text, never one clean answer, and the search would
// only slow it down.
const maxFuzzyWords = 8

// item is a token after spelling is settled: a word is the lexicon's
// spelling of it where one is known.
type item struct {
	kind  tokenKind
	text  string // canonical
	tok   int    // index of the token it comes from
	num   int
	typo  bool
	glued bool
}

// clitics are the proclitics Arabic writes onto a noun ("and", "with",
// "to", "on", the article, in the combinations people type), each with
// what is left of it once removed.
func clitics() [][2]string {
	return [][2]string{
		{"وبال", "ال"}, {"وال", "ال"}, {"بال", "ال"}, {"فال", "ال"}, {"كال", "ال"}, {"لل", "ال"}, {"عال", "ال"},
		{"ال", ""}, {"و", ""}, {"ف", ""}, {"ب", ""}, {"ل", ""},
	}
}

// canonical settles the spelling of every word token.
func (lx *lexicon) canonical(toks []piece) []item {
	words := 0
	for _, t := range toks {
		if t.kind == tokWord {
			words++
		}
	}
	out := make([]item, 0, len(toks)+2)
	for k, t := range toks {
		if t.kind != tokWord {
			out = append(out, item{kind: t.kind, text: t.text, tok: k, num: t.num, glued: t.glued})
			continue
		}
		ws, typo := lx.canonWord(t.text, words <= maxFuzzyWords)
		for _, w := range ws {
			out = append(out, item{kind: tokWord, text: w, tok: k, typo: typo})
		}
	}
	return out
}

// canonWord returns the lexicon spelling of w: w itself when known, else
// the word it is with repeated letters squeezed, a proclitic removed, a
// glued negation split off («مابدي» → «ما بدي», «بديش» → «ما بدي»), or one
// typo corrected. An unknown word comes back as typed.
func (lx *lexicon) canonWord(w string, fuzzy bool) ([]string, bool) {
	if lx.known[w] {
		return []string{w}, false
	}
	if sq := lx.squeezed[squeeze(w)]; sq != "" {
		return []string{sq}, false
	}
	if isArabicWord(w) {
		for _, c := range lx.clitics {
			if rest, ok := strings.CutPrefix(w, c[0]); ok && len([]rune(rest)) >= 2 {
				for _, cand := range []string{c[1] + rest, rest} {
					if e := lx.words[cand]; e != nil && e.has(fClitic) {
						return []string{cand}, false
					}
				}
			}
		}
	}
	if stem, ok := lx.withoutPossessive(w); ok {
		return []string{stem}, false
	}
	if stem, ok := lx.withoutDative(w); ok {
		return []string{stem}, false
	}
	if neg, ok := lx.splitNegation(w); ok {
		return []string{neg, strings.TrimPrefix(w, neg)}, false
	}
	if stem, ok := lx.negatedStem(w); ok {
		return stem, false
	}
	if fuzzy {
		if c, ok := lx.lookupFuzzy(w); ok {
			return []string{c}, true
		}
	}
	return []string{w}, false
}

// withoutPossessive reads a noun for the messages or the menu with a
// pronoun suffix as the noun: «اشتراكي» (my subscription), «رسائلكم» (your
// messages). A ة before the suffix is written ت («قائمتي»). Verbs are left
// alone: «سكري» is sugar, not "close".
func (lx *lexicon) withoutPossessive(w string) (string, bool) {
	if !isArabicWord(w) {
		return "", false
	}
	for _, suf := range []string{"كم", "كو", "نا", "هم", "ها", "ي", "ك", "ه"} {
		stem, ok := strings.CutSuffix(w, suf)
		if !ok || len([]rune(stem)) < 3 {
			continue
		}
		for _, st := range []string{stem, strings.TrimSuffix(stem, "ت") + "ه"} {
			if e := lx.words[st]; e != nil && e.role == roleConcept && (e.has(fTopic) || e.has(fObject)) && !e.has(fVerb) {
				return st, true
			}
		}
	}
	return "", false
}

// withoutDative reads a verb with "for me", "for us" glued on as the verb:
// «وقفولي» (stop for me), «الغيلي» (cancel for me). The alef of a plural
// imperative is dropped before the suffix, so «وقفولي» is «وقفوا» + «لي».
func (lx *lexicon) withoutDative(w string) (string, bool) {
	if !isArabicWord(w) {
		return "", false
	}
	for _, suf := range []string{"لي", "لنا"} {
		stem, ok := strings.CutSuffix(w, suf)
		if !ok || len([]rune(stem)) < 2 {
			continue
		}
		for _, st := range []string{stem, stem + "ا"} {
			if e := lx.words[st]; e != nil && e.role == roleConcept && !e.has(fTopic) && !e.has(fObject) && (e.pos|e.neg) != 0 {
				return st, true
			}
		}
	}
	return "", false
}

// splitNegation splits a negation glued to a verb: «مابدي», "mabdi".
func (lx *lexicon) splitNegation(w string) (string, bool) {
	for _, neg := range []string{"ما", "ma"} {
		if rest, ok := strings.CutPrefix(w, neg); ok {
			if e := lx.words[rest]; e != nil && e.has(fVerb) {
				return neg, true
			}
		}
	}
	return "", false
}

// negatedStem reads the colloquial negation suffix ش, alone or with a
// glued ما or م before the verb: «بديش», «فيش», «مابديش», «معنديش», "bdish"
// are «ما بدي», «ما في», «ما عندي».
func (lx *lexicon) negatedStem(w string) ([]string, bool) {
	for _, s := range [][3]string{{"ش", "ما", "م"}, {"sh", "ma", "m"}} {
		stem, ok := strings.CutSuffix(w, s[0])
		if !ok {
			continue
		}
		for _, st := range []string{stem, strings.TrimPrefix(stem, s[1]), strings.TrimPrefix(stem, s[2])} {
			if e := lx.words[st]; e != nil && e.has(fVerb) {
				return []string{s[1], st}, true
			}
		}
	}
	return nil, false
}

func isArabicWord(w string) bool {
	for _, r := range w {
		if !unicode.Is(unicode.Arabic, r) {
			return false
		}
	}
	return w != ""
}

type unitKind uint8

const (
	uEntry    unitKind = iota // a lexicon phrase
	uContent                  // a word the lexicon does not know
	uNumber                   // digits
	uPunct                    // punctuation: ends a negation's reach
	uQuestion                 // ? or ؟
)

// unit is a phrase of the message with its meaning.
type unit struct {
	kind unitKind
	e    *entry
	num  int
	text string // canonical text of the first word
	toks []int  // the tokens it covers, for matching labels
	typo bool
}

// units matches the lexicon's phrases, longest first, over the items.
func (lx *lexicon) units(items []item) []unit {
	out := make([]unit, 0, len(items))
	for i := 0; i < len(items); i++ {
		it := items[i]
		one := []int{it.tok}
		switch it.kind {
		case tokNumber:
			if i > 0 && it.glued && items[i-1].kind == tokPunct && (items[i-1].text == "-" || items[i-1].text == "+") {
				it.num = -1 // "-1" is a negative number, not a choice; "- 1" is a list dash
			}
			if it.num < 0 {
				out = append(out, unit{kind: uContent, text: it.text, toks: one}) // a phone number, not a choice
			} else {
				out = append(out, unit{kind: uNumber, num: it.num, text: it.text, toks: one})
			}
			continue
		case tokPunct:
			out = append(out, unit{kind: uPunct, text: it.text, toks: one})
			continue
		case tokQuestion:
			out = append(out, unit{kind: uQuestion, text: it.text, toks: one})
			continue
		case tokEmoji:
			if e := lx.emoji(it.text); e != nil {
				out = append(out, unit{kind: uEntry, e: e, text: it.text, toks: one})
			}
			// any other emoji is decoration
			continue
		}
		u := unit{kind: uContent, text: it.text, toks: one, typo: it.typo}
		for _, p := range lx.phrases[it.text] {
			if lx.matchAt(items, i, p.words) {
				u = unit{kind: uEntry, e: p.e, text: it.text}
				for k := range p.words {
					u.typo = u.typo || items[i+k].typo
					if t := items[i+k].tok; len(u.toks) == 0 || u.toks[len(u.toks)-1] != t {
						u.toks = append(u.toks, t)
					}
				}
				i += len(p.words) - 1
				break
			}
		}
		out = append(out, u)
	}
	return out
}

func (lx *lexicon) matchAt(items []item, i int, words []string) bool {
	if i+len(words) > len(items) {
		return false
	}
	for k, w := range words {
		if items[i+k].kind != tokWord || items[i+k].text != w {
			return false
		}
	}
	return true
}

// emoji returns the meaning of an emoji: its lexicon entry, or for a flag
// the language of its country.
func (lx *lexicon) emoji(s string) *entry {
	if e := lx.words[s]; e != nil {
		return e
	}
	cc, ok := flagCountry(s)
	switch {
	case !ok:
		return nil
	case slices.Contains(arabicFlags(), cc):
		return &lx.arabicFlag
	case slices.Contains(englishFlags(), cc):
		return &lx.englishFlag
	}
	return nil
}

// reading is what one phrase of the message says.
type reading struct {
	intents Intent
	weak    bool
	lang    string
	num     int
}

// refusals are the readings that, said of the messages themselves, stop them.
const refusals = IntentStop | IntentCancel | IntentDone | IntentNo

// evaluate combines the phrases of a message into its meaning.
func evaluate(us []unit) Meaning {
	var (
		rs       []reading
		extra    bool // content beyond what the lexicon knows
		topic    bool // the messages themselves are named
		neg      bool // a negation waits for the word it negates
		question bool
		qmarks   int
		typo     bool
		lastStop = -2 // index of the last unit that stopped or cancelled
	)
	dangling := func() {
		if neg {
			rs = append(rs, reading{intents: IntentNo})
			neg = false
		}
	}
	for i := 0; i < len(us); i++ {
		u := us[i]
		typo = typo || u.typo
		switch u.kind {
		case uPunct:
			dangling()
			continue
		case uQuestion:
			dangling()
			qmarks++
			continue
		case uContent:
			extra = true
			continue
		case uNumber:
			if neg {
				neg, extra = false, true // «مش 2»: not a choice
				continue
			}
			rs = append(rs, reading{intents: IntentNumber, num: u.num})
			continue
		}
		e := u.e
		switch e.role {
		case rolePolite, roleFiller, roleMarker:
			if e.has(fObject) && lastStop == i-1 && len(rs) > 0 {
				// «وقف التسجيل», «الغاء العملية»: leaving the process, not the messages
				rs[len(rs)-1].intents = IntentCancel
				lastStop = i
			}
			continue
		case rolePrep:
			if j := i + 1; lastStop == i-1 && j < len(us) && us[j].kind == uEntry && us[j].e.has(fObject) {
				i = j // «شيلوني من القائمة»: the list they leave, still a stop
				lastStop = j
				continue
			}
			extra = true
			continue
		case roleVocative:
			if i+1 < len(us) && us[i+1].kind == uContent {
				i++ // «يا عمي», «يا جماعة»: an address
				continue
			}
			if e.pos != 0 {
				rs = append(rs, reading{intents: e.pos})
			}
			continue
		case roleNeg:
			neg = true
			continue
		case roleNo:
			if u.text == "no" && i+2 < len(us) && us[i+1].kind == uPunct && us[i+1].text == "." && us[i+2].kind == uNumber {
				i++ // "no. 2"
				continue
			}
			j := i + 1
			if !isArabicWord(u.text) {
				j = skipIgnorable(us, j) // "no more messages"
			}
			if j < len(us) && us[j].kind == uEntry && us[j].e.has(fLaNeg) {
				neg = true
				continue
			}
			rs = append(rs, reading{intents: IntentNo})
			continue
		case roleQuestion:
			question = true
			rs = append(rs, reading{intents: IntentHelp})
			continue
		}
		switch {
		case e.has(fDeterminer) && i+1 < len(us) && (us[i+1].kind == uContent || us[i+1].kind == uEntry && us[i+1].e.role == roleConcept):
			continue // «اي رسائل»: "any"
		case e.has(fQuit) && i+1 < len(us) && us[i+1].kind == uEntry && us[i+1].e.has(fVerb):
			neg = true // «بطّلت بدي»: no longer
			continue
		case e.has(fObject) && lastStop == i-1:
			rs[len(rs)-1].intents = IntentCancel // «سكّر القائمة», "stop the menu": close it
			lastStop = i
			continue
		case e.has(fCarrier) && nextConcept(us, i+1) >= 0:
			continue // its negation passes on
		case question && (e.has(fCarrier) || e.has(fHelpTopic)):
			neg = false // «شو بقدر اعمل»
			continue
		}
		in := e.pos
		if neg {
			in = e.neg
		}
		neg = false
		if e.has(fTopic) {
			topic = true
		}
		rs = append(rs, reading{intents: in, weak: e.has(fWeak), lang: e.lang, num: e.num})
		if in&(IntentStop|IntentCancel) != 0 {
			lastStop = i
		}
		if e.has(fOrdinal) && i+1 < len(us) && us[i+1].kind == uEntry && us[i+1].e.has(fOne) {
			i++ // «أول واحد», "the second one"
		}
	}
	dangling()
	return combine(rs, extra, topic, qmarks, typo)
}

// nextConcept returns the index of the concept or number a carrier at
// i-1 hands over to, or -1: only politeness, fillers and markers may come
// between them, not punctuation.
func nextConcept(us []unit, j int) int {
	j = skipIgnorable(us, j)
	if j >= len(us) {
		return -1
	}
	switch {
	case us[j].kind == uNumber:
		return j
	case us[j].kind == uEntry && us[j].e.role == roleConcept:
		return j
	}
	return -1
}

func skipIgnorable(us []unit, j int) int {
	for j < len(us) && us[j].kind == uEntry {
		switch us[j].e.role {
		case rolePolite, roleFiller, roleMarker:
			j++
			continue
		}
		break
	}
	return j
}

// combine intersects the readings: every phrase of a clean message must
// allow the meaning. Weak readings count only when nothing else is said.
func combine(rs []reading, extra, topic bool, qmarks int, typo bool) Meaning {
	if topic {
		for k := range rs {
			if rs[k].intents&refusals != 0 {
				rs[k] = reading{intents: IntentStop}
			}
		}
	}
	var strong, weak, all Intent
	hasStrong, hasWeak := false, false
	greetingOnly := true
	for _, r := range rs {
		if r.intents&^(IntentGreeting|IntentMenu) != 0 {
			greetingOnly = false
		}
	}
	for _, r := range rs {
		if r.weak && !greetingOnly && r.intents&^(IntentGreeting|IntentMenu) == 0 {
			all |= r.intents
			continue // «أكيد، يعطيك العافية»: a greeting beside an answer is politeness
		}
		all |= r.intents
		if r.intents == 0 {
			continue // a word that constrains nothing: «رسائل», «فاهم»
		}
		if r.weak {
			if !hasWeak {
				weak = r.intents
			}
			weak &= r.intents
			hasWeak = true
			continue
		}
		if !hasStrong {
			strong = r.intents
		}
		strong &= r.intents
		hasStrong = true
	}
	result := strong
	if !hasStrong {
		result = weak
	}
	if hasStrong && result == 0 {
		// «لا، خلص», "no, cancel", «خلص ما بدي»: a plain no beside another
		// refusal is that refusal said firmly
		if rest, ok := withoutPlainNo(rs); ok && rest&(IntentStop|IntentCancel|IntentSkip|IntentDone) != 0 {
			result = rest
		}
	}
	if !hasStrong && !hasWeak && qmarks > 0 {
		result = IntentHelp // "?", «؟؟»
		all |= IntentHelp
	}
	m := Meaning{Mentioned: all | result, Typo: typo}
	lang, langOK := agreed(rs, hasStrong, IntentLanguage, func(r reading) string { return r.lang })
	num, numOK := agreed(rs, hasStrong, IntentNumber, func(r reading) int { return r.num })
	if !langOK {
		result &^= IntentLanguage
	}
	if !numOK {
		result &^= IntentNumber
	}
	m.Lang, m.Number = lang, num
	if !extra {
		m.Intents = result
	}
	return m
}

// withoutPlainNo intersects the strong readings other than a plain no.
func withoutPlainNo(rs []reading) (Intent, bool) {
	var in Intent
	found := false
	for _, r := range rs {
		if r.weak || r.intents == 0 || r.intents == IntentNo {
			continue
		}
		if !found {
			in = r.intents
		}
		in &= r.intents
		found = true
	}
	return in, found
}

// agreed returns the value the readings carrying intent give it, if they
// all give the same one: «عربي English» names no language, "2 3" no number.
func agreed[T comparable](rs []reading, strongOnly bool, intent Intent, value func(reading) T) (T, bool) {
	var v, zero T
	found := false
	for _, r := range rs {
		if r.intents&intent == 0 || (strongOnly && r.weak) {
			continue
		}
		if x := value(r); !found {
			v, found = x, true
		} else if x != v {
			return zero, false
		}
	}
	return v, true
}
