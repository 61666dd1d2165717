package coalition

import (
	"context"
	"errors"
	"slices"
	"strings"

	"mobilise/bot"
	"mobilise/messages"
	"mobilise/store"
)

// JoinPrefix starts the payload of an institution's share link: "i_" and
// its code. Campaign codes have no "_", so the two never meet.
const JoinPrefix = "i_"

// Find returns the active member institution whose share code is code.
func (in *Institutions) Find(ctx context.Context, code string) (*store.Institution, error) {
	code = strings.ToLower(strings.TrimSpace(messages.ToASCIIDigits(code)))
	if code == "" {
		return nil, ErrNotFound
	}
	inst, err := in.st.InstitutionByCode(ctx, code)
	if err != nil {
		return nil, notFound(err)
	}
	if !inst.Active() {
		return inst, ErrNotMember
	}
	return inst, nil
}

// JoinLink is the link that opens the bot on channel at an institution's
// invitation to join its supporters: its QR code on a poster, its share link.
func (in *Institutions) JoinLink(channel bot.ChannelName, inst *store.Institution) string {
	return in.startLink(channel, JoinPrefix+inst.Code)
}

// Join puts the acting person on an active institution's list, at their
// own yes to its invitation: the institution may write to them from now
// on, as the coalition does (their consent covers both; People.Consent
// records it). Someone who left the list before is back on it. newcomer
// says the invitation first brought them to the bot, so it counts among
// the institution's referrals. It reports whether they were not on the
// list already.
func (in *Institutions) Join(ctx context.Context, by Actor, id uint64, newcomer bool) (*store.Institution, bool, error) {
	inst, err := in.st.Institution(ctx, id)
	if err != nil {
		return nil, false, notFound(err)
	}
	if !inst.Active() {
		return inst, false, ErrNotMember
	}
	me, err := in.st.Contact(ctx, by.Person)
	if err != nil {
		return inst, false, notFound(err)
	}
	added, err := in.st.AddSupporter(ctx, store.Support{InstitutionID: id, ContactID: by.Person, Via: store.ViaLink,
		Newcomer: newcomer, Governorate: me.Governorate, At: in.now().UTC()}, true)
	if err != nil {
		return inst, false, notFound(err)
	}
	if added {
		in.log.Info("supporter joined", "institution_id", id, "newcomer", newcomer)
	}
	return inst, added, nil
}

// Leave takes the acting person off one institution's list: it writes to
// them no more, and the coalition and other institutions still do. It
// reports whether they were on it.
func (in *Institutions) Leave(ctx context.Context, by Actor, id uint64) (*store.Institution, bool, error) {
	inst, err := in.st.Institution(ctx, id)
	if err != nil {
		return nil, false, notFound(err)
	}
	left, err := in.st.LeaveSupporters(ctx, id, by.Person)
	if err != nil {
		return inst, false, err
	}
	if left {
		in.log.Info("supporter left", "institution_id", id)
	}
	return inst, left, nil
}

// Supporting returns the institutions whose lists the acting person is on now.
func (in *Institutions) Supporting(ctx context.Context, by Actor) ([]*store.Institution, error) {
	sups, err := in.st.ContactSupports(ctx, by.Person)
	if err != nil {
		return nil, err
	}
	var out []*store.Institution
	for _, sp := range sups {
		if !sp.Active() {
			continue
		}
		inst, err := in.st.Institution(ctx, sp.InstitutionID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, inst)
	}
	return out, nil
}

// SupportsAny returns the first of org's institutions whose list the
// acting person is on, nil for none.
func (in *Institutions) SupportsAny(ctx context.Context, by Actor, org store.Organiser) (*store.Institution, error) {
	for _, id := range org.Institutions {
		sp, err := in.st.Supporter(ctx, id, by.Person)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if sp.Active() {
			return in.st.Institution(ctx, id)
		}
	}
	return nil, nil
}

// Listed is what the directory shows of a member institution: only what
// it agreed to publish.
type Listed struct {
	ID             uint64
	Code           string
	NameAR, NameEN string
	Field          string
	Governorates   []string
	// AboutAR and AboutEN, Phone and Email are empty unless published.
	AboutAR, AboutEN string
	Phone, Email     string
	// Open are its campaigns people can act on now, joint ones included.
	Open []CampaignCounts
}

// Directory lists the active member institutions that agreed to be
// listed, in the governorate and field given ("" for any), in ID order.
// Anyone may browse it.
func (in *Institutions) Directory(ctx context.Context, gov, field string) ([]Listed, error) {
	all, err := in.st.Institutions(ctx, store.InstitutionApproved)
	if err != nil {
		return nil, err
	}
	open, err := in.co.Campaigns.Open(ctx)
	if err != nil {
		return nil, err
	}
	var out []Listed
	for i := range all {
		inst := &all[i]
		if !inst.Listing.Listed || (gov != "" && !slices.Contains(inst.Governorates, gov)) || (field != "" && inst.Field != field) {
			continue
		}
		out = append(out, listed(inst, open))
	}
	return out, nil
}

// Public returns what the directory shows of the institution with the
// given ID; ErrNotFound unless it is active and listed.
func (in *Institutions) Public(ctx context.Context, id uint64) (Listed, error) {
	inst, err := in.st.Institution(ctx, id)
	if err != nil {
		return Listed{}, notFound(err)
	}
	if !inst.Active() || !inst.Listing.Listed {
		return Listed{}, ErrNotFound
	}
	open, err := in.co.Campaigns.Open(ctx)
	if err != nil {
		return Listed{}, err
	}
	return listed(inst, open), nil
}

// listed is the public face of inst, with its campaigns among open.
func listed(inst *store.Institution, open []CampaignCounts) Listed {
	l := Listed{ID: inst.ID, Code: inst.Code, NameAR: inst.NameAR, NameEN: inst.NameEN, Field: inst.Field,
		Governorates: slices.Clone(inst.Governorates), AboutAR: inst.Listing.AboutAR, AboutEN: inst.Listing.AboutEN}
	if inst.Listing.Phone {
		l.Phone = inst.Phone
	}
	if inst.Listing.Email {
		l.Email = inst.Email
	}
	for _, cc := range open {
		if cc.Campaign.Organiser.Includes(inst.ID) {
			l.Open = append(l.Open, cc)
		}
	}
	return l
}

// Member returns the active member institution with the given ID: what a
// conversation about joining or leaving it refers to.
func (in *Institutions) Member(ctx context.Context, id uint64) (*store.Institution, error) {
	inst, err := in.st.Institution(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if !inst.Active() {
		return inst, ErrNotMember
	}
	return inst, nil
}
