package chat

import (
	"errors"
	"fmt"
	"strings"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// privacy is what a person sees and decides of their own data: /mydata,
// /forget, and /link, which joins their accounts on two channels.
type privacy struct{ *core }

func (pv *privacy) commands() []engine.Command {
	return []engine.Command{
		{Name: "mydata", Role: store.RoleCitizen, Desc: messages.CmdMyData, Run: pv.cmdMyData},
		{Name: "forget", Role: store.RoleCitizen, Desc: messages.CmdForget, Run: pv.cmdForget},
		{Name: "link", Role: store.RoleCitizen, Desc: messages.CmdLink, Run: pv.cmdLink},
	}
}

func (pv *privacy) flows() map[string]*engine.Flow {
	return map[string]*engine.Flow{"forget": pv.forgetFlow(), "link": pv.linkFlow()}
}

// cmdMyData shows everything the bot keeps about the person.
func (pv *privacy) cmdMyData(t *engine.Turn, _ string) error {
	d, err := pv.co.People.MyData(t.Ctx(), pv.actor(t))
	if err != nil {
		return err
	}
	c := d.Contact
	none := t.Text(messages.CommonNone, nil)
	or := func(s string) string {
		if s == "" {
			return none
		}
		return s
	}
	yes, no := t.Text(messages.CommonYes, nil), t.Text(messages.CommonNo, nil)
	yn := func(v bool) string {
		if v {
			return yes
		}
		return no
	}
	var addrs []string
	for _, a := range c.Addresses {
		addrs = append(addrs, pv.words.Channel(t.Lang(), a.Channel)+" "+messages.Isolate(a.ID))
	}
	gov := none
	if c.Governorate != "" {
		gov = t.Text(messages.GovernorateKey(c.Governorate), nil)
	}
	consent := yn(c.Consent)
	if c.Consent && !c.ConsentAt.IsZero() {
		consent += " (" + pv.timeText(t, c.ConsentAt) + ")"
	}
	var sb strings.Builder
	sb.WriteString(t.Text(messages.MyDataIntro, nil))
	sb.WriteString("\n\n" + t.Text(messages.MyDataFields, map[string]any{
		"Addresses":   strings.Join(addrs, t.Text(messages.CommonListSep, nil)),
		"Name":        or(messages.Isolate(c.Name)),
		"Lang":        t.Text(messages.LangKey(t.Lang()), nil),
		"Consent":     consent,
		"Stopped":     yn(c.Stopped),
		"Governorate": gov,
		"Role":        t.Text(messages.RoleKey(string(d.Role)), nil),
		"RefCode":     messages.Isolate(c.RefCode),
		"Referrals":   messages.FormatNumber(t.Lang(), c.Referrals),
		"Since":       pv.timeText(t, c.CreatedAt),
	}))
	if d.Institution != nil {
		sb.WriteString("\n" + t.Text(messages.MyDataInstitution, map[string]any{"Name": coalition.InstitutionName(d.Institution, t.Lang())}))
	}
	if err := pv.myDataInstitutions(t, &sb); err != nil {
		return err
	}
	for i := range d.Applications {
		sb.WriteString("\n" + t.Text(messages.MyDataApplication, map[string]any{"Name": coalition.InstitutionName(&d.Applications[i], t.Lang()), "Since": pv.timeText(t, d.Applications[i].CreatedAt)}))
	}
	for i := range d.Given {
		inst := &d.Given[i]
		var details []string
		for _, s := range []string{inst.ContactPerson, inst.Phone, inst.Email} {
			if s != "" {
				details = append(details, messages.Isolate(s))
			}
		}
		sb.WriteString("\n" + t.Text(messages.MyDataApplicationContact, map[string]any{
			"Name": coalition.InstitutionName(inst, t.Lang()), "Details": strings.Join(details, t.Text(messages.CommonListSep, nil))}))
	}
	if len(d.Watching) > 0 {
		var titles []string
		for i := range d.Watching {
			titles = append(titles, coalition.Title(&d.Watching[i], t.Lang()))
		}
		sb.WriteString("\n" + t.Text(messages.MyDataWatching, map[string]any{"Titles": pv.words.List(titles, t.Lang())}))
	}
	sb.WriteString("\n\n" + t.Count(messages.MyDataPledges, len(d.Pledges), nil))
	for _, p := range d.Pledges {
		sb.WriteString("\n• " + pv.campaignTitle(t, p.CampaignID) + " — " + pv.timeText(t, p.At))
	}
	sb.WriteString("\n" + t.Count(messages.MyDataSignups, len(d.Signups), nil))
	for _, su := range d.Signups {
		sb.WriteString("\n• " + pv.campaignTitle(t, su.CampaignID) + " — " + pv.timeText(t, su.At))
	}
	if len(d.Answers) > 0 {
		sb.WriteString("\n" + t.Count(messages.MyDataPollAnswers, len(d.Answers), nil))
		for _, a := range d.Answers {
			sb.WriteString("\n• " + coalition.PollQuestion(a.Poll, t.Lang()) + " — " + coalition.PollOption(a.Poll, a.Answer.Option, t.Lang()))
		}
	}
	sb.WriteString("\n\n" + t.Text(messages.MyDataForgetHint, nil))
	return mainMenu(t, sb.String())
}

// myDataInstitutions adds to /mydata the person's roles in institutions
// and the lists they are on.
func (pv *privacy) myDataInstitutions(t *engine.Turn, sb *strings.Builder) error {
	by := pv.actor(t)
	mine, err := pv.co.Institutions.Mine(t.Ctx(), by)
	if err != nil {
		return err
	}
	for _, m := range mine {
		sb.WriteString("\n" + t.Text(messages.OrgMyDataRole, map[string]any{
			"Role": t.Text(messages.OrgRoleKey(string(m.Role)), nil), "Name": institutionName(t, m.Institution)}))
	}
	lists, err := pv.co.Institutions.Supporting(t.Ctx(), by)
	if err != nil {
		return err
	}
	if len(lists) > 0 {
		var names []string
		for _, inst := range lists {
			names = append(names, institutionName(t, inst))
		}
		sb.WriteString("\n" + t.Text(messages.OrgMyDataLists, map[string]any{"Names": pv.words.List(names, t.Lang()), "Leave": messages.Isolate("/leave")}))
	}
	return nil
}

func (pv *privacy) campaignTitle(t *engine.Turn, id uint64) string {
	c, err := pv.co.Campaigns.Get(t.Ctx(), id)
	if err != nil {
		return "#" + fmt.Sprint(id)
	}
	return coalition.Title(c, t.Lang())
}

func (pv *privacy) cmdForget(t *engine.Turn, _ string) error { return t.StartFlow("forget", "", nil) }

func (pv *privacy) forgetFlow() *engine.Flow {
	return &engine.Flow{First: "confirm", Steps: map[string]engine.Step{
		"confirm": {
			Kind: messages.YesNoQuestion,
			Ask: func(t *engine.Turn) error {
				t.Ask(t.Text(messages.ForgetConfirm, nil), []engine.Choice{
					{Label: t.Text(messages.ForgetYes, nil), Value: "yes"},
					{Label: t.Text(messages.ForgetNo, nil), Value: "no"},
				})
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				yes, ok := engine.YesNo(a)
				if !ok {
					t.Say(messages.ErrYesNo, nil)
					return "confirm", nil
				}
				t.EndFlow()
				if !yes {
					return "", mainMenu(t, t.Text(messages.ForgetKept, nil))
				}
				if err := pv.co.People.Forget(t.Ctx(), pv.actor(t)); err != nil {
					return "", err
				}
				t.Forgotten()
				t.Say(messages.ForgetDone, nil)
				t.Flush(nil)
				return "", nil
			},
		},
	}}
}

// cmdLink joins one person's accounts on two channels: without an argument
// it gives a one-time code; with the code, sent from the other account, it
// joins the two, so the person counts and is messaged once. "/link yes
// TOKEN" and "/link no TOKEN" are a privileged owner's answer.
func (pv *privacy) cmdLink(t *engine.Turn, arg string) error {
	arg = strings.TrimSpace(messages.ToASCIIDigits(arg))
	by := pv.actor(t)
	verb, token, _ := strings.Cut(arg, " ")
	switch {
	case arg == "":
		code, err := pv.co.People.LinkCode(t.Ctx(), by)
		if err != nil {
			return err
		}
		t.Say(messages.LinkCode, map[string]any{"Code": messages.Isolate(code)})
		t.Flush(nil)
		return nil
	case (verb == "yes" || verb == "no") && token != "":
		merged, err := pv.co.People.ConfirmLink(t.Ctx(), by, token, verb == "yes")
		if err != nil {
			return pv.linkFailed(t, err)
		}
		if merged == nil {
			return mainMenu(t, t.Text(messages.LinkKept, nil))
		}
		return pv.linked(t, merged)
	}
	return pv.link(t, arg, false)
}

// link tries the code, asking a privileged person to confirm first.
func (pv *privacy) link(t *engine.Turn, code string, confirmed bool) error {
	res, err := pv.co.People.Link(t.Ctx(), pv.actor(t), code, confirmed)
	switch {
	case errors.Is(err, coalition.ErrConfirm):
		return t.StartFlow("link", "", map[string]string{"code": code})
	case err != nil:
		return pv.linkFailed(t, err)
	case res.Waiting:
		t.Say(messages.LinkWaiting, nil)
		t.Flush(nil)
		return nil
	}
	return pv.linked(t, res.Contact)
}

func (pv *privacy) linkFailed(t *engine.Turn, err error) error {
	if !explain(t, err) {
		return err
	}
	t.Flush(nil)
	return nil
}

// linked tells the person their accounts are one.
func (pv *privacy) linked(t *engine.Turn, merged *store.Contact) error {
	// this turn's contact may be gone into the other: its session is not written back
	t.Forgotten()
	var addrs []string
	for _, a := range merged.Addresses {
		addrs = append(addrs, pv.words.Channel(t.Lang(), a.Channel))
	}
	t.Say(messages.LinkDone, map[string]any{"Addresses": strings.Join(addrs, t.Text(messages.CommonListSep, nil))})
	t.Flush(nil)
	return nil
}

// linkFlow asks a privileged person who typed a code whether to join the
// accounts, since the other would share their role.
func (pv *privacy) linkFlow() *engine.Flow {
	return &engine.Flow{First: "confirm", Steps: map[string]engine.Step{
		"confirm": {
			Kind: messages.YesNoQuestion,
			Ask: func(t *engine.Turn) error {
				t.Ask(t.Text(messages.LinkConfirmRequester, map[string]any{"Role": t.Text(messages.RoleKey(string(t.Role())), nil)}), []engine.Choice{
					{Label: t.Text(messages.LinkConfirmYes, nil), Value: "yes"},
					{Label: t.Text(messages.LinkConfirmNo, nil), Value: "no"},
				})
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				yes, ok := engine.YesNo(a)
				if !ok {
					t.Say(messages.ErrYesNo, nil)
					return "confirm", nil
				}
				code := t.Data("code")
				t.EndFlow()
				if !yes {
					return "", mainMenu(t, t.Text(messages.LinkKept, nil))
				}
				return "", pv.link(t, code, true)
			},
		},
	}}
}
