package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"mobilise/messages"
	"mobilise/store"
)

// inLang picks between the Arabic and English forms of a text people
// wrote: the English for a reader of English when there is one, else the
// Arabic, which is always given.
func inLang(lang, ar, en string) string {
	if lang == "en" && en != "" {
		return en
	}
	return ar
}

// title returns the campaign's title in lang, falling back to Arabic.
func title(c *store.Campaign, lang string) string { return inLang(lang, c.TitleAR, c.TitleEN) }

func callText(c *store.Campaign, lang string) string { return inLang(lang, c.CallAR, c.CallEN) }

// formatTime shows a time in the coalition's time zone.
func (t *turn) formatTime(at time.Time) string {
	return messages.Isolate(at.In(t.s.loc).Format("2006-01-02 15:04"))
}

// progress describes how far a campaign has come, in correct plural forms.
func (t *turn) progress(c *store.Campaign, n store.Counts) string {
	var parts []string
	if c.Kind.HasPledge() {
		if c.Target > 0 {
			parts = append(parts, t.count(messages.CampaignProgressTarget, n.Pledges, map[string]any{"Target": messages.FormatNumber(t.lang, c.Target)}))
		} else {
			parts = append(parts, t.count(messages.CampaignProgress, n.Pledges, nil))
		}
	}
	if c.Kind.HasEvent() {
		parts = append(parts, t.count(messages.CampaignSignups, n.Signups, nil))
	}
	return strings.Join(parts, "\n")
}

// findCampaign looks a campaign up by its code, telling the person when there is none.
func (t *turn) findCampaign(code string) (*store.Campaign, error) {
	code = strings.ToLower(strings.TrimSpace(messages.ToASCIIDigits(code)))
	if code == "" {
		t.say(messages.CampaignNeedCode, nil)
		return nil, t.cmdCampaigns("")
	}
	c, err := t.s.store.CampaignByCode(code)
	if errors.Is(err, store.ErrNotFound) {
		t.say(messages.CampaignNotFound, map[string]any{"Code": messages.Isolate(code)})
		return nil, t.cmdCampaigns("")
	}
	if err != nil {
		return nil, fmt.Errorf("looking up campaign %q: %w", code, err)
	}
	return c, nil
}

func (t *turn) cmdCampaigns(string) error {
	all, err := t.s.store.Campaigns()
	if err != nil {
		return fmt.Errorf("listing campaigns: %w", err)
	}
	now := t.s.now()
	var lines []string
	var opts []option
	for i := range all {
		c := &all[i]
		if !c.Active(now) {
			continue
		}
		n, err := t.s.store.Counts(c.ID)
		if err != nil {
			return fmt.Errorf("counting campaign %d: %w", c.ID, err)
		}
		lines = append(lines, "• "+title(c, t.lang)+"\n  "+strings.ReplaceAll(t.progress(c, n), "\n", "\n  "))
		opts = append(opts, option{title(c, t.lang), "/campaign " + c.Code})
	}
	if len(opts) == 0 {
		t.say(messages.CampaignsNone, nil)
		return t.mainMenu("")
	}
	t.say(messages.CampaignsTitle, nil)
	t.sayText(strings.Join(lines, "\n"))
	opts = append(opts, option{t.text(messages.CommonBack, nil), "/menu"})
	t.ask(t.text(messages.CampaignsChoose, nil), opts)
	return nil
}

func (t *turn) cmdCampaign(code string) error {
	c, err := t.findCampaign(code)
	if c == nil {
		return err
	}
	return t.showCampaign(c, "")
}

// showCampaign shows a campaign's call to action and what the person can do about it.
func (t *turn) showCampaign(c *store.Campaign, intro string) error {
	n, err := t.s.store.Counts(c.ID)
	if err != nil {
		return fmt.Errorf("counting campaign %d: %w", c.ID, err)
	}
	t.sayText(intro)
	var b strings.Builder
	b.WriteString("📣 " + title(c, t.lang) + "\n\n" + callText(c, t.lang))
	if c.Kind.HasEvent() && !c.EventAt.IsZero() {
		b.WriteString("\n\n" + t.text(messages.CampaignEvent, map[string]any{"When": t.formatTime(c.EventAt), "Place": c.EventPlace}))
	}
	b.WriteString("\n\n" + t.progress(c, n))
	now := t.s.now()
	if !c.Active(now) {
		b.WriteString("\n\n" + t.text(messages.CampaignClosed, nil))
	}
	var opts []option
	if c.Active(now) {
		if c.Kind.HasPledge() {
			if _, err := t.s.store.Pledge(c.ID, t.c.ID); errors.Is(err, store.ErrNotFound) {
				opts = append(opts, option{t.text(messages.CampaignPledgeButton, nil), "/pledge " + c.Code})
			} else if err != nil {
				return fmt.Errorf("looking up pledge: %w", err)
			} else {
				b.WriteString("\n" + t.text(messages.CampaignYouPledged, nil))
			}
		}
		if c.Kind.HasEvent() && (c.EventAt.IsZero() || c.EventAt.After(now)) {
			if _, err := t.s.store.Signup(c.ID, t.c.ID); errors.Is(err, store.ErrNotFound) {
				opts = append(opts, option{t.text(messages.CampaignSignupButton, nil), "/signup " + c.Code})
			} else if err != nil {
				return fmt.Errorf("looking up sign-up: %w", err)
			} else {
				b.WriteString("\n" + t.text(messages.CampaignYouSignedUp, nil))
				opts = append(opts, option{t.text(messages.CampaignCancelSignupButton, nil), "/cancelsignup " + c.Code})
			}
		}
		opts = append(opts, option{t.text(messages.CampaignShareButton, nil), "/share " + c.Code})
	}
	opts = append(opts, option{t.text(messages.CommonBack, nil), "/campaigns"})
	t.ask(b.String(), opts)
	return nil
}

