package telegram

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
)

// The tests below hold the whole bot, at Telegram's default limits, to
// the fake Bot API's full rates (fakeRates): the real engine over a bbolt
// file, the outbox and its one pacer, and this channel polling and sending
// over real HTTP.

// rig is the bot wired as cmd/mobilise wires it, at outbox.TelegramLimits,
// against a fake enforcing Telegram's rates.
type rig struct {
	*e2e
	pacer *outbox.Pacer
	// throttle is the pacer as the channel sees it, counting the calls
	// that wait out a 429
	throttle *countingThrottle
}

// newRig builds the rig on a new store; run starts it.
func newRig(t testing.TB) *rig {
	t.Helper()
	e := newE2E(t)
	e.limits = outbox.TelegramLimits()
	e.f.rate.rates = telegramRates()
	r := &rig{e2e: e}
	r.build()
	return r
}

// build makes a new channel, pacer and bot on the rig's store, as a
// process starting on it does.
func (r *rig) build() {
	e := r.e2e
	r.pacer = outbox.NewPacer(e.st, bot.Telegram, e.limits)
	r.throttle = &countingThrottle{Throttle: r.pacer, pacer: r.pacer}
	tg := newTestChannel(e.t, e.f, WithState(e.st), WithThrottle(r.throttle), WithMaxThrottleWait(0))
	// real time: the pacing under test is real
	tg.now, tg.sleep = time.Now, sleepCtx
	if e.stopStack != nil {
		e.stopStack()
	}
	e.stack = newStack(e.t, e, tg, r.pacer)
	e.tg = tg
}

// newStack is the bot over e's store sending through tg, paced by pacer.
func newStack(t testing.TB, e *e2e, tg *testChannel, pacer *outbox.Pacer) *bottest.Stack {
	return bottest.New(t, e.st, []bot.Sender{tg.Channel}, bottest.Config{
		Admins:     []bot.Address{bot.MustParseAddress(fmt.Sprintf("telegram:%d", e2eAdminID))},
		Now:        func() time.Time { return e2eNow },
		Plan:       outbox.Plan{bot.Telegram: e.limits},
		Dispatcher: []outbox.Option{outbox.WithClock(time.Now), outbox.WithPacer(bot.Telegram, pacer)},
	})
}

// run starts the outbox and the channel; the handler is the bot itself, so
// the workers are not held up by waiting for answers to go out.
func (r *rig) run() {
	e := r.e2e
	e.stopStack = e.stack.Start(e.t)
	e.stop = running(e.t, e.tg.Channel, withDirectory{e.stack.Bot, e.stack.Bot})
}

// halt stops the channel and the outbox, as a clean stop of the process does.
func (r *rig) halt() {
	e := r.e2e
	require.NoError(e.t, e.stop())
	e.stopStack()
	e.stopStack = nil
}

// countingThrottle is the account's pacer as the channel uses it, counting
// the calls that find a 429's wait in force and how many wait at once.
type countingThrottle struct {
	bot.Throttle
	pacer   *outbox.Pacer
	waiting atomic.Int32
	most    atomic.Int32
	held    atomic.Int32
}

// TakeChat paces a part of a long text, as the pacer does.
func (c *countingThrottle) TakeChat(ctx context.Context, to bot.Address) error {
	return c.pacer.TakeChat(ctx, to)
}

func (c *countingThrottle) Wait(ctx context.Context) error {
	if !time.Now().Before(c.pacer.PausedUntil()) {
		return c.Throttle.Wait(ctx)
	}
	c.held.Add(1)
	n := c.waiting.Add(1)
	defer c.waiting.Add(-1)
	for {
		most := c.most.Load()
		if n <= most || c.most.CompareAndSwap(most, n) {
			break
		}
	}
	return c.Throttle.Wait(ctx)
}

// startUpdate is a new person's first message, /start.
func startUpdate(t testing.TB, id int64, u tgUser) string {
	return mustJSON(t, map[string]any{"update_id": id, "message": map[string]any{
		"message_id": id, "from": u.json(), "chat": privateChat(u), "date": time.Now().Unix(), "text": "/start",
	}})
}

// pressUpdate is u pressing a button with data under an old message.
func pressUpdate(t *testing.T, id int64, u tgUser, data string) string {
	return mustJSON(t, map[string]any{"update_id": id, "callback_query": map[string]any{
		"id": fmt.Sprintf("cb%d", id), "from": u.json(), "chat_instance": "ci" + u.chat(), "data": data,
		"message": map[string]any{
			"message_id": 1, "date": time.Now().Unix(), "chat": privateChat(u), "text": "menu",
			"from": map[string]any{"id": 42, "is_bot": true, "first_name": "Mobilise", "username": testUsername},
		},
	}})
}

