package messages

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Governorates returns the keys of the 16 Palestinian governorates in
// display order: the 11 of the West Bank, north to south, then the 5 of the
// Gaza Strip, north to south. The keys are stable: the store keeps them.
// Their names are the catalog keys GovernorateKey(g).
func Governorates() []string {
	return []string{
		"jenin", "tubas", "tulkarm", "nablus", "qalqilya", "salfit",
		"ramallah", "jericho", "jerusalem", "bethlehem", "hebron",
		"north_gaza", "gaza", "deir_al_balah", "khan_yunis", "rafah",
	}
}

// GovernorateKey returns the catalog key naming governorate g: "gov."+g.
func GovernorateKey(g string) Key { return Key("gov." + g) }

// IsGovernorate reports whether g is one of Governorates().
func IsGovernorate(g string) bool { return slices.Contains(Governorates(), g) }

// Fields returns the keys of the fields of work an institution can choose,
// in display order, "other" last. Their names are the catalog keys FieldKey(f).
func Fields() []string {
	return []string{
		"reconciliation", "youth", "women", "human_rights", "legal_aid",
		"education", "health", "relief", "culture", "media", "other",
	}
}

// FieldKey returns the catalog key naming field of work f: "field."+f.
func FieldKey(f string) Key { return Key("field." + f) }

// IsField reports whether f is one of Fields().
func IsField(f string) bool { return slices.Contains(Fields(), f) }

// MatchGovernorate finds the governorate input names, in Arabic or English,
// by its catalog name, a common spelling or a main town ("رام الله",
// "رامالله", "الخليل", "خليل", "al-Khalil", "Gaza City", "محافظة نابلس",
// "Khan Younis", "يطا"). Case, Arabic letter variants, the article, spaces,
// hyphens, words like "محافظة" or "governorate", politeness and the way
// people say where they live ("انا من الخليل", "ساكن بنابلس", "from Hebron
// please") do not matter, nor does one typo in a name of five letters or
// more ("قلقيلة"). A message naming two governorates names none.
func (c *Catalog) MatchGovernorate(input string) (string, bool) {
	return c.govNames.match(input)
}

// MatchField finds the field of work input names, in Arabic or English
// ("المصالحة", "youth", "حقوق الإنسان" …), as MatchGovernorate does.
func (c *Catalog) MatchField(input string) (string, bool) {
	return c.fieldNames.match(input)
}

// names finds the key a typed place or field name stands for.
type names struct {
	exact map[string]string   // loose form, with and without the article → key
	near  map[string][]string // a loose form of five letters or more, and each of its one-letter deletions → the forms
}

// nameIndex indexes the loose forms of every name of every key (its
// catalog text in each language, and its aliases). Two keys sharing a name
// is an error: the answer would be ambiguous.
func (c *Catalog) nameIndex(keys []string, catKey func(string) Key, aliases map[string][]string) (names, error) {
	idx := names{exact: map[string]string{}, near: map[string][]string{}}
	for _, k := range keys {
		all := slices.Clone(aliases[k])
		for _, lang := range Langs() {
			if !c.Has(lang, catKey(k)) {
				return names{}, fmt.Errorf("%s missing from the %s catalog", catKey(k), lang)
			}
			all = append(all, c.Text(lang, catKey(k), nil))
		}
		for _, n := range all {
			forms := []string{looseName(n), looseName(withoutArticles(n))}
			if forms[0] == "" || forms[1] == "" {
				return names{}, fmt.Errorf("%s: name %q is empty when normalised", k, n)
			}
			for _, l := range forms {
				if prev, ok := idx.exact[l]; ok && prev != k {
					return names{}, fmt.Errorf("name %q means both %s and %s", n, prev, k)
				}
				idx.exact[l] = k
			}
		}
	}
	for k := range aliases {
		if !slices.Contains(keys, k) {
			return names{}, fmt.Errorf("aliases for unknown key %q", k)
		}
	}
	for l := range idx.exact {
		if letterCount(l) < minFuzzyLetters {
			continue
		}
		idx.near[l] = append(idx.near[l], l)
		for _, d := range deletions(l) {
			idx.near[d] = append(idx.near[d], l)
		}
	}
	return idx, nil
}

