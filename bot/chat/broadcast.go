package chat

import (
	"errors"
	"strings"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// broadcasts is the coordinators' message to many people (/broadcast):
// the wizard, its test copy, the list and cancelling of sends, and the
// admins' yes or no to one that needs a second person.
type broadcasts struct{ *outreach }

func (bs *broadcasts) commands() []engine.Command {
	return []engine.Command{
		{Name: "broadcast", Role: store.RoleCoordinator, Desc: messages.CmdBroadcast, Run: bs.cmdBroadcast},
		{Name: "approvebroadcast", Role: store.RoleAdmin, Desc: messages.CmdApproveBroadcast, Run: bs.cmdApproveBroadcast},
		{Name: "rejectbroadcast", Role: store.RoleAdmin, Desc: messages.CmdRejectBroadcast, Run: bs.cmdRejectBroadcast},
	}
}

func (bs *broadcasts) flows() map[string]*engine.Flow {
	return map[string]*engine.Flow{"broadcast": bs.broadcastFlow()}
}

func (bs *broadcasts) cmdBroadcast(t *engine.Turn, arg string) error {
	verb, rest, _ := strings.Cut(strings.TrimSpace(arg), " ")
	switch strings.ToLower(verb) {
	case "":
		t.Say(messages.BroadcastIntro, nil)
		return t.StartFlow("broadcast", "", nil)
	case "cancel":
		return bs.cancelBroadcast(t, rest)
	case "list", "status":
		return bs.listBroadcasts(t)
	}
	t.Say(messages.ErrUnknownCommand, map[string]any{"Command": messages.Isolate("/broadcast " + verb)})
	return mainMenu(t, "")
}

func (bs *broadcasts) broadcastFlow() *engine.Flow {
	steps := bs.messageSteps("confirm")
	steps["confirm"] = engine.Step{
		Kind: messages.YesNoQuestion,
		Ask:  func(t *engine.Turn) error { return bs.broadcastPreview(t) },
		// not a ConfirmStep: with two ways to send and a test, a typed yes would
		// be ambiguous, so only a typed no is read
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			switch {
			case a.Value == "send" || a.Value == "urgent":
				return "", bs.submitBroadcast(t, a.Value == "urgent")
			case a.Value == "test":
				return "confirm", bs.sendTest(t)
			case a.Value == "edit":
				return "edit", nil
			case a.Value == "cancel" || a.Intent == messages.IntentNo:
				return "", cmdCancel(t, "")
			}
			t.SayChoose(a)
			return "confirm", nil
		},
	}
	steps["edit"] = engine.EditStep(func(t *engine.Turn) []engine.Choice {
		return []engine.Choice{
			{Label: t.Text(messages.NewCampaignFieldCall, nil), Value: "text_ar"},
			{Label: t.Text(messages.NewCampaignFieldCallEN, nil), Value: "text_en"},
			{Label: t.Text(messages.BroadcastAudience, nil), Value: "audience"},
			{Label: t.Text(messages.MediaField, nil), Value: "media"},
		}
	})
	bs.askMediaFirst(steps, "confirm", bs.campaignMedia, false)
	return &engine.Flow{First: "org", Role: store.RoleCoordinator, Title: messages.FlowBroadcast, Steps: steps}
}

func (bs *broadcasts) broadcastDraft(t *engine.Turn, urgent bool) coalition.BroadcastDraft {
	aud := bs.dataAudience(t)
	return coalition.BroadcastDraft{CampaignID: aud.CampaignID, TextAR: t.Data("text_ar"), TextEN: t.Data("text_en"), Audience: aud, Urgent: urgent,
		Organiser: dataOrganiser(t), Media: dataMedia(t)}
}

func (bs *broadcasts) broadcastPreview(t *engine.Turn) error {
	d := bs.broadcastDraft(t, false)
	p, err := bs.co.Broadcasts.Preview(t.Ctx(), bs.actor(t), d)
	if err != nil {
		return endWith(t, err)
	}
	if p.Total == 0 {
		t.Say(messages.BroadcastNobody, nil)
		return t.GoTo("audience")
	}
	bs.previewSend(t, coalition.InLang(t.Lang(), d.TextAR, d.TextEN), d.Audience, p)
	bs.previewMedia(t, d.Media)
	t.Ask(t.Text(messages.MenuChoose, nil), []engine.Choice{
		{Label: t.Text(messages.BroadcastSend, nil), Value: "send"},
		{Label: t.Text(messages.BroadcastSendUrgent, nil), Value: "urgent"},
		{Label: t.Text(messages.BroadcastTest, nil), Value: "test"},
		{Label: t.Text(messages.CommonEdit, nil), Value: "edit"},
		{Label: t.Text(messages.CommonCancel, nil), Value: "cancel"},
	})
	return nil
}