// queueBroadcast queues a broadcast by a coordinator to n people, chats
// first … first+n-1, and returns it with its recipients' chats.
func queueBroadcast(t testing.TB, st *store.Store, n int, first int64) (*store.Broadcast, map[string]bool) {
	t.Helper()
	ctx := context.Background()
	coord, _, err := st.EnsureContact(ctx, bot.MustParseAddress(fmt.Sprintf("telegram:%d", e2eAdminID)), "Coordinator", "en")
	require.NoError(t, err)
	_, err = st.UpdateContact(ctx, coord.ID, func(c *store.Contact) error {
		c.Role, c.Consent = store.RoleCoordinator, true
		return nil
	})
	require.NoError(t, err)
	b := &store.Broadcast{TextAR: "نداء المصالحة: انضموا إلينا يوم الجمعة", Audience: store.Audience{Kind: store.AudienceEveryone},
		CreatedBy: coord.ID, ApprovedBy: coord.ID}
	require.NoError(t, st.CreateBroadcast(ctx, b))
	chats := make(map[string]bool, n)
	entries := make([]store.OutboxEntry, n)
	for i := range entries {
		chat := strconv.FormatInt(first+int64(i), 10)
		chats[chat] = true
		entries[i] = store.OutboxEntry{To: bot.MustParseAddress("telegram:" + chat), ContactID: uint64(1_000_000 + i), Text: b.TextAR, Lang: "ar", Kind: "broadcast"}
	}
	require.NoError(t, st.QueueBroadcast(ctx, b.ID, entries))
	return b, chats
}

