package coalition

import (
	"strings"
	"time"

	"mobilise/bot"
	"mobilise/messages"
	"mobilise/store"
)

// The coalition's words for its own things, in a reader's language: shared
// by the notices the operations send and the replies front ends render.

// InLang picks between the Arabic and English forms of a text people
// wrote: the English for a reader of English when there is one, else the
// Arabic, which is always given.
func InLang(lang, ar, en string) string {
	if lang == "en" && en != "" {
		return en
	}
	return ar
}

// Title returns the campaign's title in lang, falling back to Arabic.
func Title(c *store.Campaign, lang string) string { return InLang(lang, c.TitleAR, c.TitleEN) }

// Call returns the campaign's call to action in lang, falling back to Arabic.
func Call(c *store.Campaign, lang string) string { return InLang(lang, c.CallAR, c.CallEN) }

// InstitutionName returns the institution's name in lang.
func InstitutionName(inst *store.Institution, lang string) string {
	return InLang(lang, inst.NameAR, inst.NameEN)
}

// Words renders the coalition's things for one catalog and time zone.
type Words struct {
	Cat *messages.Catalog
	Loc *time.Location
	// Now is the clock: dates near it are written without their year.
	Now func() time.Time
}

// words returns the rules' Words.
func (r *rules) words() Words { return Words{Cat: r.cat, Loc: r.loc, Now: r.now} }

// Words returns the words the coalition speaks in, for front ends.
func (co *Coalition) Words() Words { return co.People.words() }

// Time shows a date and time in the coalition's time zone, the way a reader
// of lang reads them: «الجمعة ٢٠ كانون الأول، ٦:٠٠ مساءً», "Friday 20
// December, 6:00 pm".
func (w Words) Time(lang string, at time.Time) string {
	if at.IsZero() {
		return w.Cat.Text(lang, messages.CommonNone, nil)
	}
	return messages.FormatDateTime(lang, at.In(w.Loc), messages.Around(w.Now()))
}

// Date shows a date the way a reader of lang reads it.
func (w Words) Date(lang string, at time.Time) string {
	return messages.FormatDate(lang, at.In(w.Loc), messages.Around(w.Now()))
}

// About says roughly how long something will take: "about 5 minutes", or
// "under a minute".
func (w Words) About(lang string, d time.Duration) string {
	if d < time.Minute {
		return w.Cat.Text(lang, messages.LessThanMinute, nil)
	}
	return w.Cat.Text(lang, messages.TimeAbout, map[string]any{"Duration": w.Duration(lang, d)})
}

// Duration says how long something takes, in whole minutes or hours.
func (w Words) Duration(lang string, d time.Duration) string {
	if d < time.Minute {
		return w.Cat.Text(lang, messages.LessThanMinute, nil)
	}
	if d < 2*time.Hour {
		return w.Cat.Count(lang, messages.Minutes, int((d+time.Minute-1)/time.Minute), nil)
	}
	return w.Cat.Count(lang, messages.Hours, int((d+time.Hour-1)/time.Hour), nil)
}

// Audience describes an audience in lang; campaign names the campaign of a
// campaign audience (nil when there is none or it is gone).
func (w Words) Audience(aud store.Audience, campaign *store.Campaign, lang string) string {
	suffix := ""
	if campaign != nil {
		suffix = " «" + Title(campaign, lang) + "»"
	}
	switch aud.Kind {
	case store.AudienceMembers:
		return w.Cat.Text(lang, messages.AudienceMembers, nil)
	case store.AudienceGovernorate:
		return w.Cat.Text(lang, messages.AudienceGovernorate, nil) + ": " + w.Cat.Text(lang, messages.GovernorateKey(aud.Governorate), nil)
	case store.AudienceLang:
		return w.Cat.Text(lang, messages.AudienceLang, nil) + ": " + w.Cat.Text(lang, messages.LangKey(aud.Lang), nil)
	case store.AudiencePledgers:
		return w.Cat.Text(lang, messages.AudiencePledgers, nil) + suffix
	case store.AudienceSignups:
		return w.Cat.Text(lang, messages.AudienceSignups, nil) + suffix
	case store.AudienceNotPledged:
		return w.Cat.Text(lang, messages.AudienceNotPledged, nil) + suffix
	case store.AudiencePollAnswer:
		return w.Cat.Text(lang, messages.AudiencePollAnswer, map[string]any{
			"N": messages.FormatID(lang, uint64(aud.Option+1)), "ID": messages.FormatID(lang, aud.PollID),
		})
	}
	return w.Cat.Text(lang, messages.AudienceEveryone, nil)
}

