package coalition_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/messages"
	"mobilise/store"
)

// The rules of member institutions, each tested at the operation that
// enforces it.

// toSupporters is the audience of all of an institution's supporters.
func toSupporters(m member) store.Audience {
	return store.Audience{Kind: store.AudienceEveryone, Institution: m.inst.ID}
}

// An institution's message reaches its own supporters, and only them, and
// says it is from the institution; someone who left its list is not
// reached by it, and still by the coalition.
func TestInstitutionMessagesReachOnlyItsSupporters(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, coalition.WithApprovalThreshold(100))
	x, y := f.institution("Dialogue Centre"), f.institution("Peace Forum")
	coord := f.coordinatorOf(x)
	ours := f.supporters(x, 3, "nablus")
	theirs := f.supporters(y, 2, "nablus")
	f.crowd(2, "nablus")

	res, err := f.co.Broadcasts.Submit(ctx, f.actor(coord), coalition.BroadcastDraft{TextAR: "نص", TextEN: "text", Organiser: store.OrganisedBy(x.inst.ID), Audience: toSupporters(x)})
	require.NoError(t, err)
	assert.False(t, res.AwaitingApproval, "its own supporters need no approval")
	assert.False(t, res.Preview.OutsideScope)
	assert.Equal(t, ids(ours), f.recipientsOf(res.Broadcast.ID))
	for _, e := range f.bulkOf(res.Broadcast.ID) {
		assert.Contains(t, e.Text, "— "+messages.Isolate("مؤسسة Dialogue Centre"), "the recipient reads who it is from")
	}
	assert.Equal(t, x.inst.ID, res.Broadcast.Organiser.Lead())

	// within a governorate: still only its own
	res, err = f.co.Broadcasts.Submit(ctx, f.actor(coord), coalition.BroadcastDraft{TextAR: "نابلس", Organiser: store.OrganisedBy(x.inst.ID),
		Audience: store.Audience{Kind: store.AudienceGovernorate, Governorate: "nablus", Institution: x.inst.ID}})
	require.NoError(t, err)
	assert.Equal(t, ids(ours), f.recipientsOf(res.Broadcast.ID))

	// never another institution's supporters, in its own name or the other's
	_, err = f.co.Broadcasts.Submit(ctx, f.actor(coord), coalition.BroadcastDraft{TextAR: "نص", Organiser: store.OrganisedBy(x.inst.ID), Audience: toSupporters(y)})
	assert.ErrorIs(t, err, coalition.ErrOutsideScope)
	_, err = f.co.Broadcasts.Submit(ctx, f.actor(coord), coalition.BroadcastDraft{TextAR: "نص", Organiser: store.OrganisedBy(y.inst.ID), Audience: toSupporters(y)})
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
	_, err = f.co.Reminders.Create(ctx, f.actor(coord), coalition.ReminderDraft{TextAR: "تذكير", Organiser: store.OrganisedBy(x.inst.ID),
		Audience: toSupporters(y), At: f.clock().Add(time.Hour)})
	assert.ErrorIs(t, err, coalition.ErrOutsideScope)
	for _, c := range theirs {
		for _, e := range f.to(c, store.KindBroadcast) {
			assert.NotEqual(t, coord.ID, e.ContactID)
		}
		assert.Empty(t, f.to(c, store.KindBroadcast), "Y's supporters heard nothing from X")
	}

	// leaving one list
	_, left, err := f.co.Institutions.Leave(ctx, f.actor(ours[0]), x.inst.ID)
	require.NoError(t, err)
	assert.True(t, left)
	res, err = f.co.Broadcasts.Submit(ctx, f.actor(coord), coalition.BroadcastDraft{TextAR: "بعد", Organiser: store.OrganisedBy(x.inst.ID), Audience: toSupporters(x)})
	require.NoError(t, err)
	assert.Equal(t, ids(ours[1:]), f.recipientsOf(res.Broadcast.ID), "who left is not reached")
	res, err = f.co.Broadcasts.Submit(ctx, f.actor(f.person(store.RoleCoordinator)), coalition.BroadcastDraft{TextAR: "الائتلاف", Audience: governorate("nablus")})
	require.NoError(t, err)
	assert.Contains(t, f.recipientsOf(res.Broadcast.ID), ours[0].ID, "and still reached by the coalition")
	for _, e := range f.bulkOf(res.Broadcast.ID) {
		assert.Contains(t, e.Text, "— "+messages.Isolate("ائتلاف السلم الأهلي"))
	}
}

