// Package engine handles one incoming message: it finds the person, where
// their conversation stands, and what the message means (a command, a menu
// choice, the answer to a question), runs it, and keeps the result — all in
// one unit of work (store.InSharedTx) that also records the message as
// handled and queues the replies in the outbox. A crash before the commit loses nothing
// (the platform delivers the message again); after it, the replies are
// queued and the message is not handled twice.
//
// The engine knows no conversation of its own: the commands and the
// multi-step conversations (Flow) are registered by package chat, which
// calls the coalition's operations for every rule. The Turn is the API they
// use to read the message and answer it.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"mobilise/bot"
	"mobilise/messages"
	"mobilise/store"
)

// turnTimeout bounds the handling of one message; a reply that has started
// is still written when the channel is stopping.
const turnTimeout = 15 * time.Second

// People is what the engine needs of the coalition's people: who wrote, and
// what their role is now.
type People interface {
	// Arrive returns the contact writing from in.From, creating it for a
	// newcomer, and notes what the message says of them (name, channel).
	Arrive(ctx context.Context, in bot.Incoming) (c *store.Contact, created bool, err error)
	// Blocked records that the person at addr blocked the bot.
	Blocked(ctx context.Context, addr bot.Address) error
	// RoleOf is the person's role now.
	RoleOf(c *store.Contact) store.Role
}

// Replier queues a turn's replies; *outbox.Queue implements it.
type Replier interface {
	Reply(ctx context.Context, msgs ...bot.Outgoing) error
	// Collect returns a context in which notices to other people are held
	// back until Release, so they follow the replies of the turn.
	Collect(ctx context.Context) context.Context
	Release(ctx context.Context) error
}

// Conversations are the parts of the bot's talk the engine calls on its
// own: the main menu, the welcome, and what to say to messages that are not
// an answer.
type Conversations interface {
	// MainMenu shows what the person can do, after intro if given.
	MainMenu(t *Turn, intro string) error
	// Newcomer answers the first message of someone who has not been
	// welcomed yet and did not send /start: it starts the welcome.
	Newcomer(t *Turn) error
	// Forwarded answers a message the person forwarded: it never acts as their command.
	Forwarded(t *Turn) error
	// Media answers a message with no words that the current step cannot take.
	Media(t *Turn) error
	// AskStop answers a «إلغاء» where there is nothing to leave (the main
	// menu): the person may mean the messages, so it asks whether to stop them.
	AskStop(t *Turn) error
	// Group answers a command written in a group chat: the bot's work
	// happens in private, so it points there. Nothing of the group is kept.
	Group(ctx context.Context, in bot.Incoming) (bot.Outgoing, bool)
}

// Unprompted may also be implemented by Conversations: it is offered the
// words of a person in no conversation before they are read against the
// menu of their last turn, for what they answer that was sent outside a
// turn (a poll in a broadcast, a message pasted to be checked). It reports
// whether it took them.
type Unprompted interface {
	Unprompted(t *Turn, text string) (bool, error)
}

// Engine answers what people write.
type Engine struct {
	st     store.Backend
	cat    *messages.Catalog
	people People
	out    Replier
	conv   Conversations
	log    *slog.Logger
	now    func() time.Time
	loc    *time.Location

	cmds  []Command
	flows map[string]*Flow

	locks       keyedMutex
	floods      *floodControl
	floodExempt map[bot.ChannelName]bool
	files       FileKeeper
}

// Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithClock sets the clock, so tests can fix the time.
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithLocation sets the coalition's time zone, in which dates are typed and shown.
func WithLocation(loc *time.Location) Option { return func(e *Engine) { e.loc = loc } }

// WithFloodLimit sets how many messages a person may send in a burst, and how
// fast the allowance refills, before being asked to slow down; burst 0 turns
// the limit off.
func WithFloodLimit(burst int, every time.Duration) Option {
	return func(e *Engine) { e.floods = newFloodControl(burst, every) }
}

// WithoutFloodLimit exempts a channel from the flood limit: the terminal
// chat, where a script typing fast is the operator, not an attack.
func WithoutFloodLimit(channel bot.ChannelName) Option {
	return func(e *Engine) { e.floodExempt[channel] = true }
}

