package coalition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
)

// Members are the people with a role: admins appoint and dismiss
// coordinators, and decide what becomes of the sends a dismissed person left.
type Members struct{ *rules }

// RoleOf is the one place a person's role is worked out: admins named in
// the configuration rank as admin whatever the store says.
func (m *Members) RoleOf(c *store.Contact) store.Role {
	for _, a := range c.Addresses {
		if m.admins[a] {
			return store.RoleAdmin
		}
	}
	if c.Role == "" {
		return store.RoleCitizen
	}
	return c.Role
}

// ActorOf is c acting from from, with the role they have now.
func (m *Members) ActorOf(c *store.Contact, from bot.Address) Actor {
	return Actor{Person: c.ID, Role: m.RoleOf(c), From: from, Lang: messages.NormalizeLang(c.Lang), Institutions: slices.Clone(c.Affiliations)}
}

// Actor reads the person again and returns them as an actor with their role
// of this moment: a front end that keeps a session (the dashboard) calls it
// on every request, so a dismissed coordinator's session stops at once.
// ErrNotFound if the person is gone.
func (m *Members) Actor(ctx context.Context, person uint64, from bot.Address) (Actor, error) {
	id, err := m.st.Identity(ctx, person)
	if err != nil {
		return Actor{}, err
	}
	c, err := m.st.Contact(ctx, id)
	if err != nil {
		return Actor{}, notFound(err)
	}
	return m.ActorOf(c, from), nil
}

// RolesChanged receives a value after someone's role changed, so channels
// set their command menus again.
func (m *Members) RolesChanged() <-chan struct{} { return m.rolesChanged }

// roleChanged signals RolesChanged once the unit of work commits.
func (r *rules) roleChanged(ctx context.Context) {
	store.AfterCommit(ctx, func() {
		select {
		case r.rolesChanged <- struct{}{}:
		default:
		}
	})
}

