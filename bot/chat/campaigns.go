package chat

import (
	"errors"
	"strings"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// campaigns is the conversations of a campaign: the list and a campaign's
// page (core_campaign.go), pledging, signing up and sharing it; and for its
// organisers, creating it (newcampaign.go), its numbers, and its life after
// (lifecycle.go): editing, closing, reopening, its file and its poster.
type campaigns struct {
	*core
	// attendance adds to /stats the answers to the poll that asks the
	// people signed up whether they came.
	attendance *polls
}

func (cs *campaigns) commands() []engine.Command {
	return []engine.Command{
		{Name: "campaigns", Role: store.RoleCitizen, Desc: messages.CmdCampaigns, Run: cs.cmdCampaigns},
		{Name: "campaign", Role: store.RoleCitizen, Run: cs.cmdCampaign},
		{Name: "pledge", Role: store.RoleCitizen, Run: cs.cmdPledge},
		{Name: "signup", Role: store.RoleCitizen, Run: cs.cmdSignup},
		{Name: "cancelsignup", Role: store.RoleCitizen, Run: cs.cmdCancelSignup},
		{Name: "withdraw", Role: store.RoleCitizen, Run: cs.cmdWithdraw},
		{Name: "watch", Role: store.RoleCitizen, Run: cs.cmdWatch},
		{Name: "share", Role: store.RoleCitizen, Desc: messages.CmdShare, Run: cs.cmdShare},
		{Name: "newcampaign", Role: store.RoleCoordinator, Desc: messages.CmdNewCampaign, Run: cs.cmdNewCampaign},
		{Name: "editcampaign", Role: store.RoleCoordinator, Desc: messages.CmdEditCampaign, Run: cs.cmdEditCampaign},
		{Name: "closecampaign", Role: store.RoleCoordinator, Desc: messages.CmdCloseCampaign, Run: cs.cmdCloseCampaign},
		{Name: "reopencampaign", Role: store.RoleCoordinator, Desc: messages.CmdReopenCampaign, Run: cs.cmdReopenCampaign},
		{Name: "stats", Role: store.RoleCoordinator, Desc: messages.CmdStats, Run: cs.cmdStats},
		{Name: "poster", Role: store.RoleCoordinator, Desc: messages.CmdPoster, Run: cs.cmdPoster},
		{Name: "attach", Role: store.RoleCoordinator, Desc: messages.CmdAttach, Run: cs.cmdAttach},
	}
}

func (cs *campaigns) flows() map[string]*engine.Flow {
	return map[string]*engine.Flow{
		"newcampaign":    cs.newCampaignFlow(),
		"attach":         cs.attachFlow(),
		"closecampaign":  cs.closeCampaignFlow(),
		"reopencampaign": cs.reopenCampaignFlow(),
		"editcampaign":   cs.editCampaignFlow(),
	}
}

func (cs *campaigns) cmdPledge(t *engine.Turn, code string) error {
	c, err := cs.findCampaign(t, code)
	if c == nil {
		return err
	}
	res, err := cs.co.Campaigns.Pledge(t.Ctx(), cs.actor(t), c.Code)
	switch {
	case errors.Is(err, coalition.ErrAlreadyPledged):
		return cs.showCampaign(t, c, t.Text(messages.PledgeAlready, nil))
	case errors.Is(err, coalition.ErrCampaignClosed):
		t.Say(messages.CampaignClosed, nil)
		return cs.cmdCampaigns(t, "")
	case errors.Is(err, coalition.ErrNoPledges):
		t.Say(messages.CampaignNoPledges, nil)
		return cs.showCampaign(t, c, "")
	case err != nil:
		return err
	}
	return cs.showCampaign(t, res.Campaign, t.Text(messages.PledgeThanks, nil))
}

func (cs *campaigns) cmdSignup(t *engine.Turn, code string) error {
	c, err := cs.findCampaign(t, code)
	if c == nil {
		return err
	}
	_, err = cs.co.Campaigns.SignUp(t.Ctx(), cs.actor(t), c.Code)
	switch {
	case errors.Is(err, coalition.ErrAlreadySignedUp):
		return cs.showCampaign(t, c, t.Text(messages.SignupAlready, nil))
	case errors.Is(err, coalition.ErrCampaignClosed):
		t.Say(messages.CampaignClosed, nil)
		return cs.cmdCampaigns(t, "")
	case errors.Is(err, coalition.ErrNoEvent), errors.Is(err, coalition.ErrEventPassed):
		explain(t, err)
		return cs.showCampaign(t, c, "")
	case err != nil:
		return err
	}
	return cs.showCampaign(t, c, t.Text(messages.SignupThanks, map[string]any{"When": cs.timeText(t, c.EventAt), "Place": c.EventPlace}))
}

func (cs *campaigns) cmdCancelSignup(t *engine.Turn, code string) error {
	c, err := cs.findCampaign(t, code)
	if c == nil {
		return err
	}
	_, err = cs.co.Campaigns.CancelSignup(t.Ctx(), cs.actor(t), c.Code)
	switch {
	case errors.Is(err, coalition.ErrNotSignedUp):
		return cs.showCampaign(t, c, t.Text(messages.SignupNone, nil))
	case err != nil:
		return err
	}
	return cs.showCampaign(t, c, t.Text(messages.SignupCancelled, nil))
}

func (cs *campaigns) cmdShare(t *engine.Turn, code string) error {
	p := startPayload{Ref: t.Contact().RefCode}
	var c *store.Campaign
	if strings.TrimSpace(code) != "" {
		var err error
		if c, err = cs.findCampaign(t, code); c == nil {
			return err
		}
		p.Campaign = c.Code
	}
	link := cs.co.Campaigns.StartLink(t.In().From.Channel, p.String())
	if c != nil {
		t.Say(messages.ShareCampaign, map[string]any{"Title": coalition.Title(c, t.Lang()), "Link": messages.Isolate(link)})
	} else {
		t.Say(messages.ShareBot, map[string]any{"Link": messages.Isolate(link)})
	}
	t.SayText(t.Count(messages.ShareReferrals, t.Contact().Referrals, nil))
	if c != nil {
		return cs.showCampaign(t, c, "")
	}
	return mainMenu(t, "")
}
