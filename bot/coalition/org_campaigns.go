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

// Errors of joint campaigns.
var (
	// ErrAlreadyPartner: the institution organises the campaign already, or is invited.
	ErrAlreadyPartner = errors.New("already a partner or invited")
	// ErrNotInvited: the institution has no invitation to answer.
	ErrNotInvited = errors.New("not invited")
)

// managed finds the campaign with code for someone who would change it:
// the coalition's staff, or the people of the institution that leads it.
func (cs *Campaigns) managed(ctx context.Context, by Actor, code string) (*store.Campaign, error) {
	if ok, err := cs.mayOrganise(ctx, by); err != nil || !ok {
		return nil, errors.Join(err, notAllowedUnless(ok))
	}
	c, err := cs.Find(ctx, code)
	if err != nil {
		return nil, err
	}
	ok, err := cs.mayRun(ctx, by, c.Organiser)
	if err != nil {
		return c, err
	}
	if !ok {
		return c, ErrNotAllowed
	}
	return c, nil
}

// creditFor says which organising institution a person's pledge or
// sign-up counts for: the coalition's own campaign credits no one; else
// the co-organiser whose list the person is on already, or whose
// representative or coordinator brought them to the bot, or else the
// campaign's lead. So each partner of a joint campaign sees the share it
// brought.
func (r *rules) creditFor(ctx context.Context, c *store.Campaign, me *store.Contact) (uint64, error) {
	return r.creditIn(ctx, c.Organiser, me)
}

// creditIn is creditFor of anything org organises: a campaign, a poll.
func (r *rules) creditIn(ctx context.Context, org store.Organiser, me *store.Contact) (uint64, error) {
	if org.IsCoalition() {
		return 0, nil
	}
	for _, id := range org.Institutions {
		sp, err := r.st.Supporter(ctx, id, me.ID)
		switch {
		case err == nil && sp.Active():
			return id, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return 0, err
		}
	}
	if me.ReferredBy != 0 {
		ref, err := r.st.Contact(ctx, me.ReferredBy)
		switch {
		case err == nil:
			for _, id := range org.Institutions {
				if ref.AffiliationWith(id) != "" {
					return id, nil
				}
			}
		case !errors.Is(err, store.ErrNotFound):
			return 0, err
		}
	}
	return org.Lead(), nil
}

// support puts me on institution inst's list for having acted on its
// campaign, unless they left it; 0 (the coalition) does nothing.
func (r *rules) support(ctx context.Context, inst uint64, me *store.Contact, via string) error {
	if inst == 0 {
		return nil
	}
	_, err := r.st.AddSupporter(ctx, store.Support{InstitutionID: inst, ContactID: me.ID, Via: via, Governorate: me.Governorate, At: r.now().UTC()}, false)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the institution was deleted meanwhile
	}
	return err
}

