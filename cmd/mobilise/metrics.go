package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"mobilise/bot"
	"mobilise/store"
)

// Send outcomes, the values of the outcome label of mobilise_messages_total.
const (
	outcomeSent        = "sent"
	outcomeFailed      = "failed"
	outcomeBlocked     = "blocked"
	outcomeRateLimited = "rate_limited"
)

// metrics are the bot's own instruments. The figures kept in the store are
// read at scrape time by storeCollector instead.
type metrics struct {
	updates *prometheus.CounterVec
	latency *prometheus.HistogramVec
	sends   *prometheus.CounterVec
}

// instrument registers the bot's metrics on reg (with the Go runtime's and
// the process's, and the figures read from st at each scrape) and returns
// the metrics, whose handler and sender decorate the engine and the channels
// to count and time what passes through them.
func instrument(reg *prometheus.Registry, st store.Backend) *metrics {
	m := &metrics{
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mobilise_updates_received_total",
			Help: "Messages, button presses and platform events received, per channel.",
		}, []string{"channel"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mobilise_handler_duration_seconds",
			Help:    "Time taken to answer one received update, per channel.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15},
		}, []string{"channel"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mobilise_messages_total",
			Help: "Messages the bot tried to send, per channel and outcome: sent, failed, blocked (the person blocked the bot or is gone) or rate_limited.",
		}, []string{"channel", "outcome"}),
	}
	reg.MustRegister(m.updates, m.latency, m.sends,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newStoreCollector(st))
	return m
}

// handler counts and times each call of next, labelled by the sender's
// channel. The wrapper offers Unwrap, so the bot's menus and alerts are
// still found behind it (bot.DirectoryOf, bot.AlerterOf).
func (m *metrics) handler(next bot.Handler) bot.Handler {
	return &timedHandler{next: next, m: m}
}

// timedHandler counts and times the handling of each update.
type timedHandler struct {
	next bot.Handler
	m    *metrics
}

// HandleIncoming hands in to the wrapped handler, counting and timing it.
func (h *timedHandler) HandleIncoming(ctx context.Context, in bot.Incoming) error {
	start := time.Now()
	ch := string(in.From.Channel)
	h.m.updates.WithLabelValues(ch).Inc()
	err := h.next.HandleIncoming(ctx, in)
	h.m.latency.WithLabelValues(ch).Observe(time.Since(start).Seconds())
	return err
}

// Unwrap returns the wrapped handler.
func (h *timedHandler) Unwrap() bot.Handler { return h.next }

// sender wraps s to count the outcome of each Send and Edit. The wrapper
// forwards Edit, and offers Unwrap for every other capability (share links).
func (m *metrics) sender(s bot.Sender) bot.Sender {
	// series exist from the start, so rates work from the first scrape
	name := string(s.Name())
	m.updates.WithLabelValues(name)
	for _, o := range []string{outcomeSent, outcomeFailed, outcomeBlocked, outcomeRateLimited} {
		m.sends.WithLabelValues(name, o)
	}
	cs := &countingSender{Sender: s, sends: m.sends}
	if ed, ok := bot.EditorOf(s); ok {
		return &countingEditor{countingSender: cs, ed: ed}
	}
	return cs
}

// countingSender counts Send outcomes in mobilise_messages_total.
type countingSender struct {
	bot.Sender
	sends *prometheus.CounterVec
}

// Send sends through the wrapped sender and counts the outcome.
func (c *countingSender) Send(ctx context.Context, msg bot.Outgoing) (string, error) {
	id, err := c.Sender.Send(ctx, msg)
	c.sends.WithLabelValues(string(c.Name()), sendOutcome(err)).Inc()
	return id, err
}

// Unwrap returns the wrapped sender, for the capabilities the wrapper does not forward.
func (c *countingSender) Unwrap() bot.Sender { return c.Sender }

// countingEditor is a countingSender over a channel that edits messages it sent.
type countingEditor struct {
	*countingSender
	ed bot.Editor
}