// An institution's people reach the whole coalition's audience only with
// the coalition's approval, under the rule of the second person, however
// few it reaches and whatever the threshold.
func TestInstitutionReachesTheCoalitionOnlyWithApproval(t *testing.T) {
	for _, threshold := range []int{0, 1000} {
		t.Run("threshold "+messages.FormatNumber("en", threshold), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, coalition.WithApprovalThreshold(threshold))
			x := f.institution("Dialogue Centre")
			coord := f.coordinatorOf(x)
			admin, other := f.admin(), f.person(store.RoleAdmin)
			f.crowd(2, "tubas")
			draft := coalition.BroadcastDraft{TextAR: "للجميع", Organiser: store.OrganisedBy(x.inst.ID), Audience: governorate("tubas")}

			p, err := f.co.Broadcasts.Preview(ctx, f.actor(coord), draft)
			require.NoError(t, err)
			assert.True(t, p.OutsideScope)
			assert.True(t, p.NeedsApproval)
			res, err := f.co.Broadcasts.Submit(ctx, f.actor(coord), draft)
			require.NoError(t, err)
			require.True(t, res.AwaitingApproval, "two people beyond its supporters still wait")
			assert.Empty(t, f.bulkOf(res.Broadcast.ID), "nothing goes before the approval")
			asked := f.to(other, "broadcast_approval")
			require.Len(t, asked, 1, "the coalition's admins are asked")
			assert.Contains(t, asked[0].Text, "مؤسسة Dialogue Centre", "with the name it goes out in")
			assert.Empty(t, f.to(coord, "broadcast_approval"))

			_, err = f.co.Broadcasts.Approve(ctx, f.actor(coord), res.Broadcast.ID)
			assert.ErrorIs(t, err, coalition.ErrNotAllowed, "its author does not approve")
			_, err = f.co.Broadcasts.Approve(ctx, f.actor(x.rep), res.Broadcast.ID)
			assert.ErrorIs(t, err, coalition.ErrNotAllowed, "nor its representative: it is the coalition's to approve")
			_, err = f.co.Broadcasts.Approve(ctx, f.actor(admin), res.Broadcast.ID)
			require.NoError(t, err)
			assert.Len(t, f.bulkOf(res.Broadcast.ID), 2, "queued once the coalition approved")
			assert.Len(t, f.to(coord, "broadcast_decided"), 1, "and its author told")

			// a reminder too: created waiting, it does not fire before the approval
			rem, err := f.co.Reminders.Create(ctx, f.actor(coord), coalition.ReminderDraft{TextAR: "تذكير", Organiser: store.OrganisedBy(x.inst.ID),
				Audience: governorate("tubas"), At: f.clock().Add(time.Hour)})
			require.NoError(t, err)
			require.True(t, rem.AwaitingApproval)
			f.advance(61 * time.Minute)
			require.NoError(t, f.co.Reminders.FireDue(ctx))
			assert.Empty(t, f.ofKind(store.KindReminder))
			_, err = f.co.Reminders.Approve(ctx, f.actor(other), rem.Reminder.ID)
			require.NoError(t, err)
			require.NoError(t, f.co.Reminders.FireDue(ctx))
			fired := f.ofKind(store.KindReminder)
			require.Len(t, fired, 2)
			assert.Contains(t, fired[0].Text, "مؤسسة Dialogue Centre")

			// to its own supporters, with the threshold never crossed, nothing waits
			f.supporters(x, 1, "tubas")
			own, err := f.co.Broadcasts.Submit(ctx, f.actor(coord), coalition.BroadcastDraft{TextAR: "لمؤيدينا", Organiser: store.OrganisedBy(x.inst.ID), Audience: toSupporters(x)})
			require.NoError(t, err)
			assert.False(t, own.AwaitingApproval)
		})
	}
}

