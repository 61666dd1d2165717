package messages

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"text/template"
	"text/template/parse"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// declaredKeys parses keys*.go and returns every constant of type Key,
// name → value, so keys added later are checked without touching the tests.
func declaredKeys(t *testing.T) map[string]Key {
	t.Helper()
	files, err := filepath.Glob("keys*.go")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	keys := map[string]Key{}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		require.NoError(t, err)
		declaredIn(t, f, keys)
	}
	require.NotEmpty(t, keys)
	return keys
}

// declaredIn adds the Key constants of one parsed file to keys.
func declaredIn(t *testing.T, f *ast.File, keys map[string]Key) {
	t.Helper()
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				require.Less(t, i, len(vs.Values), "const %s in keys.go needs an explicit value", name.Name)
				val := vs.Values[i]
				isKey := false
				if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Key" {
					isKey = true
				}
				// also accept the form Name = Key("x")
				if call, ok := val.(*ast.CallExpr); ok && len(call.Args) == 1 {
					if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "Key" {
						isKey, val = true, call.Args[0]
					}
				}
				if !isKey {
					continue
				}
				lit, ok := val.(*ast.BasicLit)
				require.True(t, ok && lit.Kind == token.STRING, "key %s in keys.go must be a string literal", name.Name)
				s, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				require.NotContains(t, keys, name.Name, "const %s declared twice", name.Name)
				keys[name.Name] = Key(s)
			}
		}
	}
}

// catalogFile reads a language's embedded catalogs as raw JSON, all its
// files merged: key → string or plural object. A key in two files fails.
func catalogFile(t *testing.T, lang string) map[string]any {
	t.Helper()
	paths, err := fs.Glob(locales, "locales/*.json")
	require.NoError(t, err)
	m := map[string]any{}
	for _, p := range paths {
		if !strings.HasSuffix(p, "/"+lang+".json") && !strings.HasSuffix(p, "."+lang+".json") {
			continue
		}
		buf, err := locales.ReadFile(p)
		require.NoError(t, err)
		var part map[string]any
		require.NoError(t, json.Unmarshal(buf, &part), p)
		for k, v := range part {
			require.NotContains(t, m, k, "%s: key %q is defined in another %s file too", p, k, lang)
			m[k] = v
		}
	}
	require.NotEmpty(t, m, "no catalog for %s", lang)
	return m
}

var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

func TestKeysMatchCatalogs(t *testing.T) {
	declared := declaredKeys(t)
	want := map[string]string{} // key → constant name
	for name, k := range declared {
		assert.Regexp(t, keyPattern, string(k), "constant %s: keys are dotted lower_snake segments", name)
		if prev, dup := want[string(k)]; dup {
			t.Errorf("key %q declared twice: %s and %s", k, prev, name)
		}
		want[string(k)] = name
	}
	for _, lang := range Langs() {
		file := catalogFile(t, lang)
		for k, name := range want {
			assert.Contains(t, file, k, "%s (%s) missing from locales/%s.json", name, k, lang)
		}
		for k := range file {
			assert.Contains(t, want, k, "locales/%s.json has %q, which keys.go does not declare", lang, k)
		}
	}
}

var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// wantForms are the plural forms each language's plural messages must have, no more, no fewer.
var wantForms = map[string][]string{
	Arabic:  {"few", "many", "one", "other", "two", "zero"},
	English: {"one", "other"},
}

// forms returns the texts of a catalog value: one for a string, one per form for a plural.
func forms(t *testing.T, lang, key string, v any) map[string]string {
	t.Helper()
	switch v := v.(type) {
	case string:
		return map[string]string{"": v}
	case map[string]any:
		out := map[string]string{}
		for form, text := range v {
			require.Contains(t, pluralForms, form, "locales/%s.json %q: %q is no plural form (keys are flat and dotted, not nested)", lang, key, form)
			s, ok := text.(string)
			require.True(t, ok, "locales/%s.json %q.%s must be a string", lang, key, form)
			out[form] = s
		}
		return out
	default:
		t.Fatalf("locales/%s.json %q: want a string or a plural object, got %T", lang, key, v)
		return nil
	}
}

