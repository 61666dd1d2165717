// Package outbox is the one path every message leaves by: replies,
// notices, reminders, broadcasts and the edits of a broadcast's progress.
// A Queue writes them into the store's outbox inside the caller's unit of
// work; a Dispatcher sends them. The dispatcher is the one place that knows
// the platforms' rate limits, *bot.ThrottledError and bot.ErrRecipientGone.
//
// Pacing. Each platform account has one Pacer: a token bucket for the
// account (golang.org/x/time/rate), a cap per one-second window, a least
// time between two sends, a token bucket per chat and per group chat. Every send and edit takes its token
// there, and the channel's other calls wait in it too. A 429 pauses every
// call on the account until its retry_after has passed, and the deadline is
// kept in the store, so a restarted process honours it from its first call.
// Bulk messages leave Limits.Reserve of the account's tokens to replies and
// notices, and the dispatcher waits for a token before it chooses what to
// send with it, so an answer queued during a broadcast goes at once.
//
// A Dispatcher runs one loop per channel. The loop reads the channel's
// queue in ID order, replies and notices before bulk messages (see
// store.OutboxEntry.Bulk), and starts sends within the channel's Limits:
// the pacer, random gaps and a daily cap for bulk messages, and a bound on
// sends in flight. It never has two messages to one person in flight and
// never sends a person's messages of one lane out of ID order: a message
// held back (a retry's backoff, quiet hours) holds back the ones queued
// after it.
//
// Outcomes: a sent message is removed from the outbox before its slot is
// freed. A *bot.ThrottledError pauses
// the account for RetryAfter, and the message is sent again (nothing is
// dropped). An error wrapping bot.ErrRecipientGone tells the Reporter (the
// person is marked unreachable) and counts the message as blocked. Other
// errors are retried after 15 s, 1 min, 5 min and 15 min, then the message
// counts as failed with the error as its reason; three failures in a row put
// the channel in a probing mode (one send at a time, pausing up to a minute)
// so an outage does not burn every message's attempts.
//
// Crash safety. A message leaves the outbox only after the platform
// accepted it, so after a SIGKILL every queued message is still sent when
// the process starts again. The messages that can arrive twice are those
// in flight at the moment of the kill: accepted by the platform, or on
// their way to it, but not yet recorded. Neither Telegram nor WhatsApp can
// be asked whether a message arrived, so such a message can only be sent
// again or given up; the outbox sends it again. Their number is at most
// the channel's Limits.Concurrency (16 for Telegram by default), however
// long the queue, and in practice the sends of one platform round trip. A
// sent message is recorded in a commit of its own as soon as the platform
// accepts it, except the bulk messages of a channel sending more than 100
// a second (or without a limit), which share commits, up to bbolt's batch
// delay later. On an AtMostOnce channel (WhatsApp) bulk messages are the
// exception: each is marked Started, durably, before it is sent; at
// start-up a started bulk message is not sent again but counted as failed
// with the reason "interrupted", so no one gets a broadcast twice and at
// most Concurrency (1) bulk message is lost. Replies and notices there are
// sent again like any other. A clean stop (the context of Run cancelled)
// starts no new send and lets the sends in flight finish and be recorded,
// so it causes no duplicate at all. (If recording a sent message fails,
// because the disk is full say, the message stays queued and is sent again
// later; that is logged as an error.)
//
// Shared stores. On a store several instances share (PostgreSQL), only
// the holder of the outbox lease dispatches, but a lease is not a fence:
// during a handover the instance that lost it may still be running, cut
// off from the database's lock but not from the platform. So there the
// dispatcher claims each message for ClaimLease just before each try at
// sending it, and leaves alone a message another dispatcher holds: two
// dispatchers running at once never send the same message. The messages
// in flight at a dispatcher's death are sent again, as on one server, but
// once their claims have run out rather than at once. Reading, order,
// pacing and retries are the same on every store.
//
// For Telegram, give the dispatcher a channel built with
// telegram.WithMaxThrottleWait(0) and the account's Pacer as its throttle,
// so every 429 comes back here and the resends are paced through the bucket.
package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
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
	// Reserve is how many tokens of the bucket and places of the window
	// bulk messages leave unused, for replies and notices: during a
	// broadcast an answer then goes at once instead of waiting for the next
	// token. Bulk messages go at most WindowCap-Reserve a second; Burst is
	// raised to at least Reserve+1.
	Reserve int
	// Spacing is the least time between two sends starting on the account,
	// whatever the bucket holds: sends that start together at both ends of
	// a second would reach the platform as more than WindowCap in one of
	// its seconds after a few milliseconds of jitter.
	Spacing time.Duration
	// PerChat is how often a chat's bucket gains a message, ChatBurst its
	// size: one a second with a burst of three lets a person who taps
	// quickly get each answer at once, and holds a stream of messages to one
	// chat to one a second.
	PerChat   time.Duration
	ChatBurst int
	// PerGroup and GroupBurst are the same for group chats, which IsGroup
	// tells apart (Telegram allows a group 20 messages a minute).
	PerGroup   time.Duration
	GroupBurst int
	IsGroup    func(bot.Address) bool
	// MinGap and MaxGap space bulk messages by a random gap in between, so
	// a WhatsApp number does not send at a machine's rhythm.
	MinGap, MaxGap time.Duration
	// DailyCap bounds the bulk messages started per calendar day (in the
	// dispatcher's location); 0 means none. Notices are not capped.
	DailyCap int
	// AtMostOnce marks each bulk message Started before sending it and
	// never sends a started bulk message again after a crash. Replies and
	// notices are not affected: a crash during their send sends them
	// again, as on any channel.
	AtMostOnce bool
	// Concurrency bounds the sends in flight; 0 means 1. It is also the
	// bound on duplicates after a crash.
	Concurrency int
}

