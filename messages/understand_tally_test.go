package messages

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// tallyCase is one line of testdata/understand.tsv.
type tallyCase struct {
	line             int
	text, step, want string
}

// tallyLabel is an option of a menu of the input set: its text, and the
// intent it stands for when the engine maps it to one (the stop button).
type tallyLabel struct{ text, value string }

// readTally reads testdata/understand.tsv: "!labels" lines declare menus,
// the others are cases.
func readTally(t *testing.T, path string, sets map[string][]tallyLabel) []tallyCase {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var cases []tallyCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		require.Len(t, fields, 3, "line %d: %q", n, line)
		if fields[0] == "!labels" {
			for _, l := range strings.Split(fields[2], "|") {
				text, value, _ := strings.Cut(l, "=")
				sets[fields[1]] = append(sets[fields[1]], tallyLabel{text, value})
			}
			continue
		}
		cases = append(cases, tallyCase{line: n, text: fields[0], step: fields[1], want: fields[2]})
	}
	require.NoError(t, sc.Err())
	return cases
}

// resolve answers one case as the engine does: the step's own question
// first (a menu's options with Choose, a governorate), then Meaning.At for
// that kind of step, which the engine calls too.
func resolve(cat *Catalog, sets map[string][]tallyLabel, c tallyCase) string {
	kind, set, _ := strings.Cut(c.step, ":")
	m := Understand(c.text)
	at := func(k StepKind) string {
		switch i := m.At(k); i {
		case 0:
			return "none"
		case IntentLanguage:
			return "lang:" + m.Lang
		default:
			return i.String()
		}
	}
	choose := func(labels []tallyLabel) (string, bool) {
		texts := make([]string, len(labels))
		for i, l := range labels {
			texts[i] = l.text
		}
		i, ok := Choose(c.text, texts)
		switch {
		case !ok:
			return "", false
		case labels[i].value != "":
			return labels[i].value, true
		}
		return "choice:" + strconv.Itoa(i+1), true
	}
	switch kind {
	case "yesno":
		if v, ok := choose(sets[kind]); ok {
			return v
		}
		return at(YesNoQuestion)
	case "lang":
		if v, ok := choose(sets[kind]); ok {
			return v
		}
		return at(LanguageQuestion)
	case "menu":
		if v, ok := choose(sets[set]); ok {
			return v
		}
		if strings.HasPrefix(set, "main") {
			return at(MainMenu)
		}
		return at(ListMenu)
	case "multi":
		if v, ok := choose(sets[set]); ok {
			return v
		}
		return at(SeveralChoices)
	case "when":
		return at(TimeQuestion)
	case "gov":
		if g, ok := cat.MatchGovernorate(c.text); ok {
			return "gov:" + g
		}
		if i, ok := numberChoice(m, len(Governorates())); ok {
			return "gov:" + Governorates()[i]
		}
		return at(OptionalText)
	case "optional":
		return at(OptionalText)
	case "text":
		return at(FreeText)
	}
	panic("unknown step " + c.step)
}

// TestTally reads the realistic input set and tallies, by what each input
// means, how many were understood. It fails if any input is misunderstood
// (understood as something else, worse than not understood) or if fewer
// than 95 % are understood. go test -v -run Tally prints the table.
func TestTally(t *testing.T) {
	sets := tallySets()
	cases := readTally(t, "testdata/understand.tsv", sets)
	require.GreaterOrEqual(t, len(cases), 400)
	tally(t, cases, sets, 0.95)
}

// TestTallyPhrasings does the same for the second set, of other phrasings
// of the same answers.
func TestTallyPhrasings(t *testing.T) {
	sets := tallySets()
	readTally(t, "testdata/understand.tsv", sets) // for its menus
	tally(t, readTally(t, "testdata/understand_phrasings.tsv", sets), sets, 0.95)
}

// TestTallyTricky does the same for the third set: mostly inputs a
// keyword matcher would misread.
func TestTallyTricky(t *testing.T) {
	sets := tallySets()
	readTally(t, "testdata/understand.tsv", sets) // for its menus
	tally(t, readTally(t, "testdata/understand_tricky.tsv", sets), sets, 0.95)
}

// TestTallySteps does the same for the fourth set: leaving, stopping, help,
// back and the menu, at every kind of step, and words that only look like
// those commands in a wizard's free text.
func TestTallySteps(t *testing.T) {
	sets := tallySets()
	readTally(t, "testdata/understand.tsv", sets) // for its menus
	tally(t, readTally(t, "testdata/understand_steps.tsv", sets), sets, 0.95)
}

func tallySets() map[string][]tallyLabel {
	return map[string][]tallyLabel{
		"yesno": {{"نعم", "yes"}, {"لا", "no"}},
		"lang":  {{"العربية", "lang:ar"}, {"English", "lang:en"}},
	}
}

func tally(t *testing.T, cases []tallyCase, sets map[string][]tallyLabel, want float64) {
	t.Helper()
	cat, err := New()
	require.NoError(t, err)
	type row struct{ total, right, missed, wrong int }
	rows := map[string]*row{}
	var order []string
	total, right := 0, 0
	for _, c := range cases {
		got := resolve(cat, sets, c)
		kind, _, _ := strings.Cut(c.want, ":")
		r := rows[kind]
		if r == nil {
			r = &row{}
			rows[kind] = r
			order = append(order, kind)
		}
		r.total++
		total++
		switch {
		case got == c.want:
			r.right++
			right++
		case got == "none":
			r.missed++
			t.Logf("line %d: %q at %s: not understood, want %s", c.line, c.text, c.step, c.want)
		default:
			r.wrong++
			t.Errorf("line %d: %q at %s: understood as %s, want %s", c.line, c.text, c.step, got, c.want)
		}
	}
	slices.Sort(order)
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-10s %6s %11s %15s %6s %8s\n", "meaning", "inputs", "understood", "not understood", "wrong", "rate")
	for _, k := range order {
		r := rows[k]
		fmt.Fprintf(&b, "%-10s %6d %11d %15d %6d %7.1f%%\n", k, r.total, r.right, r.missed, r.wrong, 100*float64(r.right)/float64(r.total))
	}
	fmt.Fprintf(&b, "%-10s %6d %11d %15s %6s %7.1f%%\n", "all", total, right, "", "", 100*float64(right)/float64(total))
	t.Log(b.String())
	if rate := float64(right) / float64(total); rate < want {
		t.Errorf("understood %.1f%% of the input set, want at least %.0f%%", 100*rate, 100*want)
	}
}
