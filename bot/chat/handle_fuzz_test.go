package chat_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/store"
)

// FuzzHandleIncoming drives the whole bot with random text and button
// payloads (callback data) from a citizen and an admin, against a real
// store and the real outbox: nothing may panic, every message gets an
// answer, and answers go to the person who wrote. "MENU" in a payload is
// replaced by the ID of the menu the person was shown last, so the fuzzer
// reaches the code that resolves current buttons, not only the one that
// rejects stale ones.
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
		{false, "بطّلت", ""},
		{false, "الغي", ""},
	} {
		f.Add(seed.admin, seed.text, seed.payload)
	}
	st, err := store.Open(filepath.Join(f.TempDir(), "mobilise.db"), store.WithBatchDelay(0))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	rec := &recorder{name: bot.Console}
	admin := bot.Address{Channel: bot.Console, ID: "admin"}
	stack := bottest.New(f, st, []bot.Sender{rec}, bottest.Config{Admins: []bot.Address{admin}})
	stack.Start(f)
	h := stack.Handler(bot.Console)
	f.Fuzz(func(t *testing.T, isAdmin bool, text, payload string) {
		from := bot.Address{Channel: bot.Console, ID: "citizen"}
		if isAdmin {
			from = admin
		}
		ctx := context.Background()
		if c, err := st.ContactByAddress(ctx, from); err == nil {
			if sess, err := st.Session(ctx, c.ID); err == nil && sess.Menu != nil {
				payload = strings.ReplaceAll(payload, "MENU", sess.Menu.ID)
			}
		}
		rec.take(from.ID)
		if err := h.HandleIncoming(ctx, bot.Incoming{From: from, Text: text, Payload: payload, ReceivedAt: time.Now()}); err != nil {
			t.Fatalf("handling text %+q payload %+q: %v", text, payload, err)
		}
		replies := rec.take(from.ID)
		if len(replies) == 0 {
			t.Fatalf("no answer to %s text %+q payload %+q", from, text, payload)
		}
		for _, r := range replies {
			if r.To != from || strings.TrimSpace(r.Text) == "" {
				t.Fatalf("answer %+v to %s text %+q payload %+q", r, from, text, payload)
			}
		}
	})
}
