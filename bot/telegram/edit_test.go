package telegram

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
)

func TestEditReplacesTheTextOfASentMessage(t *testing.T) {
	f := newFake(t)
	c := newTestChannel(t, f)
	to := bot.Address{Channel: "telegram", ID: "12345"}
	id, err := c.Send(context.Background(), bot.Outgoing{To: to, Text: "📤 sent 1, left 9"})
	require.NoError(t, err)

	var ed bot.Editor = c.Channel
	require.NoError(t, ed.Edit(context.Background(), id, bot.Outgoing{To: to, Text: "📤 sent 5 <of> 10 & left 5"}))
	calls := f.calls("editMessageText")
	require.Len(t, calls, 1)
	assert.Equal(t, "12345", calls[0].Form["chat_id"])
	assert.Equal(t, id, calls[0].Form["message_id"])
	assert.Equal(t, "📤 sent 5 &lt;of&gt; 10 &amp; left 5", calls[0].Form["text"])
	assert.Equal(t, "HTML", calls[0].Form["parse_mode"])

	f.reply("editMessageText", `{"ok":false,"error_code":400,"description":"Bad Request: message is not modified: specified new message content and reply markup are exactly the same"}`)
	assert.NoError(t, ed.Edit(context.Background(), id, bot.Outgoing{To: to, Text: "📤 sent 5 <of> 10 & left 5"}), "an edit that changes nothing is fine")

	assert.Error(t, ed.Edit(context.Background(), "not-a-number", bot.Outgoing{To: to, Text: "x"}))
	assert.Error(t, ed.Edit(context.Background(), id, bot.Outgoing{To: bot.Address{Channel: "whatsapp", ID: "1"}, Text: "x"}))
}
