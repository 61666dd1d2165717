package chat

import (
	"errors"
	"strings"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// institutionPanel is a member institution as its own people and the
// coalition's staff run it: its panel (/myinstitution), its people and
// their roles, its details (institutions_edit.go), its numbers and the
// admins' decisions about its membership (institutions_admin.go), and the
// campaigns it organises with others (institutions_joint.go).
type institutionPanel struct{ *core }

func (ip *institutionPanel) commands() []engine.Command {
	return []engine.Command{
		{Name: "myinstitution", Role: store.RoleCoordinator, Desc: messages.CmdMyInstitution, Run: ip.cmdMyInstitution},
		{Name: "institutionpeople", Role: store.RoleCoordinator, Run: ip.cmdInstitutionPeople},
		{Name: "institutionstats", Role: store.RoleCoordinator, Run: ip.cmdInstitutionStats},
		{Name: "appointcoordinator", Role: store.RoleCoordinator, Run: ip.cmdAppointCoordinator},
		{Name: "addrepresentative", Role: store.RoleCoordinator, Run: ip.cmdAddRepresentative},
		{Name: "removeperson", Role: store.RoleCoordinator, Run: ip.cmdRemovePerson},
		{Name: "editinstitution", Role: store.RoleCoordinator, Run: ip.cmdEditInstitution},
		{Name: "invitepartner", Role: store.RoleCoordinator, Run: ip.cmdInvitePartner},
		{Name: "acceptpartner", Role: store.RoleCoordinator, Run: ip.cmdAcceptPartner},
		{Name: "declinepartner", Role: store.RoleCoordinator, Run: ip.cmdDeclinePartner},
		{Name: "overview", Role: store.RoleCoordinator, Desc: messages.CmdOverview, Run: ip.cmdOverview},
		{Name: "suspend", Role: store.RoleAdmin, Run: ip.cmdSuspend},
		{Name: "reinstate", Role: store.RoleAdmin, Run: ip.cmdReinstate},
		{Name: "endmembership", Role: store.RoleAdmin, Run: ip.cmdEndMembership},
		{Name: "approvename", Role: store.RoleAdmin, Run: ip.cmdApproveName},
		{Name: "rejectname", Role: store.RoleAdmin, Run: ip.cmdRejectName},
	}
}

func (ip *institutionPanel) flows() map[string]*engine.Flow {
	return map[string]*engine.Flow{"editinstitution": ip.editInstitutionFlow()}
}

// myInstitution finds the institution a command of its people names: the
// one with the code given, or the only one they act for; with several and
// none named it lists them to choose, each running command(its code). nil with a nil error
// means it answered.
func (ip *institutionPanel) myInstitution(t *engine.Turn, code string, command func(code string) string) (*store.Institution, error) {
	mine, err := ip.co.Institutions.Mine(t.Ctx(), ip.actor(t))
	if err != nil {
		return nil, err
	}
	code = strings.ToLower(strings.TrimSpace(messages.ToASCIIDigits(code)))
	if code != "" {
		for _, m := range mine {
			if m.Institution.Code == code {
				return m.Institution, nil
			}
		}
		if ip.actor(t).Role.AtLeast(store.RoleCoordinator) {
			// the coalition's staff see any institution, whatever its standing
			if inst, err := ip.co.Institutions.Find(t.Ctx(), code); err == nil || errors.Is(err, coalition.ErrNotMember) {
				return inst, nil
			}
		}
		t.Say(messages.OrgNotFound, map[string]any{"Code": messages.Isolate(code)})
		return nil, mainMenu(t, "")
	}
	switch len(mine) {
	case 0:
		t.Say(messages.OrgNoneOfYours, nil)
		return nil, mainMenu(t, "")
	case 1:
		return mine[0].Institution, nil
	}
	var opts []engine.Choice
	for _, m := range mine {
		opts = append(opts, engine.Choice{Label: institutionName(t, m.Institution), Value: command(m.Institution.Code)})
	}
	opts = append(opts, engine.Choice{Label: t.Text(messages.CommonBack, nil), Value: "/menu"})
	t.Ask(t.Text(messages.OrgWhichInstitution, nil), opts)
	return nil, nil
}

// commandWith is the command that runs name on an institution's code.
func commandWith(name string) func(code string) string {
	return func(code string) string { return name + " " + code }
}

// cmdMyInstitution is the panel an institution's people run it from:
// its standing, their role, its share link and what they can do.
func (ip *institutionPanel) cmdMyInstitution(t *engine.Turn, code string) error {
	inst, err := ip.myInstitution(t, code, commandWith("/myinstitution"))
	if inst == nil {
		return err
	}
	by := ip.actor(t)
	role := by.RoleIn(inst.ID)
	var sb strings.Builder
	sb.WriteString("🏛️ " + institutionName(t, inst))
	if role != "" {
		sb.WriteString("\n" + t.Text(messages.OrgYourRoleLine, map[string]any{"Role": t.Text(messages.OrgRoleKey(string(role)), nil)}))
	}
	sb.WriteString("\n" + t.Text(messages.OrgStatusLine, map[string]any{"Status": t.Text(messages.InstitutionStatusKey(string(inst.Status)), nil)}))
	if !inst.Active() {
		if inst.StatusReason != "" {
			sb.WriteString("\n" + t.Text(messages.RegisterReason, map[string]any{"Reason": inst.StatusReason}))
		}
		return mainMenu(t, sb.String())
	}
	if inst.Rename != nil {
		sb.WriteString("\n" + t.Text(messages.OrgRenameWaiting, map[string]any{"Name": coalition.InLang(t.Lang(), inst.Rename.NameAR, inst.Rename.NameEN)}))
	}
	n, err := ip.co.Institutions.Numbers(t.Ctx(), by, inst.ID)
	if err != nil {
		return fail(t, err)
	}
	sb.WriteString("\n" + t.Count(messages.OrgSupportersLine, n.Supporters, nil))
	link := ip.co.Institutions.JoinLink(t.In().From.Channel, inst)
	sb.WriteString("\n\n" + t.Text(messages.OrgShareLink, map[string]any{"Link": messages.Isolate(link), "Code": messages.Isolate(inst.Code)}))
	opts := []engine.Choice{
		{Label: t.Text(messages.MenuNewCampaign, nil), Value: "/newcampaign"},
		{Label: t.Text(messages.OrgSendButton, nil), Value: "/broadcast"},
		{Label: t.Text(messages.OrgNumbersButton, nil), Value: "/institutionstats " + inst.Code},
		{Label: t.Text(messages.OrgPeopleButton, nil), Value: "/institutionpeople " + inst.Code},
	}
	if role == store.InstitutionRepresentative || by.Role.AtLeast(store.RoleAdmin) {
		opts = append(opts, engine.Choice{Label: t.Text(messages.OrgEditButton, nil), Value: "/editinstitution " + inst.Code})
	}
	opts = append(opts, engine.Choice{Label: t.Text(messages.CommonBack, nil), Value: "/menu"})
	t.Ask(sb.String(), opts)
	return nil
}

// cmdInstitutionPeople lists an institution's representatives and coordinators.
func (ip *institutionPanel) cmdInstitutionPeople(t *engine.Turn, code string) error {
	inst, err := ip.myInstitution(t, code, commandWith("/institutionpeople"))
	if inst == nil {
		return err
	}
	people, err := ip.co.Institutions.People(t.Ctx(), ip.actor(t), inst.ID)
	if err != nil {
		return fail(t, err)
	}
	var sb strings.Builder
	sb.WriteString(t.Text(messages.OrgPeopleTitle, map[string]any{"Name": institutionName(t, inst)}))
	for _, p := range people {
		sb.WriteString("\n• " + t.Text(messages.OrgRoleKey(string(p.Role)), nil) + ": " + ip.words.Person(p.Contact, t.Lang()))
	}
	sb.WriteString("\n\n" + t.Text(messages.OrgAppointHint, map[string]any{
		"Coordinator":    messages.Isolate("/appointcoordinator " + inst.Code + " #12"),
		"Representative": messages.Isolate("/addrepresentative " + inst.Code + " #12"),
		"Remove":         messages.Isolate("/removeperson " + inst.Code + " #12"),
	}))
	return mainMenu(t, sb.String())
}

// institutionAndPerson reads "[code] who" for the commands that give or
// take a role in an institution.
func (ip *institutionPanel) institutionAndPerson(t *engine.Turn, arg, command string) (*store.Institution, *store.Contact, error) {
	fields := strings.Fields(messages.ToASCIIDigits(arg))
	code, who := "", ""
	switch len(fields) {
	case 0:
	case 1:
		who = fields[0]
	default:
		code, who = fields[0], strings.Join(fields[1:], " ")
	}
	inst, err := ip.myInstitution(t, code, func(code string) string { return command + " " + code + " " + who })
	if inst == nil {
		return nil, nil, err
	}
	c, err := ip.person(t, who, command)
	if c == nil {
		return nil, nil, err
	}
	return inst, c, nil
}

func (ip *institutionPanel) cmdAppointCoordinator(t *engine.Turn, arg string) error {
	return ip.appointIn(t, arg, "/appointcoordinator", store.InstitutionCoordinator)
}

func (ip *institutionPanel) cmdAddRepresentative(t *engine.Turn, arg string) error {
	return ip.appointIn(t, arg, "/addrepresentative", store.InstitutionRepresentative)
}

func (ip *institutionPanel) appointIn(t *engine.Turn, arg, command string, role store.InstitutionRole) error {
	inst, who, err := ip.institutionAndPerson(t, arg, command)
	if who == nil {
		return err
	}
	res, err := ip.co.Institutions.Appoint(t.Ctx(), ip.actor(t), inst.ID, who, role)
	return ip.institutionRoleChanged(t, inst, res, err)
}

func (ip *institutionPanel) cmdRemovePerson(t *engine.Turn, arg string) error {
	inst, who, err := ip.institutionAndPerson(t, arg, "/removeperson")
	if who == nil {
		return err
	}
	res, err := ip.co.Institutions.Remove(t.Ctx(), ip.actor(t), inst.ID, who)
	return ip.institutionRoleChanged(t, inst, res, err)
}

func (ip *institutionPanel) institutionRoleChanged(t *engine.Turn, inst *store.Institution, res coalition.Appointed, err error) error {
	if err != nil {
		if explain(t, err) {
			return mainMenu(t, "")
		}
		return err
	}
	data := map[string]any{"Who": ip.words.Person(res.Person, t.Lang()), "Name": institutionName(t, inst),
		"Role": t.Text(messages.OrgRoleKey(string(res.Role)), nil)}
	switch {
	case !res.Changed:
		return mainMenu(t, t.Text(messages.OrgRoleUnchanged, data))
	case res.Role == "":
		intro := t.Text(messages.OrgRoleTaken, data)
		if !res.Stopped.Empty() {
			intro += "\n" + t.Text(messages.AdminStopped, nil)
		}
		return mainMenu(t, intro)
	}
	return mainMenu(t, t.Text(messages.OrgRoleGiven, data))
}
