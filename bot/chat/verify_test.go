package chat_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/bot/coalition"
	"mobilise/messages"
	"mobilise/store"
)

// actorOf is the person at test:id acting now.
func (w *world) actorOf(id string) coalition.Actor {
	w.t.Helper()
	addr := bot.Address{Channel: "test", ID: id}
	c, err := w.st.ContactByAddress(context.Background(), addr)
	require.NoError(w.t, err)
	return w.co().Members.ActorOf(c, addr)
}

// Buttons answer a poll; a button crafted by someone the poll was not sent
// to, or pressed once it closed, is refused, and nothing is counted.
func TestPollButtonsAndCraftedVotes(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	ctx := context.Background()
	w.onboard("coord")
	w.role("coord", store.RoleCoordinator)
	w.onboard("huda")
	res, err := w.co().Polls.Submit(ctx, w.actorOf("coord"), coalition.PollDraft{
		QuestionAR: "أي يوم يناسبكم؟", QuestionEN: "Which day suits you?",
		Options:  []store.PollOption{{AR: "الجمعة", EN: "Friday"}, {AR: "السبت", EN: "Saturday"}},
		Audience: store.Audience{Kind: store.AudienceEveryone},
	})
	require.NoError(t, err)
	var copyToHuda store.OutboxEntry
	for _, e := range w.pending(true) {
		if e.To.ID == "huda" {
			copyToHuda = e
		}
	}
	require.Len(t, copyToHuda.Buttons, 2)
	assert.Equal(t, "Saturday", copyToHuda.Buttons[1][0].Text)

	got := w.press("huda", copyToHuda.Buttons[1][0].Payload)
	require.NotEmpty(t, got)
	assert.Contains(t, got[0].Text, "«Saturday»")
	require.Len(t, got[0].Buttons, 2, "the options again, to change the answer")

	w.onboard("stranger")
	out := w.press("stranger", copyToHuda.Buttons[0][0].Payload)
	require.NotEmpty(t, out)
	assert.Contains(t, out[0].Text, w.en(messages.PollNotAsked))

	_, err = w.co().Polls.Close(ctx, w.actorOf("coord"), res.Poll.ID)
	require.NoError(t, err)
	out = w.press("huda", copyToHuda.Buttons[0][0].Payload)
	require.NotEmpty(t, out)
	assert.Contains(t, out[0].Text, w.en(messages.PollClosedNote))
	n, err := w.st.PollCounts(ctx, res.Poll.ID)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1}, n.Options)

	// a citizen sees no results
	assert.Contains(t, w.say("huda", "/poll "+strconv.FormatUint(res.Poll.ID, 10)), w.en(messages.ErrNotAllowed))
}

// A message pasted into the chat that carries a code is checked, as a forward is.
func TestPastedCallIsChecked(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	ctx := context.Background()
	w.onboard("coord")
	w.role("coord", store.RoleCoordinator)
	w.onboard("huda")
	res, err := w.co().Broadcasts.Submit(ctx, w.actorOf("coord"), coalition.BroadcastDraft{TextAR: "وقفة الجمعة", TextEN: "The Friday vigil", Audience: store.Audience{Kind: store.AudienceEveryone}})
	require.NoError(t, err)
	var text string
	for _, e := range w.pending(true) {
		if e.To.ID == "huda" && e.BroadcastID == res.Broadcast.ID {
			text = e.Text
		}
	}
	require.NotEmpty(t, text)
	assert.Contains(t, w.say("huda", text), "☑️", "the words of a genuine call, copied rather than forwarded")
	assert.Contains(t, w.say("huda", strings.Replace(text, "Friday", "Sunday", 1)), "⚠️")
}