// match tries the input as typed, then without the words around a name,
// then without a proclitic on it («بنابلس»), then with one typo.
func (n names) match(input string) (string, bool) {
	candidates := []string{input}
	core := nameCore(input)
	if core != "" {
		candidates = append(candidates, core)
		if w, rest, _ := strings.Cut(core, " "); isArabicWord(w) {
			for _, c := range clitics() {
				if stripped, ok := strings.CutPrefix(w, c[0]); ok && len([]rune(stripped)) >= 2 {
					candidates = append(candidates, strings.TrimSpace(c[1]+stripped+" "+rest))
				}
			}
		}
	}
	for _, c := range candidates {
		if k, ok := n.lookup(c); ok {
			return k, true
		}
	}
	for _, c := range candidates[min(1, len(candidates)-1):] {
		if k, ok := n.nearest(looseName(c)); ok {
			return k, true
		}
	}
	return n.matchEach(core)
}

func (n names) lookup(s string) (string, bool) {
	for _, l := range []string{looseName(s), looseName(withoutArticles(s))} {
		if k, ok := n.exact[l]; ok && l != "" {
			return k, true
		}
	}
	return "", false
}

// matchEach reads a list of names joined by «و» or "and" («بيت لحم وبيت
// جالا»): it names a key when every name in it names that same key.
func (n names) matchEach(s string) (string, bool) {
	var parts []string
	var cur []string
	for _, w := range strings.Fields(Normalize(s)) {
		rest, and := strings.CutPrefix(w, "و")
		if w == "and" || w == "&" || w == "و" {
			rest, and = "", true
		}
		if and && len(cur) > 0 {
			if _, ok := n.lookup(w); !ok { // «والبيرة» may be a name's own word
				parts, cur = append(parts, strings.Join(cur, " ")), nil
				if rest != "" {
					cur = append(cur, rest)
				}
				continue
			}
		}
		cur = append(cur, w)
	}
	parts = append(parts, strings.Join(cur, " "))
	if len(parts) < 2 {
		return "", false
	}
	found := ""
	for _, p := range parts {
		k, ok := n.lookup(p)
		if !ok || (found != "" && k != found) {
			return "", false
		}
		found = k
	}
	return found, true
}

// nearest finds the one key whose name is within one typo of l.
func (n names) nearest(l string) (string, bool) {
	if letterCount(l) < minFuzzyLetters {
		return "", false
	}
	found := ""
	for _, d := range append(deletions(l), l) {
		for _, f := range n.near[d] {
			if !withinOneEdit(l, f) {
				continue
			}
			if k := n.exact[f]; found != "" && k != found {
				return "", false
			} else {
				found = k
			}
		}
	}
	return found, found != ""
}

// nameCore drops what surrounds a name in a typed answer: politeness and
// fillers as Understand knows them, and the words of "I live in", "from".
func nameCore(input string) string {
	lx := theLexicon()
	toks := tokenize(fold(input))
	us := lx.units(lx.canonical(toks))
	drop := make([]bool, len(toks))
	for _, u := range us {
		if u.kind != uEntry {
			continue
		}
		switch u.e.role {
		case rolePolite, roleFiller, rolePrep, roleMarker:
			for _, t := range u.toks {
				drop[t] = true
			}
		}
	}
	var words []string
	for k, t := range toks {
		if t.kind != tokWord && t.kind != tokNumber || drop[k] || slices.Contains(residenceWords(), t.text) {
			continue
		}
		words = append(words, t.text)
	}
	return strings.Join(words, " ")
}

// residenceWords are how people say where they live or come from.
func residenceWords() []string {
	return []string{"في", "ساكن", "ساكنه", "ساكنين", "عايش", "عايشه", "بسكن", "اسكن", "نسكن", "بعيش", "اعيش", "مقيم", "مقيمه", "اصلي",
		"live", "living", "lives", "based", "originally", "فلسطين", "palestine", "الضفه", "الغربيه", "west", "bank"}
}