// Person names a person for admins without showing their phone number:
// their number in the bot, name and channels.
func (w Words) Person(c *store.Contact, lang string) string {
	if c == nil {
		return messages.Isolate(w.Cat.Text(lang, messages.CommonNoName, nil))
	}
	var chans []string
	for _, a := range c.Addresses {
		chans = append(chans, w.Channel(lang, a.Channel))
	}
	name := c.Name
	if name == "" {
		name = w.Cat.Text(lang, messages.CommonNoName, nil)
	}
	return messages.Isolate("#"+messages.FormatID(lang, c.ID)) + " " + messages.Isolate(name) + " (" + strings.Join(chans, w.Cat.Text(lang, messages.CommonListSep, nil)) + ")"
}

// Message renders one recipient's copy of a broadcast or reminder: their
// language, on WhatsApp their name (so no two messages are the same text),
// whom it is from (the coalition, or the institutions that organise it)
// and the verification line of code at its end, and the button that opens
// the campaign. The two lines are in the language of the text they end:
// Arabic for a reader of English without an English text, so a copy says
// the words its call recorded (Attributed) whoever reads it.
func (w Words) Message(from From, textAR, textEN string, c *store.Campaign, lang string, channel bot.ChannelName, name, code string) (string, [][]bot.Button) {
	signLang := lang
	if lang == messages.English && textEN == "" {
		signLang = messages.Arabic
	}
	return w.Copy(w.Signed(w.Attributed(from, InLang(lang, textAR, textEN), signLang), code, signLang), c, lang, channel, name)
}

// Copy renders one recipient's copy of a bulk text already signed (a
// broadcast's texts carry their lines from the moment it is queued): on
// WhatsApp their name before it, so no two messages are the same text, and
// the button that opens the campaign.
func (w Words) Copy(text string, c *store.Campaign, lang string, channel bot.ChannelName, name string) (string, [][]bot.Button) {
	if channel == bot.WhatsApp && name != "" {
		text = w.Cat.Text(lang, messages.BroadcastGreeting, map[string]any{"Name": name}) + "\n\n" + text
	}
	if c == nil {
		return text, nil
	}
	return text, [][]bot.Button{{{Text: w.Cat.Text(lang, messages.BroadcastOpenCampaign, nil), Payload: "/campaign " + c.Code}}}
}

// Signature is the line that ends a bulk message, naming whom it is from.
func (w Words) Signature(from From, lang string) string {
	return w.Cat.Text(lang, messages.OrgSignature, map[string]any{"Organiser": messages.Isolate(w.Organiser(from, lang))})
}

// Attributed is the text of a bulk message in lang with its Signature at
// the end: the words a call records and checks, before its code line. An
// empty text (no English version) stays empty.
func (w Words) Attributed(from From, text, lang string) string {
	if text == "" {
		return ""
	}
	return text + "\n\n" + w.Signature(from, lang)
}

// Progress describes how far a campaign has come, in correct plural forms.
func (w Words) Progress(c *store.Campaign, n store.Counts, lang string) string {
	var parts []string
	if c.Kind.HasPledge() {
		if c.Target > 0 {
			parts = append(parts, w.Cat.Count(lang, messages.CampaignProgressTarget, n.Pledges, map[string]any{"Target": messages.FormatNumber(lang, c.Target)}))
		} else {
			parts = append(parts, w.Cat.Count(lang, messages.CampaignProgress, n.Pledges, nil))
		}
	}
	if c.Kind.HasEvent() {
		parts = append(parts, w.Cat.Count(lang, messages.CampaignSignups, n.Signups, nil))
	}
	return strings.Join(parts, "\n")
}

// Channel names a channel as people know it in lang: «تيليجرام», "WhatsApp".
func (w Words) Channel(lang string, ch bot.ChannelName) string {
	if key := messages.ChannelKey(string(ch)); w.Cat.Has(lang, key) {
		return w.Cat.Text(lang, key, nil)
	}
	return messages.Isolate(string(ch))
}
