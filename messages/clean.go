package messages

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxName bounds a display name the platform reports.
const maxName = 100

// CleanName makes a name that others will read safe to show: invalid UTF-8
// dropped, every invisible format character removed (bidi marks, embeddings,
// overrides and isolates, zero-width spaces and joiners: U+202E would
// otherwise turn a name around and the text after it), control characters
// and runs of spaces made single spaces, and the length bounded. It is
// applied where names come in (a platform's profile name, an institution's
// name), not where they are shown.
func CleanName(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.Cf, r):
			return -1
		case unicode.IsControl(r), unicode.IsSpace(r):
			return ' '
		}
		return r
	}, s)
	s = norm.NFC.String(strings.Join(strings.Fields(s), " "))
	if utf8.RuneCountInString(s) > maxName {
		s = string([]rune(s)[:maxName])
	}
	return s
}

// CleanText makes free text that others will read (a campaign's title and
// call, a broadcast, an event's place) safe to show, keeping its lines:
// invalid UTF-8 dropped, the characters that reorder or hide text removed
// (bidi embeddings, overrides, isolates and marks, zero-width spaces, the
// byte-order mark), other control characters but line breaks and tabs made
// spaces, and trailing spaces trimmed from each line. Zero-width joiners
// stay: emoji sequences and Arabic shaping need them.
func CleanText(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\u200c' || r == '\u200d':
			return r
		case unicode.Is(unicode.Cf, r):
			return -1
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	return norm.NFC.String(strings.TrimSpace(strings.Join(lines, "\n")))
}
