package coalition

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"mobilise/messages"
	"mobilise/store"
)

// Who acts in which scope. The coalition's coordinators and admins act on
// everything; a member institution's representatives and coordinators act
// only within its scope: the campaigns it leads, and messages to its own
// supporters. Every operation below asks these questions of the actor at
// the moment of the call, and of the institution's standing then, so a
// suspended institution's people stop at once. Anything organised in
// someone's name (a campaign, broadcast, reminder, or a poll) names its
// store.Organiser and is checked with organiserFor and mayRun.

// Errors of the institutions' scope.
var (
	// ErrNotMember: the institution is not a member in good standing
	// (pending, suspended or ended) and can do nothing now.
	ErrNotMember = errors.New("institution not an active member")
	// ErrOutsideScope: the send reaches another institution's supporters,
	// which no one outside that institution may do.
	ErrOutsideScope = errors.New("outside the institution's scope")
)

// RoleIn returns the actor's role in institution id, "" if none. It says
// nothing of whether the institution is active now: the operations check.
func (a Actor) RoleIn(id uint64) store.InstitutionRole {
	for _, af := range a.Institutions {
		if af.InstitutionID == id {
			return af.Role
		}
	}
	return ""
}

// staff reports whether the actor is the coalition's own: a coordinator or
// an admin, who keeps the view over everything.
func (a Actor) staff() bool { return a.can(store.RoleCoordinator) }

// MenuRole is the role whose commands a person is offered: their role in
// the coalition, or a coordinator's for someone who acts for a member
// institution, so they find its campaigns, calls and reminders. It opens
// menus only; every operation checks the scope again.
func (m *Members) MenuRole(c *store.Contact) store.Role {
	role := m.RoleOf(c)
	if len(c.Affiliations) > 0 && !role.AtLeast(store.RoleCoordinator) {
		return store.RoleCoordinator
	}
	return role
}

// activeRole returns the actor's role in institution id when it is an
// active member now; "" otherwise.
func (r *rules) activeRole(ctx context.Context, by Actor, id uint64) (store.InstitutionRole, error) {
	role := by.RoleIn(id)
	if role == "" {
		return "", nil
	}
	inst, err := r.st.Institution(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !inst.Active() {
		return "", nil
	}
	return role, nil
}

// actsFor reports whether the actor may act for institution id now: its
// representative or coordinator while it is an active member, or an admin.
func (r *rules) actsFor(ctx context.Context, by Actor, id uint64) (bool, error) {
	if by.can(store.RoleAdmin) {
		return true, nil
	}
	role, err := r.activeRole(ctx, by, id)
	return role != "", err
}

// represents reports whether the actor speaks for institution id now: its
// representative while it is an active member, or an admin.
func (r *rules) represents(ctx context.Context, by Actor, id uint64) (bool, error) {
	if by.can(store.RoleAdmin) {
		return true, nil
	}
	role, err := r.activeRole(ctx, by, id)
	return role == store.InstitutionRepresentative, err
}

// ownInstitutions returns the active institutions the actor acts for, in
// the order of their affiliations.
func (r *rules) ownInstitutions(ctx context.Context, by Actor) ([]uint64, error) {
	var out []uint64
	for _, af := range by.Institutions {
		role, err := r.activeRole(ctx, by, af.InstitutionID)
		if err != nil {
			return nil, err
		}
		if role != "" {
			out = append(out, af.InstitutionID)
		}
	}
	return out, nil
}

// mayOrganise reports whether the actor may organise anything at all now:
// the coalition's staff, or someone acting for an active member institution.
func (r *rules) mayOrganise(ctx context.Context, by Actor) (bool, error) {
	if by.staff() {
		return true, nil
	}
	own, err := r.ownInstitutions(ctx, by)
	return len(own) > 0, err
}

// mayRun reports whether the actor may manage what org organises: the
// coalition's staff manage everything; an institution's people manage what
// their institution leads (a joint campaign's partners see their share of
// it, and do not change it).
func (r *rules) mayRun(ctx context.Context, by Actor, org store.Organiser) (bool, error) {
	if by.staff() {
		return true, nil
	}
	if org.IsCoalition() {
		return false, nil
	}
	return r.actsFor(ctx, by, org.Lead())
}

// partnerIn returns the organising institution the actor acts for, 0 with
// ok for the coalition's staff, and ok false when they are no part of org.
func (r *rules) partnerIn(ctx context.Context, by Actor, org store.Organiser) (inst uint64, ok bool, err error) {
	if by.staff() {
		return 0, true, nil
	}
	for _, id := range org.Institutions {
		yes, err := r.actsFor(ctx, by, id)
		if err != nil {
			return 0, false, err
		}
		if yes {
			return id, true, nil
		}
	}
	return 0, false, nil
}

// organiserFor checks the organiser a draft names, as the actor may name
// it. The coalition (no institution named) is its staff's to name; an
// institution is its own people's (and an admin's, who may act for any);
// several institutions together only when the actor acts for each: others
// join by accepting an invitation (Campaigns.Invite). Every institution
// named must be an active member. Nothing is assumed: someone who acts for
// an institution names it, so a draft never changes hands silently.
func (r *rules) organiserFor(ctx context.Context, by Actor, org store.Organiser) (store.Organiser, error) {
	org = store.OrganisedBy(org.Institutions...)
	if org.IsCoalition() {
		if by.staff() {
			return org, nil
		}
		return org, ErrNotAllowed
	}
	for _, id := range org.Institutions {
		inst, err := r.st.Institution(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return org, ErrNotFound
		}
		if err != nil {
			return org, err
		}
		if !inst.Active() {
			return org, ErrNotMember
		}
		ok, err := r.actsFor(ctx, by, id)
		if err != nil {
			return org, err
		}
		if !ok {
			return org, ErrNotAllowed
		}
	}
	return org, nil
}

// checkReach checks who a send organised by org may reach, and fills in
// the audience's default limit. An institution's send goes to its own
// supporters (Audience.Institution); a send with no limit reaches the
// whole coalition's audience, which for an institution's people is beyond
// their scope and takes the coalition's approval (needsApproval); another
// institution's supporters are out of reach for anyone who does not act
// for that institution. An audience drawn from a campaign's people needs
// the campaign to be one the actor takes part in organising.
func (r *rules) checkReach(ctx context.Context, by Actor, org store.Organiser, aud store.Audience, c *store.Campaign) error {
	if aud.Institution != 0 {
		if !org.IsCoalition() && !org.Includes(aud.Institution) {
			return ErrOutsideScope
		}
		ok, err := r.actsFor(ctx, by, aud.Institution)
		if err != nil {
			return err
		}
		if !ok && !(by.staff() && org.IsCoalition()) {
			return ErrOutsideScope
		}
	}
	switch aud.Kind {
	case store.AudiencePledgers, store.AudienceSignups, store.AudienceNotPledged:
		if c == nil {
			return nil // the store refuses an audience with no campaign
		}
		if _, ok, err := r.partnerIn(ctx, by, c.Organiser); err != nil || !ok {
			return errors.Join(err, notAllowedUnless(ok))
		}
	}
	return nil
}

// notAllowedUnless is ErrNotAllowed when ok is false.
func notAllowedUnless(ok bool) error {
	if ok {
		return nil
	}
	return ErrNotAllowed
}

// beyondScope reports whether a send by author to aud goes past what the
// author may reach alone: the whole coalition's audience, sent by someone
// who is not the coalition's staff. Such a send always waits for the
// coalition's approval, however few it reaches.
func (r *rules) beyondScope(ctx context.Context, author uint64, aud store.Audience) (bool, error) {
	if aud.Institution != 0 {
		return false, nil
	}
	c, err := r.st.Contact(ctx, author)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil // an author who is gone has no scope of their own
	}
	if err != nil {
		return false, fmt.Errorf("reading the author of a send: %w", err)
	}
	return !r.co.Members.RoleOf(c).AtLeast(store.RoleCoordinator), nil
}

