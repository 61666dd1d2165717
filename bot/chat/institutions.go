package chat

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// The member institutions in conversation: the directory anyone browses,
// an institution's page and its invitation to join its supporters, and
// leaving its list. The panel its representatives and coordinators run it
// from is institutions_panel.go.

// institutions is the member institutions as anyone meets them: the
// directory, an institution's page, joining and leaving its list (also
// from its share link, through the welcome), and applying to join the
// coalition as one (register.go).
type institutions struct{ *core }

func (ins *institutions) commands() []engine.Command {
	return []engine.Command{
		{Name: "register", Role: store.RoleCitizen, Desc: messages.CmdRegister, Run: ins.cmdRegister},
		{Name: "institutions", Role: store.RoleCitizen, Desc: messages.CmdInstitutions, Run: ins.cmdInstitutions},
		{Name: "institution", Role: store.RoleCitizen, Run: ins.cmdInstitution},
		{Name: "join", Role: store.RoleCitizen, Run: ins.cmdJoin},
		{Name: "leave", Role: store.RoleCitizen, Run: ins.cmdLeave},
	}
}

func (ins *institutions) flows() map[string]*engine.Flow {
	return map[string]*engine.Flow{
		"register":  ins.registerFlow(),
		"directory": ins.directoryFlow(),
		"join":      ins.joinFlow(),
	}
}

// cmdInstitutions opens the directory: anyone browses the member
// institutions by governorate and field of work.
func (ins *institutions) cmdInstitutions(t *engine.Turn, _ string) error {
	return t.StartFlow("directory", "", nil)
}

func (ins *institutions) directoryFlow() *engine.Flow {
	return &engine.Flow{First: "gov", Steps: map[string]engine.Step{
		"gov": {
			Kind: messages.ChoiceQuestion,
			Ask: func(t *engine.Turn) error {
				all, err := ins.co.Institutions.Directory(t.Ctx(), "", "")
				if err != nil {
					return err
				}
				if len(all) == 0 {
					t.EndFlow()
					return mainMenu(t, t.Text(messages.OrgDirectoryEmpty, nil))
				}
				opts := []engine.Choice{{Label: t.Text(messages.OrgDirectoryAll, nil), Value: "gov:"}}
				for _, g := range messages.Governorates() {
					if slices.ContainsFunc(all, func(l coalition.Listed) bool { return slices.Contains(l.Governorates, g) }) {
						opts = append(opts, engine.Choice{Label: t.Text(messages.GovernorateKey(g), nil), Value: "gov:" + g})
					}
				}
				t.Ask(t.Count(messages.OrgDirectoryIntro, len(all), nil), opts)
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				gov, ok := chosenGovernorate(t, a)
				if a.Chosen && a.Value == "gov:" {
					gov, ok = "", true
				}
				if !ok {
					t.SayChoose(a)
					return "gov", nil
				}
				t.SetData("gov", gov)
				return "field", nil
			},
		},
		"field": {
			Kind: messages.ChoiceQuestion,
			Ask: func(t *engine.Turn) error {
				in, err := ins.co.Institutions.Directory(t.Ctx(), t.Data("gov"), "")
				if err != nil {
					return err
				}
				opts := []engine.Choice{{Label: t.Text(messages.OrgDirectoryAllFields, nil), Value: "field:"}}
				for _, f := range messages.Fields() {
					if slices.ContainsFunc(in, func(l coalition.Listed) bool { return l.Field == f }) {
						opts = append(opts, engine.Choice{Label: t.Text(messages.FieldKey(f), nil), Value: "field:" + f})
					}
				}
				if len(opts) == 2 {
					// one field only: nothing to choose
					t.SetData("field", strings.TrimPrefix(opts[1].Value, "field:"))
					return t.GoTo("list")
				}
				t.Ask(t.Text(messages.OrgDirectoryField, nil), opts)
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				f, ok := strings.CutPrefix(a.Value, "field:")
				if !a.Chosen || !ok {
					if g, found := t.Catalog().MatchField(a.Text); found {
						f, ok = g, true
					}
				}
				if !ok {
					t.SayChoose(a)
					return "field", nil
				}
				t.SetData("field", f)
				return "list", nil
			},
		},
		"list": {
			Ask: func(t *engine.Turn) error {
				found, err := ins.co.Institutions.Directory(t.Ctx(), t.Data("gov"), t.Data("field"))
				if err != nil {
					return err
				}
				t.EndFlow()
				if len(found) == 0 {
					t.Say(messages.OrgDirectoryNone, nil)
					return mainMenu(t, "")
				}
				var sb strings.Builder
				sb.WriteString(t.Count(messages.OrgDirectoryFound, len(found), nil))
				var opts []engine.Choice
				for _, l := range found {
					name := coalition.InLang(t.Lang(), l.NameAR, l.NameEN)
					sb.WriteString("\n• " + name + " — " + t.Text(messages.FieldKey(l.Field), nil) + " — " +
						governorateNames(t, strings.Join(l.Governorates, ",")))
					if len(l.Open) > 0 {
						sb.WriteString("\n  " + t.Count(messages.OrgOpenCampaigns, len(l.Open), nil))
					}
					opts = append(opts, engine.Choice{Label: name, Value: "/institution " + l.Code})
				}
				opts = append(opts, engine.Choice{Label: t.Text(messages.CommonBack, nil), Value: "/menu"})
				t.Ask(sb.String(), opts)
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) { return "list", nil },
		},
	}}
}

