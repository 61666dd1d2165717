package outbox

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"mobilise/bot"
	"mobilise/store"
)

// Pacer is the one gate every call on one platform account passes. The
// dispatcher takes a token from it before each send and each edit, so
// replies, notices and bulk messages share one rate; a channel's other
// calls (command menus, button answers, getUpdates) wait in it too (it is
// the channel's bot.Throttle). A 429 recorded with Throttled holds
// everything back until its retry_after has passed, and the deadline is
// kept in the store, so a restarted process waits it out as well: the
// first Wait or Take of a process reads it, so even the calls a channel
// makes before the dispatcher runs (getMe at start-up) wait.
//
// Its limits: a token bucket for the account (golang.org/x/time/rate), a
// cap on the sends started in any one-second window, a least time between
// two starts, and a token bucket per chat (and a slower one per group chat)
// that the dispatcher asks before it picks a chat's next message.
type Pacer struct {
	channel bot.ChannelName
	st      store.Backend
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	log     *slog.Logger

	perChat, perGroup     rate.Limit
	chatBurst, groupBurst int
	isGroup               func(bot.Address) bool
	windowCap             int
	// reserve is what bulk messages leave of the bucket and the window
	reserve int
	spacing time.Duration

	mu sync.Mutex
	// loaded is set once the deadline a previous process left was read
	loaded      bool
	limiter     *rate.Limiter
	window      []time.Time // start times of the last windowCap sends, oldest at next
	next        int
	lastStart   time.Time
	chats       map[bot.Address]*rate.Limiter
	pausedUntil time.Time
}

// PacerOption configures a Pacer.
type PacerOption func(*Pacer)

// PacerClock sets the pacer's clock and how it waits; tests pass a virtual clock.
func PacerClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) PacerOption {
	return func(p *Pacer) { p.now, p.sleep = now, sleep }
}

// PacerLogger sets the logger.
func PacerLogger(l *slog.Logger) PacerOption { return func(p *Pacer) { p.log = l } }

// NewPacer returns the pacer of one platform account at the rates of l
// (PerSecond, Burst, WindowCap, Reserve, Spacing, PerChat, ChatBurst,
// PerGroup, GroupBurst, IsGroup). st keeps its 429 deadline; nil keeps it in memory only.
func NewPacer(st store.Backend, channel bot.ChannelName, l Limits, opts ...PacerOption) *Pacer {
	l = l.normalised()
	p := &Pacer{
		channel: channel, st: st, now: time.Now, sleep: sleepContext, log: slog.New(slog.DiscardHandler),
		windowCap: l.WindowCap, reserve: l.Reserve, spacing: l.Spacing, chatBurst: l.ChatBurst, groupBurst: l.GroupBurst, isGroup: l.IsGroup,
		chats: map[bot.Address]*rate.Limiter{},
	}
	if l.PerChat > 0 {
		p.perChat = rate.Every(l.PerChat)
	}
	if l.PerGroup > 0 {
		p.perGroup = rate.Every(l.PerGroup)
	}
	for _, o := range opts {
		o(p)
	}
	p.log = p.log.With("channel", string(channel))
	if l.PerSecond > 0 {
		p.limiter = rate.NewLimiter(rate.Limit(l.PerSecond), l.Burst)
		// start empty: the burst is for catching up, not for the first second
		p.limiter.AllowN(p.now(), l.Burst)
	}
	if p.windowCap > 0 {
		p.window = make([]time.Time, 0, p.windowCap)
	}
	return p
}

// Load reads the 429 deadline a previous process left, so sending waits it
// out. It reads the store once; Wait and Take call it themselves.
func (p *Pacer) Load(ctx context.Context) error {
	p.mu.Lock()
	loaded := p.loaded || p.st == nil
	p.mu.Unlock()
	if loaded {
		return nil
	}
	until, err := p.st.ThrottledUntil(ctx, p.channel)
	if err != nil {
		return err
	}
	p.mu.Lock()
	if p.loaded {
		p.mu.Unlock()
		return nil
	}
	p.loaded = true
	if until.After(p.pausedUntil) {
		p.pausedUntil = until
	}
	p.mu.Unlock()
	if wait := until.Sub(p.now()); wait > 0 {
		p.log.Warn("waiting out a throttle from before the restart", "retry_after", wait.Round(time.Millisecond))
	}
	return nil
}

// Throttled records the platform's request to wait d: no call on the
// account starts before it has passed, in this process or the next.
func (p *Pacer) Throttled(d time.Duration) {
	until := p.now().Add(d)
	p.mu.Lock()
	later := until.After(p.pausedUntil)
	if later {
		p.pausedUntil = until
	}
	p.mu.Unlock()
	if !later {
		return
	}
	p.log.Warn("throttled by the platform; every send waits", "retry_after", d)
	if p.st != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.st.SetThrottledUntil(ctx, p.channel, until); err != nil {
			p.log.Error("keeping the throttle for a restart", "error", err)
		}
	}
}

// PausedUntil returns when a 429's wait ends; zero or past when there is none.
func (p *Pacer) PausedUntil() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pausedUntil
}

