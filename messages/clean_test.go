package messages

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCleanName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"سلمى", "سلمى"},
		{"  Omar   Haddad ", "Omar Haddad"},
		{"evil\u202Egnp.exe", "evilgnp.exe"},
		{"zero\u200Bwidth\u200D\u2060\uFEFF", "zerowidth"},
		{"\u2067أحمد\u2069 \u200Fخليل", "أحمد خليل"},
		{"tab\tand\nline", "tab and line"},
		{"bad\xffbyte", "badbyte"},
		{"\u00AD", ""},
		{strings.Repeat("ب", 300), strings.Repeat("ب", 100)},
	} {
		assert.Equal(t, tc.want, CleanName(tc.in), "%q", tc.in)
	}
}

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"تعالوا \u202eإلى\u202c الوقفة":  "تعالوا إلى الوقفة",
		"line one  \r\nline\u200b two\t": "line one\nline two",
		"\u2067كل\u2069 يوم\u200f":       "كل يوم",
		"family 👨\u200d👩\u200d👧":         "family 👨\u200d👩\u200d👧",
		"\ufeffbom\x00x":                 "bom x",
		"bad \xff utf8":                  "bad  utf8",
	} {
		assert.Equal(t, want, CleanText(in), "%q", in)
	}
}