// Mine returns the campaigns the actor takes part in organising, oldest
// first: every campaign for the coalition's staff; for an institution's
// people, those their active institutions organise, joint ones included.
func (cs *Campaigns) Mine(ctx context.Context, by Actor) ([]store.Campaign, error) {
	all, err := cs.st.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	if by.staff() {
		return all, nil
	}
	var out []store.Campaign
	for _, c := range all {
		_, ok, err := cs.partnerIn(ctx, by, c.Organiser)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// Manages reports whether the actor may change c (close, edit, reopen,
// invite partners): for front ends, which offer only what the operations allow.
func (cs *Campaigns) Manages(ctx context.Context, by Actor, c *store.Campaign) (bool, error) {
	return cs.mayRun(ctx, by, c.Organiser)
}

// Invite asks institution inst to co-organise the campaign with code,
// which an institution leads: its representatives and coordinators are
// asked, and the campaign becomes joint when one of them accepts (Answer).
// Whoever may change the campaign invites.
func (cs *Campaigns) Invite(ctx context.Context, by Actor, code string, inst uint64) (*store.Campaign, error) {
	c, err := cs.managed(ctx, by, code)
	if err != nil {
		return c, err
	}
	if c.Organiser.IsCoalition() {
		return c, invalid("campaign", messages.OrgJointCoalition)
	}
	if cs.State(c) == StateClosed {
		return c, ErrCampaignClosed
	}
	partner, err := cs.st.Institution(ctx, inst)
	if err != nil {
		return c, notFound(err)
	}
	if !partner.Active() {
		return c, ErrNotMember
	}
	if c.Organiser.Includes(inst) || slices.Contains(c.Invited, inst) {
		return c, ErrAlreadyPartner
	}
	err = cs.st.InTx(ctx, func(ctx context.Context) error {
		c, err = cs.st.UpdateCampaign(ctx, c.ID, func(x *store.Campaign) error {
			if x.Organiser.Includes(inst) || slices.Contains(x.Invited, inst) {
				return ErrAlreadyPartner
			}
			x.Invited = append(x.Invited, inst)
			return nil
		})
		if err != nil {
			return err
		}
		lead, err := cs.from(ctx, c.Organiser)
		if err != nil {
			return err
		}
		if err := cs.audit(ctx, by.Person, "campaign_partner_invited", map[string]string{
			"campaign_id": strconv.FormatUint(c.ID, 10), "institution_id": strconv.FormatUint(inst, 10)}); err != nil {
			return err
		}
		w := cs.words()
		id := strconv.FormatUint(inst, 10)
		return cs.tellInstitution(ctx, inst, 0, "campaign_partner_invited", func(lang string) (string, [][]bot.Button) {
			return cs.cat.Text(lang, messages.OrgInvited, map[string]any{
					"Organiser": w.Organiser(lead, lang), "Title": Title(c, lang), "Code": messages.Isolate(c.Code),
					"Name": InstitutionName(partner, lang),
				}), [][]bot.Button{{
					{Text: cs.cat.Text(lang, messages.OrgAcceptButton, nil), Payload: "/acceptpartner " + c.Code + " " + id},
					{Text: cs.cat.Text(lang, messages.OrgDeclineButton, nil), Payload: "/declinepartner " + c.Code + " " + id},
				}}
		})
	})
	return c, err
}

// Answer is an invited institution's yes or no to co-organising a
// campaign, given by its representative or coordinator (or an admin). On
// yes it becomes one of the campaign's organisers (after the lead), so
// its name is on the campaign and its messages; the lead's people hear
// the answer either way.
func (cs *Campaigns) Answer(ctx context.Context, by Actor, code string, inst uint64, accept bool) (*store.Campaign, error) {
	ok, err := cs.actsFor(ctx, by, inst)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotAllowed
	}
	c, err := cs.Find(ctx, code)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(c.Invited, inst) {
		return c, ErrNotInvited
	}
	partner, err := cs.st.Institution(ctx, inst)
	if err != nil {
		return c, notFound(err)
	}
	err = cs.st.InTx(ctx, func(ctx context.Context) error {
		c, err = cs.st.UpdateCampaign(ctx, c.ID, func(x *store.Campaign) error {
			i := slices.Index(x.Invited, inst)
			if i < 0 {
				return ErrNotInvited
			}
			x.Invited = slices.Delete(x.Invited, i, i+1)
			if accept {
				x.Organiser = store.OrganisedBy(append(slices.Clone(x.Organiser.Institutions), inst)...)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if accept {
			if err := cs.reorganiseEventReminders(ctx, c); err != nil {
				return err
			}
		}
		action, key := "campaign_partner_declined", messages.OrgPartnerDeclined
		if accept {
			action, key = "campaign_partner_accepted", messages.OrgPartnerAccepted
		}
		if err := cs.audit(ctx, by.Person, action, map[string]string{
			"campaign_id": strconv.FormatUint(c.ID, 10), "institution_id": strconv.FormatUint(inst, 10)}); err != nil {
			return err
		}
		return cs.tellInstitution(ctx, c.Organiser.Lead(), by.Person, "campaign_partner_answer", func(lang string) (string, [][]bot.Button) {
			return cs.cat.Text(lang, key, map[string]any{"Name": InstitutionName(partner, lang), "Title": Title(c, lang)}), nil
		})
	})
	return c, err
}

// reorganiseEventReminders gives a campaign's event reminders still to
// fire the campaign's organiser, so they say who they are from.
func (cs *Campaigns) reorganiseEventReminders(ctx context.Context, c *store.Campaign) error {
	rs, err := cs.st.Reminders(ctx)
	if err != nil {
		return fmt.Errorf("listing reminders: %w", err)
	}
	for _, r := range rs {
		if r.CampaignID != c.ID || r.Kind != store.ReminderEvent || r.NextFireAt.IsZero() {
			continue
		}
		if _, err := cs.st.UpdateReminder(ctx, r.ID, func(x *store.Reminder) error {
			x.Organiser = c.Organiser
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// Share is one organiser's part of a campaign: what was credited to it.
type Share struct {
	// Institution is the organising institution, nil for the coalition's part.
	Institution *store.Institution
	Counts      store.Counts
}

// Shares break a joint campaign's pledges and sign-ups down by the
// organiser each is credited to, lead first. Its organisers' people and
// the coalition's staff see them.
func (cs *Campaigns) Shares(ctx context.Context, by Actor, c *store.Campaign) ([]Share, error) {
	if _, ok, err := cs.partnerIn(ctx, by, c.Organiser); err != nil || !ok {
		return nil, errors.Join(err, notAllowedUnless(ok))
	}
	ids := c.Organiser.Institutions
	if len(ids) == 0 {
		ids = []uint64{0}
	}
	var out []Share
	for _, id := range ids {
		st, err := cs.st.CampaignShareStats(ctx, c.ID, id)
		if err != nil {
			return nil, err
		}
		sh := Share{Counts: st.Counts}
		if id != 0 {
			if sh.Institution, err = cs.st.Institution(ctx, id); err != nil {
				return nil, notFound(err)
			}
		}
		out = append(out, sh)
	}
	return out, nil
}

// tellInstitution tells the representatives and coordinators of an
// institution but except.
func (r *rules) tellInstitution(ctx context.Context, inst, except uint64, kind store.MessageKind, render func(lang string) (string, [][]bot.Button)) error {
	if inst == 0 {
		return nil
	}
	people, err := r.st.InstitutionPeople(ctx, inst)
	if err != nil {
		return err
	}
	var notices []outbox.Notice
	for _, p := range people {
		if p.ContactID != except {
			notices = append(notices, outbox.Notice{ContactID: p.ContactID, Kind: kind, Render: render})
		}
	}
	return r.out.Notify(ctx, notices...)
}