// Wait returns once no 429 holds the account back, or with ctx's error. It
// takes no token: it is for calls that are not messages.
func (p *Pacer) Wait(ctx context.Context) error {
	if err := p.Load(ctx); err != nil {
		return err
	}
	for {
		d := p.PausedUntil().Sub(p.now())
		if d <= 0 {
			return ctx.Err()
		}
		if err := p.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// Take waits until a message may be sent on the account: no 429 holds it
// back, the bucket has a token, and fewer than WindowCap sends started in the
// last second. It takes the token and the window's place.
func (p *Pacer) Take(ctx context.Context) error { return p.take(ctx, 0) }

// TakeChat waits until a message to `to` may be sent, by its chat's bucket
// and the account's (Take), and takes both. It is for a channel that sends
// one message as several: each part of a long Telegram text after the
// first is a message of its own to the platform's limits.
func (p *Pacer) TakeChat(ctx context.Context, to bot.Address) error {
	for {
		d := p.ChatWait(to, p.now())
		if d <= 0 {
			break
		}
		if err := p.sleep(ctx, d); err != nil {
			return err
		}
	}
	if err := p.Take(ctx); err != nil {
		return err
	}
	p.ChatTake(to, p.now())
	return nil
}

// take is Take for a message that must leave reserve tokens in the bucket
// and reserve places in the window to others: a bulk message leaves
// Limits.Reserve to the replies.
func (p *Pacer) take(ctx context.Context, reserve int) error {
	for {
		if err := p.Wait(ctx); err != nil {
			return err
		}
		d := p.takeAt(p.now(), reserve)
		if d <= 0 {
			return ctx.Err()
		}
		// another send (or a 429) may come first: look again after the wait
		if err := p.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// takeAt takes a token and a place in the window at now if the account
// has them, leaving reserve of each, and returns 0; else it takes nothing
// and returns how long until it may.
func (p *Pacer) takeAt(now time.Time, reserve int) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d := p.waitLocked(now, reserve); d > 0 {
		return d
	}
	if p.limiter != nil {
		p.limiter.ReserveN(now, 1)
	}
	p.lastStart = now
	switch {
	case p.windowCap <= 0:
	case len(p.window) < p.windowCap:
		p.window = append(p.window, now)
	default:
		p.window[p.next] = now
		p.next = (p.next + 1) % len(p.window)
	}
	return 0
}

// delay returns how long a send leaving reserve would wait now: until the
// 429's wait is over, the bucket has a token and the window has room; 0
// means at once. The dispatcher waits for it before it chooses what to
// send, so a reply queued while it waits takes the token, not the bulk
// message chosen before.
func (p *Pacer) delay(now time.Time, reserve int) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(p.waitLocked(now, reserve), 0)
}

// waitLocked is delay with p.mu held.
func (p *Pacer) waitLocked(now time.Time, reserve int) time.Duration {
	d := p.pausedUntil.Sub(now)
	if p.spacing > 0 && !p.lastStart.IsZero() {
		d = max(d, p.lastStart.Add(p.spacing).Sub(now))
	}
	if p.limiter != nil {
		need := float64(1 + reserve)
		if tokens := p.limiter.TokensAt(now); tokens < need {
			d = max(d, time.Duration((need-tokens)/float64(p.limiter.Limit())*float64(time.Second))+time.Microsecond)
		}
	}
	// the window holds the last windowCap start times, oldest at next; a
	// send may start if the places-th newest is over a second old
	if places, n := p.windowCap-reserve, len(p.window); p.windowCap > 0 && n >= places {
		d = max(d, p.window[(p.next+n-places)%n].Add(time.Second).Sub(now))
	}
	return d
}

// chatLimiter returns to's bucket, creating it full.
func (p *Pacer) chatLimiter(to bot.Address) *rate.Limiter {
	lim := p.chats[to]
	if lim == nil {
		every, burst := p.perChat, p.chatBurst
		if p.isGroup != nil && p.isGroup(to) && p.perGroup > 0 {
			every, burst = p.perGroup, p.groupBurst
		}
		if every == 0 {
			return nil
		}
		if len(p.chats) > 20000 {
			p.pruneChats()
		}
		lim = rate.NewLimiter(every, burst)
		p.chats[to] = lim
	}
	return lim
}

// ChatWait returns how long until to may get a message; 0 means now.
func (p *Pacer) ChatWait(to bot.Address, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	lim := p.chatLimiter(to)
	if lim == nil {
		return 0
	}
	if lim.TokensAt(now) >= 1 {
		return 0
	}
	r := lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return max(d, time.Millisecond)
}

// ChatTake counts a message to to against its chat's bucket.
func (p *Pacer) ChatTake(to bot.Address, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if lim := p.chatLimiter(to); lim != nil {
		// a reservation always counts: AllowN would not when the bucket is a
		// rounding error short of the token ChatWait said was there
		lim.ReserveN(now, 1)
	}
}

// pruneChats forgets the buckets that are full again.
func (p *Pacer) pruneChats() {
	now := p.now()
	for to, lim := range p.chats {
		if lim.TokensAt(now) >= float64(lim.Burst()) {
			delete(p.chats, to)
		}
	}
}

var _ bot.Throttle = (*Pacer)(nil)
