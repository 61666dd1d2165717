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
// by its catalog name or a common spelling ("رام الله", "الخليل", "al-Khalil",
// "Gaza City", "محافظة نابلس", "Khan Younis"). Case, Arabic letter variants,
// spaces, hyphens and words like "محافظة" or "governorate" do not matter.
func (c *Catalog) MatchGovernorate(input string) (string, bool) {
	g, ok := c.govNames[looseName(input)]
	return g, ok
}

// MatchField finds the field of work input names, in Arabic or English
// ("المصالحة", "youth", "حقوق الإنسان" …), as MatchGovernorate does.
func (c *Catalog) MatchField(input string) (string, bool) {
	f, ok := c.fieldNames[looseName(input)]
	return f, ok
}

// nameIndex maps the loose form of every name of every key (its catalog
// text in each language, and its aliases) to the key. Two keys sharing a
// name is an error: the answer would be ambiguous.
func (c *Catalog) nameIndex(keys []string, catKey func(string) Key, aliases map[string][]string) (map[string]string, error) {
	idx := map[string]string{}
	for _, k := range keys {
		names := slices.Clone(aliases[k])
		for _, lang := range Langs() {
			if !c.Has(lang, catKey(k)) {
				return nil, fmt.Errorf("%s missing from the %s catalog", catKey(k), lang)
			}
			names = append(names, c.Text(lang, catKey(k), nil))
		}
		for _, n := range names {
			l := looseName(n)
			if l == "" {
				return nil, fmt.Errorf("%s: name %q is empty when normalised", k, n)
			}
			if prev, ok := idx[l]; ok && prev != k {
				return nil, fmt.Errorf("name %q means both %s and %s", n, prev, k)
			}
			idx[l] = k
		}
	}
	for k := range aliases {
		if !slices.Contains(keys, k) {
			return nil, fmt.Errorf("aliases for unknown key %q", k)
		}
	}
	return idx, nil
}

// looseName normalises a place or field name for lookup: Normalize, drop
// filler words, then keep only letters and digits.
func looseName(s string) string {
	var b strings.Builder
	for _, w := range strings.Fields(Normalize(s)) {
		switch w {
		case "محافظه", "مدينه", "منطقه", "مجال", "governorate", "province", "city", "district", "and", "the", "field":
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

// governorateAliases lists spellings people use besides the catalog names:
// transliterations, older official names, and a few main towns that lie
// wholly in one governorate.
func governorateAliases() map[string][]string {
	return map[string][]string{
		"jenin":      {"جنين", "jenin", "jenine", "janin", "jeneen"},
		"tubas":      {"طوباس", "طوباس والأغوار الشمالية", "tubas", "toubas", "tubas & northern valleys"},
		"tulkarm":    {"طولكرم", "طول كرم", "tulkarm", "tulkarem", "tulkarim", "tul karm"},
		"nablus":     {"نابلس", "nablus", "nablous", "nabulus"},
		"qalqilya":   {"قلقيلية", "قلقيليا", "qalqilya", "qalqiliya", "qalqilia", "qalqiliyah", "kalkilya", "qalqeelia"},
		"salfit":     {"سلفيت", "salfit", "salfeet"},
		"ramallah":   {"رام الله", "البيرة", "ramallah", "al-bireh", "el-bireh", "bireh", "ramallah & al-bireh"},
		"jericho":    {"أريحا", "أريحا والأغوار", "jericho", "ariha", "ariha & al-aghwar", "jericho & the jordan valley"},
		"jerusalem":  {"القدس", "القدس الشريف", "بيت المقدس", "jerusalem", "al-quds", "el-quds", "quds"},
		"bethlehem":  {"بيت لحم", "bethlehem", "beit lahm", "bayt lahm", "beit lahem", "بيت جالا", "بيت ساحور", "beit jala", "beit sahour"},
		"hebron":     {"الخليل", "خليل", "hebron", "al-khalil", "el-khalil", "khalil"},
		"north_gaza": {"شمال غزة", "غزة الشمال", "north gaza", "northern gaza", "gaza north", "جباليا", "بيت لاهيا", "بيت حانون", "jabalia", "jabaliya", "beit lahia", "beit hanoun"},
		"gaza":       {"غزة", "gaza", "gaza city", "ghazza", "ghaza", "ghazzah"},
		"deir_al_balah": {"دير البلح", "الوسطى", "المنطقة الوسطى", "المحافظة الوسطى", "deir al-balah", "deir el-balah", "deir al balah",
			"dair al-balah", "deir elbalah", "middle area", "central gaza"},
		"khan_yunis": {"خان يونس", "خانيونس", "khan yunis", "khan younis", "khan younes", "khan yunus", "khanyounis"},
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
