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

// admin is the admins' running of the coalition: applications to join
// it, appointing and dismissing its staff, its members and staff listed,
// pausing and resuming all sending, and what becomes of the sends of
// someone who lost their role.
type admin struct{ *core }

func (ad *admin) commands() []engine.Command {
	return []engine.Command{
		{Name: "pause", Role: store.RoleAdmin, Desc: messages.CmdPause, Run: ad.cmdPause},
		{Name: "resume", Role: store.RoleAdmin, Desc: messages.CmdResume, Run: ad.cmdResume},
		{Name: "takeover", Role: store.RoleAdmin, Run: ad.cmdTakeOver},
		{Name: "drop", Role: store.RoleAdmin, Run: ad.cmdDrop},
		{Name: "pending", Role: store.RoleAdmin, Desc: messages.CmdPending, Run: ad.cmdPending},
		{Name: "approve", Role: store.RoleAdmin, Desc: messages.CmdApprove, Run: ad.cmdApprove},
		{Name: "reject", Role: store.RoleAdmin, Desc: messages.CmdReject, Run: ad.cmdReject},
		{Name: "appoint", Role: store.RoleAdmin, Desc: messages.CmdAppoint, Run: ad.cmdAppoint},
		{Name: "dismiss", Role: store.RoleAdmin, Desc: messages.CmdDismiss, Run: ad.cmdDismiss},
		{Name: "members", Role: store.RoleAdmin, Desc: messages.CmdMembers, Run: ad.cmdMembers},
	}
}

func (ad *admin) flows() map[string]*engine.Flow { return nil }

func (ad *admin) cmdPending(t *engine.Turn, _ string) error {
	pending, err := ad.co.Institutions.Pending(t.Ctx(), ad.actor(t))
	if err != nil {
		return fail(t, err)
	}
	if len(pending) == 0 {
		return mainMenu(t, t.Text(messages.AdminNoPending, nil))
	}
	var sb strings.Builder
	sb.WriteString(t.Count(messages.AdminPendingTitle, len(pending), nil))
	var opts []engine.Choice
	for i := range pending {
		inst := &pending[i]
		sb.WriteString("\n\n" + t.Text(messages.AdminInstitutionLine, institutionData(t, inst)))
		id := strconv.FormatUint(inst.ID, 10)
		shown := " #" + messages.FormatID(t.Lang(), inst.ID)
		opts = append(opts,
			engine.Choice{Label: t.Text(messages.AdminApproveButton, nil) + shown, Value: "/approve " + id},
			engine.Choice{Label: t.Text(messages.AdminRejectButton, nil) + shown, Value: "/reject " + id})
	}
	opts = append(opts, engine.Choice{Label: t.Text(messages.CommonBack, nil), Value: "/menu"})
	t.Ask(sb.String(), opts)
	return nil
}

func (ad *admin) cmdApprove(t *engine.Turn, arg string) error { return ad.decide(t, arg, true) }

func (ad *admin) cmdReject(t *engine.Turn, arg string) error { return ad.decide(t, arg, false) }

// decide approves or rejects an application.
func (ad *admin) decide(t *engine.Turn, arg string, approve bool) error {
	idText, reason, _ := strings.Cut(strings.TrimSpace(arg), " ")
	id, ok := messages.ParseNumber(strings.TrimPrefix(idText, "#"))
	if !ok || id <= 0 {
		command := "/reject"
		if approve {
			command = "/approve"
		}
		t.Say(messages.AdminNeedInstitution, map[string]any{"Example": messages.Isolate(command + " 12")})
		return ad.cmdPending(t, "")
	}
	by := ad.actor(t)
	var inst *store.Institution
	var err error
	if approve {
		inst, err = ad.co.Institutions.Approve(t.Ctx(), by, uint64(id), reason)
	} else {
		inst, err = ad.co.Institutions.Reject(t.Ctx(), by, uint64(id), reason)
	}
	switch {
	case errors.Is(err, coalition.ErrNotFound):
		t.Say(messages.AdminNoInstitution, map[string]any{"ID": messages.FormatID(t.Lang(), uint64(id))})
		return ad.cmdPending(t, "")
	case errors.Is(err, coalition.ErrDecided):
		t.Say(messages.AdminAlreadyDecided, map[string]any{"Name": coalition.InstitutionName(inst, t.Lang()), "Status": t.Text(messages.StatusKey(string(inst.Status)), nil)})
		return ad.cmdPending(t, "")
	case err != nil:
		return fail(t, err)
	}
	key := messages.AdminApproved
	if !approve {
		key = messages.AdminRejected
	}
	t.Say(key, map[string]any{"Name": coalition.InstitutionName(inst, t.Lang())})
	return ad.cmdPending(t, "")
}

