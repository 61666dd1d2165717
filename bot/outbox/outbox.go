// Package outbox sends the messages queued in the store's outbox: notices,
// reminders and broadcasts. It is the one place that knows the platforms'
// rate limits, *bot.ThrottledError and bot.ErrRecipientGone; everything
// else only queues.
//
// A Dispatcher runs one loop per channel. The loop reads the channel's
// queue in ID order, notices before bulk messages (see
// store.OutboxEntry.Bulk), and starts sends within the channel's Limits:
// a token bucket for the channel (golang.org/x/time/rate), a minimum gap per
// chat, random gaps and a daily cap for bulk messages, and a bound on sends
// in flight. It never has two messages to one person in flight and never
// sends a person's messages of one lane out of ID order: a message held back
// (a retry's backoff, quiet hours) holds back the ones queued after it.
//
// Outcomes: a sent message is removed from the outbox, in a commit shared
// with other sends, before its slot is freed. A *bot.ThrottledError pauses
// the whole channel for RetryAfter, and the message is sent again (nothing
// is dropped). An error wrapping bot.ErrRecipientGone calls OnGone (the
// engine marks the address unreachable) and counts the message as blocked.
// Other errors are retried after 15 s, 1 min, 5 min and 15 min, then the
// message counts as failed with the error as its reason; three failures in a
// row put the channel in a probing mode (one send at a time, pausing up to a
// minute) so an outage does not burn every message's attempts.
//
// Crash safety. A message leaves the outbox only after the platform
// accepted it, so after a SIGKILL every queued message is still sent when
// the process starts again. On a channel without AtMostOnce (Telegram) the
// messages that can arrive twice are those in flight at the moment of the
// kill: sent, or being sent, but not yet recorded. Their number is at most
// the channel's Limits.Concurrency (16 for Telegram by default), however
// long the broadcast. On an AtMostOnce channel (WhatsApp) each message is
// marked Started, durably, before it is sent; at start-up a started message
// is not sent again but counted as failed with the reason "interrupted", so
// no one gets a message twice and at most Concurrency (1) messages may be
// lost. A clean stop (the context of Run cancelled) starts no new send and
// lets the sends in flight finish and be recorded, so it causes no
// duplicate at all. (If recording a sent message fails, because the disk is
// full say, the message stays queued and is sent again later; that is
// logged as an error.)
//
// For Telegram, give the dispatcher a channel built with
// telegram.WithMaxThrottleWait(0), so every 429 comes back here and the
// resends are paced through the token bucket; a channel that waits out a
// 429 itself releases its held sends all at once, a burst that meets the
// next 429.
package outbox

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"mobilise/bot"
	"mobilise/store"
)

// Limits are how fast one channel may send.
type Limits struct {
	// PerSecond is the channel-wide rate, Burst the bucket size; 0 means no limit.
	PerSecond float64
	Burst     int
	// WindowCap bounds the sends started in any one-second window; 0 means
	// no bound. A token bucket alone allows Burst + PerSecond in a second,
	// and network jitter bunches sends further, so a cap a little under the
	// platform's limit is what keeps it from answering 429.
	WindowCap int
	// PerChat is the minimum time between the starts of two sends to one chat.
	PerChat time.Duration
	// MinGap and MaxGap space bulk messages by a random gap in between, so
	// a WhatsApp number does not send at a machine's rhythm.
	MinGap, MaxGap time.Duration
	// DailyCap bounds the bulk messages started per calendar day (in the
	// dispatcher's location); 0 means none. Notices are not capped.
	DailyCap int
	// AtMostOnce marks each message Started before sending it and never
	// sends a started message again after a crash.
	AtMostOnce bool
	// Concurrency bounds the sends in flight; 0 means 1. It is also the
	// bound on duplicates after a crash.
	Concurrency int
}

// TelegramLimits are the defaults for a Telegram bot. Telegram allows about
// 30 messages a second overall and one a second per chat. The bucket paces
// sends 1/30 s apart and at most 29 start in any second, so the Bot API sees
// 29 a second (0.97 of its limit) and one message of slack for network
// jitter. Sixteen sends in flight cover Bot API latencies up to half a
// second at that rate.
func TelegramLimits() Limits {
	return Limits{PerSecond: 30, Burst: 1, WindowCap: 29, PerChat: time.Second, Concurrency: 16}
}

// TelegramPaidLimits are for a bot with Telegram's paid broadcasts, up to
// 1000 messages a second: at most 960 start in any second, leaving 40 of
// slack for jitter; a 429 costs a pause of a second or more, so the slack
// pays for itself.
func TelegramPaidLimits() Limits {
	return Limits{PerSecond: 1000, Burst: 10, WindowCap: 960, PerChat: time.Second, Concurrency: 128}
}