// latencies are the times from an update being handed to the bot to the
// first message the bot sent to its chat.
func latencies(t testing.TB, f *fakeTelegram, chatOf map[int64]string) []time.Duration {
	t.Helper()
	r := f.rateReport()
	first := map[string]time.Time{}
	for _, m := range r.messages {
		if _, ok := first[m.Chat]; !ok && m.Method == "sendMessage" {
			first[m.Chat] = m.At
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	for id, chat := range chatOf {
		served, ok := f.servedAt[id]
		sent, answered := first[chat]
		if ok && answered {
			out = append(out, sent.Sub(served))
		}
	}
	slices.Sort(out)
	return out
}

// quantile is the q-quantile of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// TestSurgeAnsweredOnceAtTelegramsPace has 200 new people write within five
// seconds, 40 a second, above the 29 a second the bot may send, while a
// broadcast is going out. Each person is answered exactly once, nothing is
// sent inside a retry_after, the fake's rates are never passed, and the
// broadcast, which the replies overtake, finishes after them.
func TestSurgeAnsweredOnceAtTelegramsPace(t *testing.T) {
	const people, recipients, perTick = 200, 150, 8
	r := newRig(t)
	e := r.e2e
	b, bulk := queueBroadcast(t, e.st, recipients, 8_000_000)
	r.run()
	// the broadcast is under way before anyone writes
	e.f.waitRates(t, 10*time.Second, "the broadcast to start", func(rr rateReport) bool { return len(rr.messages) >= 10 })

	chatOf := map[int64]string{}
	greeting := e.text("ar", messages.StartGreeting)
	start := time.Now()
	tick := time.NewTicker(200 * time.Millisecond)
	for i := 0; i < people; i += perTick {
		var batch []string
		for j := i; j < i+perTick; j++ {
			u := tgUser{ID: int64(7_000_000 + j), Name: fmt.Sprint("P", j), Lang: "ar"}
			id := e.nextUpdateID()
			chatOf[id] = u.chat()
			batch = append(batch, startUpdate(t, id, u))
		}
		e.f.push(batch...)
		<-tick.C
	}
	tick.Stop()
	wrote := time.Since(start)

	done := doneReport(e.cat, b.ID, recipients)
	rr := e.f.waitRates(t, time.Minute, "every answer and the whole broadcast", func(rr rateReport) bool {
		answered, reached, reported := 0, 0, false
		seen := map[string]bool{}
		for _, m := range rr.messages {
			switch {
			case bulk[m.Chat]:
				reached++
			case m.Chat == strconv.Itoa(e2eAdminID):
				reported = reported || m.Text == done
			case !seen[m.Chat]:
				seen[m.Chat] = true
				answered++
			}
		}
		return answered == people && reached == recipients && reported
	})
	r.halt()

	perChat := map[string][]fakeMessage{}
	var lastReply, lastBulk time.Time
	for _, m := range rr.messages {
		perChat[m.Chat] = append(perChat[m.Chat], m)
		switch {
		case bulk[m.Chat]:
			lastBulk = m.At
		case m.Chat != strconv.Itoa(e2eAdminID):
			lastReply = m.At
		}
	}
	for _, chat := range chatOf {
		got := perChat[chat]
		if assert.Len(t, got, 1, "chat %s answered exactly once", chat) {
			assert.Contains(t, got[0].Text, greeting)
		}
	}
	for chat := range bulk {
		assert.Len(t, perChat[chat], 1, "broadcast recipient %s", chat)
	}
	assert.Empty(t, rr.inWindow, "requests inside a retry_after")
	assert.Zero(t, rr.sendsInWindow, "sends inside a retry_after")
	assert.LessOrEqual(t, rr.maxPerSecond, 30)
	assert.True(t, lastBulk.After(lastReply), "the broadcast finishes after the replies")
	bc, err := e.st.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, store.BroadcastDone, bc.Status)
	assert.Equal(t, recipients, bc.Sent)

	lat := latencies(t, e.f, chatOf)
	require.Len(t, lat, people)
	t.Logf("surge: %d people wrote in %v (%.0f/s) during a broadcast to %d; each answered once; "+
		"%d messages in all, at most %d in one second; %d 429s, %d requests in flight at a 429, %d inside a retry_after "+
		"(%d sends); answers p50 %v p99 %v max %v after the update; broadcast done %v after the last answer",
		people, wrote.Round(ms), float64(people)/wrote.Seconds(), recipients, len(rr.messages), rr.maxPerSecond,
		rr.tooMany, rr.inFlight, len(rr.inWindow), rr.sendsInWindow, quantile(lat, .5).Round(ms), quantile(lat, .99).Round(ms),
		lat[len(lat)-1].Round(ms), lastBulk.Sub(lastReply).Round(ms))
}

const ms = time.Millisecond

// doneReport is the coordinator's final report of a broadcast that reached everyone.
func doneReport(cat *messages.Catalog, id uint64, sent int) string {
	return cat.Text("en", messages.BroadcastDone, map[string]any{
		"ID": messages.FormatID("en", id), "Sent": messages.FormatNumber("en", sent),
		"Failed": messages.FormatNumber("en", 0), "Blocked": messages.FormatNumber("en", 0),
	})
}

// waitQuiet waits until the bot is parked in a long poll with nothing to
// send: a 429 then catches no request of its on the way.
func (r *rig) waitQuiet() {
	e := r.e2e
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.f.mu.Lock()
		polling := e.f.polling
		e.f.mu.Unlock()
		depth, err := e.st.OutboxDepth(context.Background())
		require.NoError(e.t, err)
		if polling > 0 && depth[bot.Telegram] == 0 {
			return
		}
		require.True(e.t, time.Now().Before(deadline), "the bot never went quiet")
		time.Sleep(5 * time.Millisecond)
	}
}

// throttleNotice makes Telegram answer the next message 429 with
// retry_after d and queues a notice for it, at a moment when nothing else
// is on the way; it returns the window the 429 opened.
func (r *rig) throttleNotice(d time.Duration) fakeWindow {
	e := r.e2e
	e.t.Helper()
	r.waitQuiet()
	before := len(e.f.rateReport().windows)
	e.f.throttle("sendMessage", d)
	require.NoError(e.t, e.stack.Queue.Reply(context.Background(), bot.Outgoing{To: bot.MustParseAddress("telegram:4040"), Text: "notice"}))
	rr := e.f.waitRates(e.t, 10*time.Second, "the 429", func(rr rateReport) bool { return len(rr.windows) > before })
	// and until the bot has read it: what the test does next comes after
	deadline := time.Now().Add(5 * time.Second)
	for !r.pacer.PausedUntil().After(time.Now()) {
		require.True(e.t, time.Now().Before(deadline), "the bot never heard of the 429")
		time.Sleep(time.Millisecond)
	}
	return rr.windows[before]
}