// actionable finds the campaign and checks that people can act on it now.
func (t *turn) actionable(code string) (*store.Campaign, error) {
	c, err := t.findCampaign(code)
	if c == nil {
		return nil, err
	}
	if !c.Active(t.s.now()) {
		t.say(messages.CampaignClosed, nil)
		return nil, t.cmdCampaigns("")
	}
	return c, nil
}

func (t *turn) cmdPledge(code string) error {
	c, err := t.actionable(code)
	if c == nil {
		return err
	}
	if !c.Kind.HasPledge() {
		t.say(messages.CampaignNoPledges, nil)
		return t.showCampaign(c, "")
	}
	res, err := t.s.store.AddPledge(store.Pledge{
		CampaignID: c.ID, ContactID: t.c.ID, At: t.s.now().UTC(),
		Channel: t.in.From.Channel, Governorate: t.c.Governorate, Lang: t.lang, ReferredBy: t.c.ReferredBy,
	})
	switch {
	case errors.Is(err, store.ErrAlreadyPledged):
		return t.showCampaign(c, t.text(messages.PledgeAlready, nil))
	case errors.Is(err, store.ErrCampaignNotFound):
		t.say(messages.CampaignNotFound, map[string]any{"Code": messages.Isolate(c.Code)})
		return t.cmdCampaigns("")
	case err != nil:
		return fmt.Errorf("pledging to campaign %d: %w", c.ID, err)
	}
	t.s.log.Info("pledge", "campaign_id", c.ID, "pledges", res.Counts.Pledges)
	var notices []Notice
	if res.ReachedTarget {
		notices, err = t.s.targetReachedNotices(&res.Campaign)
	} else {
		notices, err = t.s.milestoneNotices(&res.Campaign, res.Counts, t.c.ID)
	}
	if err != nil {
		return err
	}
	t.notify(notices...)
	return t.showCampaign(&res.Campaign, t.text(messages.PledgeThanks, nil))
}

func (t *turn) cmdSignup(code string) error {
	c, err := t.actionable(code)
	if c == nil {
		return err
	}
	if !c.Kind.HasEvent() {
		t.say(messages.CampaignNoEvent, nil)
		return t.showCampaign(c, "")
	}
	if !c.EventAt.IsZero() && !c.EventAt.After(t.s.now()) {
		t.say(messages.SignupEventPassed, nil)
		return t.showCampaign(c, "")
	}
	_, err = t.s.store.AddSignup(store.Signup{
		CampaignID: c.ID, ContactID: t.c.ID, At: t.s.now().UTC(),
		Channel: t.in.From.Channel, Governorate: t.c.Governorate, Lang: t.lang, ReferredBy: t.c.ReferredBy,
	})
	switch {
	case errors.Is(err, store.ErrAlreadySignedUp):
		return t.showCampaign(c, t.text(messages.SignupAlready, nil))
	case err != nil:
		return fmt.Errorf("signing up for campaign %d: %w", c.ID, err)
	}
	return t.showCampaign(c, t.text(messages.SignupThanks, map[string]any{"When": t.formatTime(c.EventAt), "Place": c.EventPlace}))
}

func (t *turn) cmdCancelSignup(code string) error {
	c, err := t.findCampaign(code)
	if c == nil {
		return err
	}
	_, err = t.s.store.CancelSignup(c.ID, t.c.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return t.showCampaign(c, t.text(messages.SignupNone, nil))
	case err != nil:
		return fmt.Errorf("cancelling sign-up for campaign %d: %w", c.ID, err)
	}
	return t.showCampaign(c, t.text(messages.SignupCancelled, nil))
}

func (t *turn) cmdShare(code string) error {
	p := startPayload{Ref: t.c.RefCode}
	var c *store.Campaign
	if strings.TrimSpace(code) != "" {
		var err error
		if c, err = t.findCampaign(code); c == nil {
			return err
		}
		p.Campaign = c.Code
	}
	link := t.s.startLink(t.in.From.Channel, p.String())
	if c != nil {
		t.say(messages.ShareCampaign, map[string]any{"Title": title(c, t.lang), "Link": messages.Isolate(link)})
	} else {
		t.say(messages.ShareBot, map[string]any{"Link": messages.Isolate(link)})
	}
	t.sayText(t.count(messages.ShareReferrals, t.c.Referrals, nil))
	if c != nil {
		return t.showCampaign(c, "")
	}
	return t.mainMenu("")
}

// targetReachedNotices tell everyone who pledged, and agreed to hear from
// the bot, that the campaign has reached its target.
func (s *Service) targetReachedNotices(c *store.Campaign) ([]Notice, error) {
	var notices []Notice
	err := s.store.Pledges(c.ID, func(p *store.Pledge) error {
		if p.ContactID == 0 {
			return nil
		}
		notices = append(notices, Notice{ContactID: p.ContactID, Kind: "target_reached", RequireConsent: true, Bulk: true, Render: func(lang string) (string, [][]Button) {
			return s.cat.Text(lang, messages.PledgeTargetReached, map[string]any{
				"Title":  title(c, lang),
				"Target": messages.FormatNumber(lang, c.Target),
			}), nil
		}})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing pledgers of campaign %d: %w", c.ID, err)
	}
	return notices, nil
}