// normalised fills in what a zero field means.
func (l Limits) normalised() Limits {
	if l.Concurrency <= 0 {
		l.Concurrency = 1
	}
	if l.WindowCap > 0 {
		l.Reserve = min(l.Reserve, l.WindowCap-1)
	}
	l.Reserve = max(l.Reserve, 0)
	if l.PerSecond > 0 && l.Burst < 1+l.Reserve {
		l.Burst = 1 + l.Reserve
	}
	if l.PerChat > 0 && l.ChatBurst <= 0 {
		l.ChatBurst = 1
	}
	if l.PerGroup > 0 && l.GroupBurst <= 0 {
		l.GroupBurst = 1
	}
	if l.MaxGap < l.MinGap {
		l.MaxGap = l.MinGap
	}
	return l
}

// TelegramLimits are the defaults for a Telegram bot. Telegram allows about
// 30 messages a second overall, one a second per chat (short bursts are
// tolerated) and 20 a minute per group. At most 28 sends start in any
// second, at least 1/60 s apart, so the Bot API sees at most 30 in any of
// its seconds even when network jitter moves them by up to 33 ms. Bulk
// messages leave two tokens and two of the 28 places to replies and
// notices (Reserve): a broadcast goes at 26 a second, and an answer during
// it waits at most the spacing. Sixteen sends in flight cover Bot API
// latencies up to half a second at that rate.
// A group gets a burst of three, then one message every 3.6 s: at most
// 3 + 60/3.6, so 19, in any minute, one under Telegram's 20 however jitter
// bunches them. Group chats have negative chat IDs.
func TelegramLimits() Limits {
	return Limits{PerSecond: 30, Burst: 1, WindowCap: 28, Reserve: 2, Spacing: time.Second / 60,
		PerChat: time.Second, ChatBurst: 3, PerGroup: 3600 * time.Millisecond, GroupBurst: 3, IsGroup: telegramGroup, Concurrency: 16}
}