// TestA429HoldsEveryCallOnTheToken has Telegram answer 429 with retry_after
// 3 while the bot is idle, and people write during the wait. First 40
// people write and press buttons: the four workers all wait at once (each
// answers a button press first) and the dispatcher waits. Then 20 people
// write: their messages are handled during the wait, the poller's next
// getUpdates waits. Either way no request of any kind reaches the Bot API
// until retry_after has passed, and then everyone is answered.
func TestA429HoldsEveryCallOnTheToken(t *testing.T) {
	r := newRig(t)
	e := r.e2e
	r.run()
	cases := []struct {
		label   string
		people  int
		presses bool
		// waiting is how many calls wait out the 429 at once
		waiting int32
	}{
		{label: "four workers busy", people: 40, presses: true, waiting: 4},
		{label: "poller", people: 20, waiting: 1},
	}
	next := int64(7_100_000)
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			r.throttle.most.Store(0)
			r.throttle.held.Store(0)
			calls := len(e.f.allCalls())
			w := r.throttleNotice(3 * time.Second)
			var batch []string
			chatOf := map[int64]string{}
			for i := range tc.people {
				u := tgUser{ID: next, Name: fmt.Sprint("P", i), Lang: "en"}
				next++
				id := e.nextUpdateID()
				chatOf[id] = u.chat()
				if tc.presses && i%2 == 0 {
					batch = append(batch, pressUpdate(t, id, u, "m:00000000:1"))
				} else {
					batch = append(batch, startUpdate(t, id, u))
				}
			}
			e.f.push(batch...)
			handledInside := false
			rr := e.f.waitRates(t, 30*time.Second, "everyone answered and the notice sent", func(rr rateReport) bool {
				if !handledInside && time.Now().Before(w.until) {
					depth, err := e.st.OutboxDepth(context.Background())
					require.NoError(t, err)
					handledInside = depth[bot.Telegram] == tc.people+1
				}
				answered := 0
				for _, m := range rr.messages {
					if m.At.After(w.from) {
						answered++
					}
				}
				return answered == tc.people+1
			})

			assert.Empty(t, rr.inWindow, "requests inside the retry_after")
			assert.Zero(t, rr.inFlight, "nothing was even on its way when the 429 came")
			var first time.Time
			presses := 0
			for _, c := range e.f.allCalls()[calls:] {
				if c.At.After(w.from) && (first.IsZero() || c.At.Before(first)) {
					first = c.At
				}
				if c.Method == "answerCallbackQuery" {
					presses++
				}
			}
			assert.False(t, first.Before(w.until), "the first request after the 429 waited it out")
			if tc.presses {
				assert.Equal(t, tc.people/2, presses, "every press answered")
			} else {
				assert.True(t, handledInside, "the messages were handled, their answers queued, during the wait")
			}
			assert.Equal(t, tc.waiting, r.throttle.most.Load(), "calls waiting at once")
			lat := latencies(t, e.f, chatOf)
			t.Logf("429 with retry_after %v, %s: %d calls waited it out, at most %d at once; first request %v after the 429; "+
				"%d requests in flight at it, %d inside it; %d people answered, the last %v after the wait ended",
				w.until.Sub(w.from).Round(time.Second), tc.label, r.throttle.held.Load(), r.throttle.most.Load(), first.Sub(w.from).Round(ms),
				rr.inFlight, len(rr.inWindow), len(lat), (quantile(lat, 1) - w.until.Sub(w.from)).Round(ms))
		})
	}
	r.halt()
}

// TestRestartInsideRetryAfterWaitsItOut stops the bot two seconds into a
// five-second retry_after and starts a new channel, pacer and bot on the
// same file: the new process makes no call at all, not even getMe, until
// the wait is over, and then answers what came meanwhile.
func TestRestartInsideRetryAfterWaitsItOut(t *testing.T) {
	r := newRig(t)
	e := r.e2e
	r.run()
	w := r.throttleNotice(5 * time.Second)
	r.halt()
	for time.Until(w.from.Add(2*time.Second)) > 0 {
		time.Sleep(10 * time.Millisecond)
	}

	e.reopen()
	r.build()
	restarted := time.Now()
	u := tgUser{ID: 7_200_000, Name: "Late", Lang: "en"}
	id := e.nextUpdateID()
	e.f.push(startUpdate(t, id, u))
	r.run()
	rr := e.f.waitRates(t, 20*time.Second, "the answer and the notice", func(rr rateReport) bool {
		chats := map[string]bool{}
		for _, m := range rr.messages {
			chats[m.Chat] = true
		}
		return chats[u.chat()] && chats["4040"]
	})
	r.halt()

	assert.Empty(t, rr.inWindow, "requests inside the retry_after")
	var first time.Time
	for _, c := range e.f.allCalls() {
		if c.At.After(restarted) && (first.IsZero() || c.At.Before(first)) {
			first = c.At
		}
	}
	assert.False(t, first.Before(w.until), "the restarted bot's first call waited the 429 out")
	t.Logf("restarted %v into a %v retry_after: first call %v after the restart, %v after the wait ended; %d requests inside it",
		restarted.Sub(w.from).Round(ms), w.until.Sub(w.from).Round(time.Second), first.Sub(restarted).Round(ms),
		first.Sub(w.until).Round(ms), len(rr.inWindow))
}

