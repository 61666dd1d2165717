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

// MaxAbout bounds the few words an institution publishes about itself.
const MaxAbout = 500

// ErrNoRename: the institution has no change of name waiting.
var ErrNoRename = errors.New("no change of name waiting")

// InstitutionChange is an update of an institution's details: the fields
// that are set change.
type InstitutionChange struct {
	NameAR, NameEN *string
	Field          *string
	Governorates   *[]string
	ContactPerson  *string
	Phone, Email   *string
	// Code is its share code; a new one makes its old links stop working.
	Code    *string
	Listing *store.Listing
}

// Updated is what Update did.
type Updated struct {
	Institution *store.Institution
	// Fields names what changed at once.
	Fields []string
	// RenamePending: the new name waits for the admins' approval; the old
	// name stays until then.
	RenamePending bool
}

// Update changes an active member institution's details. Its
// representatives update (and the coalition's admins). A new name goes to
// the admins for approval first, since the name is what people trust;
// everything else changes at once and goes into the audit log.
func (in *Institutions) Update(ctx context.Context, by Actor, id uint64, ch InstitutionChange) (Updated, error) {
	ok, err := in.represents(ctx, by, id)
	if err != nil {
		return Updated{}, err
	}
	if !ok {
		return Updated{}, ErrNotAllowed
	}
	inst, err := in.st.Institution(ctx, id)
	if err != nil {
		return Updated{}, notFound(err)
	}
	if !inst.Active() {
		return Updated{Institution: inst}, ErrNotMember
	}
	next := *inst
	var fields []string
	details := map[string]string{"institution_id": strconv.FormatUint(id, 10)}
	set := func(field string, changed bool, detail string) {
		if changed {
			fields = append(fields, field)
			details[field] = detail
		}
	}
	if ch.Field != nil {
		if !messages.IsField(*ch.Field) {
			return Updated{Institution: inst}, invalid("field", messages.ErrChooseOption)
		}
		set("field", *ch.Field != inst.Field, *ch.Field)
		next.Field = *ch.Field
	}
	if ch.Governorates != nil {
		govs := *ch.Governorates
		if len(govs) == 0 {
			return Updated{Institution: inst}, invalid("govs", messages.RegisterNeedGovernorate)
		}
		for _, g := range govs {
			if !messages.IsGovernorate(g) {
				return Updated{Institution: inst}, invalid("govs", messages.ErrChooseOption)
			}
		}
		set("governorates", !slices.Equal(govs, inst.Governorates), strings.Join(govs, ","))
		next.Governorates = slices.Clone(govs)
	}
	if ch.ContactPerson != nil {
		v := messages.CleanName(*ch.ContactPerson)
		if v == "" {
			return Updated{Institution: inst}, invalid("person", messages.ErrInputEmpty)
		}
		set("contact_person", v != inst.ContactPerson, v)
		next.ContactPerson = v
	}
	if ch.Phone != nil {
		v := ""
		if strings.TrimSpace(*ch.Phone) != "" {
			var ok bool
			if v, ok = ParsePhone(*ch.Phone); !ok {
				return Updated{Institution: inst}, invalid("phone", messages.RegisterBadContact)
			}
		}
		set("phone", v != inst.Phone, v)
		next.Phone = v
	}
	if ch.Email != nil {
		v := ""
		if strings.TrimSpace(*ch.Email) != "" {
			var ok bool
			if v, ok = ParseEmail(*ch.Email); !ok {
				return Updated{Institution: inst}, invalid("email", messages.RegisterBadContact)
			}
		}
		set("email", v != inst.Email, v)
		next.Email = v
	}
	if next.Phone == "" && next.Email == "" {
		return Updated{Institution: inst}, invalid("contact", messages.RegisterBadContact)
	}
	if ch.Code != nil {
		v := strings.ToLower(strings.TrimSpace(messages.ToASCIIDigits(*ch.Code)))
		if !ValidCode(v) {
			return Updated{Institution: inst}, invalid("code", messages.NewCampaignBadCode)
		}
		if other, err := in.st.InstitutionByCode(ctx, v); err == nil && other.ID != id {
			return Updated{Institution: inst}, invalid("code", messages.OrgCodeTaken)
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Updated{}, err
		}
		set("code", v != inst.Code, v)
		next.Code = v
	}
	if ch.Listing != nil {
		l := *ch.Listing
		l.AboutAR, l.AboutEN = strings.TrimSpace(l.AboutAR), strings.TrimSpace(l.AboutEN)
		if len([]rune(l.AboutAR)) > MaxAbout || len([]rune(l.AboutEN)) > MaxAbout {
			return Updated{Institution: inst}, invalid("about", messages.ErrInputTooLong)
		}
		set("listing", l != inst.Listing, fmt.Sprintf("listed=%t phone=%t email=%t", l.Listed, l.Phone, l.Email))
		next.Listing = l
	}
	var rename *store.Rename
	if ch.NameAR != nil || ch.NameEN != nil {
		ar, en := inst.NameAR, inst.NameEN
		if inst.Rename != nil {
			ar, en = inst.Rename.NameAR, inst.Rename.NameEN
		}
		if ch.NameAR != nil {
			ar = messages.CleanName(*ch.NameAR)
		}
		if ch.NameEN != nil {
			en = messages.CleanName(*ch.NameEN)
		}
		switch {
		case ar == "" || !HasArabic(ar):
			return Updated{Institution: inst}, invalid("name_ar", messages.RegisterNeedArabic)
		case len([]rune(ar)) > MaxName || len([]rune(en)) > MaxName:
			return Updated{Institution: inst}, invalid("name_ar", messages.ErrInputTooLong)
		}
		if ar != inst.NameAR || en != inst.NameEN {
			rename = &store.Rename{NameAR: ar, NameEN: en, By: by.Person, At: in.now().UTC()}
			details["rename_ar"], details["rename_en"] = ar, en
		}
	}
	out := Updated{Institution: inst, Fields: fields, RenamePending: rename != nil}
	if len(fields) == 0 && rename == nil {
		return out, nil
	}
	err = in.st.InTx(ctx, func(ctx context.Context) error {
		saved, err := in.st.UpdateInstitution(ctx, id, func(x *store.Institution) error {
			x.Field, x.Governorates, x.ContactPerson = next.Field, next.Governorates, next.ContactPerson
			x.Phone, x.Email, x.Code, x.Listing = next.Phone, next.Email, next.Code, next.Listing
			if rename != nil {
				x.Rename = rename
			}
			return nil
		})
		if errors.Is(err, store.ErrCodeTaken) {
			return invalid("code", messages.OrgCodeTaken)
		}
		if err != nil {
			return fmt.Errorf("updating institution %d: %w", id, err)
		}
		out.Institution = saved
		details["fields"] = strings.Join(fields, ",")
		if err := in.audit(ctx, by.Person, "institution_updated", details); err != nil {
			return err
		}
		if rename == nil {
			return nil
		}
		idText := strconv.FormatUint(id, 10)
		return in.notifyAdmins(ctx, by.Person, "institution_rename", func(lang string) (string, [][]bot.Button) {
			return in.cat.Text(lang, messages.OrgRenameRequest, map[string]any{
					"ID": messages.FormatID(lang, id), "Old": InstitutionName(saved, lang),
					"NameAR": rename.NameAR, "NameEN": orNone(in.cat, lang, rename.NameEN),
				}), [][]bot.Button{{
					{Text: in.cat.Text(lang, messages.AdminApproveButton, nil), Payload: "/approvename " + idText},
					{Text: in.cat.Text(lang, messages.AdminRejectButton, nil), Payload: "/rejectname " + idText},
				}}
		})
	})
	if err != nil {
		return Updated{Institution: inst}, err
	}
	return out, nil
}