// looseName normalises a place or field name for lookup: Normalize, drop
// filler words, then keep only letters and digits.
func looseName(s string) string {
	var b strings.Builder
	for _, w := range strings.Fields(Normalize(s)) {
		switch w {
		case "محافظه", "مدينه", "منطقه", "مخيم", "قريه", "بلده", "مجال",
			"governorate", "province", "city", "district", "camp", "village", "town", "and", "the", "field":
			continue
		}
		for _, r := range w {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// withoutArticles drops the article from every word of a name: the Arabic
// «ال» prefix and the Latin "al", "el", "il" written before it, so «الخليل»,
// «خليل», "al-Khalil" and "Khalil" meet.
func withoutArticles(s string) string {
	words := strings.FieldsFunc(Normalize(s), func(r rune) bool { return r == ' ' || r == '-' })
	out := words[:0]
	for _, w := range words {
		switch w {
		case "al", "el", "il", "al'", "el'":
			continue
		}
		if rest, ok := strings.CutPrefix(w, "ال"); ok && len([]rune(rest)) >= 2 {
			w = rest
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// governorateAliases lists spellings people use besides the catalog names:
// transliterations, older official names, and a few main towns that lie
// wholly in one governorate.
func governorateAliases() map[string][]string {
	return map[string][]string{
		"jenin":      {"جنين", "jenin", "jenine", "janin", "jeneen", "قباطية", "يعبد", "qabatiya", "yabad"},
		"tubas":      {"طوباس", "طوباس والأغوار الشمالية", "tubas", "toubas", "tubas & northern valleys", "طمون", "tammun"},
		"tulkarm":    {"طولكرم", "طول كرم", "tulkarm", "tulkarem", "tulkarim", "tul karm", "عنبتا", "anabta"},
		"nablus":     {"نابلس", "nablus", "nablous", "nabulus", "بلاطة", "حوارة", "balata", "huwara"},
		"qalqilya":   {"قلقيلية", "قلقيليا", "qalqilya", "qalqiliya", "qalqilia", "qalqiliyah", "kalkilya", "qalqeelia", "عزون", "azzun"},
		"salfit":     {"سلفيت", "salfit", "salfeet", "بديا", "biddya"},
		"ramallah":   {"رام الله", "البيرة", "ramallah", "al-bireh", "el-bireh", "bireh", "ramallah & al-bireh", "بيرزيت", "بير زيت", "birzeit", "bir zeit"},
		"jericho":    {"أريحا", "أريحا والأغوار", "jericho", "ariha", "ariha & al-aghwar", "jericho & the jordan valley"},
		"jerusalem":  {"القدس", "القدس الشريف", "بيت المقدس", "jerusalem", "al-quds", "el-quds", "quds", "العيزرية", "أبو ديس", "abu dis", "al-eizariya"},
		"bethlehem":  {"بيت لحم", "bethlehem", "beit lahm", "bayt lahm", "beit lahem", "بيت جالا", "بيت ساحور", "beit jala", "beit sahour", "الدهيشة", "dheisheh"},
		"hebron":     {"الخليل", "خليل", "hebron", "al-khalil", "el-khalil", "khalil", "يطا", "دورا", "حلحول", "yatta", "dura", "halhul"},
		"north_gaza": {"شمال غزة", "غزة الشمال", "north gaza", "northern gaza", "gaza north", "جباليا", "بيت لاهيا", "بيت حانون", "jabalia", "jabaliya", "beit lahia", "beit hanoun"},
		"gaza":       {"غزة", "gaza", "gaza city", "ghazza", "ghaza", "ghazzah"},
		"deir_al_balah": {"دير البلح", "الوسطى", "المنطقة الوسطى", "المحافظة الوسطى", "deir al-balah", "deir el-balah", "deir al balah",
			"dair al-balah", "deir elbalah", "middle area", "central gaza", "النصيرات", "البريج", "المغازي", "الزوايدة", "nuseirat", "bureij", "maghazi"},
		"khan_yunis": {"خان يونس", "خانيونس", "khan yunis", "khan younis", "khan younes", "khan yunus", "khanyounis", "بني سهيلا", "عبسان", "bani suheila"},
		"rafah":      {"رفح", "rafah", "rafa"},
	}
}

// fieldAliases lists other words people use for each field of work.
func fieldAliases() map[string][]string {
	return map[string][]string{
		"reconciliation": {"المصالحة", "مصالحة", "الوساطة", "وساطة", "الصلح", "صلح", "المصالحة المجتمعية", "فض النزاعات",
			"reconciliation", "mediation", "conflict resolution", "peacebuilding"},
		"youth":        {"الشباب", "شباب", "youth", "young people"},
		"women":        {"المرأة", "مرأة", "النساء", "نساء", "قضايا المرأة", "women", "woman", "gender"},
		"human_rights": {"حقوق الإنسان", "حقوق", "human rights", "rights"},
		"legal_aid":    {"المساعدة القانونية", "قانونية", "قانون", "legal aid", "legal", "law"},
		"education":    {"التعليم", "تعليم", "التربية والتعليم", "education", "schools"},
		"health":       {"الصحة", "صحة", "health", "healthcare"},
		"relief":       {"الإغاثة", "إغاثة", "العمل الإغاثي", "relief", "humanitarian aid", "aid"},
		"culture":      {"الثقافة", "ثقافة", "الفنون", "culture", "arts"},
		"media":        {"الإعلام", "إعلام", "media", "journalism"},
		"other":        {"أخرى", "اخرى", "آخر", "مجال آخر", "غير ذلك", "other"},
	}
}
