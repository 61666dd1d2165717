package whatsapp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
)

// TestE2EMessageDeliveredAgainIsAnsweredOnce has WhatsApp hand the bot the
// same message twice, as it does after a reconnect: the second copy is
// recognised by its ID in the unit of work that would handle it, and gets
// no second answer.
func TestE2EMessageDeliveredAgainIsAnsweredOnce(t *testing.T) {
	e := newWAE2E(t)
	u := waUser{Number: "970599777001", Name: "Huda"}
	evt := e.message(u.jid(), u.jid(), u.Name, "/start")
	first := e.deliver(evt)
	require.Len(t, first, 1)
	assert.Contains(t, first[0].Text, e.tx("ar", messages.StartGreeting))
	assert.Empty(t, e.deliver(evt), "the same message again is not answered again")
}

// TestE2EAfterAKillAnswersAgainBroadcastsNot starts the bot on the outbox a
// process killed in the middle of two sends leaves behind: a broadcast
// message and an answer, both marked started (they may have reached
// WhatsApp). The answer is sent again: a person who wrote is never
// left without one, and at worst gets it twice. The broadcast message is
// not, since a number that repeats bulk messages is the one WhatsApp bans;
// it counts as failed, and the rest of the broadcast goes on.
func TestE2EAfterAKillAnswersAgainBroadcastsNot(t *testing.T) {
	require.True(t, outbox.WhatsAppLimits().AtMostOnce, "the default limits send bulk messages at most once")
	e := newWAE2E(t)
	ctx := context.Background()
	asked, first, second := waUser{Number: "970599777002", Name: "Sami"}, waUser{Number: "970599777003"}, waUser{Number: "970599777004"}
	b := &store.Broadcast{TextAR: "نداء", Audience: store.Audience{Kind: store.AudienceEveryone}}
	require.NoError(t, e.st.CreateBroadcast(ctx, b))
	require.NoError(t, e.st.QueueBroadcast(ctx, b.ID, []store.OutboxEntry{
		{To: first.addr(), ContactID: 1, Text: "نداء", Lang: "ar", Kind: "broadcast"},
		{To: second.addr(), ContactID: 2, Text: "نداء", Lang: "ar", Kind: "broadcast"},
	}))
	bulk, err := e.st.PendingOutbox(ctx, Name, true, 0, 10)
	require.NoError(t, err)
	require.Len(t, bulk, 2)
	answer := []store.OutboxEntry{{To: asked.addr(), Text: "جواب", Lang: "ar", Kind: store.KindReply}}
	require.NoError(t, e.st.Enqueue(ctx, answer...))
	// both marked as being sent, as a process that marked every message did
	require.NoError(t, e.st.OutboxStarted(ctx, bulk[0].ID, answer[0].ID))
	e.stack.Queue.Wake()

	var got []sentMessage
	for range 2 {
		select {
		case m := <-e.f.sends:
			got = append(got, m)
		case <-time.After(waitTimeout):
			t.Fatalf("sent %v, want the answer and the second broadcast message", got)
		}
	}
	e.flush()
	assert.Empty(t, e.sent(), "nothing more")
	assert.ElementsMatch(t, []sentMessage{{To: asked.jid(), Text: "جواب"}, {To: second.jid(), Text: "نداء"}}, got)
	bc, err := e.st.Broadcast(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1}, []int{bc.Sent, bc.Failed})
	assert.Equal(t, "interrupted", bc.LastError)
}