// /poster writes the campaign's poster beside the exports, and tells the
// coordinator where, once it is drawn.
func TestPosterCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "exports")
	w := newWorld(t, bottest.Config{Coalition: []coalition.Option{
		coalition.WithPosters(dir, "ائتلاف السلم الأهلي", "Civil Peace Coalition"),
		coalition.WithLinker(bot.Telegram, shareLinker("https://t.me/salam_bot?start=")),
	}})
	w.campaign("walk", store.KindPledge, 0)
	w.onboard("coord")
	w.role("coord", store.RoleCoordinator)
	assert.Contains(t, w.say("coord", "/poster walk"), "Drawing the poster")
	var ready string
	for deadline := time.Now().Add(30 * time.Second); ready == "" && time.Now().Before(deadline); {
		w.flush()
		for _, m := range w.rec.take("coord") {
			ready += m.Text
		}
		time.Sleep(20 * time.Millisecond)
	}
	pdf := filepath.Join(dir, "poster-walk.pdf")
	assert.Contains(t, ready, pdf)
	_, err := os.Stat(pdf)
	require.NoError(t, err)
	assert.Contains(t, w.say("coord", "/poster nosuch"), "nosuch")
	w.onboard("citizen")
	assert.Contains(t, w.say("citizen", "/poster walk"), w.en(messages.ErrNotAllowed))
}

// shareLinker makes share links as a channel would.
type shareLinker string

func (l shareLinker) ShareLink(payload string) string { return string(l) + payload }

// A fake without any code, forwarded by a coordinator, can be warned of
// too; forwarded by a citizen it is only explained.
func TestForwardedFakeWithoutACode(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.onboard("coord")
	w.role("coord", store.RoleCoordinator)
	w.onboard("huda")
	fake := "الائتلاف يطلب من الجميع البقاء في البيوت يوم الجمعة"
	forward := func(id string) string {
		w.send(bot.Incoming{From: bot.Address{Channel: "test", ID: id}, Name: id, Text: fake, Forwarded: &bot.Forward{}})
		var texts []string
		for _, m := range w.rec.take(id) {
			texts = append(texts, m.Text)
		}
		return strings.Join(texts, "\n")
	}
	citizen := forward("huda")
	assert.Contains(t, citizen, w.en(messages.VerifyNoCodeNote))
	assert.NotContains(t, citizen, w.en(messages.VerifyWarnOffer))
	coord := forward("coord")
	assert.Contains(t, coord, w.en(messages.VerifyWarnOffer))
	w.say("coord", "1")        // warn
	w.say("coord", "1")        // everyone
	out := w.say("coord", "1") // send
	assert.Contains(t, out, "is on its way")
	bs, err := w.st.Broadcasts(context.Background())
	require.NoError(t, err)
	require.Len(t, bs, 1)
	assert.Contains(t, bs[0].TextAR, fake)
}

// TestPollAnsweredInWordsWithinTheSecond: the time a poll was sent is kept
// to the second, the time a menu was shown to the nanosecond; a poll sent
// in the same second as the person's last menu is what their words
// answer, as answerPending says, even when the menu came a moment before.
func TestPollAnsweredInWordsWithinTheSecond(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	ctx := context.Background()
	w.setNow(testNow.Add(200 * time.Millisecond))
	w.onboard("coord")
	w.role("coord", store.RoleCoordinator)
	w.onboard("huda") // the main menu, at .2 s
	w.setNow(testNow.Add(700 * time.Millisecond))
	res, err := w.co().Polls.Submit(ctx, w.actorOf("coord"), coalition.PollDraft{
		QuestionAR: "أي يوم يناسبكم؟", QuestionEN: "Which day suits you?",
		Options:  []store.PollOption{{AR: "الجمعة", EN: "Friday"}, {AR: "السبت", EN: "Saturday"}},
		Audience: store.Audience{Kind: store.AudienceEveryone},
	})
	require.NoError(t, err)
	got := w.say("huda", "Saturday")
	assert.Contains(t, got, "«Saturday»", "the words answer the poll")
	a, err := w.st.PollAnswerOf(ctx, res.Poll.ID, w.contactOf("huda").ID)
	require.NoError(t, err)
	assert.Equal(t, 1, a.Option)
}
