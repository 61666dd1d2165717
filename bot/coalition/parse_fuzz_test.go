package coalition

import (
	"strings"
	"testing"
)

// FuzzParsePhone checks the phone numbers institutions give: never a panic,
// and an accepted number is 7 to 15 ASCII digits with at most a leading +.
func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"0599 123 456", "+970-599-123456", "(02) 295 1234", "٠٥٩٩١٢٣٤٥٦", "+", "++970599123456",
		"12345", "1234567890123456", "0599.123.456", "phone", "0599123456x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := ParsePhone(s)
		if !ok {
			return
		}
		digits := strings.TrimPrefix(p, "+")
		if len(digits) < 7 || len(digits) > 15 || strings.Trim(digits, "0123456789") != "" {
			t.Fatalf("ParsePhone(%+q) = %q", s, p)
		}
	})
}