// Suspending an institution stops its sends as a dismissal stops a
// person's, tells its people why, and a reinstatement lets them go on.
func TestSuspensionStopsAnInstitutionsSends(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	x, y := f.institution("Dialogue Centre"), f.institution("Peace Forum")
	coord := f.coordinatorOf(x)
	f.supporters(x, 4, "jenin")
	f.supporters(y, 1, "jenin")
	admin := f.admin()
	big, err := f.co.Broadcasts.Submit(ctx, f.actor(coord), coalition.BroadcastDraft{TextAR: "نص", Organiser: store.OrganisedBy(x.inst.ID), Audience: toSupporters(x)})
	require.NoError(t, err)
	require.True(t, big.AwaitingApproval, "4 is over the fixture's threshold of 3")
	daily, err := f.co.Reminders.Create(ctx, f.actor(coord), coalition.ReminderDraft{TextAR: "يومي", Organiser: store.OrganisedBy(x.inst.ID),
		Audience: store.Audience{Kind: store.AudienceLang, Lang: "ar", Institution: x.inst.ID}, At: f.clock().Add(2 * time.Hour)})
	require.NoError(t, err)
	theirs, err := f.co.Broadcasts.Submit(ctx, f.actor(y.rep), coalition.BroadcastDraft{TextAR: "نص", Organiser: store.OrganisedBy(y.inst.ID), Audience: toSupporters(y)})
	require.NoError(t, err)

	_, err = f.co.Institutions.Suspend(ctx, f.actor(admin), x.inst.ID, "")
	var inv *coalition.InvalidError
	require.ErrorAs(t, err, &inv, "a reason is needed")
	res, err := f.co.Institutions.Suspend(ctx, f.actor(admin), x.inst.ID, "annual report missing")
	require.NoError(t, err)
	assert.Equal(t, store.InstitutionSuspended, res.Institution.Status)
	assert.Equal(t, []uint64{big.Broadcast.ID}, res.Stopped.Broadcasts)
	assert.Equal(t, []uint64{daily.Reminder.ID}, res.Stopped.Reminders)
	bc, err := f.st.Broadcast(ctx, big.Broadcast.ID)
	require.NoError(t, err)
	assert.Equal(t, store.BroadcastSuspended, bc.Status, "parked, as a dismissal parks a person's")
	r, err := f.st.Reminder(ctx, daily.Reminder.ID)
	require.NoError(t, err)
	assert.True(t, r.Suspended)
	other, err := f.st.Broadcast(ctx, theirs.Broadcast.ID)
	require.NoError(t, err)
	assert.NotEqual(t, store.BroadcastSuspended, other.Status, "another institution's sends go on")

	for _, c := range []*store.Contact{x.rep, coord} {
		told := f.to(c, "institution_suspended")
		require.Len(t, told, 1, "its representatives and coordinators are told")
		assert.Contains(t, told[0].Text, "annual report missing")
	}
	assert.NotEmpty(t, f.to(admin, "sends_suspended"), "the admins hear what stopped")
	require.Len(t, f.audit("institution_suspended"), 1)
	assert.Equal(t, "annual report missing", f.audit("institution_suspended")[0].Details["reason"])

	// its people can act for it no more
	_, err = f.co.Broadcasts.Submit(ctx, f.actor(coord), coalition.BroadcastDraft{TextAR: "نص", Organiser: store.OrganisedBy(x.inst.ID), Audience: toSupporters(x)})
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
	_, err = f.orgCampaign(f.actor(x.rep), store.OrganisedBy(x.inst.ID))
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
	_, err = f.co.Institutions.Suspend(ctx, f.actor(admin), x.inst.ID, "again")
	assert.ErrorIs(t, err, coalition.ErrDecided)

	back, err := f.co.Institutions.Reinstate(ctx, f.actor(admin), x.inst.ID, "report received")
	require.NoError(t, err)
	assert.Equal(t, store.InstitutionApproved, back.Institution.Status)
	assert.Equal(t, []uint64{big.Broadcast.ID}, back.Resumed.Broadcasts)
	assert.Equal(t, []uint64{daily.Reminder.ID}, back.Resumed.Reminders)
	bc, err = f.st.Broadcast(ctx, big.Broadcast.ID)
	require.NoError(t, err)
	assert.Equal(t, store.BroadcastAwaitingApproval, bc.Status, "it awaits its approval again")
	assert.Len(t, f.to(coord, "institution_reinstated"), 1)
	require.Len(t, f.audit("institution_reinstated"), 1)
}