// cmdInstitution shows an institution's page: what it published, its open
// campaigns, and how to join its list or reach it.
func (ins *institutions) cmdInstitution(t *engine.Turn, code string) error {
	inst, err := ins.co.Institutions.Find(t.Ctx(), code)
	if errors.Is(err, coalition.ErrNotFound) || errors.Is(err, coalition.ErrNotMember) {
		t.Say(messages.OrgNotFound, map[string]any{"Code": messages.Isolate(strings.TrimSpace(code))})
		return mainMenu(t, "")
	}
	if err != nil {
		return err
	}
	return ins.showInstitution(t, inst, "")
}

// showInstitution shows an institution's public page after intro.
func (ins *institutions) showInstitution(t *engine.Turn, inst *store.Institution, intro string) error {
	t.SayText(intro)
	lang := t.Lang()
	var sb strings.Builder
	sb.WriteString("🏛️ " + institutionName(t, inst))
	l, err := ins.co.Institutions.Public(t.Ctx(), inst.ID)
	listed := err == nil
	if err != nil && !errors.Is(err, coalition.ErrNotFound) {
		return err
	}
	var opts []engine.Choice
	if listed {
		sb.WriteString("\n" + t.Text(messages.FieldKey(l.Field), nil) + " — " + governorateNames(t, strings.Join(l.Governorates, ",")))
		if about := coalition.InLang(lang, l.AboutAR, l.AboutEN); about != "" {
			sb.WriteString("\n\n" + about)
		}
		var reach []string
		if l.Phone != "" {
			reach = append(reach, t.Text(messages.OrgPhone, map[string]any{"Phone": messages.Isolate(l.Phone)}))
		}
		if l.Email != "" {
			reach = append(reach, t.Text(messages.OrgEmail, map[string]any{"Email": messages.Isolate(l.Email)}))
		}
		if len(reach) > 0 {
			sb.WriteString("\n\n" + strings.Join(reach, "\n"))
		}
		if len(l.Open) > 0 {
			sb.WriteString("\n\n" + t.Text(messages.OrgOpenCampaignsTitle, nil))
			for _, cc := range l.Open {
				sb.WriteString("\n• " + coalition.Title(cc.Campaign, lang))
				opts = append(opts, engine.Choice{Label: coalition.Title(cc.Campaign, lang), Value: "/campaign " + cc.Campaign.Code})
			}
		}
	}
	link := ins.co.Institutions.JoinLink(t.In().From.Channel, inst)
	sb.WriteString("\n\n" + t.Text(messages.OrgJoinLink, map[string]any{"Link": messages.Isolate(link)}))
	supporting, err := ins.co.Institutions.SupportsAny(t.Ctx(), ins.actor(t), store.OrganisedBy(inst.ID))
	if err != nil {
		return err
	}
	if supporting != nil {
		sb.WriteString("\n" + t.Text(messages.OrgYouSupport, nil))
		opts = append(opts, engine.Choice{Label: t.Text(messages.OrgLeaveButton, nil), Value: "/leave " + inst.Code})
	} else {
		opts = append(opts, engine.Choice{Label: t.Text(messages.OrgJoinButton, nil), Value: "/join " + inst.Code})
	}
	opts = append(opts, engine.Choice{Label: t.Text(messages.OrgDirectoryButton, nil), Value: "/institutions"})
	t.Ask(sb.String(), opts)
	return nil
}

// cmdJoin asks the person whether the institution may write to them, and
// puts them on its list on yes.
func (ins *institutions) cmdJoin(t *engine.Turn, code string) error {
	inst, err := ins.co.Institutions.Find(t.Ctx(), code)
	if errors.Is(err, coalition.ErrNotFound) || errors.Is(err, coalition.ErrNotMember) {
		t.Say(messages.OrgNotFound, map[string]any{"Code": messages.Isolate(strings.TrimSpace(code))})
		return mainMenu(t, "")
	}
	if err != nil {
		return err
	}
	return t.StartFlow("join", "", map[string]string{"inst": strconv.FormatUint(inst.ID, 10)})
}

