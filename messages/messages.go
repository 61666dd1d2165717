// Package messages holds everything the bot says and understands in words:
// the Arabic and English catalogs, number formatting, bidirectional-text
// isolation, and the normalisation of what people type.
//
// To read what a person typed, use Understand: what the message says
// (yes, no, stop, cancel, help, skip, done, now, back, menu, a greeting, a
// language, a number), telling a clean answer (Meaning.Is) from a mere
// mention (Meaning.Mentions), with Meaning.First choosing the reading the
// current step asks for. Use Choose for the option of a menu a message
// selects, (*Catalog).MatchGovernorate and MatchField for a place or field
// of work, and NearestGovernorate for a shared location. Meaning.At reads a
// message at the kind of step it answers (StepKind), as the engine does for
// every step. IsYes, IsNo, IsSkip, IsDone, IsNow, IsCancelWord, IsStopWord,
// ParseLanguage and MatchOption are the older helpers, built on Understand;
// none counts «إلغاء» as a stop.
//
// Catalogs are go-i18n JSON files embedded from locales/, one or more per
// language: locales/ar.json and locales/en.json, and for a flow with many
// messages of its own locales/<area>.ar.json and locales/<area>.en.json.
// Keys are flat and dotted (see keys*.go), each either a string or a plural
// object, and defined in exactly one file per language. Arabic plurals
// carry all six CLDR forms (zero, one, two, few, many, other); English ones
// carry one and other. Templates use {{.Name}} placeholders; Catalog.Count
// fills {{.Count}} with the number formatted for the language.
//
// Arabic is the default language: an empty or unknown language means Arabic,
// and a key missing in the requested language falls back to English, then to
// the key itself, so a reply is never empty.
//
// To add a message, declare a Key constant in keys.go (or keys_<area>.go)
// and add the key, flat (not nested), to the Arabic and the English file of
// its area. The tests find the new constant by parsing keys*.go and fail
// until both languages have it with the same placeholders and, for a plural,
// every form the language needs.
package messages

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed locales/*.json
var locales embed.FS

// The supported languages, as NormalizeLang returns them.
const (
	Arabic  = "ar"
	English = "en"
)

// Catalog looks up localised messages. It is read-only once built, so one
// Catalog is safe for concurrent use by any number of goroutines.
type Catalog struct {
	bundle     *i18n.Bundle
	localizers map[string]*i18n.Localizer
	// defined records which keys each language's file defines, since the
	// bundle itself silently falls back to the default language.
	defined map[string]map[Key]bool
	log     *slog.Logger
	// govNames and fieldNames find the governorate or field key a typed name stands for.
	govNames, fieldNames names
}

// New loads the embedded Arabic and English catalogs. It logs fallbacks
// (a key missing in a language, a template that fails) to slog.Default;
// use WithLogger to log elsewhere.
func New() (*Catalog, error) {
	c, err := load(locales)
	if err != nil {
		return nil, err
	}
	if c.govNames, err = c.nameIndex(Governorates(), GovernorateKey, governorateAliases()); err != nil {
		return nil, fmt.Errorf("indexing governorate names: %w", err)
	}
	if c.fieldNames, err = c.nameIndex(Fields(), FieldKey, fieldAliases()); err != nil {
		return nil, fmt.Errorf("indexing field names: %w", err)
	}
	return c, nil
}

// load reads the catalogs locales/*.json from fsys.
func load(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{
		bundle:     i18n.NewBundle(language.Arabic),
		localizers: map[string]*i18n.Localizer{},
		defined:    map[string]map[Key]bool{},
		log:        slog.Default().With("comp", "messages"),
	}
	paths, err := fs.Glob(fsys, "locales/*.json")
	if err != nil {
		return nil, fmt.Errorf("listing catalogs: %w", err)
	}
	for _, p := range paths {
		mf, err := c.bundle.LoadMessageFileFS(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("loading catalog %s: %w", p, err)
		}
		lang := mf.Tag.String()
		if lang != Arabic && lang != English {
			return nil, fmt.Errorf("loading catalog %s: unsupported language %q", p, lang)
		}
		ids := c.defined[lang]
		if ids == nil {
			ids = map[Key]bool{}
			c.defined[lang] = ids
		}
		for _, m := range mf.Messages {
			if ids[Key(m.ID)] {
				return nil, fmt.Errorf("loading catalog %s: key %q is defined in two %s files", p, m.ID, lang)
			}
			ids[Key(m.ID)] = true
		}
		c.localizers[lang] = i18n.NewLocalizer(c.bundle, lang)
	}
	for _, lang := range Langs() {
		if c.localizers[lang] == nil {
			return nil, fmt.Errorf("catalog for %q missing from locales", lang)
		}
	}
	return c, nil
}

// WithLogger returns a copy of c that logs fallbacks to l; nil discards them.
func (c *Catalog) WithLogger(l *slog.Logger) *Catalog {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	cp := *c
	cp.log = l
	return &cp
}

// Langs returns the supported languages, default first: {"ar", "en"}.
func Langs() []string { return []string{Arabic, English} }

// NormalizeLang maps a language tag or code to a supported language:
// "ar", "ar-PS", "AR" → "ar"; "en", "en-US", "en_GB" → "en". Anything else,
// including "", is Arabic, the bot's default.
func NormalizeLang(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	base, _, _ := strings.Cut(strings.ReplaceAll(s, "_", "-"), "-")
	switch base {
	case "en", "eng":
		return English
	default:
		return Arabic
	}
}

// Has reports whether the catalog of lang itself (after NormalizeLang)
// defines key, without any fallback.
func (c *Catalog) Has(lang string, key Key) bool {
	return c.defined[NormalizeLang(lang)][key]
}

// Text returns the message key in lang, filled in from data. A key missing
// in lang falls back to English, then to the key itself; it never panics
// and never returns "". A plural message gives its "other" form: use Count.
func (c *Catalog) Text(lang string, key Key, data map[string]any) string {
	return c.localize(NormalizeLang(lang), key, data, nil)
}

// Count returns the plural message key in lang for n, choosing the CLDR
// form (Arabic: zero, one, two, few, many, other). data["Count"] is set to
// n formatted for the language the message comes from (see FormatNumber);
// data itself is not modified. Fallbacks are those of Text.
func (c *Catalog) Count(lang string, key Key, n int, data map[string]any) string {
	return c.localize(NormalizeLang(lang), key, data, &n)
}

// localize tries lang, then English, then returns the key.
func (c *Catalog) localize(lang string, key Key, data map[string]any, n *int) string {
	tries := []string{lang}
	if lang != English {
		tries = append(tries, English)
	}
	for _, l := range tries {
		if !c.defined[l][key] {
			continue
		}
		if l != lang {
			c.log.Warn("message missing, using fallback", "key", string(key), "lang", lang, "fallback", l)
		}
		if s := c.execute(l, key, data, n); s != "" {
			return s
		}
	}
	c.log.Warn("message missing in every language", "key", string(key), "lang", lang)
	return string(key)
}

// execute renders key in l, or returns "" when it cannot.
func (c *Catalog) execute(l string, key Key, data map[string]any, n *int) string {
	cfg := &i18n.LocalizeConfig{MessageID: string(key)}
	if n != nil {
		d := make(map[string]any, len(data)+1)
		maps.Copy(d, data)
		d["Count"] = FormatNumber(l, *n)
		cfg.TemplateData = d
		cfg.PluralCount = *n
	} else if data != nil {
		cfg.TemplateData = data
	}
	s, err := c.localizers[l].Localize(cfg)
	if err != nil {
		// go-i18n may still return a usable text, e.g. the "other" form when
		// the chosen plural form is missing.
		c.log.Warn("rendering message", "key", string(key), "lang", l, "error", err)
	}
	return s
}

// FormatNumber formats n for lang with grouping: Arabic uses Arabic-Indic
// digits and the Arabic thousands separator ("١٬٠٠٠"), English "1,000".
// ParseNumber reads both back.
func FormatNumber(lang string, n int) string {
	tag := language.Arabic
	if NormalizeLang(lang) == English {
		tag = language.English
	}
	return message.NewPrinter(tag).Sprintf("%d", n)
}

// The Unicode bidirectional isolate characters.
const (
	lri = '\u2066' // left-to-right isolate
	rli = '\u2067' // right-to-left isolate
	fsi = '\u2068' // first strong isolate
	pdi = '\u2069' // pop directional isolate
)

// Isolate wraps s in FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE, so a
// Latin name, number, code or link inside an Arabic sentence (or Arabic
// inside English) keeps its own direction and does not reorder the words
// around it. Stray isolate characters in s are balanced first (an unmatched
// PDI dropped, an unclosed isolate closed), so text people typed cannot
// escape the isolate. An empty string, or one that is already a single
// balanced isolate, is returned unchanged: Isolate(Isolate(s)) == Isolate(s).
func Isolate(s string) string {
	if s == "" {
		return s
	}
	s = balanceIsolates(s)
	if isIsolated(s) {
		return s
	}
	return string(fsi) + s + string(pdi)
}

// balanceIsolates drops each PDI that closes nothing and closes each isolate left open.
func balanceIsolates(s string) string {
	if !strings.ContainsAny(s, string([]rune{lri, rli, fsi, pdi})) {
		return s
	}
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch r {
		case lri, rli, fsi:
			depth++
		case pdi:
			if depth == 0 {
				continue
			}
			depth--
		}
		b.WriteRune(r)
	}
	for ; depth > 0; depth-- {
		b.WriteRune(pdi)
	}
	return b.String()
}

// isIsolated reports whether s, balanced, opens with an isolate whose
// matching PDI is its last character.
func isIsolated(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	if first != fsi && first != lri && first != rli {
		return false
	}
	depth := 0
	for i, r := range s {
		switch r {
		case fsi, lri, rli:
			depth++
		case pdi:
			depth--
			if depth == 0 {
				return i == len(s)-utf8.RuneLen(pdi)
			}
		}
	}
	return false
}

// FormatID writes an ID or a menu number in lang's digits, without
// grouping: «١٢» in Arabic, "12" in English. People may type either back;
// ParseNumber reads both.
func FormatID(lang string, id uint64) string {
	s := strconv.FormatUint(id, 10)
	if NormalizeLang(lang) != Arabic {
		return s
	}
	return strings.Map(func(r rune) rune { return '٠' + r - '0' }, s)
}
