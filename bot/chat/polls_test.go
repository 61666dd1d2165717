package chat_test

import (
	"bytes"
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/bot/coalition"
	"mobilise/bot/console"
	"mobilise/messages"
	"mobilise/store"
)

// timedTranscript is the transcript harness with a clock the script moves
// and messages the console cannot type. Besides what the console reads,
// its scripts have two kinds of lines the harness handles itself:
//
//	> ⏩ 51h           the clock moves on, and the scheduler's jobs run
//	> ↪ text          the person forwards a message from someone else
//	> ↪bot text       the person forwards a message the bot sent them
//
// In a forwarded text \n stands for a line break. Verification codes come
// from a seeded source, so they are the same at every run and a script can
// type them.
type timedTranscript struct {
	t    *testing.T
	path string
	st   *store.Store
	mu   sync.Mutex
	now  time.Time
	// setup runs once the stack is built, before the script.
	setup func(h *timedTranscript, stack *bottest.Stack)
}

func newTimedTranscript(t *testing.T) *timedTranscript {
	t.Helper()
	h := &timedTranscript{t: t, path: filepath.Join(t.TempDir(), "mobilise.db"), now: testNow}
	st, err := store.Open(h.path, store.WithBatchDelay(time.Millisecond), store.WithNow(h.clock))
	require.NoError(t, err)
	h.st = st
	t.Cleanup(func() { _ = h.st.Close() })
	return h
}

func (h *timedTranscript) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *timedTranscript) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

// directives handles the harness's own lines and hands the rest to the bot.
type directives struct {
	h     *timedTranscript
	stack *bottest.Stack
	next  bot.Handler
}

func (d *directives) HandleIncoming(ctx context.Context, in bot.Incoming) error {
	switch {
	case strings.HasPrefix(in.Text, "⏩ "):
		dur, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(in.Text, "⏩ ")))
		if err != nil {
			return fmt.Errorf("harness: %w", err)
		}
		d.h.advance(dur)
		co := d.stack.Co
		if err := co.Reminders.FireDue(ctx); err != nil {
			return err
		}
		if err := co.Campaigns.RunLifecycle(ctx); err != nil {
			return err
		}
		if err := co.Polls.RunFollowUps(ctx); err != nil {
			return err
		}
		return d.stack.Disp.Flush(ctx, bot.Console)
	case strings.HasPrefix(in.Text, "↪bot "), strings.HasPrefix(in.Text, "↪ "):
		fromBot := strings.HasPrefix(in.Text, "↪bot ")
		text := strings.TrimPrefix(strings.TrimPrefix(in.Text, "↪bot "), "↪ ")
		in.Text = strings.ReplaceAll(text, `\n`, "\n")
		in.Forwarded = &bot.Forward{FromBot: fromBot, Date: d.h.clock()}
	}
	return d.next.HandleIncoming(ctx, in)
}

func (h *timedTranscript) run(script string) string {
	h.t.Helper()
	var out bytes.Buffer
	con := console.New(strings.NewReader(script), &out, console.WithEcho(true), console.WithClock(h.clock))
	stack := bottest.New(h.t, h.st, []bot.Sender{con}, bottest.Config{
		Admins:    []bot.Address{bot.MustParseAddress("console:admin")},
		Now:       h.clock,
		Coalition: []coalition.Option{coalition.WithRandom(mrand.NewChaCha8([32]byte{'p', 'o', 'l', 'l'}))},
	})
	if h.setup != nil {
		h.setup(h, stack)
	}
	stop := stack.Start(h.t)
	require.NoError(h.t, con.Run(context.Background(), &directives{h: h, stack: stack, next: stack.Handler(bot.Console)}))
	stop()
	return mask(out.String())
}

// check is transcript.check for a timed transcript.
func (h *timedTranscript) check(name string) string {
	h.t.Helper()
	path := filepath.Join("testdata", name)
	want, err := os.ReadFile(path)
	require.NoError(h.t, err)
	got := h.run(inputOf(string(want)))
	if *update {
		require.NoError(h.t, os.WriteFile(path, []byte(got), 0o644))
		return got
	}
	if string(want) != got {
		diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(string(want)), B: difflib.SplitLines(got), FromFile: name, ToFile: "got", Context: 2})
		h.t.Fatalf("transcript %s differs; run go test ./bot/chat -update to accept, then read the diff:\n%s", name, diff)
	}
	return got
}