// TestLongTextKeepsThePace has a person ask for their data when it runs to
// several messages: each part after the first takes its own token of the
// account and of the chat, so the fake's one a second per chat is kept,
// and each part arrives once.
func TestLongTextKeepsThePace(t *testing.T) {
	r := newRig(t)
	e := r.e2e
	u := tgUser{ID: 7_500_000, Name: "Karim", Lang: "ar"}
	c, _, err := e.st.EnsureContact(context.Background(), u.address(), u.Name, "ar")
	require.NoError(t, err)
	for i := range 80 {
		title := fmt.Sprintf("حملة %02d: %s", i, strings.TrimSpace(strings.Repeat("سلام ", 38)))
		camp := e.campaign(fmt.Sprintf("long%02d", i), store.KindPledge, 0, title)
		_, err := e.st.AddPledge(context.Background(), store.Pledge{CampaignID: camp.ID, ContactID: c.ID, At: e2eNow})
		require.NoError(t, err)
	}
	r.run()
	id := e.nextUpdateID()
	e.f.push(mustJSON(t, map[string]any{"update_id": id, "message": map[string]any{
		"message_id": id, "from": u.json(), "chat": privateChat(u), "date": time.Now().Unix(), "text": "/mydata",
	}}))
	var parts []fakeMessage
	rr := e.f.waitRates(t, 30*time.Second, "every part", func(rr rateReport) bool {
		parts = parts[:0]
		for _, m := range rr.messages {
			if m.Chat == u.chat() {
				parts = append(parts, m)
			}
		}
		return len(parts) > 0 && strings.Contains(parts[len(parts)-1].Text, "/forget")
	})
	r.halt()
	require.Greater(t, len(parts), 3, "more parts than the chat's burst")
	seen := map[string]bool{}
	for _, p := range parts {
		assert.False(t, seen[p.Text], "a part sent twice")
		seen[p.Text] = true
	}
	assert.Zero(t, rr.tooMany, "429s")
	assert.Empty(t, rr.inWindow)
	t.Logf("%d parts in %v, %d 429s", len(parts), parts[len(parts)-1].At.Sub(parts[0].At).Round(ms), rr.tooMany)
}

// partThrottle is a shared throttle that records what Send asks of it.
type partThrottle struct {
	mu        sync.Mutex
	throttled []time.Duration
	parts     []bot.Address
	waits     int
}

func (p *partThrottle) Wait(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waits++
	return nil
}

func (p *partThrottle) Throttled(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.throttled = append(p.throttled, d)
}

func (p *partThrottle) TakeChat(_ context.Context, to bot.Address) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.parts = append(p.parts, to)
	return nil
}

// TestSendResendsOnlyTheThrottledPart has Telegram answer 429 to the
// second part of a long text sent through a shared throttle: the 429 goes
// to the throttle, Send waits in it and sends the second part again, and
// the first part is not repeated. Each part after the first took its tokens.
func TestSendResendsOnlyTheThrottledPart(t *testing.T) {
	f := newFake(t)
	f.reply("sendMessage", sent(1), reply429(2), sent(2))
	th := &partThrottle{}
	c := newTestChannel(t, f, WithThrottle(th), WithMaxThrottleWait(0))
	first, second := strings.Repeat("أ", 3000), strings.Repeat("ب", 3000)
	id, err := c.Send(context.Background(), bot.Outgoing{To: to, Text: first + "\n" + second})
	require.NoError(t, err)
	assert.Equal(t, "2", id)
	var texts []string
	for _, r := range f.calls("sendMessage") {
		texts = append(texts, r.Form["text"])
	}
	assert.Equal(t, []string{first, second, second}, texts, "the second part again, the first once")
	assert.Equal(t, []time.Duration{2 * time.Second}, th.throttled)
	assert.Equal(t, []bot.Address{to, to}, th.parts, "the second part took its tokens each time")
	assert.Empty(t, f.unused())
}