// Ending a membership stops its sends, tells its people and takes their roles away.
func TestEndingAMembership(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	x := f.institution("Dialogue Centre")
	coord := f.coordinatorOf(x)
	res, err := f.co.Institutions.End(ctx, f.actor(f.admin()), x.inst.ID, "the institution closed")
	require.NoError(t, err)
	assert.Equal(t, store.InstitutionEnded, res.Institution.Status)
	rep := f.fresh(x.rep)
	assert.Empty(t, rep.Affiliations)
	assert.Equal(t, store.RoleCitizen, rep.Role, "no member of the coalition without an institution")
	assert.Zero(t, rep.InstitutionID)
	assert.Empty(t, f.fresh(coord).Affiliations)
	assert.Len(t, f.to(x.rep, "institution_ended"), 1, "told before their roles went")
	_, err = f.co.Institutions.Reinstate(ctx, f.actor(f.admin()), x.inst.ID, "please")
	assert.ErrorIs(t, err, coalition.ErrDecided, "an end is final")
	require.Len(t, f.audit("institution_ended"), 1)
}

// A joint campaign: the lead invites, the partner accepts, and each pledge
// is credited to the partner that brought it, so each sees its share.
func TestJointCampaignShares(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	x, y := f.institution("Dialogue Centre"), f.institution("Peace Forum")
	xc, yc := f.coordinatorOf(x), f.coordinatorOf(y)
	c := f.mustOrgCampaign(f.actor(xc), store.OrganisedBy(x.inst.ID))

	_, err := f.co.Campaigns.Invite(ctx, f.actor(yc), c.Code, y.inst.ID)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed, "a campaign is not joined uninvited")
	_, err = f.co.Campaigns.Invite(ctx, f.actor(xc), c.Code, y.inst.ID)
	require.NoError(t, err)
	invited := f.to(y.rep, "campaign_partner_invited")
	require.Len(t, invited, 1, "the partner's people are asked")
	assert.Len(t, f.to(yc, "campaign_partner_invited"), 1)
	_, err = f.co.Campaigns.Invite(ctx, f.actor(xc), c.Code, y.inst.ID)
	assert.ErrorIs(t, err, coalition.ErrAlreadyPartner)
	joint, err := f.co.Campaigns.Answer(ctx, f.actor(yc), c.Code, y.inst.ID, true)
	require.NoError(t, err)
	assert.Equal(t, []uint64{x.inst.ID, y.inst.ID}, joint.Organiser.Institutions)
	assert.Empty(t, joint.Invited)
	assert.Len(t, f.to(xc, "campaign_partner_answer"), 1, "the lead hears the answer")
	_, err = f.co.Campaigns.Answer(ctx, f.actor(yc), c.Code, y.inst.ID, true)
	assert.ErrorIs(t, err, coalition.ErrNotInvited)

	ySupporter := f.supporters(y, 1, "gaza")[0]
	// a newcomer brought by X's coordinator
	brought := f.personOn(bot.Telegram, store.RoleCitizen, "nablus", "ar")
	_, err = f.st.SetReferrer(ctx, brought.ID, xc.RefCode)
	require.NoError(t, err)
	stranger := f.personOn(bot.Telegram, store.RoleCitizen, "hebron", "ar")
	for _, p := range []*store.Contact{ySupporter, brought, stranger} {
		_, err := f.co.Campaigns.Pledge(ctx, f.actor(p), c.Code)
		require.NoError(t, err)
	}
	credited := map[uint64]uint64{}
	require.NoError(t, f.st.Pledges(ctx, c.ID, func(p *store.Pledge) error { credited[p.ContactID] = p.Institution; return nil }))
	assert.Equal(t, map[uint64]uint64{ySupporter.ID: y.inst.ID, brought.ID: x.inst.ID, stranger.ID: x.inst.ID}, credited)

	shares, err := f.co.Campaigns.Shares(ctx, f.actor(yc), joint)
	require.NoError(t, err)
	require.Len(t, shares, 2)
	assert.Equal(t, x.inst.ID, shares[0].Institution.ID)
	assert.Equal(t, 2, shares[0].Counts.Pledges)
	assert.Equal(t, 1, shares[1].Counts.Pledges)
	yStats, err := f.co.Campaigns.Stats(ctx, f.actor(yc), joint)
	require.NoError(t, err)
	assert.Equal(t, 1, yStats.Pledges, "a partner sees its share")
	assert.Equal(t, 1, yStats.PledgesByGovernorate["gaza"])
	all, err := f.co.Campaigns.Stats(ctx, f.actor(f.person(store.RoleCoordinator)), joint)
	require.NoError(t, err)
	assert.Equal(t, 3, all.Pledges, "the coalition's staff see the whole")

	// each pledger is on the list of the institution credited, and no other
	for _, tc := range []struct {
		who  *store.Contact
		inst uint64
	}{{ySupporter, y.inst.ID}, {brought, x.inst.ID}, {stranger, x.inst.ID}} {
		lists, err := f.co.Institutions.Supporting(ctx, f.actor(tc.who))
		require.NoError(t, err)
		require.Len(t, lists, 1)
		assert.Equal(t, tc.inst, lists[0].ID)
	}

	// the partner closes nothing; its message about the campaign reaches its own share
	_, err = f.co.Campaigns.Close(ctx, f.actor(yc), c.Code)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
	res, err := f.co.Broadcasts.Submit(ctx, f.actor(yc), coalition.BroadcastDraft{TextAR: "شكرًا", CampaignID: c.ID, Organiser: store.OrganisedBy(y.inst.ID),
		Audience: store.Audience{Kind: store.AudiencePledgers, Institution: y.inst.ID}})
	require.NoError(t, err)
	assert.Equal(t, []uint64{ySupporter.ID}, f.recipientsOf(res.Broadcast.ID))
	from, err := f.co.OrganiserOf(ctx, joint.Organiser)
	require.NoError(t, err)
	w := f.co.Words()
	assert.Equal(t, "Dialogue Centre and Peace Forum", w.Organiser(from, "en"))
	assert.Equal(t, "مؤسسة Dialogue Centre ومؤسسة Peace Forum", w.Organiser(from, "ar"))
}

