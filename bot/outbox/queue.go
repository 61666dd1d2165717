package outbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"mobilise/bot"
	"mobilise/messages"
	"mobilise/store"
)

// Notice is a message for one person other than the one being answered,
// written in their language when it is queued.
type Notice struct {
	ContactID uint64
	// Render returns the message's text and buttons in lang.
	Render func(lang string) (string, [][]bot.Button)
	// AvoidChannel is a channel the notice must not go through (an alert about that channel).
	AvoidChannel bot.ChannelName
	// Bulk notices go to many people at once (every pledger of a campaign):
	// they wait out quiet hours and keep to the channel's bulk pace.
	Bulk bool
	// RequireConsent drops the notice for people who have not consented to
	// messages or have said /stop; answers to something they asked for go regardless.
	RequireConsent bool
	// UnlessStopped drops the notice for people who said /stop since they
	// asked for it (to hear when a campaign opens, say).
	UnlessStopped bool
	// Before is when the notice stops being of use (the event it is about):
	// quiet hours hold it only while it can still arrive before then.
	Before time.Time
	// Kind names what the notice is, for logs ("target_reached", "broadcast_approval").
	Kind store.MessageKind
	// Media is a file sent with the notice, its text as the caption (the
	// poster of a broadcast shown to the admin who approves it).
	Media *store.Media
}

// Queue puts messages in the store's outbox, in the caller's unit of work
// (store.InTx), and wakes the Dispatcher once that commits. It is the only
// way a message leaves: replies, notices, broadcasts and reminders all go
// through the outbox, so one pacer per platform account sees everything.
type Queue struct {
	st       store.Backend
	channels []bot.ChannelName
	wake     chan struct{}
	resume   chan struct{}
}

// NewQueue returns a Queue for messages on the channels given: the ones
// the bot has a sender for, so a notice goes to an address it can reach.
func NewQueue(st store.Backend, channels ...bot.ChannelName) *Queue {
	return &Queue{st: st, channels: slices.Clone(channels), wake: make(chan struct{}, 1), resume: make(chan struct{}, 1)}
}

// Channels returns the channels messages can be queued for.
func (q *Queue) Channels() []bot.ChannelName { return slices.Clone(q.channels) }

// Has reports whether messages can be queued for channel.
func (q *Queue) Has(channel bot.ChannelName) bool { return slices.Contains(q.channels, channel) }

// Reply queues the answers to what a person just wrote, ahead of any bulk
// message, in the order given.
func (q *Queue) Reply(ctx context.Context, msgs ...bot.Outgoing) error {
	if len(msgs) == 0 {
		return nil
	}
	entries := make([]store.OutboxEntry, 0, len(msgs))
	for _, m := range msgs {
		entries = append(entries, entryOf(m, store.KindReply))
	}
	if err := q.st.Enqueue(ctx, entries...); err != nil {
		return fmt.Errorf("queueing a reply: %w", err)
	}
	store.AfterCommit(ctx, q.Wake)
	return nil
}

// entryOf is the outbox entry of an outgoing message.
func entryOf(m bot.Outgoing, kind store.MessageKind) store.OutboxEntry {
	return store.OutboxEntry{To: m.To, Text: m.Text, Buttons: m.Buttons, Lang: m.Lang, Kind: kind, PhoneButton: m.PhoneButton,
		Media: store.MediaOf(m.Media)}
}

// Notify queues notices, each rendered in its person's language and
// addressed to their preferred reachable channel (see Resolve); a notice
// Resolve drops is not queued.
func (q *Queue) Notify(ctx context.Context, notices ...Notice) error {
	var entries []store.OutboxEntry
	var errs []error
	for _, n := range notices {
		msg, ok, err := q.Resolve(ctx, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		e := entryOf(msg, n.Kind)
		e.ContactID, e.Bulk, e.Before, e.Media = n.ContactID, n.Bulk, n.Before, n.Media
		entries = append(entries, e)
	}
	if c := collectorOf(ctx); c != nil {
		c.entries = append(c.entries, entries...)
		return errors.Join(errs...)
	}
	if len(entries) > 0 {
		if err := q.st.Enqueue(ctx, entries...); err != nil {
			errs = append(errs, fmt.Errorf("queueing %d notices: %w", len(entries), err))
		} else {
			store.AfterCommit(ctx, q.Wake)
		}
	}
	return errors.Join(errs...)
}

// collector holds the notices of one turn until its replies are queued.
type collector struct{ entries []store.OutboxEntry }

type collectKey struct{}

func collectorOf(ctx context.Context) *collector {
	c, _ := ctx.Value(collectKey{}).(*collector)
	return c
}

// Collect returns a context in which Notify holds notices back until
// Release: a turn queues its replies first, so a person who is both
// answered and notified reads them in order.
func (q *Queue) Collect(ctx context.Context) context.Context {
	return context.WithValue(ctx, collectKey{}, &collector{})
}

// Release queues the notices held back in ctx since Collect.
func (q *Queue) Release(ctx context.Context) error {
	c := collectorOf(ctx)
	if c == nil || len(c.entries) == 0 {
		return nil
	}
	entries := c.entries
	c.entries = nil
	if err := q.st.Enqueue(ctx, entries...); err != nil {
		return fmt.Errorf("queueing %d notices: %w", len(entries), err)
	}
	store.AfterCommit(ctx, q.Wake)
	return nil
}

// Resolve works out the message n becomes: rendered in the contact's
// language and addressed to their preferred channel if usable, else to
// their first address that is not unreachable, on a channel other than
// n.AvoidChannel that the queue has. ok is false when the notice is to be
// dropped: the contact no longer exists, has not consented or said /stop
// while n.RequireConsent, or cannot be reached.
func (q *Queue) Resolve(ctx context.Context, n Notice) (msg bot.Outgoing, ok bool, err error) {
	c, err := q.st.Contact(ctx, n.ContactID)
	if errors.Is(err, store.ErrNotFound) {
		return bot.Outgoing{}, false, nil
	}
	if err != nil {
		return bot.Outgoing{}, false, fmt.Errorf("notice %s: %w", n.Kind, err)
	}
	if n.RequireConsent && (!c.Consent || c.Stopped) || n.UnlessStopped && c.Stopped {
		return bot.Outgoing{}, false, nil
	}
	to, ok := c.ReachableAddress(func(ch bot.ChannelName) bool { return ch != n.AvoidChannel && q.Has(ch) })
	if !ok {
		return bot.Outgoing{}, false, nil
	}
	lang := messages.NormalizeLang(c.Lang)
	text, buttons := n.Render(lang)
	return bot.Outgoing{To: to, Lang: lang, Text: text, Buttons: buttons}, true, nil
}

// Wake tells the dispatcher that messages were queued, or that a hold was
// lifted. It never blocks.
func (q *Queue) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Resume restarts the channels that stopped because they were down (a
// WhatsApp number banned or refused), once an admin says so.
func (q *Queue) Resume() {
	select {
	case q.resume <- struct{}{}:
	default:
	}
}
