package chat_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/bot/coalition"
	"mobilise/bot/console"
	"mobilise/messages"
	"mobilise/store"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata")

// testNow is the fixed time conversations happen at: a Monday morning in Hebron.
var testNow = time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)

// recorder is a channel that keeps what the dispatcher sends it.
type recorder struct {
	name bot.ChannelName
	mu   sync.Mutex
	sent []bot.Outgoing
}

func (r *recorder) Name() bot.ChannelName { return r.name }

func (r *recorder) Send(_ context.Context, msg bot.Outgoing) (string, error) {
	if strings.Contains(msg.Text, "<no value>") || strings.Contains(msg.Text, "  ") && !strings.Contains(msg.Text, "\n  ") {
		// a placeholder the caller did not fill
		panic(fmt.Sprintf("broken text sent to %s: %q", msg.To, msg.Text))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, msg)
	return fmt.Sprint(len(r.sent)), nil
}

// take returns the messages sent to id, and forgets them.
func (r *recorder) take(id string) []bot.Outgoing {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out, rest []bot.Outgoing
	for _, m := range r.sent {
		if m.To.ID == id {
			out = append(out, m)
		} else {
			rest = append(rest, m)
		}
	}
	r.sent = rest
	return out
}

// editor is a recording channel that can edit what it sent.
type editor struct {
	*recorder
	emu   sync.Mutex
	edits []string
}

func (e *editor) Edit(_ context.Context, id string, msg bot.Outgoing) error {
	e.emu.Lock()
	defer e.emu.Unlock()
	e.edits = append(e.edits, id+": "+msg.Text)
	return nil
}

// world is the bot over a real store in a temp dir, talked to through
// recording channels named "test" and "wa", on a clock the test moves.
// Replies and notices (lane 0) are sent by the real dispatcher as soon as
// they are queued; bulk messages (broadcasts, reminders, pledgers' news)
// wait in the outbox, where the test reads them, unless released.
type world struct {
	t     *testing.T
	path  string
	st    *store.Store
	cat   *messages.Catalog
	mu    sync.Mutex
	now   time.Time
	rec   *recorder
	wa    *recorder
	stack *bottest.Stack
	cfg   bottest.Config
	stop  func()
	// releaseBulk lets bulk messages out to the recorders.
	releaseBulk bool
}

func newWorld(t *testing.T, cfg bottest.Config) *world {
	t.Helper()
	cat, err := messages.New()
	require.NoError(t, err)
	w := &world{t: t, path: filepath.Join(t.TempDir(), "mobilise.db"), cat: cat, now: testNow,
		rec: &recorder{name: "test"}, wa: &recorder{name: "wa"}, cfg: cfg}
	w.open()
	w.build()
	return w
}

func (w *world) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *world) setNow(t time.Time) {
	w.mu.Lock()
	w.now = t
	w.mu.Unlock()
}

func (w *world) open() {
	st, err := store.Open(w.path, store.WithBatchDelay(time.Millisecond), store.WithNow(w.clock))
	require.NoError(w.t, err)
	w.st = st
	w.t.Cleanup(func() { _ = w.st.Close() })
}

// build makes the bot anew over the store, as a restarted process does.
func (w *world) build() {
	if w.stop != nil {
		w.stop()
	}
	cfg := w.cfg
	if len(cfg.Admins) == 0 {
		cfg.Admins = []bot.Address{bot.MustParseAddress("test:admin")}
	}
	cfg.Now = w.clock
	cfg.Dispatcher = append(cfg.Dispatcher, holdBulk(w))
	w.stack = bottest.New(w.t, w.st, []bot.Sender{w.rec, w.wa}, cfg)
	w.stop = w.stack.Start(w.t)
}

// restart closes the store and opens it again, as a restarted process would.
func (w *world) restart() {
	w.stop()
	require.NoError(w.t, w.st.Close())
	w.open()
	w.build()
}

func (w *world) co() *coalition.Coalition { return w.stack.Co }

func (w *world) send(in bot.Incoming) {
	w.t.Helper()
	w.stack.Send(w.t, in)
	if in.From.Channel != "test" {
		require.NoError(w.t, w.stack.Disp.Flush(context.Background(), "test"))
	}
}

// say sends text from id and returns everything the bot answered id, joined.
func (w *world) say(id, text string) string {
	w.t.Helper()
	w.send(bot.Incoming{From: bot.Address{Channel: "test", ID: id}, Name: id, Text: text})
	var texts []string
	for _, m := range w.rec.take(id) {
		texts = append(texts, m.Text)
	}
	return strings.Join(texts, "\n---\n")
}