// A pledge to an institution's campaign puts the person on its list,
// unless they left it: leaving is respected until they say yes again.
func TestPledgingJoinsTheListUnlessLeft(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	x := f.institution("Dialogue Centre")
	c1, c2 := f.mustOrgCampaign(f.actor(x.rep), store.OrganisedBy(x.inst.ID)), f.mustOrgCampaign(f.actor(x.rep), store.OrganisedBy(x.inst.ID))
	p := f.person(store.RoleCitizen)
	_, err := f.co.Campaigns.Pledge(ctx, f.actor(p), c1.Code)
	require.NoError(t, err)
	sp, err := f.st.Supporter(ctx, x.inst.ID, p.ID)
	require.NoError(t, err)
	assert.Equal(t, store.ViaPledge, sp.Via)
	_, _, err = f.co.Institutions.Leave(ctx, f.actor(p), x.inst.ID)
	require.NoError(t, err)
	_, err = f.co.Campaigns.Pledge(ctx, f.actor(p), c2.Code)
	require.NoError(t, err)
	lists, err := f.co.Institutions.Supporting(ctx, f.actor(p))
	require.NoError(t, err)
	assert.Empty(t, lists, "a later pledge does not undo their leaving")
	_, added, err := f.co.Institutions.Join(ctx, f.actor(p), x.inst.ID, false)
	require.NoError(t, err)
	assert.True(t, added, "their own yes does")

	// a coalition campaign puts no one on an institution's list
	other := f.person(store.RoleCitizen)
	_, err = f.co.Campaigns.Pledge(ctx, f.actor(other), f.campaign("walk", store.KindPledge, 0).Code)
	require.NoError(t, err)
	lists, err = f.co.Institutions.Supporting(ctx, f.actor(other))
	require.NoError(t, err)
	assert.Empty(t, lists)
}

// The directory shows the active members that agreed to be listed, and
// only what each agreed to publish, with its open campaigns.
func TestDirectoryShowsOnlyWhatIsPublished(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	x, y, z := f.institution("Dialogue Centre", "nablus", "jenin"), f.institution("Peace Forum", "gaza"), f.institution("Old Union", "nablus")
	list := func(m member, l store.Listing) {
		_, err := f.co.Institutions.Update(ctx, f.actor(m.rep), m.inst.ID, coalition.InstitutionChange{Listing: &l})
		require.NoError(t, err)
	}
	list(x, store.Listing{Listed: true, Phone: true, AboutAR: "نعمل مع الشباب", AboutEN: "We work with youth"})
	list(z, store.Listing{Listed: true, Email: true})
	c := f.mustOrgCampaign(f.actor(x.rep), store.OrganisedBy(x.inst.ID))
	_, err := f.co.Institutions.Suspend(ctx, f.actor(f.admin()), z.inst.ID, "report missing")
	require.NoError(t, err)

	all, err := f.co.Institutions.Directory(ctx, "", "")
	require.NoError(t, err)
	require.Len(t, all, 1, "Y did not agree to be listed and Z is suspended")
	got := all[0]
	assert.Equal(t, x.inst.ID, got.ID)
	assert.Equal(t, "0599123456", got.Phone, "the phone it published")
	assert.Empty(t, got.Email, "not what it kept private")
	assert.Equal(t, "We work with youth", got.AboutEN)
	require.Len(t, got.Open, 1)
	assert.Equal(t, c.ID, got.Open[0].Campaign.ID)

	in, err := f.co.Institutions.Directory(ctx, "jenin", "youth")
	require.NoError(t, err)
	assert.Len(t, in, 1)
	in, err = f.co.Institutions.Directory(ctx, "gaza", "")
	require.NoError(t, err)
	assert.Empty(t, in)
	in, err = f.co.Institutions.Directory(ctx, "", "health")
	require.NoError(t, err)
	assert.Empty(t, in)
	_, err = f.co.Institutions.Public(ctx, y.inst.ID)
	assert.ErrorIs(t, err, coalition.ErrNotFound, "an unlisted institution has no public page")
}