// orNone is s, or the catalog's word for none.
func orNone(cat *messages.Catalog, lang, s string) string {
	if s == "" {
		return cat.Text(lang, messages.CommonNone, nil)
	}
	return s
}

// DecideRename approves or refuses an institution's waiting change of
// name. Admins decide, but not the person who asked for it; the
// institution's people are told, with the reason if given.
func (in *Institutions) DecideRename(ctx context.Context, by Actor, id uint64, approve bool, reason string) (*store.Institution, error) {
	if !by.can(store.RoleAdmin) {
		return nil, ErrNotAllowed
	}
	inst, err := in.st.Institution(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if inst.Rename == nil {
		return inst, ErrNoRename
	}
	if asker, err := in.st.Identity(ctx, inst.Rename.By); err != nil {
		return inst, err
	} else if asker == by.Person {
		return inst, ErrOwnApproval
	}
	old := *inst
	reason = strings.TrimSpace(reason)
	err = in.st.InTx(ctx, func(ctx context.Context) error {
		inst, err = in.st.UpdateInstitution(ctx, id, func(x *store.Institution) error {
			if x.Rename == nil {
				return ErrNoRename
			}
			if approve {
				x.NameAR, x.NameEN = x.Rename.NameAR, x.Rename.NameEN
			}
			x.Rename = nil
			return nil
		})
		if err != nil {
			return notFound(err)
		}
		action, key := "institution_rename_rejected", messages.OrgRenameRejected
		if approve {
			action, key = "institution_renamed", messages.OrgRenamed
		}
		if err := in.audit(ctx, by.Person, action, map[string]string{"institution_id": strconv.FormatUint(id, 10),
			"name_ar": old.Rename.NameAR, "name_en": old.Rename.NameEN, "reason": reason}); err != nil {
			return err
		}
		decided := inst
		return in.tellInstitution(ctx, id, 0, "institution_rename", func(lang string) (string, [][]bot.Button) {
			text := in.cat.Text(lang, key, map[string]any{"Old": InstitutionName(&old, lang), "Name": InstitutionName(decided, lang),
				"Requested": InLang(lang, old.Rename.NameAR, old.Rename.NameEN)})
			if reason != "" {
				text += "\n" + in.cat.Text(lang, messages.RegisterReason, map[string]any{"Reason": reason})
			}
			return text, nil
		})
	})
	return inst, err
}

// MembershipChange is what Suspend, Reinstate and End did.
type MembershipChange struct {
	Institution *store.Institution
	// Stopped lists the sends a suspension or an end stopped; Resumed the
	// ones a reinstatement let go on.
	Stopped, Resumed Stopped
}

// Suspend suspends an active member, with a reason: its sends stop at once
// (broadcasts parked, reminders held, each for the admins to take over or
// drop), its people can act for it no more, and it leaves the directory,
// until it is reinstated. Admins suspend. Its representatives and
// coordinators are told why.
func (in *Institutions) Suspend(ctx context.Context, by Actor, id uint64, reason string) (MembershipChange, error) {
	return in.setStanding(ctx, by, id, reason, store.InstitutionSuspended)
}

// Reinstate lifts a suspension, with a reason: the institution's people
// act for it again, and the sends the suspension stopped go on where their
// authors still act for it (a broadcast that awaited approval awaits it
// again). Admins reinstate; its people are told.
func (in *Institutions) Reinstate(ctx context.Context, by Actor, id uint64, reason string) (MembershipChange, error) {
	return in.setStanding(ctx, by, id, reason, store.InstitutionApproved)
}

// End ends a membership for good, with a reason: its sends stop as for a
// suspension, its people are told and lose their roles in it (its
// representatives their member role, unless they represent another), and
// its records stay for the coalition's history. Admins end memberships.
func (in *Institutions) End(ctx context.Context, by Actor, id uint64, reason string) (MembershipChange, error) {
	return in.setStanding(ctx, by, id, reason, store.InstitutionEnded)
}

func (in *Institutions) setStanding(ctx context.Context, by Actor, id uint64, reason string, to store.InstitutionStatus) (MembershipChange, error) {
	if !by.can(store.RoleAdmin) {
		return MembershipChange{}, ErrNotAllowed
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return MembershipChange{}, invalid("reason", messages.OrgNeedReason)
	}
	inst, err := in.st.Institution(ctx, id)
	if err != nil {
		return MembershipChange{}, notFound(err)
	}
	from := inst.Status
	switch {
	case to == store.InstitutionSuspended && from != store.InstitutionApproved,
		to == store.InstitutionApproved && from != store.InstitutionSuspended,
		to == store.InstitutionEnded && from != store.InstitutionApproved && from != store.InstitutionSuspended:
		return MembershipChange{Institution: inst}, ErrDecided
	}
	out := MembershipChange{}
	err = in.st.InTx(ctx, func(ctx context.Context) error {
		// told before an end takes their roles away, so they hear why
		people, err := in.st.InstitutionPeople(ctx, id)
		if err != nil {
			return err
		}
		if out.Institution, err = in.st.UpdateInstitution(ctx, id, func(x *store.Institution) error {
			if x.Status != from {
				return ErrDecided
			}
			x.Status, x.StatusReason, x.StatusBy, x.StatusAt = to, reason, by.Person, in.now().UTC()
			return nil
		}); err != nil {
			return notFound(err)
		}
		inst := out.Institution
		switch to {
		case store.InstitutionApproved:
			if out.Resumed, err = in.resumeSends(ctx, inst); err != nil {
				return err
			}
		default:
			if from == store.InstitutionApproved {
				if out.Stopped, err = in.stopSends(ctx, func(_ uint64, org store.Organiser) bool { return org.Lead() == id },
					map[string]string{"institution_id": strconv.FormatUint(id, 10), "why": string(to)},
					func(lang, items string) string {
						return in.cat.Text(lang, messages.OrgSendsStopped, map[string]any{"Name": InstitutionName(inst, lang), "Items": items})
					}); err != nil {
					return err
				}
			}
		}
		if to == store.InstitutionEnded {
			for _, p := range people {
				if _, err := in.dropAffiliation(ctx, p.ContactID, id); err != nil {
					return err
				}
			}
		}
		in.roleChanged(ctx)
		action := map[store.InstitutionStatus]string{store.InstitutionSuspended: "institution_suspended",
			store.InstitutionApproved: "institution_reinstated", store.InstitutionEnded: "institution_ended"}[to]
		key := map[store.InstitutionStatus]messages.Key{store.InstitutionSuspended: messages.OrgSuspendedNotice,
			store.InstitutionApproved: messages.OrgReinstatedNotice, store.InstitutionEnded: messages.OrgEndedNotice}[to]
		in.log.Warn("institution standing changed", "institution_id", id, "status", string(to), "by", by.Person)
		if err := in.audit(ctx, by.Person, action, map[string]string{"institution_id": strconv.FormatUint(id, 10), "reason": reason,
			"stopped_broadcasts": joinIDs(out.Stopped.Broadcasts), "stopped_reminders": joinIDs(out.Stopped.Reminders),
			"resumed_broadcasts": joinIDs(out.Resumed.Broadcasts), "resumed_reminders": joinIDs(out.Resumed.Reminders)}); err != nil {
			return err
		}
		notices := make([]outbox.Notice, 0, len(people))
		for _, p := range people {
			notices = append(notices, outbox.Notice{ContactID: p.ContactID, Kind: store.MessageKind(action), Render: func(lang string) (string, [][]bot.Button) {
				return in.cat.Text(lang, key, map[string]any{"Name": InstitutionName(inst, lang), "Reason": reason}), nil
			}})
		}
		return in.out.Notify(ctx, notices...)
	})
	if errors.Is(err, ErrDecided) {
		return MembershipChange{Institution: inst}, err
	}
	return out, err
}

// resumeSends lets the sends of a reinstated institution that its
// suspension stopped go on, where their authors still act for it: a
// broadcast returns to where it was (one awaiting approval asks the
// admins again), a reminder fires again.
func (in *Institutions) resumeSends(ctx context.Context, inst *store.Institution) (Stopped, error) {
	var st Stopped
	authorActs := func(author uint64) (bool, error) {
		c, err := in.st.Contact(ctx, author)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return c.AffiliationWith(inst.ID) != "" || in.co.Members.RoleOf(c).AtLeast(store.RoleAdmin), nil
	}
	bs, err := in.st.Broadcasts(ctx)
	if err != nil {
		return st, err
	}
	for _, b := range bs {
		if b.Status != store.BroadcastSuspended || b.Organiser.Lead() != inst.ID {
			continue
		}
		if ok, err := authorActs(b.CreatedBy); err != nil || !ok {
			if err != nil {
				return st, err
			}
			continue
		}
		resumed, err := in.st.ResumeBroadcast(ctx, b.ID, b.CreatedBy)
		if err != nil {
			return st, err
		}
		if resumed.Status == store.BroadcastAwaitingApproval {
			if err := in.co.Broadcasts.requestApproval(ctx, resumed, resumed.Recipients); err != nil {
				return st, err
			}
		}
		st.Broadcasts = append(st.Broadcasts, b.ID)
	}
	rs, err := in.st.Reminders(ctx)
	if err != nil {
		return st, err
	}
	for _, r := range rs {
		if !r.Suspended || r.Organiser.Lead() != inst.ID {
			continue
		}
		if ok, err := authorActs(r.CreatedBy); err != nil || !ok {
			if err != nil {
				return st, err
			}
			continue
		}
		if _, err := in.st.UpdateReminder(ctx, r.ID, func(x *store.Reminder) error {
			x.Suspended = false
			return nil
		}); err != nil {
			return st, err
		}
		st.Reminders = append(st.Reminders, r.ID)
	}
	if !st.Empty() {
		store.AfterCommit(ctx, in.out.Wake)
	}
	return st, nil
}

// All lists every institution, whatever its standing, for the coalition's
// staff: the admins decide on them, the coordinators see them.
func (in *Institutions) All(ctx context.Context, by Actor) ([]store.Institution, error) {
	if !by.staff() {
		return nil, ErrNotAllowed
	}
	return in.st.Institutions(ctx, "")
}
