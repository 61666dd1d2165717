package coalition_test

import (
	"context"
	"time"

	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/store"
)

// member is a member institution made the way it happens: its applicant
// registers it, an admin approves it, and the applicant is its first
// representative.
type member struct {
	inst *store.Institution
	rep  *store.Contact
}

// institution registers and approves an institution working in govs.
func (f *fixture) institution(nameEN string, govs ...string) member {
	f.t.Helper()
	ctx := context.Background()
	if len(govs) == 0 {
		govs = []string{"nablus"}
	}
	rep := f.person(store.RoleCitizen)
	inst, err := f.co.Institutions.Register(ctx, f.actor(rep), coalition.Application{
		NameAR: "مؤسسة " + nameEN, NameEN: nameEN, Field: "youth", Governorates: govs, ContactPerson: "سمر", Phone: "0599123456"})
	require.NoError(f.t, err)
	inst, err = f.co.Institutions.Approve(ctx, f.actor(f.admin()), inst.ID, "")
	require.NoError(f.t, err)
	return member{inst: inst, rep: f.fresh(rep)}
}

// admin is an admin of the coalition, made once per fixture.
func (f *fixture) admin() *store.Contact {
	f.t.Helper()
	if f.theAdmin == nil {
		f.theAdmin = f.person(store.RoleAdmin)
	}
	return f.theAdmin
}

// fresh reads a person again.
func (f *fixture) fresh(c *store.Contact) *store.Contact {
	f.t.Helper()
	got, err := f.st.Contact(context.Background(), c.ID)
	require.NoError(f.t, err)
	return got
}

// coordinatorOf makes a citizen the institution's coordinator, appointed by its representative.
func (f *fixture) coordinatorOf(m member) *store.Contact {
	f.t.Helper()
	c := f.person(store.RoleCitizen)
	res, err := f.co.Institutions.Appoint(context.Background(), f.actor(m.rep), m.inst.ID, c, store.InstitutionCoordinator)
	require.NoError(f.t, err)
	require.True(f.t, res.Changed)
	return f.fresh(c)
}

// supporters makes n consenting people of gov who joined the institution's list through its link.
func (f *fixture) supporters(m member, n int, gov string) []*store.Contact {
	f.t.Helper()
	var out []*store.Contact
	for range n {
		c := f.personOn(bot.Telegram, store.RoleCitizen, gov, "ar")
		_, added, err := f.co.Institutions.Join(context.Background(), f.actor(c), m.inst.ID, false)
		require.NoError(f.t, err)
		require.True(f.t, added)
		out = append(out, c)
	}
	return out
}

// orgCampaign creates an open pledge campaign organised by org, as by.
func (f *fixture) orgCampaign(by coalition.Actor, org store.Organiser) (*store.Campaign, error) {
	return f.co.Campaigns.Create(context.Background(), by, coalition.Draft{Code: "c" + f.code(), TitleAR: "حملة", TitleEN: "Campaign",
		CallAR: "انضموا", Kind: store.KindPledge, StartAt: f.clock().Add(-time.Minute), Organiser: org})
}

// mustOrgCampaign is orgCampaign that must succeed.
func (f *fixture) mustOrgCampaign(by coalition.Actor, org store.Organiser) *store.Campaign {
	f.t.Helper()
	c, err := f.orgCampaign(by, org)
	require.NoError(f.t, err)
	return c
}

// ids are the contact IDs of people.
func ids(people ...[]*store.Contact) []uint64 {
	var out []uint64
	for _, list := range people {
		for _, c := range list {
			out = append(out, c.ID)
		}
	}
	return out
}

// recipientsOf are the contact IDs a broadcast's queued messages go to.
func (f *fixture) recipientsOf(broadcastID uint64) []uint64 {
	f.t.Helper()
	var out []uint64
	for _, e := range f.bulkOf(broadcastID) {
		out = append(out, e.ContactID)
	}
	return out
}
