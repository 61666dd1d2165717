package bot

import "time"

// Kind tells a message apart from an event the platform reports about a person.
type Kind string

const (
	// KindMessage is something the person sent: text, a button press, media.
	KindMessage Kind = ""
	// KindBlocked means the person blocked the bot or left: stop sending to them.
	KindBlocked Kind = "blocked"
)

// Attachment names what a message carried besides its text.
type Attachment string

// The attachments channels report. A caption comes as the message's Text.
const (
	NoAttachment Attachment = ""
	Photo        Attachment = "photo"
	Video        Attachment = "video"
	Voice        Attachment = "voice" // a voice note or an audio file
	Sticker      Attachment = "sticker"
	Document     Attachment = "document"
	Location     Attachment = "location"
	ContactCard  Attachment = "contact"
	OtherMedia   Attachment = "other" // a poll, a dice, a story...
)

// Point is a place on Earth a person shared.
type Point struct{ Lat, Lon float64 }

// Forward describes where a forwarded message came from.
type Forward struct {
	// FromBot is set when the forwarded message was one this bot sent.
	FromBot bool
	// MessageID is the platform's ID of the original message, when FromBot and the platform says.
	MessageID string
	// Date is when the original was sent, when the platform says.
	Date time.Time
}

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
	// Text is what the person typed, or the caption of their media; Payload
	// is the data of a pressed button.
	Text, Payload string
	// Attachment says what else the message carried; SharedPhone and Place
	// hold a shared contact's number and a shared location.
	Attachment  Attachment
	SharedPhone string
	// File is the photo, document or video the message carried, where
	// the channel can fetch it.
	File  *IncomingFile
	Place *Point
	// Forwarded is set when the person forwarded the message rather than wrote it.
	Forwarded *Forward
	// LangHint is the platform's guess of the person's language (Telegram's language_code).
	LangHint string
	// ExternalID is the platform's update or message ID: the engine records
	// it in the unit of work that handles the message, so one delivered
	// twice is handled once.
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

// Button is one option of a menu. Payload is at most 64 bytes of printable
// ASCII, so it fits Telegram's callback_data.
type Button struct {
	Text    string `json:"text"`
	Payload string `json:"payload"`
}

// Outgoing is one message to a person. Text is already localised plain text:
// channels escape it for their markup. Buttons is a menu, one row per slice;
// channels that cannot show buttons number the options instead.
type Outgoing struct {
	To      Address
	Text    string
	Buttons [][]Button
	// Lang is the language Text is written in, so a channel can render its
	// own chrome (such as the numbering hint) to match.
	Lang string
	// PhoneButton, when set, is the label of a button that shares the
	// person's phone number in one tap, where the platform has one
	// (Telegram's request_contact keyboard).
	PhoneButton string
	// Media, when set, is a file sent with Text as its caption, by channels
	// that are a MediaSender.
	Media *Media
}