// TelegramPaidLimits are for a bot with Telegram's paid broadcasts, up to
// 1000 messages a second: 960 a second, and at most 960 start in any
// second, leaving 40 of slack for jitter and bursts; a 429 costs a pause of
// a second or more, so the slack pays for itself. Bulk messages leave 20 a
// second to replies. The bucket holds five tokens more than the 21 a bulk
// message needs: a dispatcher that wakes a millisecond late sends what
// accrued meanwhile, where a bucket of exactly 21 would be full and lose it
// (that cost a third of the rate).
func TelegramPaidLimits() Limits {
	l := TelegramLimits()
	l.PerSecond, l.Burst, l.WindowCap, l.Reserve, l.Spacing, l.Concurrency = 960, 26, 960, 20, 0, 128
	return l
}

// telegramGroup reports whether a Telegram chat is a group: their IDs are negative.
func telegramGroup(a bot.Address) bool { return strings.HasPrefix(a.ID, "-") }

// WhatsAppLimits are the defaults for a WhatsApp number: one send at a
// time, bulk messages 8 to 20 seconds apart and at most 200 a day, each at
// most once (a repeated broadcast is what gets a number banned).
func WhatsAppLimits() Limits {
	return Limits{PerSecond: 1, Burst: 1, PerChat: time.Second, ChatBurst: 2, MinGap: 8 * time.Second, MaxGap: 20 * time.Second,
		DailyCap: 200, AtMostOnce: true, Concurrency: 1}
}

// DefaultLimits are the limits of a channel with none configured:
// Telegram's and WhatsApp's defaults, and for others (the console) one send
// at a time and no rate limit.
func DefaultLimits(channel bot.ChannelName) Limits {
	switch channel {
	case bot.Telegram:
		return TelegramLimits()
	case bot.WhatsApp:
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
		per = max(per, time.Second/time.Duration(max(l.WindowCap-l.Reserve, 1)))
	}
	per = max(per, l.Spacing)
	if gap := (l.MinGap + l.MaxGap) / 2; gap > per {
		per = gap
	}
	if l.DailyCap > 0 && n > l.DailyCap {
		days := (n - 1) / l.DailyCap
		return time.Duration(days)*24*time.Hour + time.Duration(n-days*l.DailyCap)*per
	}
	return time.Duration(n) * per
}

// Gate holds messages back: Hold returns the time until which e must wait
// (quiet hours, the admins' pause, a suspended author), or the zero time to
// send it now. It is asked when a message is read from the outbox and again
// just before it is sent, so it must be fast. After lifting a hold early
// (/resume), the one who lifted it calls Queue.Wake.
type Gate interface {
	Hold(now time.Time, e *store.OutboxEntry) (holdUntil time.Time)
}

// Reporter hears what became of messages: the dispatcher is the one place
// that knows, and the operations decide what it means.
type Reporter interface {
	// Gone is called with the address of a message that failed with
	// bot.ErrRecipientGone, so the person is marked unreachable.
	Gone(ctx context.Context, to bot.Address) error
	// Progress is called after messages of a broadcast are recorded, at most
	// every two seconds per broadcast and once more within two seconds of the
	// last, so the final counts are always reported. Calls come one at a
	// time, on a goroutine of their own.
	Progress(ctx context.Context, broadcastID uint64) error
}

// claimer is a store whose outbox dispatchers of several instances may
// share (the PostgreSQL store). During a lease handover the instance that
// lost the outbox lease may still be running, cut off from the others but
// not from the platform; a dispatcher therefore claims each message just
// before sending it, and a message another dispatcher holds is not sent.
// A claim is ended by the outcome's record (OutboxDone, OutboxFailed and
// OutboxRetry remove or reschedule the entry) or by ReleaseOutboxEntry;
// one whose dispatcher died runs out after its lease, and the message is
// then sent again, as after a crash on a store of one's own.
type claimer interface {
	// ClaimOutboxEntry claims the entry for lease, or renews the claim
	// whose lease_until is held. It returns the claim's new lease_until
	// and true; false and until when the entry is someone else's, or not
	// yet due, until then (zero if unknown); store.ErrNotFound when the
	// entry is no longer queued.
	ClaimOutboxEntry(ctx context.Context, id uint64, held time.Time, lease time.Duration) (until time.Time, ok bool, err error)
	// ReleaseOutboxEntry ends the claim whose lease_until is held.
	ReleaseOutboxEntry(ctx context.Context, id uint64, held time.Time) error
}

