// Package bottest builds the whole bot for tests, wired as cmd/mobilise
// wires it: one store, the outbox's queue and dispatcher, the coalition's
// operations and the bot with its conversations, over the channels a test
// gives.
package bottest

import (
	"context"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/bot/chat"
	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/bot/outbox"
	"mobilise/bot/schedule"
	"mobilise/messages"
	"mobilise/store"
)

// Stack is the bot over one store.
type Stack struct {
	Store store.Backend
	Cat   *messages.Catalog
	Queue *outbox.Queue
	Co    *coalition.Coalition
	Bot   *chat.Bot
	Disp  *outbox.Dispatcher
	Loc   *time.Location
}

// Config says how to build a Stack; the zero value is a bot with no admins
// in Asia/Hebron on the real clock.
type Config struct {
	Admins    []bot.Address
	Now       func() time.Time
	Threshold int
	Quiet     *schedule.QuietHours
	Plan      outbox.Plan
	// Media, when set, keeps the files of campaigns and broadcasts, and the
	// dispatcher sends them (naming them on channels that cannot).
	Media *store.MediaFiles
	// Coalition and Engine options are added after the defaults.
	Coalition  []coalition.Option
	Engine     []engine.Option
	Dispatcher []outbox.Option
}

// New builds the bot over st sending through senders.
func New(tb testing.TB, st store.Backend, senders []bot.Sender, cfg Config) *Stack {
	tb.Helper()
	loc, err := time.LoadLocation("Asia/Hebron")
	if err != nil {
		tb.Fatalf("loading Asia/Hebron: %v", err)
	}
	cat, err := messages.New()
	if err != nil {
		tb.Fatalf("loading the catalogs: %v", err)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	quiet := schedule.QuietHours{}
	if cfg.Quiet != nil {
		quiet = *cfg.Quiet
	}
	var names []bot.ChannelName
	m := map[bot.ChannelName]bot.Sender{}
	coOpts := []coalition.Option{
		coalition.WithClock(now), coalition.WithLocation(loc), coalition.WithAdmins(cfg.Admins...),
		coalition.WithQuietHours(quiet), coalition.WithApprovalThreshold(cfg.Threshold),
	}
	if cfg.Plan != nil {
		coOpts = append(coOpts, coalition.WithEstimator(cfg.Plan))
	}
	for _, s := range senders {
		names = append(names, s.Name())
		m[s.Name()] = s
		if l, ok := bot.LinkerOf(s); ok {
			coOpts = append(coOpts, coalition.WithLinker(s.Name(), l))
		}
		if _, ok := bot.EditorOf(s); ok {
			coOpts = append(coOpts, coalition.WithEditor(s.Name()))
		}
	}
	if cfg.Media != nil {
		coOpts = append(coOpts, coalition.WithMedia(cfg.Media))
	}
	q := outbox.NewQueue(st, names...)
	co := coalition.New(st, cat, q, append(coOpts, cfg.Coalition...)...)
	b := chat.New(st, cat, co, q, append([]engine.Option{
		engine.WithClock(now), engine.WithLocation(loc), engine.WithFloodLimit(0, time.Second),
	}, cfg.Engine...)...)
	dopts := []outbox.Option{outbox.WithClock(now), outbox.WithLocation(loc), outbox.WithGate(co.Sending), outbox.WithReporter(co)}
	if cfg.Plan != nil {
		dopts = append(dopts, outbox.WithPlan(cfg.Plan))
	}
	if cfg.Media != nil {
		dopts = append(dopts, outbox.WithMedia(cfg.Media, co.Words()))
	}
	d := outbox.NewDispatcher(q, m, append(dopts, cfg.Dispatcher...)...)
	return &Stack{Store: st, Cat: cat, Queue: q, Co: co, Bot: b, Disp: d, Loc: loc}
}

// Start runs the dispatcher, the broadcast filler and the poster maker
// until the test ends or stop is called.
func (s *Stack) Start(tb testing.TB) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	const loops = 3
	done := make(chan struct{}, loops)
	go func() {
		if err := s.Disp.Run(ctx); err != nil {
			tb.Errorf("dispatcher: %v", err)
		}
		done <- struct{}{}
	}()
	go func() {
		if err := s.Co.Broadcasts.Run(ctx); err != nil {
			tb.Errorf("filler: %v", err)
		}
		done <- struct{}{}
	}()
	go func() {
		if err := s.Co.Posters.Run(ctx); err != nil {
			tb.Errorf("posters: %v", err)
		}
		done <- struct{}{}
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		for range loops {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				tb.Errorf("the dispatcher did not stop")
				return
			}
		}
	}
	tb.Cleanup(stop)
	return stop
}

// Handler is the handler a channel of the stack runs with: the bot, and on
// the console the wait for its answers to be printed.
func (s *Stack) Handler(channel bot.ChannelName) bot.Handler {
	if channel == bot.Console {
		return s.Disp.Flushed(bot.Console, s.Bot)
	}
	return s.Bot
}

// Send handles one message as a channel would, and waits until the
// answers to it are sent.
func (s *Stack) Send(tb testing.TB, in bot.Incoming) {
	tb.Helper()
	if err := s.Bot.HandleIncoming(context.Background(), in); err != nil {
		tb.Fatalf("handling %q: %v", in.Text, err)
	}
	if err := s.Disp.Flush(context.Background(), in.From.Channel); err != nil {
		tb.Fatalf("flushing: %v", err)
	}
}