// sendTest shows the coordinator the message as a recipient would get it.
func (bs *broadcasts) sendTest(t *engine.Turn) error {
	text, buttons, err := bs.co.Broadcasts.TestCopy(t.Ctx(), bs.actor(t), bs.broadcastDraft(t, false))
	if err != nil {
		return endWith(t, err)
	}
	t.SayText(text)
	t.SayMedia(bs.broadcastDraft(t, false).Media, buttons)
	t.Say(messages.BroadcastTestSent, nil)
	return nil
}

func (bs *broadcasts) submitBroadcast(t *engine.Turn, urgent bool) error {
	res, err := bs.co.Broadcasts.Submit(t.Ctx(), bs.actor(t), bs.broadcastDraft(t, urgent))
	if errors.Is(err, coalition.ErrNobody) {
		t.Say(messages.BroadcastNobody, nil)
		return t.GoTo("audience")
	}
	if err != nil {
		return endWith(t, err)
	}
	return bs.announceSubmitted(t, res, urgent, "")
}

func (bs *broadcasts) cmdApproveBroadcast(t *engine.Turn, arg string) error {
	return bs.decideBroadcast(t, arg, true)
}

func (bs *broadcasts) cmdRejectBroadcast(t *engine.Turn, arg string) error {
	return bs.decideBroadcast(t, arg, false)
}

// decideBroadcast is the second person's yes or no to a large broadcast.
func (bs *broadcasts) decideBroadcast(t *engine.Turn, arg string, approve bool) error {
	id, ok := broadcastArg(arg)
	if !ok {
		t.Say(messages.BroadcastNeedNumber, nil)
		return mainMenu(t, "")
	}
	by := bs.actor(t)
	var bc *store.Broadcast
	var err error
	if approve {
		bc, err = bs.co.Broadcasts.Approve(t.Ctx(), by, id)
	} else {
		bc, err = bs.co.Broadcasts.Reject(t.Ctx(), by, id)
	}
	switch {
	case errors.Is(err, coalition.ErrNotFound), errors.Is(err, coalition.ErrDecided):
		t.Say(messages.BroadcastNotFound, map[string]any{"ID": messages.FormatID(t.Lang(), id)})
		return mainMenu(t, "")
	case err != nil:
		if explain(t, err) {
			return mainMenu(t, "")
		}
		return err
	}
	return mainMenu(t, t.Text(messages.BroadcastDecided, map[string]any{"ID": messages.FormatID(t.Lang(), id), "Status": bs.broadcastStatus(t, bc.Status)}))
}

func (bs *broadcasts) broadcastStatus(t *engine.Turn, st store.BroadcastStatus) string {
	key, ok := map[store.BroadcastStatus]messages.Key{
		store.BroadcastAwaitingApproval: messages.BroadcastStatusAwaiting,
		store.BroadcastQueued:           messages.BroadcastStatusQueued,
		store.BroadcastSending:          messages.BroadcastStatusSending,
		store.BroadcastDone:             messages.BroadcastStatusDone,
		store.BroadcastCancelled:        messages.BroadcastStatusCancelled,
		store.BroadcastSuspended:        messages.BroadcastStatusSuspended,
	}[st]
	if !ok {
		return string(st)
	}
	return t.Text(key, nil)
}

// cancelBroadcast stops a broadcast: the given one, else the person's latest still running.
func (bs *broadcasts) cancelBroadcast(t *engine.Turn, arg string) error {
	id, _ := broadcastArg(arg)
	bc, removed, err := bs.co.Broadcasts.Cancel(t.Ctx(), bs.actor(t), id)
	switch {
	case errors.Is(err, coalition.ErrNotFound), errors.Is(err, coalition.ErrNotAllowed):
		t.Say(messages.BroadcastNothingToCancel, nil)
		return mainMenu(t, "")
	case err != nil:
		return err
	}
	return mainMenu(t, t.Text(messages.BroadcastCancelled, map[string]any{
		"ID": messages.FormatID(t.Lang(), bc.ID), "Removed": t.Count(messages.MessageCount, removed, nil),
	}))
}

func (bs *broadcasts) listBroadcasts(t *engine.Turn) error {
	recent, err := bs.co.Broadcasts.Recent(t.Ctx(), bs.actor(t), 10)
	if err != nil {
		return fail(t, err)
	}
	var sb strings.Builder
	sb.WriteString(t.Text(messages.BroadcastList, nil))
	for _, x := range recent {
		total := x.Total
		if total == 0 {
			// not queued yet (it waits for approval): the people it reaches
			total = x.Recipients
		}
		sb.WriteString("\n• " + t.Text(messages.BroadcastLine, map[string]any{
			"ID": messages.FormatID(t.Lang(), x.ID), "Status": bs.broadcastStatus(t, x.Status),
			"Sent": messages.FormatNumber(t.Lang(), x.Sent), "Total": messages.FormatNumber(t.Lang(), total),
		}))
	}
	return mainMenu(t, sb.String())
}