// A change of name waits for an admin other than the one who asked; other
// details change at once; everything goes to the audit log.
func TestRenameGoesToReapproval(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	x := f.institution("Dialogue Centre")
	admin := f.admin()
	newAR, newEN, field := "مركز الحوار المجتمعي", "Community Dialogue Centre", "reconciliation"
	res, err := f.co.Institutions.Update(ctx, f.actor(x.rep), x.inst.ID, coalition.InstitutionChange{NameAR: &newAR, NameEN: &newEN, Field: &field})
	require.NoError(t, err)
	assert.True(t, res.RenamePending)
	assert.Equal(t, []string{"field"}, res.Fields)
	assert.Equal(t, "مؤسسة Dialogue Centre", res.Institution.NameAR, "the old name stays until approved")
	assert.Equal(t, "reconciliation", res.Institution.Field, "the rest changes at once")
	asked := f.to(admin, "institution_rename")
	require.Len(t, asked, 1)
	assert.Contains(t, asked[0].Text, newAR)

	// an admin who asked for the name does not approve it
	y := f.institution("Peace Forum")
	other := f.person(store.RoleAdmin)
	yName := "منتدى السلام"
	_, err = f.co.Institutions.Update(ctx, f.actor(other), y.inst.ID, coalition.InstitutionChange{NameAR: &yName})
	require.NoError(t, err)
	_, err = f.co.Institutions.DecideRename(ctx, f.actor(other), y.inst.ID, true, "")
	assert.ErrorIs(t, err, coalition.ErrOwnApproval)

	inst, err := f.co.Institutions.DecideRename(ctx, f.actor(admin), x.inst.ID, true, "")
	require.NoError(t, err)
	assert.Equal(t, newAR, inst.NameAR)
	assert.Nil(t, inst.Rename)
	assert.Len(t, f.to(x.rep, "institution_rename"), 1, "its people are told")
	_, err = f.co.Institutions.DecideRename(ctx, f.actor(admin), x.inst.ID, true, "")
	assert.ErrorIs(t, err, coalition.ErrNoRename)
	require.Len(t, f.audit("institution_updated"), 2)
	require.Len(t, f.audit("institution_renamed"), 1)

	// a code taken by another institution is refused
	code := y.inst.Code
	_, err = f.co.Institutions.Update(ctx, f.actor(x.rep), x.inst.ID, coalition.InstitutionChange{Code: &code})
	var inv *coalition.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, messages.OrgCodeTaken, inv.Reason)
}