// WhatsAppLimits are the defaults for a WhatsApp number: one send at a
// time, bulk messages 8 to 20 seconds apart and at most 200 a day, at most
// once.
func WhatsAppLimits() Limits {
	return Limits{PerSecond: 1, Burst: 1, PerChat: time.Second, MinGap: 8 * time.Second, MaxGap: 20 * time.Second,
		DailyCap: 200, AtMostOnce: true, Concurrency: 1}
}

// defaultLimits are the limits of a channel with none configured.
func defaultLimits(channel string) Limits {
	switch channel {
	case "telegram":
		return TelegramLimits()
	case "whatsapp":
		return WhatsAppLimits()
	default:
		return Limits{Concurrency: 1}
	}
}

// Estimate returns how long sending n bulk messages takes at these limits,
// for a broadcast's preview.
func (l Limits) Estimate(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	var per time.Duration
	if l.PerSecond > 0 {
		per = time.Duration(float64(time.Second) / l.PerSecond)
	}
	if l.WindowCap > 0 {
		per = max(per, time.Second/time.Duration(l.WindowCap))
	}
	if gap := (l.MinGap + l.MaxGap) / 2; gap > per {
		per = gap
	}
	if l.DailyCap > 0 && n > l.DailyCap {
		days := (n - 1) / l.DailyCap
		return time.Duration(days)*24*time.Hour + time.Duration(n-days*l.DailyCap)*per
	}
	return time.Duration(n) * per
}

// Dispatcher drains the outbox through the channels' senders.
type Dispatcher struct {
	st      *store.Store
	senders map[string]bot.Sender
	limits  map[string]Limits

	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error
	log        *slog.Logger
	gate       func(now time.Time, e *store.OutboxEntry) time.Time
	onGone     func(address string) error
	onProgress func(broadcastID uint64)
	rand       func() float64
	loc        *time.Location
	poll       time.Duration

	// wakes has one signal per channel, buffered so Wake never blocks.
	wakes map[string]chan struct{}

	mu      sync.Mutex
	runners []*runner
}

// Option configures a Dispatcher.
type Option func(*Dispatcher)

// WithLimits sets a channel's limits. Defaults: TelegramLimits for
// "telegram", WhatsAppLimits for "whatsapp", one send at a time and no rate
// limit for others (the console).
func WithLimits(channel string, l Limits) Option {
	return func(d *Dispatcher) { d.limits[channel] = l }
}

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(d *Dispatcher) { d.now = now } }

// WithSleep sets how the dispatcher waits: it returns after d, or earlier
// with ctx's error. Tests pass one that moves a fake clock instead.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(d *Dispatcher) { d.sleep = sleep }
}

// WithLogger sets the logger; the dispatcher adds comp=outbox.
func WithLogger(l *slog.Logger) Option { return func(d *Dispatcher) { d.log = l } }

// WithGate holds messages back: gate returns the time until which e must
// wait (quiet hours, the admin's pause), or the zero time to send it now.
// It is asked when a message is read from the outbox and again just before
// it is sent, so it must be fast. After lifting a hold early (/resume), call
// Wake.
func WithGate(gate func(now time.Time, e *store.OutboxEntry) (holdUntil time.Time)) Option {
	return func(d *Dispatcher) { d.gate = gate }
}

// WithOnGone is called with the address of a message that failed with
// bot.ErrRecipientGone, so the engine marks it unreachable.
func WithOnGone(fn func(address string) error) Option { return func(d *Dispatcher) { d.onGone = fn } }

// WithOnProgress is called after messages of a broadcast are recorded, at
// most every two seconds per broadcast, and once more within two seconds of
// the last, so the final counts are always reported. It runs on its own
// goroutine, one call at a time.
func WithOnProgress(fn func(broadcastID uint64)) Option {
	return func(d *Dispatcher) { d.onProgress = fn }
}

// WithRand sets the source of the random bulk gaps, values in [0, 1).
func WithRand(fn func() float64) Option { return func(d *Dispatcher) { d.rand = fn } }

// WithLocation sets the time zone of daily caps (default UTC).
func WithLocation(loc *time.Location) Option { return func(d *Dispatcher) { d.loc = loc } }

// WithPollInterval sets how often a channel re-reads its whole queue
// without being woken (default one minute); 0 never does, then only Wake
// and the dispatcher's own timers start a new read.
func WithPollInterval(p time.Duration) Option { return func(d *Dispatcher) { d.poll = p } }

// New returns a Dispatcher for the channels of senders.
func New(st *store.Store, senders map[string]bot.Sender, opts ...Option) *Dispatcher {
	d := &Dispatcher{
		st:      st,
		senders: senders,
		limits:  map[string]Limits{},
		now:     time.Now,
		sleep:   sleepContext,
		log:     slog.New(slog.DiscardHandler),
		rand:    rand.Float64,
		loc:     time.UTC,
		poll:    time.Minute,
		wakes:   map[string]chan struct{}{},
	}
	for _, o := range opts {
		o(d)
	}
	d.log = d.log.With("comp", "outbox")
	for name := range senders {
		d.wakes[name] = make(chan struct{}, 1)
	}
	return d
}

