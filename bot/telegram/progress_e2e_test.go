package telegram

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/store"
)

// TestE2EBroadcastProgressIsEditedInPlace sends a broadcast written in
// the chat to 120 people at 30 messages a second: its author sees one
// progress message, edited in place as the counts move, then the final
// report.
func TestE2EBroadcastProgressIsEditedInPlace(t *testing.T) {
	e := startE2E(t)
	ctx := context.Background()
	coord := tgUser{ID: 5100, Name: "Coord", Lang: "en"}
	e.onboard(coord)
	_, err := e.st.UpdateContact(ctx, e.contact(coord).ID, func(c *store.Contact) error { c.Role = store.RoleCoordinator; return nil })
	require.NoError(t, err)
	const people = 120
	for i := range people {
		c, _, err := e.st.EnsureContact(ctx, bot.Address{Channel: bot.Telegram, ID: strconv.Itoa(7000 + i)}, fmt.Sprint("P", i), "ar")
		require.NoError(t, err)
		_, err = e.st.UpdateContact(ctx, c.ID, func(c *store.Contact) error {
			c.Consent, c.OnboardedAt = true, e2eNow
			return nil
		})
		require.NoError(t, err)
	}
	for _, line := range []string{"/broadcast", "1", "نداء إلى الجميع", "skip", "1"} {
		e.say(coord, line)
	}
	e.say(coord, "1") // send

	// wait for the final report: the broadcast is done and reported
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		bs, err := e.st.Broadcasts(ctx)
		require.NoError(t, err)
		if len(bs) == 1 && bs[0].Reported {
			if depth, err := e.st.OutboxDepth(ctx); err == nil && depth[bot.Telegram] == 0 {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	bs, err := e.st.Broadcasts(ctx)
	require.NoError(t, err)
	require.Len(t, bs, 1)
	require.True(t, bs[0].Reported, "the final report went out")
	reached := 0
	for _, r := range e.f.calls("sendMessage") {
		if id, _ := strconv.Atoi(r.Form["chat_id"]); id >= 7000 && id < 7000+people {
			reached++
		}
	}
	require.Equal(t, people, reached, "everyone got the broadcast")

	// the author's progress: one message, then edits of that message
	var edits []string
	ids := map[string]bool{}
	for _, r := range e.f.calls("editMessageText") {
		if r.Form["chat_id"] == coord.chat() {
			edits = append(edits, r.Form["text"])
			ids[r.Form["message_id"]] = true
		}
	}
	require.NotEmpty(t, edits, "the progress message is edited while the broadcast goes out")
	assert.Len(t, ids, 1, "always the same message")
	for i := 1; i < len(edits); i++ {
		assert.NotEqual(t, edits[i-1], edits[i], "each edit changes something")
	}
	assert.Empty(t, e.f.violations, "every edit was of a message sent, and changed it")
	t.Logf("%d people; the author's message edited %d times; first edit %q", people, len(edits), edits[0])
}
