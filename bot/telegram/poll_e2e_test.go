package telegram

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot/coalition"
	"mobilise/messages"
	"mobilise/store"
)

// TestE2EPollAnsweredByButtons: a coordinator's poll goes out as one
// message per person with an inline button per option (callback data the
// fake Bot API checks against the spec), ending with its verification
// code; people answer by pressing, change their mind by pressing again,
// and by typing; the results count one answer each; and forwarding the
// bot's copy back proves it genuine.
func TestE2EPollAnsweredByButtons(t *testing.T) {
	e := startE2E(t)
	ctx := context.Background()
	admin := tgUser{ID: e2eAdminID, Name: "Admin", Lang: "en"}
	huda := tgUser{ID: 5101, Name: "Huda", Lang: "ar"}
	sam := tgUser{ID: 5102, Name: "Sam", Lang: "en"}
	for _, u := range []tgUser{admin, huda, sam} {
		e.onboard(u)
	}
	by, err := e.stack.Co.Members.Actor(ctx, e.contact(admin).ID, admin.address())
	require.NoError(t, err)
	res, err := e.stack.Co.Polls.Submit(ctx, by, coalition.PollDraft{
		QuestionAR: "متى يناسبكم اللقاء؟", QuestionEN: "When suits you for the meeting?",
		Options:  []store.PollOption{{AR: "صباحًا", EN: "Morning"}, {AR: "مساءً", EN: "Evening"}, {AR: "يوم الجمعة", EN: "Friday"}},
		Audience: store.Audience{Kind: store.AudienceGovernorate, Governorate: "ramallah"},
	})
	require.NoError(t, err)
	require.False(t, res.AwaitingApproval)
	require.NoError(t, e.stack.Disp.Flush(ctx, "telegram"))
	sent := e.newReplies()

	hudaCopy := only(t, huda, sent)
	assert.Equal(t, []string{"صباحًا", "مساءً", "يوم الجمعة"}, hudaCopy.labels(), "one inline button per option")
	assert.Contains(t, hudaCopy.Text, "متى يناسبكم اللقاء؟")
	code, ok := coalition.FindCode(hudaCopy.Text)
	require.True(t, ok, "the copy ends with its code: %q", hudaCopy.Text)
	samCopy := only(t, sam, sent)
	assert.Equal(t, []string{"Morning", "Evening", "Friday"}, samCopy.labels())

	// pressing a button answers, and the answer is confirmed with the options again
	thanks := only(t, huda, e.pressLabel(huda, hudaCopy, "مساءً"))
	assert.Contains(t, thanks.Text, e.cat.Text("ar", messages.PollThanks, map[string]any{"Option": "مساءً"}))
	assert.Len(t, thanks.Buttons, 3, "the options again, to change the answer")
	changed := only(t, huda, e.pressLabel(huda, hudaCopy, "يوم الجمعة"))
	assert.Contains(t, changed.Text, "«يوم الجمعة»")
	assert.Contains(t, changed.Text, "«مساءً»", "says what the answer was")
	// typing the number of an option works too
	typed := only(t, sam, e.say(sam, "1"))
	assert.Contains(t, typed.Text, "«Morning»", "%q", typed.Text)

	r, err := e.stack.Co.Polls.Results(ctx, by, res.Poll.ID)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 0, 1}, r.Counts.Options, "one answer per person, the latest")
	assert.Equal(t, store.Tally{"ramallah": {1, 0, 1}}, r.ByGovernorate)
	assert.Equal(t, store.Tally{"telegram": {1, 0, 1}}, r.ByChannel)

	// the results, read in chat by the coordinator
	shown := only(t, admin, e.say(admin, "/poll "+strconv.FormatUint(res.Poll.ID, 10)))
	assert.Contains(t, shown.Text, "1. Morning: 1 (50%)")

	// forwarding the bot's own copy back: Telegram says it came from the bot
	id := e.nextUpdateID()
	raw := mustJSON(t, map[string]any{"update_id": id, "message": map[string]any{
		"message_id": id, "from": huda.json(), "chat": privateChat(huda), "date": e2eNow.Unix(), "text": hudaCopy.Text,
		"forward_origin": map[string]any{"type": "user", "date": e2eNow.Unix(),
			"sender_user": map[string]any{"id": 42, "is_bot": true, "first_name": "Mobilise", "username": testUsername}},
	}})
	verdict := only(t, huda, e.deliver(id, raw))
	assert.Contains(t, verdict.Text, "✅", "genuine: %q", verdict.Text)
	call, err := e.st.Call(ctx, code)
	require.NoError(t, err)
	assert.Equal(t, res.Broadcast.ID, call.RefID)
}