func TestCatalogShapes(t *testing.T) {
	files := map[string]map[string]any{}
	for _, lang := range Langs() {
		files[lang] = catalogFile(t, lang)
	}
	for _, lang := range Langs() {
		for key, v := range files[lang] {
			fs := forms(t, lang, key, v)
			_, isPlural := v.(map[string]any)
			if isPlural {
				assert.ElementsMatch(t, wantForms[lang], slices.Collect(maps.Keys(fs)), "locales/%s.json %q: plural forms", lang, key)
			}
			for other := range files {
				if _, ok := files[other][key]; ok {
					_, otherPlural := files[other][key].(map[string]any)
					assert.Equal(t, isPlural, otherPlural, "%q is plural in %s.json but not in %s.json, or the reverse", key, lang, other)
				}
			}
			for form, text := range fs {
				assert.NotEmpty(t, strings.TrimSpace(text), "locales/%s.json %q %s is empty", lang, key, form)
				_, err := template.New(key).Parse(text)
				assert.NoError(t, err, "locales/%s.json %q %s", lang, key, form)
			}
		}
	}
}

// placeholders returns the {{.Name}} fields a catalog value uses, across all its forms.
func placeholders(t *testing.T, lang, key string, v any) []string {
	t.Helper()
	set := map[string]bool{}
	for _, text := range forms(t, lang, key, v) {
		tmpl, err := template.New(key).Parse(text)
		require.NoError(t, err)
		var walk func(n parse.Node)
		walk = func(n parse.Node) {
			switch n := n.(type) {
			case *parse.ListNode:
				if n != nil {
					for _, c := range n.Nodes {
						walk(c)
					}
				}
			case *parse.ActionNode:
				walk(n.Pipe)
			case *parse.PipeNode:
				for _, c := range n.Cmds {
					walk(c)
				}
			case *parse.CommandNode:
				for _, a := range n.Args {
					walk(a)
				}
			case *parse.FieldNode:
				set[strings.Join(n.Ident, ".")] = true
			case *parse.IfNode:
				walk(n.Pipe)
				walk(n.List)
				walk(n.ElseList)
			case *parse.RangeNode:
				walk(n.Pipe)
				walk(n.List)
				walk(n.ElseList)
			case *parse.WithNode:
				walk(n.Pipe)
				walk(n.List)
				walk(n.ElseList)
			}
		}
		walk(tmpl.Tree.Root)
	}
	return slices.Sorted(maps.Keys(set))
}

func TestPlaceholdersMatch(t *testing.T) {
	ar, en := catalogFile(t, Arabic), catalogFile(t, English)
	for key, v := range ar {
		if w, ok := en[key]; ok {
			assert.Equal(t, placeholders(t, English, key, w), placeholders(t, Arabic, key, v), "%q: Arabic and English use different placeholders", key)
		}
	}
	// the check itself sees placeholders
	assert.Equal(t, []string{"Count"}, placeholders(t, Arabic, "pledge.count", ar["pledge.count"]))
	assert.Equal(t, []string{"Name", "When"}, placeholders(t, English, "x", "Hi {{.Name}}, {{if .When}}at {{.When}}{{end}}"))
}

func TestPlaceListsAreDeclaredKeys(t *testing.T) {
	declared := map[Key]bool{}
	for _, k := range declaredKeys(t) {
		declared[k] = true
	}
	for _, tc := range []struct {
		label  string
		keys   []string
		catKey func(string) Key
		prefix string
		want   int
	}{
		{"governorates", Governorates(), GovernorateKey, "gov.", 16},
		{"fields", Fields(), FieldKey, "field.", 11},
	} {
		t.Run(tc.label, func(t *testing.T) {
			assert.Len(t, tc.keys, tc.want)
			seen := map[Key]bool{}
			for _, k := range tc.keys {
				assert.Regexp(t, `^[a-z_]+$`, k)
				assert.True(t, declared[tc.catKey(k)], "%s is not declared in keys.go", tc.catKey(k))
				assert.False(t, seen[tc.catKey(k)], "%s listed twice", k)
				seen[tc.catKey(k)] = true
			}
			for k := range declared {
				if strings.HasPrefix(string(k), tc.prefix) {
					assert.True(t, seen[k], "%s is declared but not listed", k)
				}
			}
		})
	}
	assert.Equal(t, "hebron", Governorates()[10], "the West Bank's 11 come first")
	assert.Equal(t, "other", Fields()[len(Fields())-1])
	assert.True(t, IsGovernorate("khan_yunis"))
	assert.False(t, IsGovernorate("gov.gaza"))
	assert.True(t, IsField("legal_aid"))
	assert.False(t, IsField(""))
}

func newCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := New()
	require.NoError(t, err)
	return c.WithLogger(slog.New(slog.DiscardHandler)) // TestFallback covers the logging
}

func TestCountArabic(t *testing.T) {
	c := newCatalog(t)
	for _, tc := range []struct {
		n            int
		form, pledge string
		people       string
	}{
		{0, "zero", "لا توجد تعهّدات بعد", "لا أحد بعد"},
		{1, "one", "تعهّد واحد", "شخص واحد"},
		{2, "two", "تعهّدان", "شخصان"},
		{3, "few", "٣ تعهّدات", "٣ أشخاص"},
		{10, "few", "١٠ تعهّدات", "١٠ أشخاص"},
		{11, "many", "١١ تعهّدًا", "١١ شخصًا"},
		{99, "many", "٩٩ تعهّدًا", "٩٩ شخصًا"},
		{100, "other", "١٠٠ تعهّد", "١٠٠ شخص"},
		{101, "other", "١٠١ تعهّد", "١٠١ شخص"},
		{102, "other", "١٠٢ تعهّد", "١٠٢ شخص"},
		{103, "few", "١٠٣ تعهّدات", "١٠٣ أشخاص"},
		{111, "many", "١١١ تعهّدًا", "١١١ شخصًا"},
		{1000, "other", "١٬٠٠٠ تعهّد", "١٬٠٠٠ شخص"},
	} {
		t.Run(fmt.Sprintf("%d_%s", tc.n, tc.form), func(t *testing.T) {
			assert.Equal(t, tc.pledge, c.Count("ar", PledgeCount, tc.n, nil))
			assert.Equal(t, tc.people, c.Count("ar-PS", PeopleCount, tc.n, nil))
		})
	}
}

func TestCountEnglish(t *testing.T) {
	c := newCatalog(t)
	for n, want := range map[int]string{0: "0 pledges", 1: "1 pledge", 2: "2 pledges", 11: "11 pledges", 1000: "1,000 pledges", 1234567: "1,234,567 pledges"} {
		assert.Equal(t, want, c.Count("en", PledgeCount, n, nil))
	}
	assert.Equal(t, "1 person", c.Count("en-GB", PeopleCount, 1, nil))
}

func TestCountLeavesDataAlone(t *testing.T) {
	c := newCatalog(t)
	data := map[string]any{"Count": "caller's", "Other": 1}
	assert.Equal(t, "٥ تعهّدات", c.Count("ar", PledgeCount, 5, data))
	assert.Equal(t, map[string]any{"Count": "caller's", "Other": 1}, data)
}

func TestTextAndHas(t *testing.T) {
	c := newCatalog(t)
	assert.Equal(t, "نعم", c.Text("ar", CommonYes, nil))
	assert.Equal(t, "Yes", c.Text("en", CommonYes, nil))
	assert.Equal(t, "نعم", c.Text("", CommonYes, nil), "no language means Arabic")
	assert.Equal(t, "نعم", c.Text("fr", CommonYes, nil), "an unsupported language means Arabic")
	assert.Equal(t, "الخليل", c.Text("ar", GovernorateKey("hebron"), nil))
	assert.Equal(t, "Ramallah & al-Bireh", c.Text("en", GovRamallah, nil))
	assert.Equal(t, "العربية", c.Text("ar", LangName, nil))
	assert.Equal(t, "English", c.Text("en", LangName, nil))
	assert.True(t, c.Has("ar", CommonBack))
	assert.True(t, c.Has("EN-us", CommonBack))
	assert.False(t, c.Has("ar", Key("no.such_key")))
	assert.Equal(t, "no.such_key", c.Text("en", Key("no.such_key"), nil))
}

