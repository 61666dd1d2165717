package engine

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseCommand checks that ParseCommand never panics and that a command
// it accepts has a name without spaces, @ or upper case, and a trimmed argument.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/start", "/START@mobilise_bot peace-abc", " /pledge  x ", "/", "/@bot", "start",
		"/١٢٣", "/ابدأ", "/start\tx", "/a b c", "\u00a0/x", "/Ｓtart"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		name, arg, ok := ParseCommand(text)
		if !ok {
			if name != "" || arg != "" {
				t.Fatalf("ParseCommand(%+q) = %q, %q, false: want empty results", text, name, arg)
			}
			return
		}
		if name == "" || strings.ContainsAny(name, " @") {
			t.Fatalf("ParseCommand(%+q): name %q", text, name)
		}
		if utf8.ValidString(text) && name != strings.ToLower(name) {
			t.Fatalf("ParseCommand(%+q): name %q is not lower case", text, name)
		}
		if arg != strings.TrimSpace(arg) {
			t.Fatalf("ParseCommand(%+q): argument %q is not trimmed", text, arg)
		}
	})
}