// Privileged lists, with their roles (MenuRole), the people on channel
// whose role is above citizen.
func (m *Members) Privileged(ctx context.Context, channel bot.ChannelName) ([]Privileged, error) {
	var out []Privileged
	err := m.st.Contacts(ctx, func(c *store.Contact) error {
		role := m.MenuRole(c)
		if role == store.RoleCitizen {
			return nil
		}
		for _, a := range c.Addresses {
			if a.Channel == channel {
				out = append(out, Privileged{Address: a, Role: role, Lang: messages.NormalizeLang(c.Lang)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing privileged contacts: %w", err)
	}
	return out, nil
}

// Privileged is one address of a person with a role above citizen.
type Privileged struct {
	Address bot.Address
	Role    store.Role
	Lang    string
}

// admins returns every admin, the configured ones included.
func (r *rules) adminContacts(ctx context.Context) ([]*store.Contact, error) {
	var out []*store.Contact
	err := r.st.Contacts(ctx, func(c *store.Contact) error {
		if r.co.Members.RoleOf(c) == store.RoleAdmin {
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing admins: %w", err)
	}
	return out, nil
}

// notifyAdmins tells every admin but except (the one who acted, or the
// author of what they must decide: no one approves their own send).
func (r *rules) notifyAdmins(ctx context.Context, except uint64, kind store.MessageKind, render func(lang string) (string, [][]bot.Button)) error {
	admins, err := r.adminContacts(ctx)
	if err != nil {
		return err
	}
	var notices []outbox.Notice
	for _, a := range admins {
		if a.ID != except {
			notices = append(notices, outbox.Notice{ContactID: a.ID, Kind: kind, Render: render})
		}
	}
	return r.out.Notify(ctx, notices...)
}

// AlertAdmins tells every admin, in their language and on whatever channel
// still reaches them, that a channel needs their attention.
func (m *Members) AlertAdmins(ctx context.Context, a bot.Alert) error {
	key := map[bot.AlertKind]messages.Key{
		bot.AlertLoggedOut: messages.AlertWhatsAppLoggedOut,
		bot.AlertBanned:    messages.AlertWhatsAppBanned,
		bot.AlertReplaced:  messages.AlertWhatsAppReplaced,
		bot.AlertConnect:   messages.AlertWhatsAppConnect,
		bot.AlertBlocked:   messages.AlertWhatsAppBlocked,
	}[a.Kind]
	if key == "" {
		key = messages.AlertWhatsAppConnect
	}
	m.log.Warn("alerting admins", "alert", string(a.Kind), "channel", string(a.Channel), "detail", a.Detail)
	admins, err := m.adminContacts(ctx)
	if err != nil {
		return err
	}
	render := func(lang string) (string, [][]bot.Button) {
		return m.cat.Text(lang, key, map[string]any{
			"Detail": messages.Isolate(a.Detail),
			"Until":  m.words().Time(lang, a.Until),
		}), nil
	}
	var notices []outbox.Notice
	for _, c := range admins {
		// the channel in trouble cannot carry news of its own trouble
		notices = append(notices, outbox.Notice{ContactID: c.ID, Kind: "alert", Render: render, AvoidChannel: a.Channel})
	}
	return m.st.InTx(ctx, func(ctx context.Context) error { return m.out.Notify(ctx, notices...) })
}

// FindPerson finds the person an admin names: "#12", "12" or an address such as "telegram:123".
func (m *Members) FindPerson(ctx context.Context, who string) (*store.Contact, error) {
	who = strings.TrimSpace(messages.ToASCIIDigits(who))
	var c *store.Contact
	var err error
	if id, ok := messages.ParseNumber(strings.TrimPrefix(who, "#")); ok && id > 0 {
		var current uint64
		if current, err = m.st.Identity(ctx, uint64(id)); err == nil {
			c, err = m.st.Contact(ctx, current)
		}
	} else if addr, perr := bot.ParseAddress(who); perr == nil {
		c, err = m.st.ContactByAddress(ctx, addr)
	} else {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, notFound(err)
	}
	return c, nil
}

// RoleChange is what Appoint and Dismiss did.
type RoleChange struct {
	Person *store.Contact
	Role   store.Role
	// Changed is false when the person had that role already: nobody is told.
	Changed bool
	// Stopped lists what a dismissal stopped: the person's pending sends.
	Stopped Stopped
}

// Appoint makes a person a coordinator. Only admins appoint; an admin
// stays an admin. The person is told, and the admins' menus follow.
func (m *Members) Appoint(ctx context.Context, by Actor, who *store.Contact) (RoleChange, error) {
	if !by.can(store.RoleAdmin) {
		return RoleChange{}, ErrNotAllowed
	}
	if m.RoleOf(who) == store.RoleAdmin {
		return RoleChange{}, ErrAlreadyAdmin
	}
	return m.setRole(ctx, by, who, store.RoleCoordinator, "coordinator_appointed")
}

// Dismiss takes a coordinator's or admin's role away (a member of an
// approved institution stays a member). Their pending broadcasts and their
// reminders stop at once, and the admins are told what stopped, each to
// take over or drop. Admins named in the configuration are changed there.
func (m *Members) Dismiss(ctx context.Context, by Actor, who *store.Contact) (RoleChange, error) {
	if !by.can(store.RoleAdmin) {
		return RoleChange{}, ErrNotAllowed
	}
	if m.RoleOf(who) == store.RoleAdmin && who.Role != store.RoleAdmin {
		return RoleChange{}, ErrConfiguredAdmin
	}
	role := store.RoleCitizen
	if who.InstitutionID != 0 {
		role = store.RoleMember
	}
	return m.setRole(ctx, by, who, role, "coordinator_dismissed")
}

func (m *Members) setRole(ctx context.Context, by Actor, who *store.Contact, role store.Role, action string) (RoleChange, error) {
	if who.ID == by.Person {
		return RoleChange{}, ErrYourself
	}
	var out RoleChange
	err := m.st.InTx(ctx, func(ctx context.Context) error {
		before := m.RoleOf(who)
		c, err := m.st.UpdateContact(ctx, who.ID, func(c *store.Contact) error {
			c.Role = role
			return nil
		})
		if err != nil {
			return fmt.Errorf("changing the role of contact %d: %w", who.ID, err)
		}
		out = RoleChange{Person: c, Role: m.RoleOf(c), Changed: m.RoleOf(c) != before}
		if !out.Changed {
			return nil
		}
		if err := m.audit(ctx, by.Person, action, map[string]string{"contact_id": strconv.FormatUint(c.ID, 10), "role": string(role)}); err != nil {
			return err
		}
		m.roleChanged(ctx)
		m.log.Info("role changed", "contact_id", c.ID, "role", string(role), "by", by.Person)
		roleName := func(lang string) string { return m.cat.Text(lang, messages.RoleKey(string(out.Role)), nil) }
		if err := m.out.Notify(ctx, outbox.Notice{ContactID: c.ID, Kind: "role_changed", Render: func(lang string) (string, [][]bot.Button) {
			return m.cat.Text(lang, messages.AdminYourRole, map[string]any{"Role": roleName(lang)}), nil
		}}); err != nil {
			return err
		}
		if out.Role.AtLeast(store.RoleCoordinator) {
			return nil
		}
		// what they send for a member institution they still act for goes on
		still := func(org store.Organiser) bool { return !org.IsCoalition() && c.AffiliationWith(org.Lead()) != "" }
		out.Stopped, err = m.stopAuthorSends(ctx, c.ID, "dismissed", still)
		return err
	})
	return out, err
}

// Stopped is what was stopped when its author lost the right to send.
type Stopped struct {
	Broadcasts []uint64
	Reminders  []uint64
}

// Empty reports whether nothing was stopped.
func (s Stopped) Empty() bool { return len(s.Broadcasts) == 0 && len(s.Reminders) == 0 }

// stopSendsOf suspends the broadcasts still to go out and the reminders of
// an author who may no longer send (why: "dismissed" or "forgotten"), and
// tells the admins, each with a way to take it over or drop it.
func (r *rules) stopSendsOf(ctx context.Context, author uint64, why string) (Stopped, error) {
	return r.stopAuthorSends(ctx, author, why, nil)
}

// stopAuthorSends is stopSendsOf but for the sends keep says the author
// may still make: those in the name of an institution they still act for,
// when only their role in the coalition was taken away.
func (r *rules) stopAuthorSends(ctx context.Context, author uint64, why string, keep func(store.Organiser) bool) (Stopped, error) {
	key := messages.SuspendedDismissed
	if why == "forgotten" {
		key = messages.SuspendedForgotten
	}
	return r.stopSends(ctx, func(createdBy uint64, org store.Organiser) bool {
		return createdBy == author && (keep == nil || !keep(org))
	},
		map[string]string{"author": strconv.FormatUint(author, 10), "why": why},
		func(lang string, items string) string {
			return r.cat.Text(lang, key, map[string]any{"Who": messages.Isolate("#" + messages.FormatID(lang, author)), "Items": items})
		})
}

// stopSends suspends the broadcasts still to go out and the reminders
// that match (by their author and organiser), records it in the audit log
// with details, and tells the admins in the words of notice, listing each
// with a way to take it over or drop it.
func (r *rules) stopSends(ctx context.Context, match func(createdBy uint64, org store.Organiser) bool, details map[string]string, notice func(lang, items string) string) (Stopped, error) {
	var st Stopped
	bs, err := r.st.Broadcasts(ctx)
	if err != nil {
		return st, err
	}
	for _, b := range bs {
		if !match(b.CreatedBy, b.Organiser) || b.Closed() || b.Status == store.BroadcastSuspended {
			continue
		}
		if _, err := r.st.SuspendBroadcast(ctx, b.ID); err != nil {
			return st, err
		}
		st.Broadcasts = append(st.Broadcasts, b.ID)
	}
	rs, err := r.st.Reminders(ctx)
	if err != nil {
		return st, err
	}
	for _, rem := range rs {
		if !match(rem.CreatedBy, rem.Organiser) || rem.Suspended || rem.NextFireAt.IsZero() {
			continue
		}
		if _, err := r.st.UpdateReminder(ctx, rem.ID, func(x *store.Reminder) error {
			x.Suspended = true
			return nil
		}); err != nil {
			return st, err
		}
		st.Reminders = append(st.Reminders, rem.ID)
	}
	if st.Empty() {
		return st, nil
	}
	audit := map[string]string{"broadcasts": joinIDs(st.Broadcasts), "reminders": joinIDs(st.Reminders)}
	for k, v := range details {
		audit[k] = v
	}
	if err := r.audit(ctx, 0, "sends_suspended", audit); err != nil {
		return st, err
	}
	r.log.Warn("sends stopped", "why", details["why"], "broadcasts", len(st.Broadcasts), "reminders", len(st.Reminders))
	return st, r.notifyAdmins(ctx, 0, "sends_suspended", func(lang string) (string, [][]bot.Button) {
		var rows [][]bot.Button
		var lines []string
		for _, id := range st.Broadcasts {
			n := strconv.FormatUint(id, 10)
			lines = append(lines, r.cat.Text(lang, messages.SuspendedBroadcastLine, map[string]any{"ID": messages.FormatID(lang, id)}))
			rows = append(rows, []bot.Button{
				{Text: r.cat.Text(lang, messages.SuspendedTakeOver, map[string]any{"ID": messages.FormatID(lang, id)}), Payload: "/takeover broadcast " + n},
				{Text: r.cat.Text(lang, messages.SuspendedDrop, map[string]any{"ID": messages.FormatID(lang, id)}), Payload: "/drop broadcast " + n},
			})
		}
		for _, id := range st.Reminders {
			n := strconv.FormatUint(id, 10)
			lines = append(lines, r.cat.Text(lang, messages.SuspendedReminderLine, map[string]any{"ID": messages.FormatID(lang, id)}))
			rows = append(rows, []bot.Button{
				{Text: r.cat.Text(lang, messages.SuspendedTakeOver, map[string]any{"ID": messages.FormatID(lang, id)}), Payload: "/takeover reminder " + n},
				{Text: r.cat.Text(lang, messages.SuspendedDrop, map[string]any{"ID": messages.FormatID(lang, id)}), Payload: "/drop reminder " + n},
			})
		}
		return notice(lang, strings.Join(lines, "\n")), rows
	})
}

func joinIDs(ids []uint64) string {
	var s []string
	for _, id := range ids {
		s = append(s, strconv.FormatUint(id, 10))
	}
	return strings.Join(s, ",")
}

// TakeOver gives a suspended broadcast or reminder to the admin by: they
// become its author, it is subject to every rule anew (a broadcast that
// awaited approval awaits another admin's), and it goes on.
func (m *Members) TakeOver(ctx context.Context, by Actor, kind string, id uint64) error {
	if !by.can(store.RoleAdmin) {
		return ErrNotAllowed
	}
	return m.st.InTx(ctx, func(ctx context.Context) error {
		switch kind {
		case "broadcast":
			b, err := m.st.ResumeBroadcast(ctx, id, by.Person)
			if errors.Is(err, store.ErrNotSuspended) {
				return ErrDecided
			}
			if err != nil {
				return notFound(err)
			}
			if b.Status == store.BroadcastAwaitingApproval {
				if err := m.co.Broadcasts.requestApproval(ctx, b, b.Recipients); err != nil {
					return err
				}
			}
			store.AfterCommit(ctx, m.out.Wake)
		case "reminder":
			_, err := m.st.UpdateReminder(ctx, id, func(r *store.Reminder) error {
				if !r.Suspended {
					return ErrDecided
				}
				r.Suspended, r.CreatedBy, r.ApprovedBy, r.ApprovedFor = false, by.Person, 0, 0
				return nil
			})
			if err != nil {
				return notFound(err)
			}
		default:
			return ErrNotFound
		}
		return m.audit(ctx, by.Person, kind+"_taken_over", map[string]string{kind + "_id": strconv.FormatUint(id, 10)})
	})
}

// Drop cancels a suspended broadcast or reminder for good.
func (m *Members) Drop(ctx context.Context, by Actor, kind string, id uint64) error {
	if !by.can(store.RoleAdmin) {
		return ErrNotAllowed
	}
	return m.st.InTx(ctx, func(ctx context.Context) error {
		switch kind {
		case "broadcast":
			b, err := m.st.Broadcast(ctx, id)
			if err != nil {
				return notFound(err)
			}
			if b.Status != store.BroadcastSuspended {
				return ErrDecided
			}
			if _, err := m.st.CancelBroadcast(ctx, id); err != nil {
				return err
			}
		case "reminder":
			r, err := m.st.Reminder(ctx, id)
			if err != nil {
				return notFound(err)
			}
			if !r.Suspended {
				return ErrDecided
			}
			if err := m.st.DeleteReminder(ctx, id); err != nil {
				return err
			}
		default:
			return ErrNotFound
		}
		return m.audit(ctx, by.Person, kind+"_dropped", map[string]string{kind + "_id": strconv.FormatUint(id, 10)})
	})
}

// Staff is the coalition's people with roles, for admins: the member
// institutions, the coordinators and admins, and how many people there are.
type Staff struct {
	Institutions []store.Institution
	Team         []StaffMember
	Citizens     int
	Members      int
}

// StaffMember is a coordinator or admin.
type StaffMember struct {
	Contact *store.Contact
	Role    store.Role
}

// Staff lists the coalition's staff and numbers. Only admins see it.
func (m *Members) Staff(ctx context.Context, by Actor) (Staff, error) {
	if !by.can(store.RoleAdmin) {
		return Staff{}, ErrNotAllowed
	}
	var st Staff
	var err error
	if st.Institutions, err = m.st.Institutions(ctx, store.InstitutionApproved); err != nil {
		return Staff{}, err
	}
	err = m.st.Contacts(ctx, func(c *store.Contact) error {
		switch r := m.RoleOf(c); {
		case r.AtLeast(store.RoleCoordinator):
			st.Team = append(st.Team, StaffMember{Contact: c, Role: r})
		case r == store.RoleMember:
			st.Members++
		default:
			st.Citizens++
		}
		return nil
	})
	return st, err
}
