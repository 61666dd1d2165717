package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sender delivers messages on one channel. Every Channel is a Sender.
type Sender interface {
	Name() ChannelName
	// Send returns the platform message ID. Errors wrap ErrRecipientGone or
	// ErrChannelDown, or are a *ThrottledError, where they apply.
	Send(ctx context.Context, msg Outgoing) (string, error)
}

// Channel is a messaging platform the bot talks through.
type Channel interface {
	Sender
	// Run passes each received message to h until ctx is cancelled, and
	// returns once no call to h is running.
	Run(ctx context.Context, h Handler) error
}

// Handler receives what channels read. HandleIncoming returns nil once the
// message is handled for good: its effects and its replies are committed
// (or it was handled before). Only then may a channel confirm the message
// to its platform (advance Telegram's offset, answer a webhook 200); after an
// error the platform's redelivery brings it again.
type Handler interface {
	HandleIncoming(ctx context.Context, in Incoming) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, in Incoming) error

// HandleIncoming calls f.
func (f HandlerFunc) HandleIncoming(ctx context.Context, in Incoming) error { return f(ctx, in) }

// ErrRecipientGone means the person blocked the bot or their account is gone:
// mark them unreachable until they write again.
var ErrRecipientGone = errors.New("recipient gone")

// ErrChannelDown means a channel cannot send at all for now: its account is
// logged out, banned, or refused by the platform. Whoever sends in bulk stops
// on that channel, keeps its queue, and waits for an admin to resume.
var ErrChannelDown = errors.New("channel down")

// ThrottledError is returned by Send when the platform asks the bot to wait.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("throttled: retry after %s", e.RetryAfter)
}

// Throttle is the one gate every call on a platform account passes: the
// outbox paces sends through it, and a channel's other calls (menus, updates)
// wait in it too, so a 429 stops everything on that account at once.
type Throttle interface {
	// Wait returns when a call may be made, or ctx's error.
	Wait(ctx context.Context) error
	// Throttled records that the platform asked for a pause of d.
	Throttled(d time.Duration)
}

// Linker is implemented by channels that can make a link which opens the bot
// with a start payload (Telegram deep links, wa.me links).
type Linker interface {
	// ShareLink returns a link that, opened by anyone, starts a chat with the
	// bot carrying payload. Payload is at most 64 characters of A-Z a-z 0-9 _ -.
	ShareLink(payload string) string
}

// Editor is implemented by channels that can change a message already sent,
// so a broadcast's progress shows in one message rather than many.
type Editor interface {
	Edit(ctx context.Context, messageID string, msg Outgoing) error
}

// Unwrapper is implemented by wrappers around a Sender (metrics, logging),
// so a capability the wrapper does not forward can still be found.
type Unwrapper interface {
	Unwrap() Sender
}

// EditorOf returns s's Editor, looking through wrappers.
func EditorOf(s Sender) (Editor, bool) {
	for s != nil {
		if e, ok := s.(Editor); ok {
			return e, true
		}
		u, ok := s.(Unwrapper)
		if !ok {
			return nil, false
		}
		s = u.Unwrap()
	}
	return nil, false
}

// LinkerOf returns s's Linker, looking through wrappers.
func LinkerOf(s Sender) (Linker, bool) {
	for s != nil {
		if l, ok := s.(Linker); ok {
			return l, true
		}
		u, ok := s.(Unwrapper)
		if !ok {
			return nil, false
		}
		s = u.Unwrap()
	}
	return nil, false
}

// HandlerUnwrapper is implemented by wrappers around a Handler (metrics,
// logging), so the capabilities of the handler inside can be found.
type HandlerUnwrapper interface {
	Unwrap() Handler
}

// DirectoryOf returns the CommandDirectory a handler offers, looking
// through wrappers: a channel given a handler that has one sets menus.
func DirectoryOf(h Handler) (CommandDirectory, bool) {
	for h != nil {
		if d, ok := h.(CommandDirectory); ok {
			return d, true
		}
		u, ok := h.(HandlerUnwrapper)
		if !ok {
			return nil, false
		}
		h = u.Unwrap()
	}
	return nil, false
}

// AlerterOf returns the Alerter a handler offers, looking through wrappers.
func AlerterOf(h Handler) (Alerter, bool) {
	for h != nil {
		if a, ok := h.(Alerter); ok {
			return a, true
		}
		u, ok := h.(HandlerUnwrapper)
		if !ok {
			return nil, false
		}
		h = u.Unwrap()
	}
	return nil, false
}

// Command is one entry of a channel's command menu.
type Command struct{ Name, Description string }

// PersonalMenu is the command menu of one person whose role shows more than
// the default menu.
type PersonalMenu struct {
	Address  Address
	Commands []Command
}

// CommandDirectory says which commands people see, so a channel with command
// menus (Telegram's setMyCommands) can show each person theirs.
type CommandDirectory interface {
	// DefaultCommands is everyone's menu, described in lang.
	DefaultCommands(lang string) []Command
	// PersonalMenus lists the people on channel whose menu is longer than
	// the default, each with theirs in their language.
	PersonalMenus(ctx context.Context, channel ChannelName) ([]PersonalMenu, error)
	// MenusChanged receives a value after someone's role changed.
	MenusChanged() <-chan struct{}
}

// AlertKind names a problem with a channel that the admins must hear of.
type AlertKind string

// The alerts channels raise.
const (
	AlertLoggedOut AlertKind = "logged_out"
	AlertBanned    AlertKind = "banned"
	AlertReplaced  AlertKind = "replaced"
	AlertConnect   AlertKind = "connect"
	AlertBlocked   AlertKind = "blocked"
)

// Alert is a channel's news for the admins.
type Alert struct {
	Channel ChannelName
	Kind    AlertKind
	Detail  string
	// Until is when a temporary ban ends, if the platform said.
	Until time.Time
}

// Alerter tells the admins, on whatever channel still reaches them.
type Alerter interface {
	Alert(ctx context.Context, a Alert) error
}