// ClaimLease is how long a dispatcher on a shared store (see claimer)
// holds a message it is sending; each try renews it. It outlasts a try
// (at most a minute, sendTimeout) with time to record the outcome, so
// two dispatchers never send one message; it is also how long the
// messages in flight at a dispatcher's death wait before another sends
// them again.
const ClaimLease = sendTimeout + 30*time.Second

// Dispatcher drains the outbox through the channels' senders.
type Dispatcher struct {
	q  *Queue
	st store.Backend
	// claims is st when it can claim entries (see claimer); nil for a store
	// of the instance's own (bbolt), whose dispatcher is the only one.
	claims  claimer
	senders map[bot.ChannelName]bot.Sender
	limits  map[bot.ChannelName]Limits
	pacers  map[bot.ChannelName]*Pacer

	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
	log      *slog.Logger
	gate     Gate
	reporter Reporter
	// media is where the files messages carry are read; describer words
	// the line that stands for one on a channel that cannot send it.
	media     *store.MediaFiles
	describer Describer
	rand      func() float64
	loc       *time.Location
	poll      time.Duration

	// wakes has one signal per channel, buffered so a wake never blocks.
	wakes map[bot.ChannelName]chan struct{}
	// flushes carries Flush's requests to each channel's loop.
	flushes map[bot.ChannelName]chan chan struct{}

	mu      sync.Mutex
	runners []*runner
}

// Option configures a Dispatcher.
type Option func(*Dispatcher)

// WithLimits sets a channel's limits; DefaultLimits otherwise.
func WithLimits(channel bot.ChannelName, l Limits) Option {
	return func(d *Dispatcher) { d.limits[channel] = l }
}

