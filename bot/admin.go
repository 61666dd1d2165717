package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"mobilise/messages"
	"mobilise/store"
)

// adminNotices addresses a notice to every admin.
func (s *Service) adminNotices(kind string, render func(lang string) (string, [][]Button)) ([]Notice, error) {
	var notices []Notice
	err := s.store.Contacts(func(c *store.Contact) error {
		if s.roleOf(c) == store.RoleAdmin {
			notices = append(notices, Notice{ContactID: c.ID, Kind: kind, Render: render})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing admins: %w", err)
	}
	return notices, nil
}

// audit records a privileged action.
func (t *turn) audit(action string, details map[string]string) error {
	if err := t.s.store.AppendAudit(store.AuditEntry{At: t.s.now().UTC(), ActorID: t.c.ID, Action: action, Details: details}); err != nil {
		return fmt.Errorf("recording %s in the audit log: %w", action, err)
	}
	return nil
}

// institutionArg finds the institution an admin command names by its number.
func (t *turn) institutionArg(arg string) (*store.Institution, string, error) {
	idText, rest, _ := strings.Cut(strings.TrimSpace(arg), " ")
	id, ok := messages.ParseNumber(strings.TrimPrefix(idText, "#"))
	if !ok || id <= 0 {
		t.say(messages.AdminNeedInstitution, nil)
		return nil, "", t.cmdPending("")
	}
	inst, err := t.s.store.Institution(uint64(id))
	if errors.Is(err, store.ErrNotFound) {
		t.say(messages.AdminNoInstitution, map[string]any{"ID": messages.Isolate(strconv.Itoa(id))})
		return nil, "", t.cmdPending("")
	}
	if err != nil {
		return nil, "", fmt.Errorf("loading institution %d: %w", id, err)
	}
	return inst, strings.TrimSpace(rest), nil
}

func (t *turn) cmdPending(string) error {
	pending, err := t.s.store.Institutions(store.InstitutionPending)
	if err != nil {
		return fmt.Errorf("listing pending institutions: %w", err)
	}
	if len(pending) == 0 {
		return t.mainMenu(t.text(messages.AdminNoPending, nil))
	}
	var b strings.Builder
	b.WriteString(t.count(messages.AdminPendingTitle, len(pending), nil))
	var opts []option
	for i := range pending {
		inst := &pending[i]
		b.WriteString("\n\n" + t.text(messages.AdminInstitutionLine, t.institutionData(inst)))
		id := strconv.FormatUint(inst.ID, 10)
		opts = append(opts,
			option{t.text(messages.AdminApproveButton, nil) + " #" + id, "/approve " + id},
			option{t.text(messages.AdminRejectButton, nil) + " #" + id, "/reject " + id})
	}
	opts = append(opts, option{t.text(messages.CommonBack, nil), "/menu"})
	t.ask(b.String(), opts)
	return nil
}

func (t *turn) institutionData(inst *store.Institution) map[string]any {
	contact := inst.Phone
	if contact == "" {
		contact = inst.Email
	}
	govs := t.governorateNames(strings.Join(inst.Governorates, ","))
	name := inst.NameAR
	if inst.NameEN != "" {
		name += " / " + messages.Isolate(inst.NameEN)
	}
	return map[string]any{
		"ID":           messages.Isolate(strconv.FormatUint(inst.ID, 10)),
		"Name":         name,
		"Field":        t.text(messages.FieldKey(inst.Field), nil),
		"Governorates": govs,
		"Person":       inst.ContactPerson,
		"Contact":      messages.Isolate(contact),
	}
}

func (t *turn) cmdApprove(arg string) error { return t.decide(arg, store.InstitutionApproved) }
func (t *turn) cmdReject(arg string) error  { return t.decide(arg, store.InstitutionRejected) }

// decide approves or rejects an application; the applicant is told either way,
// and an approved applicant becomes a member.
func (t *turn) decide(arg string, status store.InstitutionStatus) error {
	inst, reason, err := t.institutionArg(arg)
	if inst == nil {
		return err
	}
	if inst.Status != store.InstitutionPending {
		t.say(messages.AdminAlreadyDecided, map[string]any{"Name": institutionName(inst, t.lang), "Status": t.text(messages.StatusKey(string(inst.Status)), nil)})
		return t.cmdPending("")
	}
	now := t.s.now().UTC()
	inst, err = t.s.store.UpdateInstitution(inst.ID, func(i *store.Institution) error {
		if i.Status != store.InstitutionPending {
			return errAlreadyDecided
		}
		i.Status, i.DecidedBy, i.DecidedAt = status, t.c.ID, now
		return nil
	})
	if errors.Is(err, errAlreadyDecided) {
		t.say(messages.AdminAlreadyDecided, map[string]any{"Name": "#" + strings.TrimSpace(arg), "Status": ""})
		return t.cmdPending("")
	}
	if err != nil {
		return fmt.Errorf("deciding institution: %w", err)
	}
	if status == store.InstitutionApproved {
		_, err := t.s.store.UpdateContact(inst.ApplicantID, func(c *store.Contact) error {
			if !c.Role.AtLeast(store.RoleMember) {
				c.Role = store.RoleMember
			}
			c.InstitutionID = inst.ID
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("making the applicant of institution %d a member: %w", inst.ID, err)
		}
		t.s.roleChanged(t.ctx)
	}
	if err := t.audit("institution_"+string(status), map[string]string{"institution_id": strconv.FormatUint(inst.ID, 10), "reason": reason}); err != nil {
		return err
	}
	key := messages.RegisterApproved
	if status == store.InstitutionRejected {
		key = messages.RegisterRejected
	}
	t.notify(Notice{ContactID: inst.ApplicantID, Kind: "institution_decided", Render: func(lang string) (string, [][]Button) {
		text := t.s.cat.Text(lang, key, map[string]any{"Name": institutionName(inst, lang)})
		if reason != "" {
			text += "\n" + t.s.cat.Text(lang, messages.RegisterReason, map[string]any{"Reason": reason})
		}
		return text, nil
	}})
	doneKey := messages.AdminApproved
	if status == store.InstitutionRejected {
		doneKey = messages.AdminRejected
	}
	t.say(doneKey, map[string]any{"Name": institutionName(inst, t.lang)})
	return t.cmdPending("")
}

var errAlreadyDecided = errors.New("institution already decided")

func (s *Service) roleChanged(ctx context.Context) {
	if s.onRoleChange != nil {
		s.onRoleChange(ctx)
	}
}

// contactArg finds the person an admin command names: "#12", "12" or an address such as "telegram:123".
func (t *turn) contactArg(arg string) (*store.Contact, error) {
	arg = strings.TrimSpace(messages.ToASCIIDigits(arg))
	var c *store.Contact
	var err error
	if id, ok := messages.ParseNumber(strings.TrimPrefix(arg, "#")); ok && id > 0 {
		c, err = t.s.store.Contact(uint64(id))
	} else if strings.Contains(arg, ":") {
		c, err = t.s.store.ContactByAddress(arg)
	} else {
		t.say(messages.AdminNeedPerson, nil)
		return nil, t.mainMenu("")
	}
	if errors.Is(err, store.ErrNotFound) {
		t.say(messages.AdminNoPerson, map[string]any{"Who": messages.Isolate(arg)})
		return nil, t.mainMenu("")
	}
	if err != nil {
		return nil, fmt.Errorf("looking up %q: %w", arg, err)
	}
	return c, nil
}

func (t *turn) cmdAppoint(arg string) error {
	c, err := t.contactArg(arg)
	if c == nil {
		return err
	}
	if t.s.roleOf(c) == store.RoleAdmin {
		t.say(messages.AdminAlreadyAdmin, nil)
		return t.mainMenu("")
	}
	return t.setRole(c, store.RoleCoordinator, "coordinator_appointed")
}

func (t *turn) cmdDismiss(arg string) error {
	c, err := t.contactArg(arg)
	if c == nil {
		return err
	}
	if t.s.roleOf(c) == store.RoleAdmin && c.Role != store.RoleAdmin {
		// configured admins are changed in the configuration, not by command
		t.say(messages.AdminCannotDismissAdmin, nil)
		return t.mainMenu("")
	}
	role := store.RoleCitizen
	if c.InstitutionID != 0 {
		role = store.RoleMember
	}
	return t.setRole(c, role, "coordinator_dismissed")
}

func (t *turn) setRole(c *store.Contact, role store.Role, action string) error {
	if c.ID == t.c.ID {
		t.say(messages.AdminNotYourself, nil)
		return t.mainMenu("")
	}
	c, err := t.s.store.UpdateContact(c.ID, func(c *store.Contact) error {
		c.Role = role
		return nil
	})
	if err != nil {
		return fmt.Errorf("changing the role of contact %d: %w", c.ID, err)
	}
	if err := t.audit(action, map[string]string{"contact_id": strconv.FormatUint(c.ID, 10), "role": string(role)}); err != nil {
		return err
	}
	t.s.roleChanged(t.ctx)
	t.s.log.Info("role changed", "contact_id", c.ID, "role", string(role), "by", t.c.ID)
	roleName := func(lang string) string { return t.s.cat.Text(lang, messages.RoleKey(string(role)), nil) }
	t.notify(Notice{ContactID: c.ID, Kind: "role_changed", Render: func(lang string) (string, [][]Button) {
		return t.s.cat.Text(lang, messages.AdminYourRole, map[string]any{"Role": roleName(lang)}), nil
	}})
	return t.mainMenu(t.text(messages.AdminRoleSet, map[string]any{"Who": t.personLabel(c), "Role": roleName(t.lang)}))
}

// personLabel names a person for admins without showing their phone number.
func (t *turn) personLabel(c *store.Contact) string {
	var chans []string
	for _, a := range c.Addresses {
		ch, _, _ := strings.Cut(a, ":")
		chans = append(chans, ch)
	}
	name := c.Name
	if name == "" {
		name = t.text(messages.CommonNoName, nil)
	}
	return messages.Isolate(fmt.Sprintf("#%d %s (%s)", c.ID, name, strings.Join(chans, ", ")))
}

func (t *turn) cmdMembers(string) error {
	insts, err := t.s.store.Institutions(store.InstitutionApproved)
	if err != nil {
		return fmt.Errorf("listing institutions: %w", err)
	}
	var b strings.Builder
	b.WriteString(t.count(messages.AdminMembersTitle, len(insts), nil))
	for i := range insts {
		b.WriteString("\n\n" + t.text(messages.AdminInstitutionLine, t.institutionData(&insts[i])))
	}
	var staff []string
	counts := map[store.Role]int{}
	err = t.s.store.Contacts(func(c *store.Contact) error {
		r := t.s.roleOf(c)
		counts[r]++
		if r.AtLeast(store.RoleCoordinator) {
			staff = append(staff, t.text(messages.RoleKey(string(r)), nil)+": "+t.personLabel(c))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing contacts: %w", err)
	}
	b.WriteString("\n\n" + t.text(messages.AdminStaffTitle, nil))
	for _, line := range staff {
		b.WriteString("\n• " + line)
	}
	b.WriteString("\n\n" + t.text(messages.AdminPeopleCounts, map[string]any{
		"Citizens": messages.FormatNumber(t.lang, counts[store.RoleCitizen]),
		"Members":  messages.FormatNumber(t.lang, counts[store.RoleMember]),
	}))
	return t.mainMenu(b.String())
}
