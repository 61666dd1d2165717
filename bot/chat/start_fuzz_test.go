package chat

import (
	"strings"
	"testing"

	"mobilise/bot/coalition"
)

// FuzzParseStartPayload checks that deep-link payloads never panic the
// parser, that what it accepts is made of valid codes, and that an accepted
// payload reads back the same from its String form.
func FuzzParseStartPayload(f *testing.F) {
	for _, s := range []string{"", "peace", "peace-abc123", "-abc123", "PEACE-ABC", "peace-", "a-b", "peace-abc-def",
		strings.Repeat("a", 65), "سلام", "peace abc", "pe@ce", "١٢٣٤"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := parseStartPayload(s)
		if !ok {
			return
		}
		if len(strings.TrimSpace(s)) > maxPayload {
			t.Fatalf("parseStartPayload(%+q) accepted %d bytes", s, len(s))
		}
		for _, code := range []string{p.Campaign, p.Ref} {
			if code != "" && !coalition.ValidCode(code) {
				t.Fatalf("parseStartPayload(%+q) = %+v: %q is not a valid code", s, p, code)
			}
		}
		back, ok := parseStartPayload(p.String())
		if !ok || back != p {
			t.Fatalf("parseStartPayload(%+q) = %+v, but its String %q reads back as %+v, %v", s, p, p.String(), back, ok)
		}
	})
}