// Edit edits through the wrapped channel and counts the outcome.
func (c *countingEditor) Edit(ctx context.Context, messageID string, msg bot.Outgoing) error {
	err := c.ed.Edit(ctx, messageID, msg)
	c.sends.WithLabelValues(string(c.Name()), sendOutcome(err)).Inc()
	return err
}

// sendOutcome sorts a Send error into the outcome label.
func sendOutcome(err error) string {
	var throttled *bot.ThrottledError
	switch {
	case err == nil:
		return outcomeSent
	case errors.Is(err, bot.ErrRecipientGone):
		return outcomeBlocked
	case errors.As(err, &throttled):
		return outcomeRateLimited
	default:
		return outcomeFailed
	}
}

// scrapeTimeout bounds the store's reads of one scrape.
const scrapeTimeout = 10 * time.Second

// storeCollector reads the figures kept in the store at each scrape, so they
// are right even for work done by another process (an earlier run, a restore).
type storeCollector struct {
	st                                             store.Backend
	outbox, reminders, pledges, signups, fileBytes *prometheus.Desc
}

func newStoreCollector(st store.Backend) *storeCollector {
	return &storeCollector{
		st: st,
		outbox: prometheus.NewDesc("mobilise_outbox_depth",
			"Messages waiting in the outbox, per channel.", []string{"channel"}, nil),
		reminders: prometheus.NewDesc("mobilise_scheduled_reminders",
			"Reminders that will fire again (one-off and recurring).", nil, nil),
		pledges: prometheus.NewDesc("mobilise_campaign_pledges",
			"Pledges to each campaign, by campaign code.", []string{"campaign"}, nil),
		signups: prometheus.NewDesc("mobilise_campaign_signups",
			"Sign-ups for each campaign's event, by campaign code.", []string{"campaign"}, nil),
		fileBytes: prometheus.NewDesc("mobilise_store_size_bytes",
			"Size of the database file.", nil, nil),
	}
}

// Describe sends the descriptors of every metric Collect may send.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.outbox, c.reminders, c.pledges, c.signups, c.fileBytes} {
		ch <- d
	}
}

// Collect reads the store. A failed read is sent as an invalid metric, which
// fails the scrape with the reason rather than showing a wrong zero.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	// a database that hangs fails the scrape after a while, not hangs it
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if depth, err := c.st.OutboxDepth(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(c.outbox, err)
	} else {
		// each platform has a series, 0 when nothing waits, for an alert to watch
		for _, platform := range []bot.ChannelName{bot.Telegram, bot.WhatsApp} {
			if _, ok := depth[platform]; !ok {
				depth[platform] = 0
			}
		}
		for channel, n := range depth {
			gauge(c.outbox, float64(n), string(channel))
		}
	}
	if rems, err := c.st.Reminders(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(c.reminders, err)
	} else {
		n := 0
		for _, r := range rems {
			if !r.NextFireAt.IsZero() {
				n++
			}
		}
		gauge(c.reminders, float64(n))
	}
	if err := c.collectCampaigns(ctx, gauge); err != nil {
		ch <- prometheus.NewInvalidMetric(c.pledges, err)
	}
	file, ok := c.st.(*store.Store)
	if !ok {
		return // a database server: its size is its own to report
	}
	if fi, err := os.Stat(file.Path()); err != nil {
		ch <- prometheus.NewInvalidMetric(c.fileBytes, err)
	} else {
		gauge(c.fileBytes, float64(fi.Size()))
	}
}

func (c *storeCollector) collectCampaigns(ctx context.Context, gauge func(d *prometheus.Desc, v float64, labels ...string)) error {
	camps, err := c.st.Campaigns(ctx)
	if err != nil {
		return err
	}
	for _, cp := range camps {
		n, err := c.st.Counts(ctx, cp.ID)
		if err != nil {
			return fmt.Errorf("campaign %s: %w", cp.Code, err)
		}
		gauge(c.pledges, float64(n.Pledges), cp.Code)
		gauge(c.signups, float64(n.Signups), cp.Code)
	}
	return nil
}
