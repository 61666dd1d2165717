package chat

import (
	"errors"
	"strings"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// verification answers whether a message is the coalition's: /verify with
// a code, a forwarded or pasted call checked, and a coordinator's warning
// of a fake to the people who may have read it.
type verification struct{ *outreach }

func (vf *verification) commands() []engine.Command {
	return []engine.Command{
		{Name: "verify", Role: store.RoleCitizen, Desc: messages.CmdVerify, Run: vf.cmdVerify},
	}
}

func (vf *verification) flows() map[string]*engine.Flow {
	return map[string]*engine.Flow{"warnfake": vf.warnFlow()}
}

// cmdVerify is /verify CODE: whether the coalition sent a message with that code.
func (vf *verification) cmdVerify(t *engine.Turn, arg string) error {
	if strings.TrimSpace(arg) == "" {
		return mainMenu(t, t.Text(messages.VerifyHow, nil))
	}
	v, err := vf.co.Verify.Check(t.Ctx(), vf.actor(t), arg)
	switch {
	case errors.Is(err, coalition.ErrTooManyTries):
		return mainMenu(t, t.Text(messages.VerifyTooMany, nil))
	case err != nil:
		if explain(t, err) {
			return mainMenu(t, "")
		}
		return err
	}
	return mainMenu(t, vf.verdictText(t, v, false))
}

// verifyText checks a message pasted into the chat that carries a code.
func (vf *verification) verifyText(t *engine.Turn, text string) error {
	if code, ok := coalition.ParseCode(text); ok {
		return vf.cmdVerify(t, code)
	}
	return vf.verifyMessage(t, text, nil)
}

// verifyForwarded answers a forwarded message: a call, or what claims to
// be one, is checked; anything else is not a command, and is said so.
func (vf *verification) verifyForwarded(t *engine.Turn) error {
	in := t.In()
	if _, ok := coalition.FindCode(in.Text); !ok && (in.Forwarded == nil || !in.Forwarded.FromBot) {
		t.Say(messages.ForwardedNote, nil)
		if t.Contact().OnboardedAt.IsZero() && t.Flow() == "" {
			// a newcomer's first message, forwarded: the welcome all the same
			return t.StartFlow("start", "", nil)
		}
		if strings.TrimSpace(in.Text) == "" {
			return t.Reask()
		}
		t.Say(messages.VerifyNoCodeNote, nil)
		if vf.warns(t) && t.Flow() == "" {
			// most fakes carry no code at all: a coordinator may warn of those too
			return t.StartFlow("warnfake", "", map[string]string{"quote": in.Text})
		}
		return t.Reask()
	}
	return vf.verifyMessage(t, in.Text, in.Forwarded)
}

// warns reports whether the person may warn people of a fake: the
// coalition's coordinators and admins, whose warning is the coalition's;
// not an institution's people, whose menus alone are a coordinator's.
func (vf *verification) warns(t *engine.Turn) bool {
	return vf.actor(t).Role.AtLeast(store.RoleCoordinator)
}

// verifyMessage says whether a message is a genuine call, and offers a
// coordinator to warn people of a fake.
func (vf *verification) verifyMessage(t *engine.Turn, text string, fwd *bot.Forward) error {
	v, err := vf.co.Verify.Message(t.Ctx(), vf.actor(t), text, fwd)
	switch {
	case errors.Is(err, coalition.ErrTooManyTries):
		t.Say(messages.VerifyTooMany, nil)
		return t.Reask()
	case err != nil:
		return err
	}
	t.SayText(vf.verdictText(t, v, true))
	if v.Kind.Fake() && vf.warns(t) && t.Flow() == "" {
		return t.StartFlow("warnfake", "", map[string]string{"quote": text})
	}
	return t.Reask()
}

// verdictText words a verdict; message is set for a whole message checked,
// clear for a code asked about alone, which shows the words sent.
func (vf *verification) verdictText(t *engine.Turn, v coalition.Verdict, message bool) string {
	lang := t.Lang()
	code := messages.Isolate(coalition.FormatCode(v.Code))
	if v.Kind == coalition.VerdictNoCode {
		if v.FromBot {
			return t.Text(messages.VerifyBotNotCall, nil)
		}
		return t.Text(messages.VerifyNoCodeNote, nil)
	}
	if v.Kind == coalition.VerdictUnknown {
		return t.Text(messages.VerifyUnknown, map[string]any{"Code": code})
	}
	campaign := ""
	if v.Campaign != nil {
		campaign = t.Text(messages.VerifyForCampaign, map[string]any{"Title": coalition.Title(v.Campaign, lang)})
	}
	data := map[string]any{
		"Code": code, "When": vf.timeText(t, v.Call.At), "Campaign": campaign,
		"Text": coalition.InLang(lang, v.Call.TextAR, v.Call.TextEN),
	}
	switch {
	case v.Kind == coalition.VerdictAltered:
		return t.Text(messages.VerifyAltered, data)
	case v.Kind == coalition.VerdictCopied:
		return t.Text(messages.VerifyCopied, data)
	case message:
		return t.Text(messages.VerifyForwardGenuine, data)
	default:
		return t.Text(messages.VerifyGenuine, data)
	}
}

// warnFlow offers a coordinator who forwarded a fake to warn an audience
// of it, quoting it: the audience, then the warning as it will read.
func (vf *verification) warnFlow() *engine.Flow {
	shared := vf.messageSteps("confirm")
	steps := map[string]engine.Step{
		"offer": {
			Ask: func(t *engine.Turn) error {
				t.Ask(t.Text(messages.VerifyWarnOffer, nil), []engine.Choice{
					{Label: t.Text(messages.VerifyWarnButton, nil), Value: "warn"},
					{Label: t.Text(messages.CommonNo, nil), Value: "no"},
				})
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				switch {
				case a.Value == "warn" || !a.Chosen && messages.IsYes(a.Text):
					return "audience", nil
				case a.Value == "no" || !a.Chosen && messages.IsNo(a.Text):
					t.EndFlow()
					return "", mainMenu(t, "")
				}
				t.SayChoose(a)
				return "offer", nil
			},
		},
		"audience": shared["audience"],
		"aud_gov":  shared["aud_gov"],
		"aud_lang": shared["aud_lang"],
		"confirm": {
			Ask: func(t *engine.Turn) error {
				p, d, err := vf.co.Verify.PreviewWarning(t.Ctx(), vf.actor(t), vf.warning(t, false))
				if err != nil {
					return endWith(t, err)
				}
				if p.Total == 0 {
					t.Say(messages.BroadcastNobody, nil)
					return t.GoTo("audience")
				}
				vf.previewSend(t, coalition.InLang(t.Lang(), d.TextAR, d.TextEN), d.Audience, p)
				t.Ask(t.Text(messages.MenuChoose, nil), []engine.Choice{
					{Label: t.Text(messages.BroadcastSend, nil), Value: "send"},
					{Label: t.Text(messages.BroadcastSendUrgent, nil), Value: "urgent"},
					{Label: t.Text(messages.BroadcastAudience, nil), Value: "audience"},
					{Label: t.Text(messages.CommonCancel, nil), Value: "cancel"},
				})
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				switch {
				case a.Value == "send" || a.Value == "urgent":
					return "", vf.submitWarning(t, a.Value == "urgent")
				case a.Value == "audience":
					return "audience", nil
				case a.Value == "cancel" || !a.Chosen && messages.IsNo(a.Text):
					return "", cmdCancel(t, "")
				}
				t.SayChoose(a)
				return "confirm", nil
			},
		},
	}
	return &engine.Flow{First: "offer", Role: store.RoleCoordinator, Steps: steps}
}

func (vf *verification) warning(t *engine.Turn, urgent bool) coalition.FakeWarning {
	aud := vf.dataAudience(t)
	return coalition.FakeWarning{Quote: t.Data("quote"), CampaignID: aud.CampaignID, Audience: aud, Urgent: urgent}
}

func (vf *verification) submitWarning(t *engine.Turn, urgent bool) error {
	res, err := vf.co.Verify.Warn(t.Ctx(), vf.actor(t), vf.warning(t, urgent))
	if errors.Is(err, coalition.ErrNobody) {
		t.Say(messages.BroadcastNobody, nil)
		return t.GoTo("audience")
	}
	if err != nil {
		return endWith(t, err)
	}
	return vf.announceSubmitted(t, res, urgent, "")
}
