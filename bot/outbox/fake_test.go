package outbox_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/store"
	"mobilise/store/postgres"
	"mobilise/store/postgres/pgtest"
)

// vclock is a virtual clock: sleeping moves it forward at once, so tests
// of minutes of backoff and days of caps take milliseconds.
type vclock struct {
	mu sync.Mutex
	t  time.Time
	// horizon, if set, is a time sleeps do not pass: a sleep that would
	// blocks until its context ends, as if the test ended first.
	horizon time.Time
}

func newClock(t time.Time) *vclock { return &vclock{t: t} }

func (c *vclock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *vclock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *vclock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	target := c.t.Add(d)
	if !c.horizon.IsZero() && target.After(c.horizon) {
		c.mu.Unlock()
		<-ctx.Done()
		return ctx.Err()
	}
	if target.After(c.t) {
		c.t = target
	}
	c.mu.Unlock()
	return nil
}

// sentMsg is one delivery the fake sender accepted; At is when the send started.
type sentMsg struct {
	To   string
	Text string
	At   time.Time
	Msg  bot.Outgoing
}

// fakeSender records sends, checks that no chat ever has two in flight,
// and answers as behave says (nil: success).
type fakeSender struct {
	name  string
	clock *vclock
	// behave decides the outcome of the n-th call (from 1) to an address.
	behave func(n int, msg bot.Outgoing) error
	// before runs at the start of each send, outside the lock.
	before func(msg bot.Outgoing)

	mu          sync.Mutex
	calls       map[string]int
	sent        []sentMsg
	attempts    []sentMsg // every call, failed ones too
	inflight    map[string]int
	total       int
	maxInflight int
	overlaps    []string
	signal      chan struct{}
}

func newFakeSender(name string, clock *vclock) *fakeSender {
	return &fakeSender{name: name, clock: clock, calls: map[string]int{}, inflight: map[string]int{}, signal: make(chan struct{}, 1)}
}

func (f *fakeSender) Name() bot.ChannelName { return bot.ChannelName(f.name) }

func (f *fakeSender) Send(ctx context.Context, msg bot.Outgoing) (string, error) {
	to := msg.To.String()
	f.mu.Lock()
	f.calls[to]++
	n := f.calls[to]
	f.inflight[to]++
	if f.inflight[to] > 1 {
		f.overlaps = append(f.overlaps, to)
	}
	f.total++
	f.maxInflight = max(f.maxInflight, f.total)
	started := f.clock.Now()
	f.attempts = append(f.attempts, sentMsg{To: to, Text: msg.Text, At: started, Msg: msg})
	f.mu.Unlock()

	if f.before != nil {
		f.before(msg)
	}
	var err error
	if f.behave != nil {
		err = f.behave(n, msg)
	}

	f.mu.Lock()
	f.inflight[to]--
	f.total--
	if err == nil {
		f.sent = append(f.sent, sentMsg{To: to, Text: msg.Text, At: started, Msg: msg})
	}
	f.mu.Unlock()
	select {
	case f.signal <- struct{}{}:
	default:
	}
	if err != nil {
		return "", err
	}
	return strconv.Itoa(n), nil
}

func (f *fakeSender) Sent() []sentMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMsg(nil), f.sent...)
}

func (f *fakeSender) Attempts() []sentMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMsg(nil), f.attempts...)
}

// waitFor waits until cond holds after a send, failing after 10 s.
func (f *fakeSender) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for !cond() {
		select {
		case <-f.signal:
		case <-timeout.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitSent waits for n successful sends.
func (f *fakeSender) waitSent(t *testing.T, n int) {
	t.Helper()
	f.waitFor(t, fmt.Sprintf("%d sends", n), func() bool { return len(f.Sent()) >= n })
}

// jitter sleeps up to a millisecond of real time, so sends overlap.
func jitter(bot.Outgoing) { time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond) }

// openStore opens a store in a temporary directory on the virtual clock.
func openStore(t *testing.T, clock *vclock) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "mobilise.db"), store.WithNow(clock.Now), store.WithBatchDelay(time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return st
}

// eachStore runs fn on a new store of each kind the dispatcher runs on, on
// a clock starting at t0: bbolt, and PostgreSQL, where the dispatcher
// claims each message before sending it (the store reads leases by the
// same clock).
func eachStore(t *testing.T, fn func(t *testing.T, clock *vclock, st store.Backend)) {
	t.Run("bbolt", func(t *testing.T) {
		clock := newClock(t0)
		fn(t, clock, openStore(t, clock))
	})
	t.Run("postgres", func(t *testing.T) {
		clock := newClock(t0)
		fn(t, clock, openPostgres(t, pgtest.NewDatabase(t), postgres.WithNow(clock.Now)))
	})
}

// testDispatcher is a dispatcher with the queue that wakes it.
type testDispatcher struct {
	*outbox.Dispatcher
	q *outbox.Queue
}

// Wake tells the dispatcher messages were queued, as a committed unit of work does.
func (d *testDispatcher) Wake() { d.q.Wake() }

// Resume restarts the channels that were down, as an admin's /resume does.
func (d *testDispatcher) Resume() { d.q.Resume() }

// newDispatcher builds a dispatcher on the virtual clock that never polls.
func newDispatcher(st store.Backend, clock *vclock, senders []bot.Sender, opts ...outbox.Option) *testDispatcher {
	m := map[bot.ChannelName]bot.Sender{}
	var names []bot.ChannelName
	for _, s := range senders {
		m[s.Name()] = s
		names = append(names, s.Name())
	}
	q := outbox.NewQueue(st, names...)
	base := []outbox.Option{outbox.WithClock(clock.Now), outbox.WithSleep(clock.Sleep), outbox.WithPollInterval(0), outbox.WithRand(func() float64 { return 0.5 })}
	return &testDispatcher{Dispatcher: outbox.NewDispatcher(q, m, append(base, opts...)...), q: q}
}

// gateFunc adapts a function to outbox.Gate.
type gateFunc func(now time.Time, e *store.OutboxEntry) time.Time

func (g gateFunc) Hold(now time.Time, e *store.OutboxEntry) time.Time { return g(now, e) }

// reporter adapts functions to outbox.Reporter.
type reporter struct {
	gone     func(to bot.Address) error
	progress func(id uint64)
}

func (r reporter) Gone(_ context.Context, to bot.Address) error {
	if r.gone == nil {
		return nil
	}
	return r.gone(to)
}

func (r reporter) Progress(_ context.Context, id uint64) error {
	if r.progress != nil {
		r.progress(id)
	}
	return nil
}

// start runs d until the returned stop is called; stop waits for Run to return.
func start(t *testing.T, d *testDispatcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

// depth is the number of queued entries of all channels.
func depth(t *testing.T, st store.Backend) int {
	t.Helper()
	m, err := st.OutboxDepth(context.Background())
	require.NoError(t, err)
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