// Representatives appoint coordinators and more representatives; the last
// one stays; removing someone stops what they had to send in its name.
func TestRepresentativesAppointAndRemove(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	x := f.institution("Dialogue Centre")
	coord := f.coordinatorOf(x)
	assert.Len(t, f.to(coord, "institution_role"), 1, "the person is told")
	assert.Equal(t, store.RoleCoordinator, f.co.Members.MenuRole(coord), "their menus open a coordinator's commands")
	assert.Equal(t, store.RoleCitizen, f.actor(coord).Role, "while their role in the coalition stays")

	// a coordinator appoints no one
	_, err := f.co.Institutions.Appoint(ctx, f.actor(coord), x.inst.ID, f.person(store.RoleCitizen), store.InstitutionCoordinator)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)

	_, err = f.co.Institutions.Remove(ctx, f.actor(x.rep), x.inst.ID, x.rep)
	assert.ErrorIs(t, err, coalition.ErrLastRepresentative)
	second := f.person(store.RoleCitizen)
	res, err := f.co.Institutions.Appoint(ctx, f.actor(x.rep), x.inst.ID, second, store.InstitutionRepresentative)
	require.NoError(t, err)
	assert.Equal(t, store.RoleMember, res.Person.Role, "a representative is a member of the coalition")
	assert.Equal(t, x.inst.ID, res.Person.InstitutionID)
	res, err = f.co.Institutions.Appoint(ctx, f.actor(second), x.inst.ID, x.rep, store.InstitutionCoordinator)
	require.NoError(t, err)
	assert.False(t, res.Changed, "a representative is not made a mere coordinator")

	f.supporters(x, 1, "nablus")
	sent, err := f.co.Reminders.Create(ctx, f.actor(coord), coalition.ReminderDraft{TextAR: "تذكير", Organiser: store.OrganisedBy(x.inst.ID),
		Audience: toSupporters(x), At: f.clock().Add(time.Hour)})
	require.NoError(t, err)
	gone, err := f.co.Institutions.Remove(ctx, f.actor(second), x.inst.ID, coord)
	require.NoError(t, err)
	assert.Equal(t, []uint64{sent.Reminder.ID}, gone.Stopped.Reminders)
	assert.Empty(t, gone.Person.Affiliations)
	assert.Len(t, f.to(coord, "institution_role"), 2, "told of the removal too")
	people, err := f.co.Institutions.People(ctx, f.actor(second), x.inst.ID)
	require.NoError(t, err)
	assert.Len(t, people, 2, "two representatives left")

	// the first representative steps down: the second remains
	_, err = f.co.Institutions.Remove(ctx, f.actor(x.rep), x.inst.ID, x.rep)
	require.NoError(t, err)
	assert.Equal(t, store.RoleCitizen, f.fresh(x.rep).Role)
	require.Len(t, f.audit("institution_coordinator_appointed"), 1)
	require.Len(t, f.audit("institution_representative_removed"), 1)
}

// An institution's numbers count its supporters, referrals and the
// pledges and sign-ups credited to it, by governorate and by month; the
// coalition's roll up by organiser.
func TestInstitutionNumbers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	x := f.institution("Dialogue Centre")
	c := f.mustOrgCampaign(f.actor(x.rep), store.OrganisedBy(x.inst.ID))
	early := f.supporters(x, 2, "nablus")
	newcomer := f.personOn(bot.Telegram, store.RoleCitizen, "jenin", "ar")
	_, _, err := f.co.Institutions.Join(ctx, f.actor(newcomer), x.inst.ID, true)
	require.NoError(t, err)
	_, err = f.co.Campaigns.Pledge(ctx, f.actor(early[0]), c.Code)
	require.NoError(t, err)
	f.advance(31 * 24 * time.Hour) // into January
	late := f.personOn(bot.Telegram, store.RoleCitizen, "jenin", "ar")
	_, err = f.co.Campaigns.Pledge(ctx, f.actor(late), c.Code)
	require.NoError(t, err)
	_, _, err = f.co.Institutions.Leave(ctx, f.actor(early[1]), x.inst.ID)
	require.NoError(t, err)
	coalitionCampaign := f.campaign("walk", store.KindPledge, 0)
	_, err = f.co.Campaigns.Pledge(ctx, f.actor(late), coalitionCampaign.Code)
	require.NoError(t, err)

	n, err := f.co.Institutions.Numbers(ctx, f.actor(x.rep), x.inst.ID)
	require.NoError(t, err)
	assert.Equal(t, 3, n.Supporters, "two who joined and one who pledged; one left")
	assert.Equal(t, 1, n.Left)
	assert.Equal(t, 1, n.Referrals, "the newcomer its link brought")
	assert.Equal(t, 2, n.Pledges)
	assert.Equal(t, 1, n.Campaigns)
	assert.Equal(t, coalition.Tally{Supporters: 1, Pledges: 1}, n.ByGovernorate["nablus"])
	assert.Equal(t, coalition.Tally{Supporters: 2, Referrals: 1, Pledges: 1}, n.ByGovernorate["jenin"])
	require.Len(t, n.ByMonth, 2)
	assert.Equal(t, time.December, n.ByMonth[0].Start.Month())
	assert.Equal(t, coalition.Tally{Supporters: 2, Referrals: 1, Pledges: 1}, n.ByMonth[0].Tally)
	assert.Equal(t, time.January, n.ByMonth[1].Start.Month())
	assert.Equal(t, coalition.Tally{Supporters: 1, Pledges: 1}, n.ByMonth[1].Tally)

	all, err := f.co.Institutions.Overview(ctx, f.actor(f.person(store.RoleCoordinator)))
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Nil(t, all[0].Institution, "the coalition's own first")
	assert.Equal(t, 1, all[0].Pledges)
	assert.Equal(t, x.inst.ID, all[1].Institution.ID)
	assert.Equal(t, 2, all[1].Pledges)
}

