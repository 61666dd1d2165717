package bot

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/robfig/cron/v3"

	"mobilise/messages"
	"mobilise/store"
)

// FuzzParseCommand checks that parseCommand never panics and that a command
// it accepts has a name without spaces, @ or upper case, and a trimmed argument.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/start", "/START@mobilise_bot peace-abc", " /pledge  x ", "/", "/@bot", "start",
		"/١٢٣", "/ابدأ", "/start\tx", "/a b c", "\u00a0/x", "/Ｓtart"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		name, arg, ok := parseCommand(text)
		if !ok {
			if name != "" || arg != "" {
				t.Fatalf("parseCommand(%+q) = %q, %q, false: want empty results", text, name, arg)
			}
			return
		}
		if name == "" || strings.ContainsAny(name, " @") {
			t.Fatalf("parseCommand(%+q): name %q", text, name)
		}
		if utf8.ValidString(text) && name != strings.ToLower(name) {
			t.Fatalf("parseCommand(%+q): name %q is not lower case", text, name)
		}
		if arg != strings.TrimSpace(arg) {
			t.Fatalf("parseCommand(%+q): argument %q is not trimmed", text, arg)
		}
	})
}

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
			if code != "" && !validCode(code) {
				t.Fatalf("parseStartPayload(%+q) = %+v: %q is not a valid code", s, p, code)
			}
		}
		back, ok := parseStartPayload(p.String())
		if !ok || back != p {
			t.Fatalf("parseStartPayload(%+q) = %+v, but its String %q reads back as %+v, %v", s, p, p.String(), back, ok)
		}
	})
}

// FuzzParsePhone checks the phone numbers institutions give: never a panic,
// and an accepted number is 7 to 15 ASCII digits with at most a leading +.
func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"0599 123 456", "+970-599-123456", "(02) 295 1234", "٠٥٩٩١٢٣٤٥٦", "+", "++970599123456",
		"12345", "1234567890123456", "0599.123.456", "phone", "0599123456x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := parsePhone(s)
		if !ok {
			return
		}
		digits := strings.TrimPrefix(p, "+")
		if len(digits) < 7 || len(digits) > 15 || strings.Trim(digits, "0123456789") != "" {
			t.Fatalf("parsePhone(%+q) = %q", s, p)
		}
	})
}

// FuzzParseSchedule checks the reminder schedules coordinators type: the
// parser never panics, and a schedule it accepts is a standard cron spec
// whose next firing is in the future, or a clear error.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"0 10 * * 5", "every friday at 10:00", "كل جمعة الساعة ١٠:٠٠", "daily 18:30", "كل يوم ٦:٣٠",
		"*/5 * * * *", "@daily", "TZ=Asia/Hebron 0 10 * * *", "CRON_TZ=UTC", "61 25 * * *", "0 0 31 2 *", "friday", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	loc, err := time.LoadLocation("Asia/Hebron")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		spec, err := parseSchedule(text)
		if err != nil {
			return
		}
		if _, err := cron.ParseStandard(spec); err != nil {
			t.Fatalf("parseSchedule(%+q) = %q, which cron does not read: %v", text, spec, err)
		}
		next, err := nextFire(spec, now, loc)
		if err == nil && !next.After(now) {
			t.Fatalf("nextFire(%q) = %v: not after %v", spec, next, now)
		}
	})
}

// fuzzSender records what the bot sends.
type fuzzSender struct {
	mu   sync.Mutex
	sent []Outgoing
}

func (r *fuzzSender) Name() string { return "console" }

func (r *fuzzSender) Send(_ context.Context, msg Outgoing) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, msg)
	return fmt.Sprint(len(r.sent)), nil
}

func (r *fuzzSender) take() []Outgoing {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sent
	r.sent = nil
	return out
}

// FuzzHandleIncoming drives the whole engine with random text and button
// payloads (callback data) from a citizen and an admin, against a real
// store: nothing may panic, and every message gets a reply. "MENU" in a
// payload is replaced by the ID of the menu the person was shown last, so
// the fuzzer reaches the code that resolves current buttons, not only the
// one that rejects stale ones.
func FuzzHandleIncoming(f *testing.F) {
	for _, seed := range []struct {
		admin         bool
		text, payload string
	}{
		{false, "/start", ""},
		{false, "", "m:MENU:0"},
		{false, "", "m:MENU:1"},
		{false, "", "m:MENU:99"},
		{false, "", "m:MENU:-1"},
		{false, "", "m:stale:0"},
		{false, "", "m::"},
		{false, "", "x"},
		{false, "٣", ""},
		{false, "نعم", ""},
		{true, "/register", ""},
		{true, "/newcampaign", ""},
		{true, "", "m:MENU:2"},
		{true, "/start peace-abc", ""},
		{false, "/stop", ""},
		{false, "/unknown", ""},
		{true, "/remind", ""},
	} {
		f.Add(seed.admin, seed.text, seed.payload)
	}
	st, err := store.Open(filepath.Join(f.TempDir(), "mobilise.db"), store.WithBatchDelay(0))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	cat, err := messages.New()
	if err != nil {
		f.Fatal(err)
	}
	snd := &fuzzSender{}
	svc := New(st, cat, WithSender(snd), WithAdmins("console:admin"), WithFloodLimit(0, time.Second))
	f.Fuzz(func(t *testing.T, admin bool, text, payload string) {
		from := Address{Channel: "console", ID: "citizen"}
		if admin {
			from.ID = "admin"
		}
		if c, err := st.ContactByAddress(from.String()); err == nil {
			if sess, err := st.Session(c.ID); err == nil && sess.Menu != nil {
				payload = strings.ReplaceAll(payload, "MENU", sess.Menu.ID)
			}
		}
		snd.take()
		svc.HandleIncoming(context.Background(), Incoming{From: from, Text: text, Payload: payload, ReceivedAt: time.Now()})
		replies := snd.take()
		if len(replies) == 0 {
			t.Fatalf("no reply to %s text %+q payload %+q", from, text, payload)
		}
		for _, r := range replies {
			if r.To != from || strings.TrimSpace(r.Text) == "" {
				t.Fatalf("reply %+v to %s text %+q payload %+q", r, from, text, payload)
			}
		}
	})
}
