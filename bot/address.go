// Package bot is the contract between the coalition's bot and the messaging
// platforms it talks through: who a message is from or to (Address), what
// arrives (Incoming) and what leaves (Outgoing), the Channel a platform
// implements, the errors a send can end in, and the optional capabilities a
// channel may offer (Editor, Linker). It imports nothing of the bot's own:
// the channel packages (bot/telegram, bot/whatsapp, bot/console) depend on it
// alone, and the engine, the operations and the outbox speak its types.
package bot

import (
	"fmt"
	"strings"
)

// ChannelName names a messaging platform. It is the prefix of the
// platform's addresses and the key its outbox queue and limits go by.
type ChannelName string

// The channels the bot runs on.
const (
	Telegram ChannelName = "telegram"
	WhatsApp ChannelName = "whatsapp"
	Console  ChannelName = "console"
)

// Address identifies one person, or one group chat, on one channel; it is
// written "telegram:12345", "whatsapp:970599123456" or "console:alice", the
// form the store keys by.
type Address struct {
	Channel ChannelName
	ID      string
}

// String returns the address in its "channel:id" form.
func (a Address) String() string {
	if a.IsZero() {
		return ""
	}
	return string(a.Channel) + ":" + a.ID
}

// IsZero reports whether a is the empty address.
func (a Address) IsZero() bool { return a.Channel == "" && a.ID == "" }

// ParseAddress parses the "channel:id" form. Both parts must be present and
// the channel name may not contain a colon, a space or a NUL byte.
func ParseAddress(s string) (Address, error) {
	ch, id, _ := strings.Cut(strings.TrimSpace(s), ":")
	a := Address{Channel: ChannelName(ch), ID: id}
	if !a.Valid() {
		return Address{}, fmt.Errorf("address %q: want channel:id", s)
	}
	return a, nil
}

// Valid reports whether a can be written and read back: both parts present,
// and a channel name without a colon, a space or a NUL byte.
func (a Address) Valid() bool {
	return a.Channel != "" && a.ID != "" && !strings.ContainsAny(string(a.Channel), ": \x00")
}

// MustParseAddress is ParseAddress for addresses written in code and tests.
func MustParseAddress(s string) Address {
	a, err := ParseAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}

// MarshalText writes the "channel:id" form, so an Address is a string in JSON.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads the "channel:id" form; an empty text is the zero address.
func (a *Address) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*a = Address{}
		return nil
	}
	p, err := ParseAddress(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}
