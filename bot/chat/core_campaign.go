package chat

import (
	"errors"
	"strconv"
	"strings"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// Finding and showing a campaign, and in whose name a campaign or a
// message goes: the steps the groups of campaigns, the sends to many and
// the welcome share (core).

// findCampaign looks a campaign up by its code, telling the person when
// there is none and showing the list; nil with a nil error means it said so.
func (cr *core) findCampaign(t *engine.Turn, code string) (*store.Campaign, error) {
	code = strings.ToLower(strings.TrimSpace(messages.ToASCIIDigits(code)))
	if code == "" {
		t.Say(messages.CampaignNeedCode, map[string]any{"Example": messages.Isolate(commandTyped(t) + " peace2026")})
		return nil, cr.cmdCampaigns(t, "")
	}
	c, err := cr.co.Campaigns.Find(t.Ctx(), code)
	if errors.Is(err, coalition.ErrNotFound) {
		t.Say(messages.CampaignNotFound, map[string]any{"Code": messages.Isolate(code)})
		return nil, cr.cmdCampaigns(t, "")
	}
	return c, err
}

// commandTyped is the command the person sent (a button's or typed),
// "/campaign" when they wrote words the bot understood as one.
func commandTyped(t *engine.Turn) string {
	for _, s := range []string{t.In().Payload, t.In().Text} {
		if f := strings.Fields(s); len(f) > 0 && strings.HasPrefix(f[0], "/") && len(f[0]) > 1 {
			name, _, _ := strings.Cut(f[0], "@")
			return strings.ToLower(name)
		}
	}
	return "/campaign"
}

// cmdCampaigns is /campaigns, the list of open campaigns, which a code
// that names none also shows.
func (cr *core) cmdCampaigns(t *engine.Turn, _ string) error {
	open, err := cr.co.Campaigns.Open(t.Ctx())
	if err != nil {
		return err
	}
	if len(open) == 0 {
		t.Say(messages.CampaignsNone, nil)
		return mainMenu(t, "")
	}
	var lines []string
	var opts []engine.Choice
	for _, cc := range open {
		c := cc.Campaign
		lines = append(lines, "• "+coalition.Title(c, t.Lang())+"\n  "+strings.ReplaceAll(cr.words.Progress(c, cc.Counts, t.Lang()), "\n", "\n  "))
		opts = append(opts, engine.Choice{Label: coalition.Title(c, t.Lang()), Value: "/campaign " + c.Code})
	}
	t.Say(messages.CampaignsTitle, nil)
	t.SayText(strings.Join(lines, "\n"))
	opts = append(opts, engine.Choice{Label: t.Text(messages.CommonBack, nil), Value: "/menu"})
	t.Ask(t.Text(messages.CampaignsChoose, nil), opts)
	return nil
}

// cmdCampaign is /campaign CODE, a campaign's page, which a share link
// also opens after the welcome.
func (cr *core) cmdCampaign(t *engine.Turn, code string) error {
	c, err := cr.findCampaign(t, code)
	if c == nil {
		return err
	}
	return cr.showCampaign(t, c, "")
}

// showCampaign shows a campaign's call to action and what the person can do about it.
func (cr *core) showCampaign(t *engine.Turn, c *store.Campaign, intro string) error {
	n, err := cr.co.Campaigns.Counts(t.Ctx(), c.ID)
	if err != nil {
		return err
	}
	lang := t.Lang()
	t.SayText(intro)
	organiser, err := cr.organiserLine(t, c)
	if err != nil {
		return err
	}
	if c.Media != nil {
		t.SayMedia(c.Media, nil)
	}
	var sb strings.Builder
	sb.WriteString("📣 " + coalition.Title(c, lang) + "\n" + organiser + "\n\n" + coalition.Call(c, lang))
	if c.Kind.HasEvent() && !c.EventAt.IsZero() {
		sb.WriteString("\n\n" + t.Text(messages.CampaignEvent, map[string]any{"When": cr.timeText(t, c.EventAt), "Place": c.EventPlace}))
	}
	sb.WriteString("\n\n" + cr.words.Progress(c, n, lang))
	if line, err := cr.supporterLine(t, c); err != nil {
		return err
	} else if line != "" {
		sb.WriteString("\n" + line)
	}
	state := cr.co.Campaigns.State(c)
	var opts []engine.Choice
	switch state {
	case coalition.StateClosed:
		sb.WriteString("\n\n" + t.Text(messages.CampaignClosed, nil))
	case coalition.StateScheduled:
		sb.WriteString("\n\n" + t.Text(messages.CampaignOpensOn, map[string]any{"When": cr.timeText(t, c.StartAt)}))
		watching, err := cr.co.Campaigns.Watching(t.Ctx(), cr.actor(t), c)
		if err != nil {
			return err
		}
		if watching {
			sb.WriteString("\n" + t.Text(messages.CampaignWatching, nil))
		} else {
			opts = append(opts, engine.Choice{Label: t.Text(messages.CampaignWatchButton, nil), Value: "/watch " + c.Code})
		}
		opts = append(opts, engine.Choice{Label: t.Text(messages.CampaignShareButton, nil), Value: "/share " + c.Code})
	case coalition.StateOpen:
		standing, err := cr.co.Campaigns.StandingOf(t.Ctx(), cr.actor(t), c)
		if err != nil {
			return err
		}
		if c.Kind.HasPledge() {
			if standing.Pledged {
				sb.WriteString("\n" + t.Text(messages.CampaignYouPledged, nil))
			} else {
				opts = append(opts, engine.Choice{Label: t.Text(messages.CampaignPledgeButton, nil), Value: "/pledge " + c.Code})
			}
		}
		if c.Kind.HasEvent() && (c.EventAt.IsZero() || c.EventAt.After(t.Now())) {
			if standing.SignedUp {
				sb.WriteString("\n" + t.Text(messages.CampaignYouSignedUp, nil))
				opts = append(opts, engine.Choice{Label: t.Text(messages.CampaignCancelSignupButton, nil), Value: "/cancelsignup " + c.Code})
			} else {
				opts = append(opts, engine.Choice{Label: t.Text(messages.CampaignSignupButton, nil), Value: "/signup " + c.Code})
			}
		}
		opts = append(opts, engine.Choice{Label: t.Text(messages.CampaignShareButton, nil), Value: "/share " + c.Code})
		if standing.Pledged {
			opts = append(opts, engine.Choice{Label: t.Text(messages.CampaignWithdrawButton, nil), Value: "/withdraw " + c.Code})
		}
	}
	opts = append(opts, engine.Choice{Label: t.Text(messages.CommonBack, nil), Value: "/campaigns"})
	t.Ask(sb.String(), opts)
	return nil
}

// organiserLine says who organises a campaign.
func (cr *core) organiserLine(t *engine.Turn, c *store.Campaign) (string, error) {
	from, err := cr.co.OrganiserOf(t.Ctx(), c.Organiser)
	if err != nil {
		return "", err
	}
	return t.Text(messages.OrgOrganisedBy, map[string]any{"Organiser": cr.words.Organiser(from, t.Lang())}), nil
}

// supporterLine tells a person on a co-organiser's list that it may write
// to them, and how to leave its list; "" when they are on none.
func (cr *core) supporterLine(t *engine.Turn, c *store.Campaign) (string, error) {
	if c.Organiser.IsCoalition() {
		return "", nil
	}
	inst, err := cr.co.Institutions.SupportsAny(t.Ctx(), cr.actor(t), c.Organiser)
	if err != nil || inst == nil {
		return "", err
	}
	return t.Text(messages.OrgOnList, map[string]any{"Name": institutionName(t, inst), "Code": messages.Isolate("/leave " + inst.Code)}), nil
}

// dataCampaign is the campaign a wizard is about, nil for none.
func (cr *core) dataCampaign(t *engine.Turn) *store.Campaign {
	id, err := strconv.ParseUint(t.Data("campaign"), 10, 64)
	if err != nil || id == 0 {
		return nil
	}
	c, err := cr.co.Campaigns.Get(t.Ctx(), id)
	if err != nil {
		return nil
	}
	return c
}

// organiserStep asks in whose name a campaign or message goes, when the
// person has a choice: the coalition (its staff) or an institution they
// act for. With one choice only it asks nothing and goes on to next; with
// none (their institution was suspended) it says so and ends.
func (cr *core) organiserStep(next string) engine.Step {
	return engine.Step{
		Kind: messages.ChoiceQuestion,
		Ask: func(t *engine.Turn) error {
			opts, err := cr.organiserChoices(t)
			if err != nil {
				return err
			}
			switch len(opts) {
			case 0:
				// an institution suspended since the menu was shown
				t.EndFlow()
				t.Say(messages.OrgNotActive, nil)
				return mainMenu(t, "")
			case 1:
				t.SetData("org", strings.TrimPrefix(opts[0].Value, "org:"))
				return t.GoTo(next)
			}
			t.Ask(t.Text(messages.OrgWhichOrganiser, nil), opts)
			return nil
		},
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			id, ok := strings.CutPrefix(a.Value, "org:")
			if !a.Chosen || !ok {
				t.SayChoose(a)
				return t.Step(), nil
			}
			t.SetData("org", id)
			return next, nil
		},
	}
}

