package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/lease"
	"mobilise/bot/whatsapp"
	"mobilise/store/postgres"
	"mobilise/store/postgres/pgtest"
)

// fakeWhatsApp is a WhatsApp channel whose Run records that it runs and
// the device it opened, and runs until its context ends or it is told the
// account logged out.
type fakeWhatsApp struct {
	bot.Channel
	open func(ctx context.Context) (string, error) // the number of the device it connects with

	mu        sync.Mutex
	connected bool
	numbers   []string
	runs      chan struct{} // one value per Run started
	stops     chan struct{} // one value per Run returned
	logout    chan struct{}
}

func newFakeWhatsApp(open func(context.Context) (string, error)) *fakeWhatsApp {
	return &fakeWhatsApp{open: open, runs: make(chan struct{}, 16), stops: make(chan struct{}, 16), logout: make(chan struct{})}
}

func (f *fakeWhatsApp) Name() bot.ChannelName { return bot.WhatsApp }

func (f *fakeWhatsApp) Run(ctx context.Context, _ bot.Handler) error {
	defer func() { f.stops <- struct{}{} }()
	number := ""
	if f.open != nil {
		var err error
		if number, err = f.open(ctx); err != nil {
			return err
		}
	}
	f.mu.Lock()
	f.connected, f.numbers = true, append(f.numbers, number)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.connected = false
		f.mu.Unlock()
	}()
	f.runs <- struct{}{}
	select {
	case <-ctx.Done():
		return nil
	case <-f.logout:
		return fmt.Errorf("fake: %w", whatsapp.ErrLoggedOut)
	}
}

func (f *fakeWhatsApp) Connected() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connected
}

func (f *fakeWhatsApp) running() bool { return f.Connected() }

// waitTimeout bounds every wait of these tests: generous, for a loaded machine.
const waitTimeout = 30 * time.Second

// receive waits for one value on ch.
func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		require.FailNow(t, "timed out waiting")
	}
	var zero T
	return zero
}

// TestWhatsAppFollowsTheOutboxLease checks, on one instance, that the
// WhatsApp connection runs only while the instance runs the outbox
// dispatcher, stops when it stops and runs again when it is back; that
// the health check finds no fault on standby; and that after a logout the
// lease is given up for good.
func TestWhatsAppFollowsTheOutboxLease(t *testing.T) {
	in := &instances{l: &lease.Local{}, log: slog.New(slog.DiscardHandler), held: map[string]*runState{}}
	wa := newFakeWhatsApp(nil)
	ch := in.channel(wa, false)
	require.Implements(t, (*connector)(nil), ch)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ch.Run(ctx, nil) }()

	time.Sleep(50 * time.Millisecond)
	assert.False(t, wa.running(), "no connection without the outbox lease")
	assert.True(t, ch.(connector).Connected(), "standby is no fault")

	outbox := func() (stop func()) {
		octx, ocancel := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			_ = in.singleton("outbox", func(ctx context.Context) error { <-ctx.Done(); return nil })(octx)
		}()
		return func() { ocancel(); <-stopped }
	}
	stop := outbox()
	receive(t, wa.runs)
	assert.True(t, ch.(connector).Connected())
	assert.Equal(t, []string{"outbox", "whatsapp"}, in.l.Held())
	stop()
	receive(t, wa.stops)
	assert.True(t, ch.(connector).Connected(), "on standby again")
	require.Eventually(t, func() bool { return !slices.Contains(in.l.Held(), "whatsapp") }, waitTimeout, time.Millisecond)

	stop = outbox()
	defer stop()
	receive(t, wa.runs)
	wa.mu.Lock()
	wa.connected = false // the connection dropped on the holder
	wa.mu.Unlock()
	assert.False(t, ch.(connector).Connected(), "the holder reports its connection")
	close(wa.logout)
	require.ErrorIs(t, receive(t, done), whatsapp.ErrLoggedOut)
	assert.Equal(t, []string{"outbox"}, in.l.Held(), "the whatsapp lease is given up after a logout")
}

// TestWhatsAppFailoverOnPostgres runs two instances' WhatsApp channels and
// outbox singletons on one PostgreSQL database, each opening the device
// from it as the bot does. One connects, with the device linked through
// `mobilise whatsapp`; when it stops (its leases freed) the other takes
// over the outbox and then connects with the same device.
func TestWhatsAppFailoverOnPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	saveLinkedDevice(t, "pgx", url, "postgres", "970599000000")
	cfg := Config{DataDir: t.TempDir(), Store: url}
	open := func(ctx context.Context) (string, error) {
		d, err := openWhatsAppDevice(ctx, cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			return "", err
		}
		return d.PhoneNumber(), d.Close()
	}

	type instance struct {
		wa     *fakeWhatsApp
		in     *instances
		cancel context.CancelFunc
		done   chan struct{}
	}
	start := func(name string) *instance {
		st, err := postgres.Open(context.Background(), url)
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, st.Close()) })
		in := newInstances(st, slog.New(slog.DiscardHandler).With("instance", name))
		in.l = st.Leaser(postgres.LeaseCheck(200*time.Millisecond), postgres.LeaseRetry(50*time.Millisecond))
		wa := newFakeWhatsApp(open)
		ctx, cancel := context.WithCancel(context.Background())
		inst := &instance{wa: wa, in: in, cancel: cancel, done: make(chan struct{})}
		var wg sync.WaitGroup
		wg.Go(func() { _ = in.singleton("outbox", func(ctx context.Context) error { <-ctx.Done(); return nil })(ctx) })
		wg.Go(func() { assert.NoError(t, in.channel(wa, false).Run(ctx, nil)) })
		go func() { wg.Wait(); close(inst.done) }()
		t.Cleanup(func() { cancel(); <-inst.done })
		return inst
	}
	a := start("a")
	receive(t, a.wa.runs)
	b := start("b")
	time.Sleep(300 * time.Millisecond)
	assert.False(t, b.wa.running(), "one connection at a time")
	assert.Equal(t, []string{"outbox", "whatsapp"}, a.in.l.Held())
	assert.Empty(t, b.in.l.Held())

	stopped := time.Now()
	a.cancel()
	<-a.done
	receive(t, b.wa.runs)
	t.Logf("the second instance connected %s after the first stopped", time.Since(stopped).Round(time.Millisecond))
	assert.Equal(t, []string{"outbox", "whatsapp"}, b.in.l.Held())
	assert.Equal(t, []string{"970599000000"}, a.wa.numbers)
	assert.Equal(t, []string{"970599000000"}, b.wa.numbers, "the same device, from the database")
}
