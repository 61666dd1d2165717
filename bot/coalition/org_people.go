package coalition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
)

// Errors of an institution's people.
var (
	// ErrLastRepresentative: an institution keeps at least one representative.
	ErrLastRepresentative = errors.New("the institution's last representative")
	// ErrNotInInstitution: the person has no role in the institution.
	ErrNotInInstitution = errors.New("no role in the institution")
)

// InstitutionPerson is one of an institution's representatives or coordinators.
type InstitutionPerson struct {
	Contact *store.Contact
	store.Affiliation
}

// People lists an institution's representatives and coordinators,
// representatives first. Its own people and the coalition's staff see them.
func (in *Institutions) People(ctx context.Context, by Actor, id uint64) ([]InstitutionPerson, error) {
	ok, err := in.actsFor(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if !ok && !by.staff() {
		return nil, ErrNotAllowed
	}
	list, err := in.st.InstitutionPeople(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []InstitutionPerson
	for _, a := range list {
		c, err := in.st.Contact(ctx, a.ContactID)
		if err != nil {
			return nil, notFound(err)
		}
		out = append(out, InstitutionPerson{Contact: c, Affiliation: a.Affiliation})
	}
	slices.SortStableFunc(out, func(a, b InstitutionPerson) int {
		return rankOf(b.Role) - rankOf(a.Role)
	})
	return out, nil
}

func rankOf(r store.InstitutionRole) int {
	if r == store.InstitutionRepresentative {
		return 1
	}
	return 0
}

// Mine returns the institutions the actor acts for, with their role in
// each, whatever their standing, in the order they joined them.
func (in *Institutions) Mine(ctx context.Context, by Actor) ([]Membership, error) {
	var out []Membership
	for _, af := range by.Institutions {
		inst, err := in.st.Institution(ctx, af.InstitutionID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Membership{Institution: inst, Role: af.Role})
	}
	return out, nil
}

// Membership is an institution and the acting person's role in it.
type Membership struct {
	Institution *store.Institution
	Role        store.InstitutionRole
}

// Appointed is what Appoint and Remove did.
type Appointed struct {
	Person      *store.Contact
	Institution *store.Institution
	// Role is the person's role in the institution now, "" for none.
	Role store.InstitutionRole
	// Changed is false when nothing changed: nobody is told.
	Changed bool
	// Stopped lists the sends a removal stopped.
	Stopped Stopped
}

// Appoint gives a person a role in an active member institution: its
// coordinator, or another representative. Its representatives appoint
// (and the coalition's admins); a representative is not made a mere
// coordinator this way (Remove first). The person is told, and their menus follow.
func (in *Institutions) Appoint(ctx context.Context, by Actor, id uint64, who *store.Contact, role store.InstitutionRole) (Appointed, error) {
	ok, err := in.represents(ctx, by, id)
	if err != nil {
		return Appointed{}, err
	}
	if !ok {
		return Appointed{}, ErrNotAllowed
	}
	if role != store.InstitutionCoordinator && role != store.InstitutionRepresentative {
		return Appointed{}, invalid("role", messages.ErrChooseOption)
	}
	inst, err := in.st.Institution(ctx, id)
	if err != nil {
		return Appointed{}, notFound(err)
	}
	if !inst.Active() {
		return Appointed{}, ErrNotMember
	}
	now := who.AffiliationWith(id)
	if now == role || now == store.InstitutionRepresentative {
		return Appointed{Person: who, Institution: inst, Role: now}, nil
	}
	out := Appointed{Institution: inst, Role: role, Changed: true}
	err = in.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		if role == store.InstitutionRepresentative {
			err = in.makeRepresentative(ctx, who.ID, id, by.Person)
		} else {
			_, err = in.st.UpdateAffiliations(ctx, who.ID, func(c *store.Contact) error {
				c.Affiliations = append(c.Affiliations, store.Affiliation{InstitutionID: id, Role: role, Since: in.now().UTC(), By: by.Person})
				return nil
			})
		}
		if err != nil {
			return notFound(err)
		}
		if out.Person, err = in.st.Contact(ctx, who.ID); err != nil {
			return notFound(err)
		}
		in.roleChanged(ctx)
		in.log.Info("institution role given", "institution_id", id, "contact_id", who.ID, "role", string(role), "by", by.Person)
		if err := in.audit(ctx, by.Person, "institution_"+string(role)+"_appointed", map[string]string{
			"institution_id": strconv.FormatUint(id, 10), "contact_id": strconv.FormatUint(who.ID, 10)}); err != nil {
			return err
		}
		return in.out.Notify(ctx, outbox.Notice{ContactID: who.ID, Kind: "institution_role", Render: func(lang string) (string, [][]bot.Button) {
			return in.cat.Text(lang, messages.OrgYourRole, map[string]any{
				"Role": in.cat.Text(lang, messages.OrgRoleKey(string(role)), nil), "Name": InstitutionName(inst, lang),
			}), [][]bot.Button{{{Text: in.cat.Text(lang, messages.OrgMenuButton, nil), Payload: "/myinstitution " + inst.Code}}}
		}})
	})
	return out, err
}

