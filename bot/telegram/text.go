package telegram

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxTextLen is Telegram's limit on a message, in characters after entity
// parsing. Telegram counts UTF-16 code units, so an emoji outside the BMP
// counts twice; splitText counts the same way.
const maxTextLen = 4096

// escapeHTML makes plain text safe for parse_mode HTML. Telegram requires
// only <, > and & to be escaped outside tags; quotes are literal in text.
func escapeHTML(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// utf16Len is the length of s as Telegram counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// prefixWithin returns the byte length of the longest prefix of s that is at
// most limit UTF-16 units long and ends on a rune boundary.
func prefixWithin(s string, limit int) int {
	n := 0
	for i, r := range s {
		n += max(utf16.RuneLen(r), 1)
		if n > limit {
			return i
		}
	}
	return len(s)
}

// splitText splits plain text into parts of at most limit characters: at the
// last line break that fits, else at the last space, else hard. Parts that
// would be blank are dropped (Telegram refuses empty messages), so a blank
// text gives no parts.
func splitText(s string, limit int) []string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var parts []string
	add := func(p string) {
		if strings.TrimSpace(p) != "" {
			parts = append(parts, p)
		}
	}
	for utf16Len(s) > limit {
		window := s[:prefixWithin(s, limit)]
		if window == "" {
			// a limit below one character: send the rune alone rather than loop
			_, size := utf8.DecodeRuneInString(s)
			window = s[:size]
		}
		if i := strings.LastIndexByte(window, '\n'); i > 0 {
			add(window[:i])
			s = s[i+1:]
			continue
		}
		if i := strings.LastIndexFunc(window, unicode.IsSpace); i > 0 {
			_, size := utf8.DecodeRuneInString(window[i:])
			add(window[:i])
			s = s[i+size:]
			continue
		}
		add(window)
		s = s[len(window):]
	}
	add(s)
	return parts
}
