package main

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"mobilise/bot"
	"mobilise/bot/lease"
	"mobilise/bot/outbox"
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
// On the bbolt file none of this applies: the file has one process.

// instances runs the singletons of one instance on a PostgreSQL store.
type instances struct {
	pg  *postgres.Store
	l   *postgres.Leaser
	log *slog.Logger
}

func newInstances(pg *postgres.Store, log *slog.Logger) *instances {
	return &instances{pg: pg, l: pg.Leaser(), log: log.With("comp", "lease")}
}

// singleton returns run as a loop that runs while this instance holds the
// lease of name.
func (in *instances) singleton(name string, run func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		lease.Run(ctx, in.l, name, run, lease.WithLogger(in.log))
		return nil
	}
}

// channel returns ch receiving only while this instance holds its lease,
// when only one instance may receive on it at a time.
func (in *instances) channel(ch bot.Channel, webhook bool) bot.Channel {
	switch {
	case ch.Name() == bot.WhatsApp, ch.Name() == bot.Telegram && !webhook:
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
