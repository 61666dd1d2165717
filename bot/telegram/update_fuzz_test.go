package telegram

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"mobilise/bot"
)

// FuzzDecodeUpdate feeds arbitrary bytes to the update decoder and the
// mapping onto bot.Incoming, seeded with every update fixture: neither may
// panic, and what they hand the engine is a well-formed message from a
// Telegram address, with a button's callback data as Payload.
func FuzzDecodeUpdate(f *testing.F) {
	fixtures, err := filepath.Glob("testdata/updates/*.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range fixtures {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"update_id":1}`))
	f.Add([]byte(`{"update_id":-1,"callback_query":{"id":"1","from":{"id":1},"data":"m:ab12cd34:0"}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, u, err := decodeUpdate(raw)
		if err != nil {
			if u != nil {
				t.Fatalf("decodeUpdate(%q) gave an update with error %v", raw, err)
			}
			return
		}
		if u.ID != id {
			t.Fatalf("decodeUpdate(%q): ID %d, update says %d", raw, id, u.ID)
		}
		in, ok := incomingFromUpdate(u, testUsername)
		if !ok {
			return
		}
		if in.From.Channel != channelName {
			t.Fatalf("incoming from %v", in.From)
		}
		if _, err := strconv.ParseInt(in.From.ID, 10, 64); err != nil {
			t.Fatalf("incoming from %v: ID is not a number", in.From)
		}
		if in.ExternalID != strconv.FormatInt(id, 10) {
			t.Fatalf("incoming external ID %q for update %d", in.ExternalID, id)
		}
		if in.Group && in.Chat.Channel != channelName {
			t.Fatalf("group message without a group chat: %+v", in)
		}
		if in.Group && in.Payload == "" && !strings.HasPrefix(in.Text, "/") {
			t.Fatalf("group chatter passed on: %+v", in)
		}
		if in.Kind == bot.KindBlocked && (in.Text != "" || in.Payload != "") {
			t.Fatalf("a block event with content: %+v", in)
		}
	})
}

// FuzzEscapeAndSplit checks the text the channel sends: any text splits into
// parts Telegram accepts (non-blank, at most 4096 characters as Telegram
// counts them), and each part escaped for HTML reads back, in Telegram's
// parser, as the part itself.
func FuzzEscapeAndSplit(f *testing.F) {
	// short texts with small limits split as long texts do at 4096, and keep the fuzzer fast
	f.Add("", 4096)
	f.Add("Peace & <Unity>", 4096)
	f.Add("سلام\nعليكم ورحمة الله", 7)
	f.Add(strings.Repeat("ب ", 40), 9)
	f.Add(strings.Repeat("😀", 30), 5)
	f.Add("a\x00b", 4096)
	f.Add("\xff\xfe", 1)
	f.Add("&amp; &lt;", 3)
	f.Add(strings.Repeat("x", 50)+"\n"+"y", 20)
	f.Add("one two three", 4)
	f.Add("😀😀", 1)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 1 || limit > maxTextLen {
			limit = maxTextLen
		}
		if len(s) > 100*limit {
			// splitting is quadratic in parts per text; the bot's texts make a few parts
			t.Skip()
		}
		parts := splitText(s, limit)
		var total int
		for _, p := range parts {
			if strings.TrimSpace(p) == "" {
				t.Fatalf("splitText(%q, %d): blank part", s, limit)
			}
			if !utf8.ValidString(p) {
				t.Fatalf("splitText(%q, %d): invalid UTF-8 part %q", s, limit, p)
			}
			// a part is over the limit only when one character alone is
			if n := utf16Len(p); n > limit && utf8.RuneCountInString(p) > 1 {
				t.Fatalf("splitText(%q, %d): part of %d characters", s, limit, n)
			}
			total += len(p)
			back, err := parseTelegramHTML(escapeHTML(p))
			if err != nil {
				t.Fatalf("escapeHTML(%q) = %q: Telegram refuses it: %v", p, escapeHTML(p), err)
			}
			if back != p {
				t.Fatalf("escapeHTML(%q) reads back as %q", p, back)
			}
		}
		if strings.TrimSpace(s) != "" && len(parts) == 0 {
			t.Fatalf("splitText(%q, %d) lost the text", s, limit)
		}
		if total > len(strings.ToValidUTF8(s, "\uFFFD")) {
			t.Fatalf("splitText(%q, %d) made text up: %q", s, limit, parts)
		}
	})
}