func (ins *institutions) joinFlow() *engine.Flow {
	return &engine.Flow{First: "confirm", Steps: map[string]engine.Step{
		"confirm": {
			Kind: messages.YesNoQuestion,
			Ask: func(t *engine.Turn) error {
				inst := ins.dataInstitution(t)
				if inst == nil {
					t.EndFlow()
					return mainMenu(t, "")
				}
				t.Ask(t.Text(messages.OrgJoinAsk, map[string]any{"Name": institutionName(t, inst)}), t.YesNoChoices())
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				yes, ok := engine.YesNo(a)
				if !ok {
					t.Say(messages.ErrYesNo, nil)
					return "confirm", nil
				}
				inst := ins.dataInstitution(t)
				t.EndFlow()
				if inst == nil {
					return "", mainMenu(t, "")
				}
				if !yes {
					return "", ins.showInstitution(t, inst, t.Text(messages.OrgJoinNo, nil))
				}
				return "", ins.join(t, inst, false)
			},
		},
	}}
}

// join puts the person on inst's list after their yes (which is their yes
// to the coalition's messages too) and shows its page.
func (ins *institutions) join(t *engine.Turn, inst *store.Institution, newcomer bool) error {
	if !t.Contact().Consent || t.Contact().Stopped {
		c, err := ins.co.People.Consent(t.Ctx(), ins.actor(t), true)
		if err != nil {
			return err
		}
		t.SetContact(c)
	}
	inst, _, err := ins.co.Institutions.Join(t.Ctx(), ins.actor(t), inst.ID, newcomer)
	if err != nil {
		if explain(t, err) {
			return mainMenu(t, "")
		}
		return err
	}
	return ins.showInstitution(t, inst, t.Text(messages.OrgJoined, map[string]any{"Name": institutionName(t, inst), "Code": messages.Isolate("/leave " + inst.Code)}))
}

// dataInstitution is the active institution the conversation is about.
func (ins *institutions) dataInstitution(t *engine.Turn) *store.Institution {
	id, err := strconv.ParseUint(t.Data("inst"), 10, 64)
	if err != nil {
		return nil
	}
	inst, err := ins.co.Institutions.Member(t.Ctx(), id)
	if err != nil {
		return nil
	}
	return inst
}

// cmdLeave takes the person off one institution's list: the one named, or
// the one they choose among theirs.
func (ins *institutions) cmdLeave(t *engine.Turn, code string) error {
	by := ins.actor(t)
	mine, err := ins.co.Institutions.Supporting(t.Ctx(), by)
	if err != nil {
		return err
	}
	code = strings.ToLower(strings.TrimSpace(messages.ToASCIIDigits(code)))
	var inst *store.Institution
	for _, i := range mine {
		if i.Code == code {
			inst = i
		}
	}
	if inst == nil {
		if len(mine) == 0 {
			return mainMenu(t, t.Text(messages.OrgLeaveNone, nil))
		}
		var opts []engine.Choice
		for _, i := range mine {
			opts = append(opts, engine.Choice{Label: institutionName(t, i), Value: "/leave " + i.Code})
		}
		opts = append(opts, engine.Choice{Label: t.Text(messages.CommonBack, nil), Value: "/menu"})
		t.Ask(t.Text(messages.OrgLeaveWhich, nil), opts)
		return nil
	}
	if _, _, err := ins.co.Institutions.Leave(t.Ctx(), by, inst.ID); err != nil {
		return err
	}
	return mainMenu(t, t.Text(messages.OrgLeft, map[string]any{"Name": institutionName(t, inst), "Code": messages.Isolate("/join " + inst.Code)}))
}

// startJoin answers an institution's share link: a newcomer goes through
// the welcome, whose consent names the institution beside the coalition,
// and joins its list with their yes; someone known is asked to join it.
func (ins *institutions) startJoin(t *engine.Turn, code string) error {
	inst, err := ins.co.Institutions.Find(t.Ctx(), code)
	if err != nil && !errors.Is(err, coalition.ErrNotFound) && !errors.Is(err, coalition.ErrNotMember) {
		return err
	}
	c := t.Contact()
	if err != nil {
		t.Say(messages.OrgNotFound, map[string]any{"Code": messages.Isolate(code)})
		if c.OnboardedAt.IsZero() {
			return t.StartFlow("start", "", nil)
		}
		return mainMenu(t, "")
	}
	if c.OnboardedAt.IsZero() {
		data := map[string]string{"inst": strconv.FormatUint(inst.ID, 10)}
		if t.Created() {
			data["newcomer"] = "1"
		}
		return t.StartFlow("start", "", data)
	}
	if sp, err := ins.co.Institutions.SupportsAny(t.Ctx(), ins.actor(t), store.OrganisedBy(inst.ID)); err != nil {
		return err
	} else if sp != nil {
		return ins.showInstitution(t, inst, "")
	}
	return t.StartFlow("join", "", map[string]string{"inst": strconv.FormatUint(inst.ID, 10)})
}