// New returns an engine over st that answers through out.
func New(st store.Backend, cat *messages.Catalog, people People, out Replier, conv Conversations, opts ...Option) *Engine {
	e := &Engine{
		st: st, cat: cat, people: people, out: out, conv: conv,
		log:         slog.New(slog.DiscardHandler),
		now:         time.Now,
		loc:         time.UTC,
		flows:       map[string]*Flow{},
		floods:      newFloodControl(20, 500*time.Millisecond),
		floodExempt: map[bot.ChannelName]bool{},
	}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Register adds commands; menus and /help list them in the order given.
func (e *Engine) Register(cmds ...Command) { e.cmds = append(e.cmds, cmds...) }

// RegisterFlow adds a multi-step conversation under its name.
func (e *Engine) RegisterFlow(name string, f *Flow) { e.flows[name] = f }

// Commands returns the registered commands in order.
func (e *Engine) Commands() []Command { return append([]Command(nil), e.cmds...) }

// Catalog returns the messages the engine speaks in.
func (e *Engine) Catalog() *messages.Catalog { return e.cat }

// HandleIncoming answers one message; see bot.Handler. The message's
// effects, its handled mark and its replies commit together. If handling
// fails, nothing of it is kept, and the person is told politely in a unit
// of its own that also marks the message handled, so a failure that would
// repeat does not hold back their later messages. It returns an error only
// when even that could not be written (the platform then delivers again).
func (e *Engine) HandleIncoming(ctx context.Context, in bot.Incoming) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), turnTimeout)
	defer cancel()
	unlock := e.locks.lock(in.From.String())
	defer unlock()

	if in.Kind == bot.KindBlocked {
		return e.unit(ctx, in, func(ctx context.Context) error { return e.people.Blocked(ctx, in.From) })
	}
	if !e.floodExempt[in.From.Channel] {
		switch e.floods.check(in.From.String(), e.now()) {
		case floodIgnore:
			e.log.Debug("ignoring flood", "channel", string(in.From.Channel))
			return nil
		case floodWarn:
			return e.unit(ctx, in, func(ctx context.Context) error {
				return e.out.Reply(ctx, e.plainReply(ctx, in, messages.ErrSlowDown))
			})
		}
	}
	if in.Group {
		return e.unit(ctx, in, func(ctx context.Context) error {
			msg, ok := e.conv.Group(ctx, in)
			if !ok {
				return nil
			}
			return e.out.Reply(ctx, msg)
		})
	}
	kept := e.keepFile(ctx, in)
	err := e.unit(ctx, in, func(ctx context.Context) error { return e.turn(ctx, in, kept) })
	if err == nil || errors.Is(err, store.ErrCorrupt) {
		return err
	}
	e.log.Error("handling message", "channel", string(in.From.Channel), "error", err)
	if aerr := e.unit(ctx, in, func(ctx context.Context) error {
		return e.out.Reply(ctx, e.plainReply(ctx, in, messages.ErrInternal))
	}); aerr != nil {
		return errors.Join(err, aerr)
	}
	return nil
}

// unit runs fn in one unit of work that also marks the message handled; a
// message handled before is skipped. The unit is one write transaction,
// shared with the messages of other people handled at the same moment
// (store.InSharedTx), so they share one commit and one sync to disk; the
// turn may then run again if another turn in it fails, which is safe as a
// turn changes nothing but the store, and acts after the commit through
// store.AfterCommit.
func (e *Engine) unit(ctx context.Context, in bot.Incoming, fn func(ctx context.Context) error) (err error) {
	return e.st.InSharedTx(ctx, func(ctx context.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("handling: %w", store.PanicError(r))
			}
		}()
		if in.ExternalID != "" {
			first, err := e.st.MarkHandled(ctx, in.From.Channel, in.ExternalID)
			if err != nil {
				return err
			}
			if !first {
				e.log.Debug("skipping a message handled before", "channel", string(in.From.Channel))
				return nil
			}
		}
		return fn(ctx)
	})
}

// plainReply is a one-line answer outside a conversation, in the language
// stored for the writer, else the platform's guess.
func (e *Engine) plainReply(ctx context.Context, in bot.Incoming, key messages.Key) bot.Outgoing {
	lang := messages.NormalizeLang(in.LangHint)
	if c, err := e.st.ContactByAddress(ctx, in.From); err == nil && c.Lang != "" {
		lang = messages.NormalizeLang(c.Lang)
	}
	return bot.Outgoing{To: in.ReplyTo(), Lang: lang, Text: e.cat.Text(lang, key, nil)}
}

// turn handles a message from a person in a private chat.
func (e *Engine) turn(ctx context.Context, in bot.Incoming, kept *keptFile) error {
	c, created, err := e.people.Arrive(ctx, in)
	if err != nil {
		return fmt.Errorf("loading contact %s: %w", in.From, err)
	}
	sess, err := e.st.Session(ctx, c.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		sess = &store.Session{}
	case err != nil:
		return fmt.Errorf("loading session of contact %d: %w", c.ID, err)
	}
	t := &Turn{e: e, ctx: e.out.Collect(ctx), in: in, c: c, created: created, sess: sess, lang: messages.NormalizeLang(c.Lang), kept: kept}
	if c.Lang == "" {
		t.lang = messages.NormalizeLang(in.LangHint)
	}
	t.role = e.people.RoleOf(c)
	if err := t.dispatch(); err != nil {
		return err
	}
	return t.finish()
}

// keyedMutex serialises work per key, so one person's messages never interleave.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedEntry{}
	}
	e := k.locks[key]
	if e == nil {
		e = &keyedEntry{}
		k.locks[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

type floodVerdict int

const (
	floodOK floodVerdict = iota
	floodWarn
	floodIgnore
)

// floodControl gives each person a token bucket; one who empties it is told
// once to slow down and ignored until it refills.
type floodControl struct {
	mu      sync.Mutex
	burst   int
	every   time.Duration
	buckets map[string]*floodBucket
}

type floodBucket struct {
	lim    *rate.Limiter
	warned bool
	last   time.Time
}

func newFloodControl(burst int, every time.Duration) *floodControl {
	return &floodControl{burst: burst, every: every, buckets: map[string]*floodBucket{}}
}

func (f *floodControl) check(key string, now time.Time) floodVerdict {
	if f.burst <= 0 {
		return floodOK
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.buckets[key]
	if b == nil {
		if len(f.buckets) > 10000 {
			f.prune(now)
		}
		b = &floodBucket{lim: rate.NewLimiter(rate.Every(f.every), f.burst)}
		f.buckets[key] = b
	}
	b.last = now
	if b.lim.AllowN(now, 1) {
		b.warned = false
		return floodOK
	}
	if b.warned {
		return floodIgnore
	}
	b.warned = true
	return floodWarn
}

// prune forgets buckets that have long been full again.
func (f *floodControl) prune(now time.Time) {
	idle := f.every * time.Duration(f.burst) * 2
	for k, b := range f.buckets {
		if now.Sub(b.last) > idle {
			delete(f.buckets, k)
		}
	}
}
