package coalition

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mobilise/bot"
	"mobilise/messages"
	"mobilise/store"
)

// People are everyone who writes to the bot: their consent, their
// language, their place, their own data and its erasure.
type People struct{ *rules }

// Arrive returns the contact writing from in.From, creating it for a
// newcomer, and notes what the message says of them: the name the platform
// reports, the channel they last wrote on (broadcasts follow them there),
// and that they are reachable again if they had blocked the bot.
func (p *People) Arrive(ctx context.Context, in bot.Incoming) (*store.Contact, bool, error) {
	c, created, err := p.st.EnsureContact(ctx, in.From, messages.CleanName(in.Name), messages.NormalizeLang(in.LangHint))
	if err != nil {
		return nil, false, err
	}
	_, gone := c.Unreachable[in.From]
	if !gone && (c.PreferredChannel == in.From.Channel || len(c.Addresses) < 2) {
		return c, created, nil
	}
	c, err = p.st.UpdateContact(ctx, c.ID, func(c *store.Contact) error {
		if len(c.Addresses) > 1 {
			c.PreferredChannel = in.From.Channel
		}
		delete(c.Unreachable, in.From)
		return nil
	})
	return c, created, err
}

// Blocked records that the person at addr blocked the bot (the platform
// said so), so nothing is sent there until they write again.
func (p *People) Blocked(ctx context.Context, addr bot.Address) error {
	return p.MarkUnreachable(ctx, addr)
}

// MarkUnreachable records that sends to addr fail because the person
// blocked the bot or their account is gone.
func (p *People) MarkUnreachable(ctx context.Context, addr bot.Address) error {
	c, err := p.st.ContactByAddress(ctx, addr)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = p.st.UpdateContact(ctx, c.ID, func(c *store.Contact) error {
		if c.Unreachable == nil {
			c.Unreachable = map[bot.Address]time.Time{}
		}
		c.Unreachable[addr] = p.now().UTC()
		return nil
	})
	if err != nil {
		return fmt.Errorf("marking %s unreachable: %w", addr.Channel, err)
	}
	p.log.Info("contact unreachable", "contact_id", c.ID, "channel", string(addr.Channel))
	return nil
}

// update changes the acting person's own record.
func (p *People) update(ctx context.Context, by Actor, fn func(c *store.Contact)) (*store.Contact, error) {
	c, err := p.st.UpdateContact(ctx, by.Person, func(c *store.Contact) error { fn(c); return nil })
	if err != nil {
		return nil, notFound(err)
	}
	return c, nil
}

// SetLanguage sets the language the person reads ("ar" or "en").
func (p *People) SetLanguage(ctx context.Context, by Actor, lang string) (*store.Contact, error) {
	lang = messages.NormalizeLang(lang)
	return p.update(ctx, by, func(c *store.Contact) { c.Lang = lang })
}

// Consent records the person's yes or no to receiving the coalition's
// messages; either way they are no longer stopped: a no is the stronger word.
func (p *People) Consent(ctx context.Context, by Actor, yes bool) (*store.Contact, error) {
	now := p.now().UTC()
	return p.update(ctx, by, func(c *store.Contact) {
		c.Consent, c.Stopped, c.ConsentAt = yes, false, time.Time{}
		if yes {
			c.ConsentAt = now
		}
	})
}

// SetGovernorate records where the person lives, a key of messages.Governorates.
func (p *People) SetGovernorate(ctx context.Context, by Actor, gov string) (*store.Contact, error) {
	if !messages.IsGovernorate(gov) {
		return nil, invalid("governorate", messages.ErrChooseOption)
	}
	return p.update(ctx, by, func(c *store.Contact) { c.Governorate = gov })
}

// Onboarded records that the person finished the welcome.
func (p *People) Onboarded(ctx context.Context, by Actor) (*store.Contact, error) {
	now := p.now().UTC()
	return p.update(ctx, by, func(c *store.Contact) {
		if c.OnboardedAt.IsZero() {
			c.OnboardedAt = now
		}
	})
}

// Stop stops every bulk message to the person at once: nothing queued for
// them in bulk goes out after they said stop.
func (p *People) Stop(ctx context.Context, by Actor) (*store.Contact, error) {
	var c *store.Contact
	err := p.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		if c, err = p.update(ctx, by, func(c *store.Contact) { c.Stopped = true }); err != nil {
			return err
		}
		_, err = p.st.OutboxWithdrawBulk(ctx, c.ID, c.Addresses)
		return err
	})
	return c, err
}

// Resume lifts the person's stop.
func (p *People) Resume(ctx context.Context, by Actor) (*store.Contact, error) {
	return p.update(ctx, by, func(c *store.Contact) { c.Stopped = false })
}

// Referred records that a newcomer came through the share code ref. A code
// is credited once per address, ever: a person who forgets themself and
// comes again through the same link does not count twice.
func (p *People) Referred(ctx context.Context, by Actor, ref string) error {
	mark, err := p.st.AddressMark(ctx, by.From)
	if err != nil {
		return err
	}
	first, err := p.st.CreditReferralOnce(ctx, mark)
	if err != nil || !first {
		return err
	}
	_, err = p.st.SetReferrer(ctx, by.Person, ref)
	return err
}