// From names whom a message is from, in both languages: the coalition, or
// the organising institutions, lead first.
type From struct {
	// Names are the institutions' names in Arabic and in English (the
	// Arabic where an institution has no English name); none for the coalition.
	NamesAR, NamesEN []string
}

// Coalition reports whether the message is the coalition's own.
func (f From) Coalition() bool { return len(f.NamesAR) == 0 }

// from looks up the names of org's institutions. An institution since
// deleted is left out.
func (r *rules) from(ctx context.Context, org store.Organiser) (From, error) {
	var f From
	for _, id := range org.Institutions {
		inst, err := r.st.Institution(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return f, fmt.Errorf("naming the organiser: %w", err)
		}
		f.NamesAR = append(f.NamesAR, InstitutionName(inst, "ar"))
		f.NamesEN = append(f.NamesEN, InstitutionName(inst, "en"))
	}
	return f, nil
}

// OrganiserOf names who organises org, for front ends.
func (co *Coalition) OrganiserOf(ctx context.Context, org store.Organiser) (From, error) {
	return co.People.from(ctx, org)
}

// Organiser names whom a message is from in lang: «ائتلاف المؤسسات
// الأهلية», "Dialogue Centre", "Dialogue Centre and Peace Forum".
func (w Words) Organiser(f From, lang string) string {
	names := f.NamesAR
	if lang == messages.English {
		names = f.NamesEN
	}
	if len(names) == 0 {
		return w.Cat.Text(lang, messages.OrgCoalition, nil)
	}
	return w.List(names, lang)
}

// List joins names as a reader of lang reads a list: "A, B and C".
func (w Words) List(names []string, lang string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	head := strings.Join(names[:len(names)-1], w.Cat.Text(lang, messages.CommonListSep, nil))
	return w.Cat.Text(lang, messages.OrgAnd, map[string]any{"A": head, "B": names[len(names)-1]})
}

// AudienceOf describes an audience in lang as Audience does, limited to an
// institution's supporters when inst is given.
func (w Words) AudienceOf(aud store.Audience, campaign *store.Campaign, inst *store.Institution, lang string) string {
	return w.within(w.Audience(aud, campaign, lang), aud, inst, lang)
}

// within limits the description of aud to inst's supporters, when given.
func (w Words) within(described string, aud store.Audience, inst *store.Institution, lang string) string {
	if inst == nil {
		return described
	}
	name := InstitutionName(inst, lang)
	if aud.Kind == store.AudienceEveryone {
		return w.Cat.Text(lang, messages.OrgAudienceSupporters, map[string]any{"Name": name})
	}
	return w.Cat.Text(lang, messages.OrgAudienceWithin, map[string]any{"Audience": described, "Name": name})
}

// audienceInstitution loads the institution an audience is limited to; nil for none.
func (r *rules) audienceInstitution(ctx context.Context, aud store.Audience) (*store.Institution, error) {
	if aud.Institution == 0 {
		return nil, nil
	}
	inst, err := r.st.Institution(ctx, aud.Institution)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return inst, err
}

// idDetail writes an ID for the audit log, "" for none.
func idDetail(id uint64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatUint(id, 10)
}
