package telegram

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode"

	tgmodels "github.com/go-telegram/bot/models"

	"mobilise/bot"
)

// allowedUpdates are the update types the bot asks Telegram for; everything
// else would only be ignored.
func allowedUpdates() []string {
	return []string{
		tgmodels.AllowedUpdateMessage,
		tgmodels.AllowedUpdateCallbackQuery,
		tgmodels.AllowedUpdateMyChatMember,
	}
}

// decodeUpdate decodes one update. An update whose update_id can be read but
// whose body cannot (say, a chat member status this library does not know)
// returns its ID with the error, so it can be skipped past.
func decodeUpdate(raw []byte) (int64, *tgmodels.Update, error) {
	var head struct {
		ID *int64 `json:"update_id"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return 0, nil, fmt.Errorf("decoding update: %w", err)
	}
	if head.ID == nil {
		return 0, nil, errors.New("decoding update: no update_id")
	}
	u := &tgmodels.Update{}
	if err := json.Unmarshal(raw, u); err != nil {
		return *head.ID, nil, fmt.Errorf("decoding update %d: %w", *head.ID, err)
	}
	return *head.ID, u, nil
}

// incomingFromUpdate maps an update onto what the engine handles, or reports
// false for updates it does not act on. It maps:
//   - a private message: its text, unchanged ("/start payload" included), or
//     the caption of its media, with Attachment saying what the media was; a
//     shared contact gives SharedPhone, a shared location Place; a forwarded
//     message sets Forwarded (FromBot when it was this bot's own message);
//     service messages are ignored;
//   - a command addressed to this bot in a group ("/cmd@bot args"): Text
//     "/cmd args", Group set and Chat the group; other group messages are ignored;
//   - a button press: Payload is its callback_data, Text is "";
//   - the person blocking the bot (my_chat_member "kicked" in a private chat):
//     Kind bot.KindBlocked.
//
// Edited messages, channel posts and everything else are ignored. ReceivedAt
// is the message date where there is one, else zero.
func incomingFromUpdate(u *tgmodels.Update, botUsername string) (bot.Incoming, bool) {
	switch {
	case u.Message != nil:
		return incomingFromMessage(u.ID, u.Message, botUsername)
	case u.CallbackQuery != nil:
		return incomingFromCallback(u.ID, u.CallbackQuery)
	case u.MyChatMember != nil:
		return incomingFromMyChatMember(u.ID, u.MyChatMember)
	}
	return bot.Incoming{}, false
}

func incomingFromMessage(updateID int64, m *tgmodels.Message, botUsername string) (bot.Incoming, bool) {
	// no From: sent on behalf of a channel or an anonymous group admin
	if m.From == nil || m.From.IsBot {
		return bot.Incoming{}, false
	}
	in := incomingFrom(updateID, m.From, m.Date)
	switch m.Chat.Type {
	case tgmodels.ChatTypePrivate:
		if m.Text == "" && !hasContent(m) {
			return bot.Incoming{}, false
		}
		in.Text = m.Text
		if in.Text == "" {
			in.Text = m.Caption
		}
		in.Attachment = attachmentOf(m)
		in.File, _ = incomingFile(m)
		if m.Contact != nil {
			in.SharedPhone = internationalPhone(m.Contact.PhoneNumber)
		}
		switch {
		case m.Location != nil:
			in.Place = &bot.Point{Lat: m.Location.Latitude, Lon: m.Location.Longitude}
		case m.Venue != nil:
			in.Place = &bot.Point{Lat: m.Venue.Location.Latitude, Lon: m.Venue.Location.Longitude}
		}
		in.Forwarded = forwardOf(m, botUsername)
		return in, true
	case tgmodels.ChatTypeGroup, tgmodels.ChatTypeSupergroup:
		text, ok := commandFor(m.Text, botUsername)
		if !ok {
			return bot.Incoming{}, false
		}
		in.Text = text
		in.Group = true
		in.Chat = address(m.Chat.ID)
		return in, true
	}
	return bot.Incoming{}, false
}

// internationalPhone writes a shared contact's number with its "+":
// Telegram gives the person's own number in international form without it
// ("970599123456"), and a contact card as it was saved.
func internationalPhone(p string) string {
	p = strings.TrimSpace(p)
	if p == "" || strings.HasPrefix(p, "+") || strings.HasPrefix(p, "0") {
		return p
	}
	for _, r := range p {
		if r < '0' || r > '9' {
			return p
		}
	}
	return "+" + p
}

// hasContent reports whether a message carries something the person sent
// (media, a contact, a location...), as opposed to a service message.
func hasContent(m *tgmodels.Message) bool {
	return m.Caption != "" || len(m.Photo) > 0 || m.Animation != nil || m.Audio != nil ||
		m.Document != nil || m.Sticker != nil || m.Video != nil || m.VideoNote != nil ||
		m.Voice != nil || m.Contact != nil || m.Location != nil || m.Venue != nil ||
		m.Poll != nil || m.Dice != nil || m.Story != nil || m.Checklist != nil || m.PaidMedia != nil
}

// attachmentOf names what a message carried besides text.
func attachmentOf(m *tgmodels.Message) bot.Attachment {
	switch {
	case len(m.Photo) > 0:
		return bot.Photo
	case m.Video != nil || m.VideoNote != nil || m.Animation != nil:
		return bot.Video
	case m.Voice != nil || m.Audio != nil:
		return bot.Voice
	case m.Sticker != nil:
		return bot.Sticker
	case m.Document != nil:
		return bot.Document
	case m.Location != nil || m.Venue != nil:
		return bot.Location
	case m.Contact != nil:
		return bot.ContactCard
	case hasContent(m) && m.Caption == "":
		return bot.OtherMedia
	}
	return bot.NoAttachment
}

// forwardOf describes where a forwarded message came from, nil if it was not forwarded.
func forwardOf(m *tgmodels.Message, botUsername string) *bot.Forward {
	o := m.ForwardOrigin
	if o == nil {
		return nil
	}
	f := &bot.Forward{}
	switch {
	case o.MessageOriginUser != nil:
		u := o.MessageOriginUser.SenderUser
		f.FromBot = u.IsBot && botUsername != "" && strings.EqualFold(u.Username, botUsername)
		f.Date = unixTime(o.MessageOriginUser.Date)
	case o.MessageOriginHiddenUser != nil:
		f.Date = unixTime(o.MessageOriginHiddenUser.Date)
	case o.MessageOriginChat != nil:
		f.Date = unixTime(o.MessageOriginChat.Date)
	case o.MessageOriginChannel != nil:
		f.Date = unixTime(o.MessageOriginChannel.Date)
		f.MessageID = strconv.Itoa(o.MessageOriginChannel.MessageID)
	}
	return f
}

func unixTime(sec int) time.Time {
	if sec <= 0 {
		return time.Time{}
	}
	return time.Unix(int64(sec), 0).UTC()
}

// commandFor returns text with "@botUsername" removed from its command if the
// command is addressed to this bot: in groups, a bare "/cmd" may be meant for
// another bot.
func commandFor(text, botUsername string) (string, bool) {
	if !strings.HasPrefix(text, "/") || botUsername == "" {
		return "", false
	}
	end := strings.IndexFunc(text, unicode.IsSpace)
	if end < 0 {
		end = len(text)
	}
	name, target, ok := strings.Cut(text[:end], "@")
	if !ok || !strings.EqualFold(target, botUsername) || len(name) < 2 {
		return "", false
	}
	return name + text[end:], true
}

func incomingFromCallback(updateID int64, q *tgmodels.CallbackQuery) (bot.Incoming, bool) {
	// no data: a game button, which this bot never sends
	if q.Data == "" || q.From.IsBot {
		return bot.Incoming{}, false
	}
	in := incomingFrom(updateID, &q.From, 0)
	in.Payload = q.Data
	var chat *tgmodels.Chat
	switch {
	case q.Message.Message != nil:
		chat = &q.Message.Message.Chat
	case q.Message.InaccessibleMessage != nil:
		chat = &q.Message.InaccessibleMessage.Chat
	}
	if chat != nil && (chat.Type == tgmodels.ChatTypeGroup || chat.Type == tgmodels.ChatTypeSupergroup) {
		in.Group = true
		in.Chat = address(chat.ID)
	}
	return in, true
}

func incomingFromMyChatMember(updateID int64, cm *tgmodels.ChatMemberUpdated) (bot.Incoming, bool) {
	// the bot removed from a group is not a person blocking it
	if cm.Chat.Type != tgmodels.ChatTypePrivate || cm.NewChatMember.Type != tgmodels.ChatMemberTypeBanned {
		return bot.Incoming{}, false
	}
	in := incomingFrom(updateID, &cm.From, cm.Date)
	in.Kind = bot.KindBlocked
	return in, true
}

func incomingFrom(updateID int64, u *tgmodels.User, date int) bot.Incoming {
	in := bot.Incoming{
		From:       address(u.ID),
		Name:       strings.TrimSpace(u.FirstName + " " + u.LastName),
		LangHint:   u.LanguageCode,
		ExternalID: strconv.FormatInt(updateID, 10),
	}
	if date > 0 {
		in.ReceivedAt = time.Unix(int64(date), 0).UTC()
	}
	return in
}

func address(id int64) bot.Address {
	return bot.Address{Channel: channelName, ID: strconv.FormatInt(id, 10)}
}

// shard picks the worker for a person, so their updates stay in order.
func shard(in bot.Incoming, n int) int {
	h := fnv.New32a()
	h.Write([]byte(in.From.ID))
	return int(h.Sum32() % uint32(n))
}