// testCatalog builds a catalog from in-memory files, to exercise fallbacks
// the real catalogs (complete by test) never need.
func testCatalog(t *testing.T, ar, en string) *Catalog {
	t.Helper()
	c, err := load(fstest.MapFS{
		"locales/ar.json": {Data: []byte(ar)},
		"locales/en.json": {Data: []byte(en)},
	})
	require.NoError(t, err)
	return c
}

func TestFallback(t *testing.T) {
	var logs bytes.Buffer
	c := testCatalog(t,
		`{"both": "عربي {{.Name}}", "blank": "", "items": {"zero": "لا شيء", "one": "واحد", "two": "اثنان", "few": "{{.Count}} أشياء", "many": "{{.Count}} شيئًا", "other": "{{.Count}} شيء"}}`,
		`{"both": "English {{.Name}}", "blank": "English blank", "only.en": "Only {{.Name}}", "only.en_count": {"one": "{{.Count}} thing", "other": "{{.Count}} things"}}`,
	).WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))

	assert.Equal(t, "عربي Ali", c.Text("ar", "both", map[string]any{"Name": "Ali"}))
	assert.Equal(t, "English Ali", c.Text("en", "both", map[string]any{"Name": "Ali"}))
	assert.Empty(t, logs.String(), "no fallback, no log")

	assert.Equal(t, "Only Ali", c.Text("ar", "only.en", map[string]any{"Name": "Ali"}), "missing in Arabic: English")
	assert.Contains(t, logs.String(), "only.en")
	assert.Equal(t, "English blank", c.Text("ar", "blank", nil), "an empty Arabic text falls back too")
	assert.Equal(t, "1,000 things", c.Count("ar", "only.en_count", 1000, nil), "the number follows the language of the text")
	assert.Equal(t, "missing.key", c.Text("ar", "missing.key", nil), "missing everywhere: the key")
	assert.Equal(t, "missing.key", c.Count("en", "missing.key", 3, nil))
	assert.Equal(t, "items", c.Text("en", "items", nil), "English does not fall back to Arabic")
	assert.Equal(t, "٥ شيء", c.Text("ar", "items", map[string]any{"Count": "٥"}), "Text gives the other form")

	assert.True(t, c.Has("ar", "both"))
	assert.False(t, c.Has("ar", "only.en"))
	assert.True(t, c.Has("en", "only.en"))

	// a catalog in a language the bot does not speak is refused
	_, err := load(fstest.MapFS{"locales/ar.json": {Data: []byte(`{}`)}, "locales/en.json": {Data: []byte(`{}`)}, "locales/fr.json": {Data: []byte(`{"a": "b"}`)}})
	assert.ErrorContains(t, err, "fr")
	_, err = load(fstest.MapFS{"locales/ar.json": {Data: []byte(`{"a": "b"}`)}})
	assert.ErrorContains(t, err, `"en"`)
}