// WithPacer makes the channel send through p, shared with the channel
// itself (its bot.Throttle); without it the dispatcher makes its own from
// the channel's limits.
func WithPacer(channel bot.ChannelName, p *Pacer) Option {
	return func(d *Dispatcher) { d.pacers[channel] = p }
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

// WithGate holds messages back; see Gate.
func WithGate(g Gate) Option { return func(d *Dispatcher) { d.gate = g } }

// WithReporter tells r what became of messages; see Reporter.
func WithReporter(r Reporter) Option { return func(d *Dispatcher) { d.reporter = r } }

// WithRand sets the source of the random bulk gaps, values in [0, 1).
func WithRand(fn func() float64) Option { return func(d *Dispatcher) { d.rand = fn } }

// WithLocation sets the time zone of daily caps (default UTC).
func WithLocation(loc *time.Location) Option { return func(d *Dispatcher) { d.loc = loc } }

// WithPollInterval sets how often a channel re-reads its whole queue
// without being woken (default one minute); 0 never does, then only wakes
// and the dispatcher's own timers start a new read.
func WithPollInterval(p time.Duration) Option { return func(d *Dispatcher) { d.poll = p } }

// NewDispatcher returns a Dispatcher that sends what q queues, through the
// senders of q's channels.
func NewDispatcher(q *Queue, senders map[bot.ChannelName]bot.Sender, opts ...Option) *Dispatcher {
	d := &Dispatcher{
		q:       q,
		st:      q.st,
		senders: senders,
		limits:  map[bot.ChannelName]Limits{},
		pacers:  map[bot.ChannelName]*Pacer{},
		now:     time.Now,
		sleep:   sleepContext,
		log:     slog.New(slog.DiscardHandler),
		rand:    rand.Float64,
		loc:     time.UTC,
		poll:    time.Minute,
		wakes:   map[bot.ChannelName]chan struct{}{},
		flushes: map[bot.ChannelName]chan chan struct{}{},
	}
	for _, o := range opts {
		o(d)
	}
	d.log = d.log.With("comp", "outbox")
	d.claims, _ = d.st.(claimer)
	for name := range senders {
		d.wakes[name] = make(chan struct{}, 1)
		d.flushes[name] = make(chan chan struct{})
		if d.pacers[name] == nil {
			d.pacers[name] = NewPacer(d.st, name, d.Limits(name), PacerClock(d.now, d.sleep), PacerLogger(d.log))
		}
	}
	return d
}

// Limits returns the limits the channel is sent at.
func (d *Dispatcher) Limits(channel bot.ChannelName) Limits {
	l, ok := d.limits[channel]
	if !ok {
		l = DefaultLimits(channel)
	}
	return l.normalised()
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

// wakeAll tells every channel to read its queue now.
func (d *Dispatcher) wakeAll() {
	for _, w := range d.wakes {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// resumeAll starts the channels that stopped because they were down.
func (d *Dispatcher) resumeAll() {
	d.mu.Lock()
	for _, r := range d.runners {
		r.resume()
	}
	d.mu.Unlock()
	d.wakeAll()
}

// Flush waits until the channel has nothing it could send now: every
// message queued before the call that is ready (not held by quiet hours, a
// pause, a retry's backoff) has been sent and recorded. The terminal chat
// waits for it after each line, so a conversation prints in order and a
// piped session exits only when everything is out.
func (d *Dispatcher) Flush(ctx context.Context, channel bot.ChannelName) error {
	req, ok := d.flushes[channel]
	if !ok {
		return nil
	}
	done := make(chan struct{})
	select {
	case req <- done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run sends until ctx is cancelled, one loop per channel, and returns once
// the sends in flight have finished and been recorded.
func (d *Dispatcher) Run(ctx context.Context) error {
	for name, p := range d.pacers {
		if _, used := d.senders[name]; !used {
			continue
		}
		if err := p.Load(ctx); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	prog := newProgress(ctx, d.reporter, d.log, d.wakeAll)
	var wg sync.WaitGroup
	for name, snd := range d.senders {
		r := newRunner(d, name, snd, prog)
		d.mu.Lock()
		d.runners = append(d.runners, r)
		d.mu.Unlock()
		wg.Go(func() { r.run(ctx) })
	}
	wg.Go(func() {
		for {
			select {
			case <-d.q.wake:
				d.wakeAll()
			case <-d.q.resume:
				d.resumeAll()
			case <-ctx.Done():
				return
			}
		}
	})
	progDone := make(chan struct{})
	go func() {
		prog.run()
		close(progDone)
	}()
	wg.Wait()
	prog.stop()
	<-progDone
	return nil
}

// outgoing turns an entry into the message a channel sends.
func outgoing(e *store.OutboxEntry) bot.Outgoing {
	return bot.Outgoing{To: e.To, Text: e.Text, Buttons: e.Buttons, Lang: e.Lang, PhoneButton: e.PhoneButton}
}

// progress calls the reporter off the channel loops, merging repeated
// reports of one broadcast.
type progress struct {
	ctx     context.Context
	r       Reporter
	log     *slog.Logger
	mu      sync.Mutex
	pending []uint64
	calling int // reports taken from pending and not yet made
	stopped bool
	signal  chan struct{}
	// reported runs after each round of calls: what the calls queued (a
	// final report) is then read, and a Flush waiting on them is answered.
	reported func()
}

func newProgress(ctx context.Context, r Reporter, log *slog.Logger, reported func()) *progress {
	// reports already due are still made while stopping
	return &progress{ctx: context.WithoutCancel(ctx), r: r, log: log, signal: make(chan struct{}, 1), reported: reported}
}

// busy reports whether a report is due or being made: a Flush waits for
// it, so that the messages it queues count among what can be sent now.
func (p *progress) busy() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending) > 0 || p.calling > 0
}

// report queues a call for the broadcast.
func (p *progress) report(id uint64) {
	if p.r == nil {
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
		p.calling = len(ids)
		p.mu.Unlock()
		for _, id := range ids {
			ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
			if err := p.r.Progress(ctx, id); err != nil {
				p.log.Warn("reporting broadcast progress", "broadcast_id", id, "error", err)
			}
			cancel()
		}
		p.mu.Lock()
		p.calling = 0
		p.mu.Unlock()
		if len(ids) > 0 && p.reported != nil {
			p.reported()
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
