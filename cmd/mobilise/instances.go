package main

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"mobilise/bot"
	"mobilise/bot/lease"
	"mobilise/bot/outbox"
	"mobilise/bot/whatsapp"
	"mobilise/store/postgres"
)

// Several instances on one PostgreSQL database. Every instance handles
// what reaches it (a webhook's updates, the dashboard, the terminal): an
// update is marked handled once in the database, whichever instance gets
// it. The loops that must run once hold a lease each (an advisory lock), so
// exactly one instance runs each at a time, and another takes over within
// seconds when the holder dies:
//
//	outbox       the dispatcher of every channel, with the pacer of each bot token
//	scheduler    reminders, campaigns opening and closing, follow-ups
//	broadcasts   filling the outbox of a broadcast being sent
//	posters      rendering the posters asked for in chat
//	telegram     receiving in polling mode (in webhook mode every instance receives)
//	whatsapp     the WhatsApp connection: one live session per device
//
// The WhatsApp connection follows the outbox lease: WhatsApp messages
// leave through the connection (Telegram's go over HTTP from anywhere), so
// only the instance whose dispatcher sends them takes the whatsapp lease,
// and gives it up when it loses the outbox lease. The device it connects
// with is in the database, the same for every instance.
//
// On the bbolt file none of this applies: the file has one process.

// instances runs the singletons of one instance on a PostgreSQL store.
type instances struct {
	pg  *postgres.Store
	l   leaser
	log *slog.Logger
	// held is whether this instance's singleton of each name is running,
	// for work that follows a lease
	mu   sync.Mutex
	held map[string]*runState
}

// leaser grants the leases and lists the ones held here.
type leaser interface {
	lease.Leaser
	Held() []string
}

// runState says whether a singleton runs, and when that changes.
type runState struct {
	on      bool
	changed chan struct{} // closed at the next change
}

func newInstances(pg *postgres.Store, log *slog.Logger) *instances {
	return &instances{pg: pg, l: pg.Leaser(), log: log.With("comp", "lease"), held: map[string]*runState{}}
}

// singleton returns run as a loop that runs while this instance holds the
// lease of name.
func (in *instances) singleton(name string, run func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		lease.Run(ctx, in.l, name, func(ctx context.Context) error {
			in.setRunning(name, true)
			defer in.setRunning(name, false)
			return run(ctx)
		}, lease.WithLogger(in.log))
		return nil
	}
}

func (in *instances) state(name string) *runState {
	r := in.held[name]
	if r == nil {
		r = &runState{changed: make(chan struct{})}
		in.held[name] = r
	}
	return r
}

func (in *instances) setRunning(name string, on bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	r := in.state(name)
	if r.on != on {
		r.on = on
		close(r.changed)
		r.changed = make(chan struct{})
	}
}

// running reports whether this instance runs the singleton of name, and
// returns a channel closed when that changes.
func (in *instances) running(name string) (bool, <-chan struct{}) {
	in.mu.Lock()
	defer in.mu.Unlock()
	r := in.state(name)
	return r.on, r.changed
}

// channel returns ch receiving only while this instance holds its lease,
// when only one instance may receive on it at a time.
func (in *instances) channel(ch bot.Channel, webhook bool) bot.Channel {
	switch {
	case ch.Name() == bot.WhatsApp:
		return &followingChannel{Channel: ch, in: in, follows: "outbox"}
	case ch.Name() == bot.Telegram && !webhook:
		return &leasedChannel{Channel: ch, in: in}
	}
	return ch
}

// leasedChannel is a channel whose Run holds the channel's lease; sending
// goes on through the channel itself, for the outbox's lease holder.
type leasedChannel struct {
	bot.Channel
	in *instances
}

func (c *leasedChannel) Run(ctx context.Context, h bot.Handler) error {
	return c.in.singleton(string(c.Name()), func(ctx context.Context) error { return c.Channel.Run(ctx, h) })(ctx)
}

// followingChannel is a channel that runs under its own lease, and tries
// for it only while this instance runs the singleton it follows: the
// WhatsApp connection follows the dispatcher that sends through it.
type followingChannel struct {
	bot.Channel
	in      *instances
	follows string
}

// Run runs the channel while this instance runs the followed singleton
// and holds the channel's lease, until ctx ends or the account logs out:
// the other instances would fail the same way, so the lease is not taken
// again and ErrLoggedOut is returned.
func (c *followingChannel) Run(ctx context.Context, h bot.Handler) error {
	for ctx.Err() == nil {
		on, changed := c.in.running(c.follows)
		if !on {
			select {
			case <-ctx.Done():
			case <-changed:
			}
			continue
		}
		fctx, cancel := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			select {
			case <-changed: // no longer running here
				cancel()
			case <-fctx.Done():
			}
		}()
		var loggedOut error
		lease.Run(fctx, c.in.l, string(c.Name()), func(ctx context.Context) error {
			err := c.Channel.Run(ctx, h)
			if errors.Is(err, whatsapp.ErrLoggedOut) {
				loggedOut = err
				return nil // done: the lease is released and not tried again
			}
			return err
		}, lease.WithLogger(c.in.log))
		cancel()
		<-stopped
		if loggedOut != nil {
			return loggedOut
		}
	}
	return nil
}

// Connected reports the channel's connection on the instance that runs
// the followed singleton, which sends through it; elsewhere the channel is
// on standby, which is no fault.
func (c *followingChannel) Connected() bool {
	if on, _ := c.in.running(c.follows); !on {
		return true
	}
	conn, ok := c.Channel.(connector)
	return !ok || conn.Connected()
}

// wakeOnNotify wakes this instance's dispatcher when another instance
// queues messages (LISTEN/NOTIFY after its commit), so an answer queued
// there leaves at once from the lease holder.
func (in *instances) wakeOnNotify(q *outbox.Queue) func(context.Context) error {
	return func(ctx context.Context) error {
		for ctx.Err() == nil {
			l, err := in.pg.ListenOutbox(ctx)
			if err != nil {
				in.log.Warn("listening for queued messages", "error", err)
				sleepCtx(ctx, time.Second)
				continue
			}
			for {
				if _, err := l.Wait(ctx); err != nil {
					if ctx.Err() == nil {
						in.log.Warn("listening for queued messages", "error", err)
					}
					break
				}
				q.Wake()
			}
			if err := l.Close(); err != nil {
				in.log.Warn("closing the listener", "error", err)
			}
		}
		return nil
	}
}

// Held lists the leases this instance holds, for /healthz and /metrics.
func (in *instances) Held() []string { return in.l.Held() }

// singletons are the leases an instance may hold, for /metrics.
func singletons() []string {
	return []string{"outbox", "scheduler", "broadcasts", "posters", string(bot.Telegram), string(bot.WhatsApp)}
}

// metrics adds mobilise_lease_held{lease} to reg: 1 for each lease this
// instance holds, 0 for the others.
func (in *instances) metrics(reg *prometheus.Registry) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mobilise_leases_held",
		Help: "Leases on the singletons this instance holds (the others are held elsewhere or by no one)."},
		func() float64 { return float64(len(in.l.Held())) }))
	for _, name := range singletons() {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mobilise_lease_held",
			Help: "1 when this instance holds the lease of the singleton.", ConstLabels: prometheus.Labels{"lease": name}},
			func() float64 {
				if slices.Contains(in.l.Held(), name) {
					return 1
				}
				return 0
			}))
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
