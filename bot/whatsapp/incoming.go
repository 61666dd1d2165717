package whatsapp

import (
	"strings"

	"go.mau.fi/whatsmeow/proto/waE2E"

	"mobilise/bot"
)

// content is what a person's message says, as the engine reads it.
type content struct {
	text        string
	attachment  bot.Attachment
	sharedPhone string
	place       *bot.Point
	forwarded   bool
}

// contentOf reads a message (whatsmeow has unwrapped ephemeral, view-once
// and captioned-document wrappers already): its text, or the caption of its
// media with what the media was; a location's point; a contact card's
// number. It reports false for what is not a person's message to read: a
// reaction, a poll vote, a protocol message (a deletion, a key), a pin.
func contentOf(m *waE2E.Message) (content, bool) {
	var c content
	var ctx *waE2E.ContextInfo
	switch {
	case m.GetConversation() != "":
		c.text = m.GetConversation()
	case m.GetExtendedTextMessage() != nil:
		c.text, ctx = m.GetExtendedTextMessage().GetText(), m.GetExtendedTextMessage().GetContextInfo()
	case m.GetImageMessage() != nil:
		c.attachment, c.text, ctx = bot.Photo, m.GetImageMessage().GetCaption(), m.GetImageMessage().GetContextInfo()
	case m.GetVideoMessage() != nil:
		c.attachment, c.text, ctx = bot.Video, m.GetVideoMessage().GetCaption(), m.GetVideoMessage().GetContextInfo()
	case m.GetPtvMessage() != nil:
		c.attachment, ctx = bot.Video, m.GetPtvMessage().GetContextInfo()
	case m.GetAudioMessage() != nil:
		c.attachment, ctx = bot.Voice, m.GetAudioMessage().GetContextInfo()
	case m.GetStickerMessage() != nil:
		c.attachment, ctx = bot.Sticker, m.GetStickerMessage().GetContextInfo()
	case m.GetDocumentMessage() != nil:
		c.attachment, c.text, ctx = bot.Document, m.GetDocumentMessage().GetCaption(), m.GetDocumentMessage().GetContextInfo()
	case m.GetLocationMessage() != nil:
		l := m.GetLocationMessage()
		c.attachment, ctx = bot.Location, l.GetContextInfo()
		c.place = &bot.Point{Lat: l.GetDegreesLatitude(), Lon: l.GetDegreesLongitude()}
	case m.GetLiveLocationMessage() != nil:
		l := m.GetLiveLocationMessage()
		c.attachment, c.text, ctx = bot.Location, l.GetCaption(), l.GetContextInfo()
		c.place = &bot.Point{Lat: l.GetDegreesLatitude(), Lon: l.GetDegreesLongitude()}
	case m.GetContactMessage() != nil:
		c.attachment, ctx = bot.ContactCard, m.GetContactMessage().GetContextInfo()
		c.sharedPhone = vcardPhone(m.GetContactMessage().GetVcard())
	case m.GetContactsArrayMessage() != nil:
		arr := m.GetContactsArrayMessage()
		c.attachment, ctx = bot.ContactCard, arr.GetContextInfo()
		if cs := arr.GetContacts(); len(cs) == 1 {
			// of several contacts none is the answer: the person is asked again
			c.sharedPhone = vcardPhone(cs[0].GetVcard())
		}
	case m.GetPollCreationMessage() != nil, m.GetPollCreationMessageV2() != nil, m.GetPollCreationMessageV3() != nil,
		m.GetEventMessage() != nil, m.GetGroupInviteMessage() != nil:
		c.attachment = bot.OtherMedia
	default:
		return content{}, false
	}
	c.forwarded = ctx.GetIsForwarded()
	if c.text == "" && c.attachment == bot.NoAttachment {
		return content{}, false
	}
	return c, true
}

// vcardPhone returns the first phone number of a vCard (RFC 6350; WhatsApp
// sends 3.0): the WhatsApp number of its TEL line's waid parameter where
// there is one, since that one is known to be on WhatsApp, else the number
// as written. "" if the card has none.
func vcardPhone(card string) string {
	// folded lines continue with a space or a tab
	card = strings.NewReplacer("\r\n ", "", "\r\n\t", "", "\n ", "", "\n\t", "").Replace(card)
	for line := range strings.Lines(card) {
		line = strings.TrimRight(line, "\r\n")
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		params := strings.Split(name, ";")
		prop := params[0]
		if _, after, grouped := strings.Cut(prop, "."); grouped {
			prop = after // "item1.TEL"
		}
		if !strings.EqualFold(prop, "TEL") {
			continue
		}
		for _, p := range params[1:] {
			if k, v, ok := strings.Cut(p, "="); ok && strings.EqualFold(k, "waid") && v != "" {
				return "+" + v
			}
		}
		value = strings.TrimPrefix(strings.TrimSpace(value), "tel:")
		if value != "" {
			return value
		}
	}
	return ""
}
