package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"mobilise/store"
)

// Address identifies one person on one channel, written "telegram:12345",
// "whatsapp:970599123456" or "console:alice".
type Address struct{ Channel, ID string }

// String returns the address in its "channel:id" form, the form the store keys by.
func (a Address) String() string { return a.Channel + ":" + a.ID }

// IsZero reports whether a is the empty address.
func (a Address) IsZero() bool { return a.Channel == "" && a.ID == "" }

// ParseAddress parses the "channel:id" form.
func ParseAddress(s string) (Address, error) {
	ch, id, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || ch == "" || id == "" {
		return Address{}, fmt.Errorf("address %q: want channel:id", s)
	}
	return Address{Channel: ch, ID: id}, nil
}

// Kind tells a message apart from an event the platform reports about a person.
type Kind string

const (
	// KindMessage is text typed by the person or a button they pressed.
	KindMessage Kind = ""
	// KindBlocked means the person blocked the bot or left: stop sending to them.
	KindBlocked Kind = "blocked"
)

// Incoming is one message, button press or platform event from a person.
type Incoming struct {
	Kind Kind
	From Address
	// Chat is where a reply goes when it is not From: a group chat the command was sent in.
	Chat Address
	// Group is set for messages written in a group chat rather than a private one.
	Group bool
	// Name is the display name the platform reports.
	Name string
	// Text is what the person typed; Payload is the data of a pressed button.
	Text, Payload string
	// LangHint is the platform's guess of the person's language (Telegram's language_code).
	LangHint string
	// ExternalID is the platform's message or update ID, for logs and de-duplication.
	ExternalID string
	ReceivedAt time.Time
}

// ReplyTo returns the address a reply to in goes to.
func (in Incoming) ReplyTo() Address {
	if !in.Chat.IsZero() {
		return in.Chat
	}
	return in.From
}

// Button is one option of a menu. Payload is at most 64 bytes of printable ASCII,
// so it fits Telegram's callback_data.
type Button struct{ Text, Payload string }

// Outgoing is one message to a person. Text is already localised plain text:
// channels escape it for their markup. Buttons is a menu, one row per slice;
// channels that cannot show buttons number the options instead.
type Outgoing struct {
	To      Address
	Text    string
	Buttons [][]Button
	// Lang is the language Text is written in, so a channel can render its own
	// chrome (such as the numbering hint) to match.
	Lang string
}

// Channel is a messaging platform the bot talks through.
type Channel interface {
	// Name is the address prefix: "telegram", "whatsapp", "console".
	Name() string
	// Run passes each received message to h until ctx is cancelled, and
	// returns once no call to h is running.
	Run(ctx context.Context, h Handler) error
	// Send returns the platform message ID. Errors wrap ErrRecipientGone or
	// are a *ThrottledError where they apply.
	Send(ctx context.Context, msg Outgoing) (string, error)
}

// Handler receives what channels read.
type Handler interface {
	HandleIncoming(ctx context.Context, in Incoming)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, in Incoming)

// HandleIncoming calls f.
func (f HandlerFunc) HandleIncoming(ctx context.Context, in Incoming) { f(ctx, in) }

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

// Command is one entry of a channel's command menu.
type Command struct{ Name, Description string }

// CommandDirectory describes which commands each role sees, so a channel with
// command menus (Telegram's setMyCommands) can show each person theirs.
type CommandDirectory interface {
	// Commands returns the commands a person of role sees, described in lang.
	Commands(lang string, role store.Role) []Command
	// Privileged lists the people on channel whose role is above citizen.
	Privileged(channel string) ([]PrivilegedContact, error)
}

// PrivilegedContact is a person with a role above citizen on one channel.
type PrivilegedContact struct {
	Address Address
	Role    store.Role
	Lang    string
}