func (ad *admin) cmdAppoint(t *engine.Turn, arg string) error {
	c, err := ad.person(t, arg, "/appoint")
	if c == nil {
		return err
	}
	res, err := ad.co.Members.Appoint(t.Ctx(), ad.actor(t), c)
	return ad.roleChanged(t, res, err)
}

func (ad *admin) cmdDismiss(t *engine.Turn, arg string) error {
	c, err := ad.person(t, arg, "/dismiss")
	if c == nil {
		return err
	}
	res, err := ad.co.Members.Dismiss(t.Ctx(), ad.actor(t), c)
	return ad.roleChanged(t, res, err)
}

func (ad *admin) roleChanged(t *engine.Turn, res coalition.RoleChange, err error) error {
	if err != nil {
		if explain(t, err) {
			return mainMenu(t, "")
		}
		return err
	}
	data := map[string]any{"Who": ad.words.Person(res.Person, t.Lang()), "Role": t.Text(messages.RoleKey(string(res.Role)), nil)}
	if !res.Changed {
		return mainMenu(t, t.Text(messages.AdminRoleUnchanged, data))
	}
	intro := t.Text(messages.AdminRoleSet, data)
	if !res.Stopped.Empty() {
		intro += "\n" + t.Text(messages.AdminStopped, nil)
	}
	return mainMenu(t, intro)
}

func (ad *admin) cmdMembers(t *engine.Turn, _ string) error {
	st, err := ad.co.Members.Staff(t.Ctx(), ad.actor(t))
	if err != nil {
		return fail(t, err)
	}
	var sb strings.Builder
	sb.WriteString(t.Count(messages.AdminMembersTitle, len(st.Institutions), nil))
	for i := range st.Institutions {
		sb.WriteString("\n\n" + t.Text(messages.AdminInstitutionLine, institutionData(t, &st.Institutions[i])))
	}
	sb.WriteString("\n\n" + t.Text(messages.AdminStaffTitle, nil))
	for _, m := range st.Team {
		sb.WriteString("\n• " + t.Text(messages.RoleKey(string(m.Role)), nil) + ": " + ad.words.Person(m.Contact, t.Lang()))
	}
	sb.WriteString("\n\n" + t.Text(messages.AdminPeopleCounts, map[string]any{
		"Citizens": t.Count(messages.PeopleCount, st.Citizens, nil),
		"Members":  t.Count(messages.PeopleCount, st.Members, nil),
	}))
	return mainMenu(t, sb.String())
}

func (ad *admin) cmdPause(t *engine.Turn, _ string) error {
	if err := ad.co.Sending.Pause(t.Ctx(), ad.actor(t)); err != nil {
		return fail(t, err)
	}
	return mainMenu(t, t.Text(messages.PauseDone, nil))
}

func (ad *admin) cmdResume(t *engine.Turn, _ string) error {
	if err := ad.co.Sending.Resume(t.Ctx(), ad.actor(t)); err != nil {
		return fail(t, err)
	}
	return mainMenu(t, t.Text(messages.ResumeDone, nil))
}

// suspendedArg reads "broadcast 12" or "reminder 3".
func suspendedArg(arg string) (string, uint64, bool) {
	kind, n, _ := strings.Cut(strings.TrimSpace(arg), " ")
	id, ok := broadcastArg(n)
	if !ok || (kind != "broadcast" && kind != "reminder") {
		return "", 0, false
	}
	return kind, id, true
}

func (ad *admin) cmdTakeOver(t *engine.Turn, arg string) error {
	kind, id, ok := suspendedArg(arg)
	if !ok {
		t.Say(messages.SuspendedNeedArg, map[string]any{"Example": messages.Isolate("/takeover broadcast 12")})
		return mainMenu(t, "")
	}
	return ad.suspendedDone(t, ad.co.Members.TakeOver(t.Ctx(), ad.actor(t), kind, id), messages.SuspendedTakenOver)
}

func (ad *admin) cmdDrop(t *engine.Turn, arg string) error {
	kind, id, ok := suspendedArg(arg)
	if !ok {
		t.Say(messages.SuspendedNeedArg, map[string]any{"Example": messages.Isolate("/drop broadcast 12")})
		return mainMenu(t, "")
	}
	return ad.suspendedDone(t, ad.co.Members.Drop(t.Ctx(), ad.actor(t), kind, id), messages.SuspendedDropped)
}

func (ad *admin) suspendedDone(t *engine.Turn, err error, done messages.Key) error {
	switch {
	case errors.Is(err, coalition.ErrNotFound), errors.Is(err, coalition.ErrDecided):
		t.Say(messages.SuspendedNothing, nil)
		return mainMenu(t, "")
	case err != nil:
		return fail(t, err)
	}
	return mainMenu(t, t.Text(done, nil))
}