// MyData is everything the bot keeps about one person.
type MyData struct {
	Contact      *store.Contact
	Role         store.Role
	Institution  *store.Institution
	Applications []store.Institution
	// Given are the institutions the person applied for whose record keeps
	// the contact details they gave (contact person, phone, email).
	Given []store.Institution
	// Watching are the scheduled campaigns the person asked to hear open.
	Watching []store.Campaign
	Pledges  []store.Pledge
	Signups  []store.Signup
	// Answers are the person's answers to polls, with the polls they answer.
	Answers []MyAnswer
}

// MyAnswer is one of a person's answers, with its poll.
type MyAnswer struct {
	Poll   *store.Poll
	Answer store.PollAnswer
}

// MyData returns everything the bot keeps about the acting person.
func (p *People) MyData(ctx context.Context, by Actor) (MyData, error) {
	var d MyData
	c, err := p.st.Contact(ctx, by.Person)
	if err != nil {
		return d, notFound(err)
	}
	d.Contact, d.Role = c, p.co.Members.RoleOf(c)
	if c.InstitutionID != 0 {
		if inst, err := p.st.Institution(ctx, c.InstitutionID); err == nil {
			d.Institution = inst
		}
	}
	insts, err := p.st.Institutions(ctx, "")
	if err != nil {
		return d, err
	}
	for _, inst := range insts {
		if inst.ApplicantID != c.ID {
			continue
		}
		if inst.Status == store.InstitutionPending {
			d.Applications = append(d.Applications, inst)
		}
		if inst.ContactPerson != "" || inst.Phone != "" || inst.Email != "" {
			d.Given = append(d.Given, inst)
		}
	}
	campaigns, err := p.st.Campaigns(ctx)
	if err != nil {
		return d, err
	}
	for _, cp := range campaigns {
		watching, err := p.st.Watching(ctx, cp.ID, c.ID)
		if err != nil {
			return d, err
		}
		if watching {
			d.Watching = append(d.Watching, cp)
		}
	}
	if d.Pledges, err = p.st.ContactPledges(ctx, c.ID); err != nil {
		return d, err
	}
	if d.Signups, err = p.st.ContactSignups(ctx, c.ID); err != nil {
		return d, err
	}
	answers, err := p.st.ContactPollAnswers(ctx, c.ID)
	if err != nil {
		return d, err
	}
	for _, a := range answers {
		poll, err := p.st.Poll(ctx, a.PollID)
		if err != nil {
			return d, err
		}
		d.Answers = append(d.Answers, MyAnswer{Poll: poll, Answer: a})
	}
	return d, nil
}

// Forget erases the acting person: their record, sessions, dashboard
// sign-ins, queued messages, link codes and pending applications go; their pledges stay as
// anonymous counts so totals stay right; an institution they applied for
// keeps its record without them, and the admins are told it needs a new
// contact. If they had a role, their pending sends stop and the admins
// decide about each, as when someone is dismissed.
func (p *People) Forget(ctx context.Context, by Actor) error {
	return p.st.InTx(ctx, func(ctx context.Context) error {
		if _, err := p.stopSendsOf(ctx, by.Person, "forgotten"); err != nil {
			return err
		}
		if err := p.forgetApplications(ctx, by.Person); err != nil {
			return err
		}
		if err := p.st.ForgetLinkCodes(ctx, by.Person); err != nil {
			return err
		}
		// their dashboard sign-ins hold the address they came from
		if by.Person != 0 {
			if _, err := p.st.DeleteWebSessions(ctx, by.Person); err != nil {
				return err
			}
		}
		if err := p.st.ForgetContact(ctx, by.Person); err != nil {
			return notFound(err)
		}
		p.roleChanged(ctx)
		p.log.Info("contact forgotten", "contact_id", by.Person)
		return nil
	})
}

// forgetApplications removes what a person's membership applications say
// about them: a pending application goes entirely; a decided one is the
// coalition's record of a member institution and stays, with its contact
// fields replaced, and the admins are told it needs a new contact.
func (p *People) forgetApplications(ctx context.Context, contactID uint64) error {
	insts, err := p.st.Institutions(ctx, "")
	if err != nil {
		return fmt.Errorf("listing institutions: %w", err)
	}
	for _, inst := range insts {
		if inst.ApplicantID != contactID {
			continue
		}
		if inst.Status == store.InstitutionPending {
			if err := p.st.DeleteInstitution(ctx, inst.ID); err != nil {
				return err
			}
			continue
		}
		updated, err := p.st.UpdateInstitution(ctx, inst.ID, func(i *store.Institution) error {
			i.ApplicantID, i.ContactPerson, i.Phone, i.Email = 0, "", "", ""
			return nil
		})
		if err != nil {
			return err
		}
		if err := p.notifyAdmins(ctx, contactID, "institution_contact_gone", func(lang string) (string, [][]bot.Button) {
			return p.cat.Text(lang, messages.AdminInstitutionNeedsContact, map[string]any{"Name": InstitutionName(updated, lang)}), nil
		}); err != nil {
			return err
		}
	}
	return nil
}