func TestConcurrentUse(t *testing.T) {
	c := newCatalog(t).WithLogger(nil)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 16 {
		wg.Go(func() {
			for n := range 200 {
				lang := Langs()[(i+n)%2]
				if got := c.Count(lang, PledgeCount, n, map[string]any{"N": n}); got == "" || got == string(PledgeCount) {
					errs <- fmt.Sprintf("Count(%s, %d) = %q", lang, n, got)
					return
				}
				if g, ok := c.MatchGovernorate("الخليل"); !ok || g != "hebron" {
					errs <- "MatchGovernorate failed"
					return
				}
				_ = c.Text(lang, Key("no.such_key"), nil)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	assert.Equal(t, "١٩٩ تعهّدًا", c.Count("ar", PledgeCount, 199, nil))
}

func TestNormalizeLang(t *testing.T) {
	for in, want := range map[string]string{
		"ar": "ar", "ar-PS": "ar", "AR": "ar", "ar_JO": "ar", "ara": "ar",
		"en": "en", "en-US": "en", "EN_gb": "en", " en ": "en", "eng": "en",
		"": "ar", "fr": "ar", "he": "ar", "english": "ar", "e": "ar",
	} {
		assert.Equal(t, want, NormalizeLang(in), "NormalizeLang(%q)", in)
	}
	assert.Equal(t, []string{"ar", "en"}, Langs())
}

func TestFormatNumber(t *testing.T) {
	for _, tc := range []struct {
		lang string
		n    int
		want string
	}{
		{"ar", 0, "٠"},
		{"ar", 7, "٧"},
		{"ar", 312, "٣١٢"},
		{"ar", 1000, "١٬٠٠٠"},
		{"ar", 1234567, "١٬٢٣٤٬٥٦٧"},
		{"", 1000, "١٬٠٠٠"},
		{"ar-PS", 25, "٢٥"},
		{"en", 0, "0"},
		{"en", 1000, "1,000"},
		{"en-US", 1234567, "1,234,567"},
	} {
		got := FormatNumber(tc.lang, tc.n)
		assert.Equal(t, tc.want, got, "FormatNumber(%q, %d)", tc.lang, tc.n)
		if n, ok := ParseNumber(got); assert.True(t, ok, "ParseNumber(%q)", got) {
			assert.Equal(t, tc.n, n, "ParseNumber reads FormatNumber back")
		}
	}
}

func TestIsolate(t *testing.T) {
	const f, p = "\u2068", "\u2069"
	for in, want := range map[string]string{
		"":                                "",
		"Ali":                             f + "Ali" + p,
		"https://t.me/x?start=peace":      f + "https://t.me/x?start=peace" + p,
		"+970599000000":                   f + "+970599000000" + p,
		f + "Ali" + p:                     f + "Ali" + p,
		"\u2066Ali" + p:                   "\u2066Ali" + p,
		f + "a" + p + " b " + f + "c" + p: f + f + "a" + p + " b " + f + "c" + p + p,
		f + "Ali":                         f + "Ali" + p,
		"Ali" + p:                         f + "Ali" + p,
		"a" + p + f + "b":                 f + "a" + f + "b" + p + p,
	} {
		got := Isolate(in)
		assert.Equal(t, want, got, "Isolate(%+q)", in)
		assert.Equal(t, got, Isolate(got), "Isolate(Isolate(%+q))", in)
	}
	assert.Equal(t, "وقّع "+f+"Ali"+p+" على التعهّد", "وقّع "+Isolate("Ali")+" على التعهّد")
}

func TestMatchGovernorate(t *testing.T) {
	c := newCatalog(t)
	for _, g := range Governorates() {
		for _, lang := range Langs() {
			name := c.Text(lang, GovernorateKey(g), nil)
			got, ok := c.MatchGovernorate(name)
			assert.True(t, ok, "%s name %q", lang, name)
			assert.Equal(t, g, got, "%s name %q", lang, name)
		}
	}
	for in, want := range map[string]string{
		"رام الله":              "ramallah",
		"رام الله والبيرة":      "ramallah",
		"رام اللة":              "ramallah",
		"Ramallah and al-Bireh": "ramallah",
		"الخليل":                "hebron",
		"الخليل.":               "hebron",
		"hebron":                "hebron",
		"HEBRON":                "hebron",
		"al-khalil":             "hebron",
		"Al Khalil":             "hebron",
		"gaza city":             "gaza",
		"مدينة غزة":             "gaza",
		"غزه":                   "gaza",
		"north gaza":            "north_gaza",
		"شمال غزّة":             "north_gaza",
		"محافظة نابلس":          "nablus",
		"Nablus Governorate":    "nablus",
		"اريحا":                 "jericho",
		"Jericho & al-Aghwar":   "jericho",
		"القدس":                 "jerusalem",
		"al-Quds":               "jerusalem",
		"بيت لحم":               "bethlehem",
		"Khan Younis":           "khan_yunis",
		"خانيونس":               "khan_yunis",
		"deir el-balah":         "deir_al_balah",
		"الوسطى":                "deir_al_balah",
		"قلقيليا":               "qalqilya",
		"Tulkarem":              "tulkarm",
		"طوباس والأغوار الشمالية": "tubas",
		"  جنين  ": "jenin",
		"رفح":      "rafah",
		"سلفيت":    "salfit",
	} {
		got, ok := c.MatchGovernorate(in)
		assert.True(t, ok, "MatchGovernorate(%q)", in)
		assert.Equal(t, want, got, "MatchGovernorate(%q)", in)
	}
	for _, in := range []string{"", "غ", "Haifa", "حيفا", "1", "jerusalem hebron", "gov.gaza"} {
		_, ok := c.MatchGovernorate(in)
		assert.False(t, ok, "MatchGovernorate(%q)", in)
	}
}

func TestMatchField(t *testing.T) {
	c := newCatalog(t)
	for _, f := range Fields() {
		for _, lang := range Langs() {
			got, ok := c.MatchField(c.Text(lang, FieldKey(f), nil))
			assert.True(t, ok)
			assert.Equal(t, f, got)
		}
	}
	for in, want := range map[string]string{
		"المصالحة": "reconciliation", "mediation": "reconciliation", "الشباب": "youth", "حقوق الانسان": "human_rights",
		"Legal Aid": "legal_aid", "اغاثة": "relief", "مجال آخر": "other", "الإعلام": "media",
	} {
		got, ok := c.MatchField(in)
		assert.True(t, ok, "MatchField(%q)", in)
		assert.Equal(t, want, got, "MatchField(%q)", in)
	}
	_, ok := c.MatchField("sports")
	assert.False(t, ok)
}

func TestNameIndexRejectsAmbiguity(t *testing.T) {
	c := testCatalog(t, `{"x.a": "الف", "x.b": "باء"}`, `{"x.a": "A", "x.b": "B"}`)
	key := func(k string) Key { return Key("x." + k) }
	_, err := c.nameIndex([]string{"a", "b"}, key, map[string][]string{"b": {"a"}})
	assert.ErrorContains(t, err, "means both")
	_, err = c.nameIndex([]string{"a", "b", "c"}, key, nil)
	assert.ErrorContains(t, err, "x.c missing")
	_, err = c.nameIndex([]string{"a"}, key, map[string][]string{"z": {"zed"}})
	assert.ErrorContains(t, err, "unknown key")
	idx, err := c.nameIndex([]string{"a", "b"}, key, map[string][]string{"a": {"alif"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"الف": "a", "a": "a", "alif": "a", "باء": "b", "b": "b"}, idx.exact)
}

func TestCatalogsSplitAcrossFiles(t *testing.T) {
	c, err := load(fstest.MapFS{
		"locales/ar.json":       {Data: []byte(`{"a.one": "واحد"}`)},
		"locales/en.json":       {Data: []byte(`{"a.one": "one"}`)},
		"locales/sched.ar.json": {Data: []byte(`{"sched.two": "اثنان"}`)},
		"locales/sched.en.json": {Data: []byte(`{"sched.two": "two"}`)},
	})
	require.NoError(t, err)
	assert.Equal(t, "two", c.Text(English, "sched.two", nil))
	assert.Equal(t, "واحد", c.Text(Arabic, "a.one", nil))
	assert.True(t, c.Has(Arabic, "sched.two"))

	_, err = load(fstest.MapFS{
		"locales/ar.json":      {Data: []byte(`{"a.one": "واحد"}`)},
		"locales/en.json":      {Data: []byte(`{"a.one": "one"}`)},
		"locales/dupe.ar.json": {Data: []byte(`{"a.one": "مكرر"}`)},
	})
	assert.ErrorContains(t, err, "defined in two")
}

// TestCommandDescriptionsAreCapitalised: /help lists every command with its
// description; in English each starts with a capital, as a sentence would.
func TestCommandDescriptionsAreCapitalised(t *testing.T) {
	for k, v := range catalogFile(t, English) {
		if !strings.HasPrefix(k, "cmd.") {
			continue
		}
		for _, text := range forms(t, English, k, v) {
			first, _ := utf8.DecodeRuneInString(text)
			assert.True(t, unicode.IsUpper(first), "%s: %q starts with a small letter", k, text)
		}
	}
}
