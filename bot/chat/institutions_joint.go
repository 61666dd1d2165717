package chat

import (
	"errors"
	"strings"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
)

// Joint campaigns in conversation: the lead institution invites a
// partner, the partner's people accept or decline, and a campaign's page
// (core_campaign.go) and numbers (newcampaign.go) say who organises it and
// each partner's share.

// cmdInvitePartner is "/invitepartner CAMPAIGN INSTITUTION": the lead asks
// another member institution to co-organise its campaign.
func (ip *institutionPanel) cmdInvitePartner(t *engine.Turn, arg string) error {
	code, instCode, _ := strings.Cut(strings.TrimSpace(messages.ToASCIIDigits(arg)), " ")
	c, err := ip.findCampaign(t, code)
	if c == nil {
		return err
	}
	partner, err := ip.co.Institutions.Find(t.Ctx(), instCode)
	if err != nil && !errors.Is(err, coalition.ErrNotMember) {
		if errors.Is(err, coalition.ErrNotFound) {
			t.Say(messages.OrgNotFound, map[string]any{"Code": messages.Isolate(strings.TrimSpace(instCode))})
			return ip.showCampaign(t, c, "")
		}
		return err
	}
	c, err = ip.co.Campaigns.Invite(t.Ctx(), ip.actor(t), c.Code, partner.ID)
	switch {
	case errors.Is(err, coalition.ErrAlreadyPartner):
		return ip.showCampaign(t, c, t.Text(messages.OrgAlreadyPartner, map[string]any{"Name": institutionName(t, partner)}))
	case err != nil:
		if explain(t, err) {
			return mainMenu(t, "")
		}
		return err
	}
	return ip.showCampaign(t, c, t.Text(messages.OrgInviteSent, map[string]any{"Name": institutionName(t, partner)}))
}

func (ip *institutionPanel) cmdAcceptPartner(t *engine.Turn, arg string) error {
	return ip.answerPartner(t, arg, true)
}

func (ip *institutionPanel) cmdDeclinePartner(t *engine.Turn, arg string) error {
	return ip.answerPartner(t, arg, false)
}

// answerPartner is "/acceptpartner CAMPAIGN INSTITUTION-ID" and its decline.
func (ip *institutionPanel) answerPartner(t *engine.Turn, arg string, accept bool) error {
	code, idText, _ := strings.Cut(strings.TrimSpace(messages.ToASCIIDigits(arg)), " ")
	id, ok := broadcastArg(idText)
	if !ok {
		// the one institution the person acts for
		mine, err := ip.co.Institutions.Mine(t.Ctx(), ip.actor(t))
		if err != nil {
			return err
		}
		if len(mine) != 1 {
			t.Say(messages.OrgNoneOfYours, nil)
			return mainMenu(t, "")
		}
		id = mine[0].Institution.ID
	}
	c, err := ip.co.Campaigns.Answer(t.Ctx(), ip.actor(t), code, id, accept)
	switch {
	case errors.Is(err, coalition.ErrNotInvited):
		return ip.showCampaign(t, c, t.Text(messages.OrgNoInvitation, nil))
	case errors.Is(err, coalition.ErrNotFound):
		t.Say(messages.CampaignNotFound, map[string]any{"Code": messages.Isolate(code)})
		return mainMenu(t, "")
	case err != nil:
		if explain(t, err) {
			return mainMenu(t, "")
		}
		return err
	}
	if !accept {
		return mainMenu(t, t.Text(messages.OrgDeclined, map[string]any{"Title": coalition.Title(c, t.Lang())}))
	}
	return ip.showCampaign(t, c, t.Text(messages.OrgAccepted, map[string]any{"Title": coalition.Title(c, t.Lang())}))
}