// Limits returns the limits the channel is sent at.
func (d *Dispatcher) Limits(channel string) Limits {
	l, ok := d.limits[channel]
	if !ok {
		l = defaultLimits(channel)
	}
	if l.Concurrency <= 0 {
		l.Concurrency = 1
	}
	if l.PerSecond > 0 && l.Burst <= 0 {
		l.Burst = 1
	}
	if l.MaxGap < l.MinGap {
		l.MaxGap = l.MinGap
	}
	return l
}

// sleepContext waits d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wake tells every channel to read its queue now: new messages were queued,
// or a hold was lifted.
func (d *Dispatcher) Wake() {
	for _, w := range d.wakes {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// Resume starts the channels that stopped because they were down (a WhatsApp
// number banned or refused), once an admin says so.
func (d *Dispatcher) Resume() {
	d.mu.Lock()
	for _, r := range d.runners {
		r.resume()
	}
	d.mu.Unlock()
	d.Wake()
}

// Run sends until ctx is cancelled, one loop per channel, and returns once
// the sends in flight have finished and been recorded.
func (d *Dispatcher) Run(ctx context.Context) error {
	prog := newProgress(d.onProgress)
	var wg sync.WaitGroup
	for name, snd := range d.senders {
		r := newRunner(d, name, snd, prog)
		d.mu.Lock()
		d.runners = append(d.runners, r)
		d.mu.Unlock()
		wg.Go(func() { r.run(ctx) })
	}
	progDone := make(chan struct{})
	go func() {
		prog.run()
		close(progDone)
	}()
	if len(d.senders) == 0 {
		<-ctx.Done()
	}
	wg.Wait()
	prog.stop()
	<-progDone
	return nil
}

// Notify queues notices for their contacts and wakes the channels; it
// implements the engine's notifier (bot.WithNotifier). Each notice is
// addressed and rendered by bot.ResolveNotice, on the channels that have a
// sender; one that it drops is not queued.
func (d *Dispatcher) Notify(_ context.Context, notices []bot.Notice) error {
	var entries []store.OutboxEntry
	var errs []error
	for _, n := range notices {
		msg, ok, err := bot.ResolveNotice(d.st, n, d.hasSender)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			d.log.Debug("notice not deliverable", "contact_id", n.ContactID, "kind", n.Kind)
			continue
		}
		entries = append(entries, store.OutboxEntry{To: msg.To.String(), ContactID: n.ContactID, Text: msg.Text,
			Buttons: bot.OutboxButtons(msg.Buttons), Lang: msg.Lang, Kind: n.Kind, Bulk: n.Bulk})
	}
	if len(entries) > 0 {
		if err := d.st.Enqueue(entries...); err != nil {
			errs = append(errs, err)
		} else {
			d.Wake()
		}
	}
	return errors.Join(errs...)
}

// hasSender reports whether the dispatcher can send on channel.
func (d *Dispatcher) hasSender(channel string) bool {
	_, ok := d.senders[channel]
	return ok
}

// outgoing turns an entry into the message a channel sends.
func outgoing(e *store.OutboxEntry) (bot.Outgoing, error) {
	to, err := bot.ParseAddress(e.To)
	if err != nil {
		return bot.Outgoing{}, err
	}
	var rows [][]bot.Button
	if e.Buttons != nil {
		rows = make([][]bot.Button, len(e.Buttons))
		for i, row := range e.Buttons {
			rows[i] = make([]bot.Button, len(row))
			for j, b := range row {
				rows[i][j] = bot.Button{Text: b.Text, Payload: b.Payload}
			}
		}
	}
	return bot.Outgoing{To: to, Text: e.Text, Buttons: rows, Lang: e.Lang}, nil
}

// progress calls the progress callback off the channel loops, merging
// repeated reports of one broadcast.
type progress struct {
	fn      func(uint64)
	mu      sync.Mutex
	pending []uint64
	stopped bool
	signal  chan struct{}
}

func newProgress(fn func(uint64)) *progress {
	return &progress{fn: fn, signal: make(chan struct{}, 1)}
}

// report queues a call for the broadcast.
func (p *progress) report(id uint64) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	if !slices.Contains(p.pending, id) {
		p.pending = append(p.pending, id)
	}
	p.mu.Unlock()
	select {
	case p.signal <- struct{}{}:
	default:
	}
}

// run makes the calls until stop, then the ones still queued.
func (p *progress) run() {
	for {
		p.mu.Lock()
		ids, stopped := p.pending, p.stopped
		p.pending = nil
		p.mu.Unlock()
		for _, id := range ids {
			p.fn(id)
		}
		if stopped {
			return
		}
		<-p.signal
	}
}

func (p *progress) stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	select {
	case p.signal <- struct{}{}:
	default:
	}
}