func (w *world) press(id, payload string) []bot.Outgoing {
	w.t.Helper()
	w.send(bot.Incoming{From: bot.Address{Channel: "test", ID: id}, Name: id, Payload: payload})
	return w.rec.take(id)
}

// script sends each line from id and returns the last answer.
func (w *world) script(id string, lines ...string) string {
	var out string
	for _, l := range lines {
		out = w.say(id, l)
	}
	return out
}

// flush waits until what can be sent now has gone out.
func (w *world) flush() {
	require.NoError(w.t, w.stack.Disp.Flush(context.Background(), "test"))
	require.NoError(w.t, w.stack.Disp.Flush(context.Background(), "wa"))
}

// onboard takes id through /start in English with consent.
func (w *world) onboard(id string) *store.Contact {
	w.say(id, "/start")
	w.say(id, "2")
	w.say(id, "yes")
	w.say(id, "skip")
	c, err := w.st.ContactByAddress(context.Background(), bot.Address{Channel: "test", ID: id})
	require.NoError(w.t, err)
	return c
}

func (w *world) role(id string, r store.Role) {
	c, err := w.st.ContactByAddress(context.Background(), bot.Address{Channel: "test", ID: id})
	require.NoError(w.t, err)
	_, err = w.st.UpdateContact(context.Background(), c.ID, func(c *store.Contact) error { c.Role = r; return nil })
	require.NoError(w.t, err)
}

func (w *world) campaign(code string, kind store.CampaignKind, target int) *store.Campaign {
	c := &store.Campaign{Code: code, TitleAR: "حملة " + code, TitleEN: "Campaign " + code, CallAR: "انضموا", CallEN: "Join", Kind: kind, Target: target,
		StartAt: w.clock().Add(-time.Hour), EventAt: w.clock().Add(72 * time.Hour), EventPlace: "Nablus"}
	require.NoError(w.t, w.st.CreateCampaign(context.Background(), c))
	return c
}

// pending returns the messages waiting in the outbox for the "test" channel.
func (w *world) pending(bulk bool) []store.OutboxEntry {
	w.flush()
	entries, err := w.st.PendingOutbox(context.Background(), "test", bulk, 0, 100000)
	require.NoError(w.t, err)
	return entries
}

// clearBulk drops the bulk messages waiting, as if they were sent.
func (w *world) clearBulk() {
	for _, e := range w.pending(true) {
		require.NoError(w.t, w.st.OutboxDone(context.Background(), e.ID))
	}
}

func (w *world) en(key messages.Key) string { return w.cat.Text("en", key, nil) }

func (w *world) audit() []string {
	var actions []string
	require.NoError(w.t, w.st.Audit(context.Background(), func(a *store.AuditEntry) error { actions = append(actions, a.Action); return nil }))
	return actions
}

var linkCode = regexp.MustCompile(`/link \x{2068}?([a-z2-9]{8})`)

// transcript runs script through the console channel over a fresh store
// and returns the transcript.
type transcript struct {
	t    *testing.T
	path string
	st   store.Backend
	now  time.Time
	// media, when set, is where the bot keeps files sent (":file" lines);
	// threshold is the approval threshold (0: none)
	media     *store.MediaFiles
	threshold int
	// options are added to the coalition's (a seeded source of codes)
	options []coalition.Option
}

func newTranscript(t *testing.T) *transcript {
	t.Helper()
	h := &transcript{t: t, path: filepath.Join(t.TempDir(), "mobilise.db"), now: testNow,
		// verification codes drawn from a seeded source: the same in every run
		options: []coalition.Option{coalition.WithRandom(mrand.NewChaCha8([32]byte{'c', 'h', 'a', 't'}))}}
	st, err := store.Open(h.path, store.WithBatchDelay(time.Millisecond), store.WithNow(func() time.Time { return h.now }))
	require.NoError(t, err)
	h.st = st
	t.Cleanup(func() { _ = h.st.Close() })
	return h
}