// organiserChoices are the names the person may organise in: the
// coalition's for its staff, and each active institution they act for.
func (cr *core) organiserChoices(t *engine.Turn) ([]engine.Choice, error) {
	var opts []engine.Choice
	if cr.actor(t).Role.AtLeast(store.RoleCoordinator) {
		opts = append(opts, engine.Choice{Label: cr.words.Organiser(coalition.From{}, t.Lang()), Value: "org:"})
	}
	mine, err := cr.co.Institutions.Mine(t.Ctx(), cr.actor(t))
	if err != nil {
		return nil, err
	}
	for _, m := range mine {
		if m.Institution.Active() {
			opts = append(opts, engine.Choice{Label: institutionName(t, m.Institution), Value: "org:" + strconv.FormatUint(m.Institution.ID, 10)})
		}
	}
	return opts, nil
}

// dataOrg is the institution the conversation organises for, nil for the coalition.
func (cr *core) dataOrg(t *engine.Turn) *store.Institution {
	id := dataOrganiser(t).Lead()
	if id == 0 {
		return nil
	}
	mine, err := cr.co.Institutions.Mine(t.Ctx(), cr.actor(t))
	if err != nil {
		return nil
	}
	for _, m := range mine {
		if m.Institution.ID == id {
			return m.Institution
		}
	}
	return nil
}