// An approved institution's applicant is its representative; a member of
// the coalition with no institution to act for can act for none.
func TestApprovalMakesTheApplicantItsRepresentative(t *testing.T) {
	f := newFixture(t)
	x := f.institution("Dialogue Centre")
	assert.Equal(t, "dialoguecentre", x.inst.Code, "with a share code")
	assert.Equal(t, store.InstitutionRepresentative, x.rep.AffiliationWith(x.inst.ID))
	assert.Equal(t, store.RoleMember, x.rep.Role)
	by := f.actor(x.rep)
	assert.Equal(t, store.InstitutionRepresentative, by.RoleIn(x.inst.ID), "the actor carries the role")
	legacy := f.actor(f.person(store.RoleMember))
	assert.Empty(t, legacy.Institutions)
	_, err := f.orgCampaign(legacy, store.OrganisedBy(x.inst.ID))
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
}

// A recipient's copy names whom it is from, in their language.
func TestMessagesSayWhoTheyAreFrom(t *testing.T) {
	f := newFixture(t)
	w := f.co.Words()
	one := coalition.From{NamesAR: []string{"مركز الحوار"}, NamesEN: []string{"Dialogue Centre"}}
	three := coalition.From{NamesAR: []string{"أ", "ب", "ج"}, NamesEN: []string{"A", "B", "C"}}
	for _, tc := range []struct {
		from      coalition.From
		lang, end string
	}{
		{coalition.From{}, "en", "— " + messages.Isolate("The Civil Peace Coalition")},
		{coalition.From{}, "ar", "— " + messages.Isolate("ائتلاف السلم الأهلي")},
		{one, "en", "— " + messages.Isolate("Dialogue Centre")},
		{one, "ar", "— " + messages.Isolate("مركز الحوار")},
		{three, "en", "— " + messages.Isolate("A, B and C")},
		{three, "ar", "— " + messages.Isolate("أ، ب وج")},
	} {
		text, _ := w.Message(tc.from, "نص", "text", nil, tc.lang, bot.Telegram, "", "")
		assert.True(t, strings.HasSuffix(text, tc.end), "%q ends with %q", text, tc.end)
		// with a code, the line that names the organiser comes before the code's
		signed, _ := w.Message(tc.from, "نص", "text", nil, tc.lang, bot.Telegram, "", coalition.SampleCode)
		assert.Equal(t, w.Signed(text, coalition.SampleCode, tc.lang), signed)
	}
}

// Dismissing a coalition coordinator who also acts for an institution
// stops their coalition sends, not their institution's.
func TestDismissalKeepsAnInstitutionsSends(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	x := f.institution("Dialogue Centre")
	both := f.coordinatorOf(x)
	_, err := f.st.UpdateContact(ctx, both.ID, func(c *store.Contact) error { c.Role = store.RoleCoordinator; return nil })
	require.NoError(t, err)
	f.supporters(x, 1, "nablus")
	f.crowd(1, "gaza")
	theirs, err := f.co.Reminders.Create(ctx, f.actor(both), coalition.ReminderDraft{TextAR: "للمؤيدين", Organiser: store.OrganisedBy(x.inst.ID),
		Audience: toSupporters(x), At: f.clock().Add(time.Hour)})
	require.NoError(t, err)
	coalitions, err := f.co.Reminders.Create(ctx, f.actor(both), coalition.ReminderDraft{TextAR: "للجميع", Audience: governorate("gaza"), At: f.clock().Add(time.Hour)})
	require.NoError(t, err)
	ch, err := f.co.Members.Dismiss(ctx, f.actor(f.admin()), f.fresh(both))
	require.NoError(t, err)
	assert.Equal(t, []uint64{coalitions.Reminder.ID}, ch.Stopped.Reminders, "only what needed the coalition's role")
	r, err := f.st.Reminder(ctx, theirs.Reminder.ID)
	require.NoError(t, err)
	assert.False(t, r.Suspended)
}