// run feeds script to the bot as console input and returns the transcript.
// A line ":settle" waits until everything the lines before it set going
// has gone out, a broadcast's final report included, so what is sent in
// the background lands at the same place in every run.
func (h *transcript) run(script string) string {
	h.t.Helper()
	var out bytes.Buffer
	in := &settleReader{chunks: strings.Split(script, settleLine+"\n"), handled: make(chan struct{}, 1024)}
	con := console.New(in, &out, console.WithEcho(true), console.WithClock(func() time.Time { return h.now }))
	stack := bottest.New(h.t, h.st, []bot.Sender{con}, bottest.Config{
		Admins:    []bot.Address{bot.MustParseAddress("console:admin")},
		Now:       func() time.Time { return h.now },
		Media:     h.media,
		Threshold: h.threshold,
		Coalition: h.options,
	})
	stop := stack.Start(h.t)
	in.settle = func() {
		h.settle(stack)
		fmt.Fprintln(&out, settleLine)
	}
	require.NoError(h.t, con.Run(context.Background(), countingHandler{stack.Handler(bot.Console), in.handled}))
	stop()
	return mask(out.String())
}

// settleLine in a transcript waits for the background sends (see run).
const settleLine = ":settle"

// settle waits until the console's outbox is empty and every finished
// broadcast has been reported to its author.
func (h *transcript) settle(stack *bottest.Stack) {
	h.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		require.NoError(h.t, stack.Disp.Flush(ctx, bot.Console))
		busy := false
		for _, bulk := range []bool{false, true} {
			entries, err := h.st.PendingOutbox(ctx, bot.Console, bulk, 0, 1)
			require.NoError(h.t, err)
			busy = busy || len(entries) > 0
		}
		bs, err := h.st.Broadcasts(ctx)
		require.NoError(h.t, err)
		for _, b := range bs {
			sending := b.Status == store.BroadcastQueued || b.Status == store.BroadcastSending
			busy = busy || sending || (b.Status == store.BroadcastDone && !b.Reported)
		}
		if !busy {
			return
		}
		require.True(h.t, time.Now().Before(deadline), "the background sends did not settle")
		time.Sleep(5 * time.Millisecond)
	}
}

// settleReader reads a transcript's input chunk by chunk: before each
// chunk after the first it waits for the bot to have handled every message
// of the chunks before, then for the background sends to settle.
type settleReader struct {
	chunks  []string
	served  int // messages in the chunks read so far
	seen    int // of those, handled
	handled chan struct{}
	settle  func()
	rest    string
}

func (r *settleReader) Read(p []byte) (int, error) {
	for r.rest == "" {
		if len(r.chunks) == 0 {
			return 0, io.EOF
		}
		if r.served > 0 {
			for ; r.seen < r.served; r.seen++ {
				<-r.handled
			}
			r.settle()
		}
		r.rest, r.chunks = r.chunks[0], r.chunks[1:]
		for _, line := range strings.Split(strings.TrimSuffix(r.rest, "\n"), "\n") {
			// the console handles ":as" and comments itself
			if t := strings.TrimSpace(line); !strings.HasPrefix(t, "#") && !strings.HasPrefix(t, ":as ") {
				r.served++
			}
		}
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

// countingHandler signals each message it handled.
type countingHandler struct {
	next    bot.Handler
	handled chan<- struct{}
}

func (c countingHandler) HandleIncoming(ctx context.Context, in bot.Incoming) error {
	err := c.next.HandleIncoming(ctx, in)
	c.handled <- struct{}{}
	return err
}

var refLink = regexp.MustCompile(`(/start [a-z0-9]*)-[a-z0-9]+`)
var refCode = regexp.MustCompile(`(Invitation code|Your share code|رمز الدعوة|رمز المشاركة): \x{2068}?[a-z0-9]+\x{2069}?`)

// mask replaces the random referral codes, so transcripts are stable.
func mask(s string) string {
	s = refLink.ReplaceAllString(s, "$1-REF")
	return refCode.ReplaceAllString(s, "$1: REF")
}

// inputOf extracts the typed lines of a transcript: "> " lines, ":as" lines and comments.
func inputOf(transcript string) string {
	var b strings.Builder
	for _, line := range strings.Split(transcript, "\n") {
		switch {
		case strings.HasPrefix(line, "> "):
			b.WriteString(strings.TrimPrefix(line, "> ") + "\n")
		case strings.HasPrefix(line, ":as "), strings.HasPrefix(line, ":file "), strings.HasPrefix(line, "#"), line == settleLine:
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// check runs the input of testdata/name and compares the whole
// conversation with it; -update rewrites the file with what the bot said.
func (h *transcript) check(name string) string {
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