// TestPollTranscript: a coordinator asks everyone a question in Arabic and
// English; people answer by number, by words and by ordinal, and change
// their answer; the results by governorate, language and channel; a
// message to those who answered yes.
func TestPollTranscript(t *testing.T) {
	h := newTimedTranscript(t)
	h.check("poll_en.txt")
	ctx := context.Background()
	polls, err := h.st.Polls(ctx)
	require.NoError(t, err)
	require.Len(t, polls, 1)
	n, err := h.st.PollCounts(ctx, polls[0].ID)
	require.NoError(t, err)
	assert.Equal(t, store.PollCounts{Asked: 4, Options: []int{1, 2, 0}}, n)
	bs, err := h.st.Broadcasts(ctx)
	require.NoError(t, err)
	require.Len(t, bs, 2, "the poll's broadcast and the follow-up")
	assert.Equal(t, store.AudiencePollAnswer, bs[1].Audience.Kind)
	assert.Equal(t, 1, bs[1].Total, "only amal said yes")
}

// TestPollTranscriptArabic: the wizard in Arabic with the options typed one
// per message refused, then on one line; the results in Arabic; a poll
// closed by its author takes no more answers.
func TestPollTranscriptArabic(t *testing.T) {
	h := newTimedTranscript(t)
	h.check("poll_ar.txt")
	polls, err := h.st.Polls(context.Background())
	require.NoError(t, err)
	require.Len(t, polls, 1)
	assert.True(t, polls[0].Closed)
	assert.Empty(t, polls[0].QuestionEN)
	n, err := h.st.PollCounts(context.Background(), polls[0].ID)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 1}, n.Options, "the answer after the close is not counted")
}

// TestFollowThroughTranscript: after the event, the people signed up are
// asked whether they came; their answers appear in /stats.
func TestFollowThroughTranscript(t *testing.T) {
	h := newTimedTranscript(t)
	h.setup = func(h *timedTranscript, _ *bottest.Stack) {
		c := &store.Campaign{Code: "vigil", TitleAR: "وقفة السلام", TitleEN: "The peace vigil", CallAR: "انضموا إلينا", CallEN: "Join us",
			Kind: store.KindEvent, StartAt: h.clock().Add(-time.Hour), EventAt: h.clock().Add(48 * time.Hour), EventPlace: "Ramallah"}
		require.NoError(h.t, h.st.CreateCampaign(context.Background(), c))
	}
	h.check("followup_en.txt")
	c, err := h.st.CampaignByCode(context.Background(), "vigil")
	require.NoError(t, err)
	p, err := h.st.AttendancePoll(context.Background(), c.ID)
	require.NoError(t, err)
	n, err := h.st.PollCounts(context.Background(), p.ID)
	require.NoError(t, err)
	assert.Equal(t, store.PollCounts{Asked: 2, Options: []int{1, 1}}, n)
}

// TestVerifyTranscript: /verify with a genuine code, a wrong code and a
// malformed one; the bot's own copy forwarded; a fake forwarded, and a
// coordinator warning everyone about it.
func TestVerifyTranscript(t *testing.T) {
	h := newTimedTranscript(t)
	got := h.check("verify_en.txt")
	assert.Contains(t, got, "or send /verify ", "the code line tells people how to check")
	bs, err := h.st.Broadcasts(context.Background())
	require.NoError(t, err)
	require.Len(t, bs, 2, "the call and the warning")
	assert.Contains(t, bs[1].TextEN, "We did not send it")
}

// TestPollWizardIsKeptAsADraft: a command typed in the middle of writing a
// poll asks before leaving, and what was written is kept for /continue,
// as in every other long wizard; it is not dropped without a word.
func TestPollWizardIsKeptAsADraft(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.onboard("amal")
	w.role("amal", store.RoleCoordinator)
	w.say("amal", "/poll")
	asked := w.say("amal", "1") // no campaign
	require.Contains(t, asked, w.en(messages.PollAskQuestionAR))
	asked = w.say("amal", "هل ستأتون يوم الجمعة؟")
	require.Contains(t, asked, w.en(messages.PollAskQuestionEN))
	leave := w.say("amal", "/campaigns")
	require.Contains(t, leave, "You are in the middle of writing a poll", "a command asks before leaving the poll")
	w.say("amal", "1") // leave, keep the draft
	back := w.say("amal", "/continue")
	assert.Contains(t, back, "writing a poll", "the draft is resumed")
	assert.Contains(t, back, w.en(messages.PollAskQuestionEN), "at the question it was left at")
}

// TestPollQuestionNeedsArabic: a poll's question in Arabic with no Arabic
// letter is refused with words about the text, not about a name.
func TestPollQuestionNeedsArabic(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.onboard("amal")
	w.role("amal", store.RoleCoordinator)
	w.say("amal", "/poll")
	w.say("amal", "1") // no campaign
	got := w.say("amal", "🗳🗳")
	assert.Contains(t, got, w.en(messages.ErrNeedArabic))
	assert.NotContains(t, got, w.en(messages.RegisterNeedArabic))
	assert.Contains(t, got, w.en(messages.PollAskQuestionAR), "the question is asked again")
}