// makeRepresentative makes a person a representative of institution id,
// and a member of the coalition, inside the caller's unit of work.
func (r *rules) makeRepresentative(ctx context.Context, contactID, id, by uint64) error {
	_, err := r.st.UpdateAffiliations(ctx, contactID, func(c *store.Contact) error {
		i := slices.IndexFunc(c.Affiliations, func(a store.Affiliation) bool { return a.InstitutionID == id })
		a := store.Affiliation{InstitutionID: id, Role: store.InstitutionRepresentative, Since: r.now().UTC(), By: by}
		if i >= 0 {
			c.Affiliations[i] = a
		} else {
			c.Affiliations = append(c.Affiliations, a)
		}
		if !c.Role.AtLeast(store.RoleMember) {
			c.Role = store.RoleMember
		}
		if c.InstitutionID == 0 {
			c.InstitutionID = id
		}
		return nil
	})
	return err
}

// Remove takes a person's role in an institution away: a representative
// removes a coordinator or another representative (not the last one), and
// a person may step down from their own role. Their sends in the
// institution's name stop, and the admins decide about each, as when a
// coordinator is dismissed. The person is told.
func (in *Institutions) Remove(ctx context.Context, by Actor, id uint64, who *store.Contact) (Appointed, error) {
	ok, err := in.represents(ctx, by, id)
	if err != nil {
		return Appointed{}, err
	}
	self := who.ID == by.Person && by.RoleIn(id) != ""
	if !ok && !self {
		return Appointed{}, ErrNotAllowed
	}
	inst, err := in.st.Institution(ctx, id)
	if err != nil {
		return Appointed{}, notFound(err)
	}
	role := who.AffiliationWith(id)
	if role == "" {
		return Appointed{Person: who, Institution: inst}, ErrNotInInstitution
	}
	if role == store.InstitutionRepresentative {
		people, err := in.st.InstitutionPeople(ctx, id)
		if err != nil {
			return Appointed{}, err
		}
		reps := 0
		for _, p := range people {
			if p.Role == store.InstitutionRepresentative {
				reps++
			}
		}
		if reps <= 1 && inst.Active() {
			return Appointed{Person: who, Institution: inst, Role: role}, ErrLastRepresentative
		}
	}
	out := Appointed{Institution: inst, Changed: true}
	err = in.st.InTx(ctx, func(ctx context.Context) error {
		c, err := in.dropAffiliation(ctx, who.ID, id)
		if err != nil {
			return err
		}
		out.Person = c
		in.roleChanged(ctx)
		if err := in.audit(ctx, by.Person, "institution_"+string(role)+"_removed", map[string]string{
			"institution_id": strconv.FormatUint(id, 10), "contact_id": strconv.FormatUint(who.ID, 10)}); err != nil {
			return err
		}
		if out.Stopped, err = in.stopInstitutionSendsOf(ctx, who.ID, inst); err != nil {
			return err
		}
		if self {
			return nil
		}
		return in.out.Notify(ctx, outbox.Notice{ContactID: who.ID, Kind: "institution_role", Render: func(lang string) (string, [][]bot.Button) {
			return in.cat.Text(lang, messages.OrgRoleRemoved, map[string]any{
				"Role": in.cat.Text(lang, messages.OrgRoleKey(string(role)), nil), "Name": InstitutionName(inst, lang)}), nil
		}})
	})
	return out, err
}

// dropAffiliation takes away a person's role in institution id, and what
// went with it: the coalition's member role and InstitutionID, when no
// other institution they represent holds them.
func (r *rules) dropAffiliation(ctx context.Context, contactID, id uint64) (*store.Contact, error) {
	c, err := r.st.UpdateAffiliations(ctx, contactID, func(c *store.Contact) error {
		c.Affiliations = slices.DeleteFunc(c.Affiliations, func(a store.Affiliation) bool { return a.InstitutionID == id })
		if c.InstitutionID == id {
			c.InstitutionID = 0
			for _, a := range c.Affiliations {
				if a.Role == store.InstitutionRepresentative {
					c.InstitutionID = a.InstitutionID
					break
				}
			}
		}
		if c.InstitutionID == 0 && c.Role == store.RoleMember {
			c.Role = store.RoleCitizen
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("taking away a role in institution %d: %w", id, notFound(err))
	}
	return c, nil
}

// stopInstitutionSendsOf suspends what author had still to send in the
// institution's name, telling the admins.
func (r *rules) stopInstitutionSendsOf(ctx context.Context, author uint64, inst *store.Institution) (Stopped, error) {
	return r.stopSends(ctx, func(createdBy uint64, org store.Organiser) bool { return createdBy == author && org.Lead() == inst.ID },
		map[string]string{"author": strconv.FormatUint(author, 10), "institution_id": strconv.FormatUint(inst.ID, 10), "why": "removed"},
		func(lang, items string) string {
			return r.cat.Text(lang, messages.OrgPersonSendsStopped, map[string]any{
				"Who": messages.Isolate("#" + messages.FormatID(lang, author)), "Name": InstitutionName(inst, lang), "Items": items})
		})
}
