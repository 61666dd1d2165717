package chat_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/bot/coalition"
	"mobilise/messages"
	"mobilise/store"
)

// institutionOf reads the institution of a transcript's representative.
func institutionOf(t *testing.T, h *transcript, rep string) *store.Institution {
	t.Helper()
	c, err := h.st.ContactByAddress(context.Background(), bot.MustParseAddress("console:"+rep))
	require.NoError(t, err)
	require.NotEmpty(t, c.Affiliations, "console:%s acts for an institution", rep)
	inst, err := h.st.Institution(context.Background(), c.Affiliations[0].InstitutionID)
	require.NoError(t, err)
	return inst
}

func TestInstitutionJoinsAndRunsACampaign(t *testing.T) {
	for _, name := range []string{"institution_en.txt", "institution_ar.txt"} {
		t.Run(name, func(t *testing.T) {
			h := newTranscript(t)
			got := h.check(name)
			ctx := context.Background()
			inst := institutionOf(t, h, "rep")
			assert.True(t, inst.Listing.Listed)
			assert.True(t, inst.Listing.Phone)
			assert.False(t, inst.Listing.Email)
			amal, err := h.st.ContactByAddress(ctx, bot.MustParseAddress("console:amal"))
			require.NoError(t, err)
			sp, err := h.st.Supporter(ctx, inst.ID, amal.ID)
			require.NoError(t, err)
			assert.True(t, sp.Active())
			assert.True(t, sp.Newcomer, "the link brought her")
			sami, err := h.st.ContactByAddress(ctx, bot.MustParseAddress("console:sami"))
			require.NoError(t, err)
			assert.Equal(t, store.InstitutionCoordinator, sami.AffiliationWith(inst.ID))
			cs, err := h.st.Campaigns(ctx)
			require.NoError(t, err)
			require.Len(t, cs, 1)
			c := cs[0]
			assert.Equal(t, []uint64{inst.ID}, c.Organiser.Institutions)
			bs, err := h.st.Broadcasts(ctx)
			require.NoError(t, err)
			require.Len(t, bs, 1)
			assert.Equal(t, inst.ID, bs[0].Audience.Institution, "to its own supporters")
			assert.Equal(t, 1, bs[0].Total)
			assert.NotEmpty(t, got)
		})
	}
}

func TestJointCampaignAndSuspension(t *testing.T) {
	for _, name := range []string{"institution_joint_en.txt", "institution_joint_ar.txt"} {
		t.Run(name, func(t *testing.T) {
			h := newTranscript(t)
			h.check(name)
			ctx := context.Background()
			lead, partner := institutionOf(t, h, "rep"), institutionOf(t, h, "rep2")
			c, err := h.st.CampaignByCode(ctx, "walk")
			require.NoError(t, err)
			assert.Equal(t, []uint64{lead.ID, partner.ID}, c.Organiser.Institutions)
			credited := map[uint64]int{}
			require.NoError(t, h.st.Pledges(ctx, c.ID, func(p *store.Pledge) error { credited[p.Institution]++; return nil }))
			assert.Equal(t, map[uint64]int{lead.ID: 1, partner.ID: 1}, credited, "each partner's share")
			assert.Equal(t, store.InstitutionApproved, partner.Status, "reinstated at the end")
			var actions []string
			require.NoError(t, h.st.Audit(ctx, func(e *store.AuditEntry) error { actions = append(actions, e.Action); return nil }))
			assert.Contains(t, actions, "campaign_partner_accepted")
			assert.Contains(t, actions, "institution_suspended")
			assert.Contains(t, actions, "institution_reinstated")
		})
	}
}

// member makes rep, onboarded, the representative of a new approved institution.
func (w *world) member(rep, nameEN string) *store.Institution {
	w.t.Helper()
	ctx := context.Background()
	w.onboard(rep)
	inst, err := w.co().Institutions.Register(ctx, w.actorOf(rep), coalition.Application{NameAR: "مؤسسة " + nameEN, NameEN: nameEN,
		Field: "youth", Governorates: []string{"nablus"}, ContactPerson: "Samar", Phone: "0599123456"})
	require.NoError(w.t, err)
	if _, err := w.st.ContactByAddress(ctx, bot.MustParseAddress("test:admin")); err != nil {
		w.onboard("admin")
	}
	inst, err = w.co().Institutions.Approve(ctx, w.actorOf("admin"), inst.ID, "")
	require.NoError(w.t, err)
	w.rec.take(rep)
	return inst
}

func TestJoiningAndLeavingAList(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	ctx := context.Background()
	inst := w.member("rep", "Dialogue Centre")
	other := w.member("rep2", "Peace Forum")

	// someone known, who never agreed to messages, is asked; their yes covers both
	w.say("huda", "/start")
	w.say("huda", "2")
	w.say("huda", "no")
	w.say("huda", "skip")
	asked := w.say("huda", "/start i_"+inst.Code)
	assert.Contains(t, asked, w.cat.Text("en", messages.OrgJoinAsk, map[string]any{"Name": "Dialogue Centre"}))
	joined := w.say("huda", "yes")
	assert.Contains(t, joined, "Welcome among the supporters of Dialogue Centre")
	huda, err := w.st.ContactByAddress(ctx, bot.MustParseAddress("test:huda"))
	require.NoError(t, err)
	assert.True(t, huda.Consent, "a yes to the institution is a yes to messages")
	w.say("huda", "/join "+other.Code)
	w.say("huda", "yes")
	assert.Contains(t, w.say("huda", "/mydata"), "You are on the lists of: Dialogue Centre and Peace Forum")

	// leaving one list, chosen from hers
	choose := w.say("huda", "/leave")
	assert.Contains(t, choose, w.en(messages.OrgLeaveWhich))
	left := w.say("huda", "2")
	assert.Contains(t, left, "You have left the list of Peace Forum")
	lists, err := w.co().Institutions.Supporting(ctx, w.actorOf("huda"))
	require.NoError(t, err)
	require.Len(t, lists, 1)
	assert.Equal(t, inst.ID, lists[0].ID, "the other list stays")
	huda, err = w.st.ContactByAddress(ctx, bot.MustParseAddress("test:huda"))
	require.NoError(t, err)
	assert.False(t, huda.Stopped, "and the coalition still writes")

	assert.Contains(t, w.say("huda", "/join nosuch"), "There is no active member institution with the code")
}

func TestAnInstitutionWritingToTheWholeCoalitionWaits(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	inst := w.member("rep", "Dialogue Centre")
	w.onboard("amal")
	w.say("rep", "/broadcast")
	w.say("rep", "1") // no campaign
	w.say("rep", "رسالة للجميع")
	w.say("rep", "skip")
	preview := w.say("rep", "4") // the whole coalition's audience
	assert.Contains(t, preview, w.en(messages.OrgWillNeedApproval))
	done := w.say("rep", "1")
	assert.Contains(t, done, "beyond your institution's supporters")
	assert.Empty(t, w.pending(true), "nothing goes before the coalition approves")
	told := w.rec.take("admin")
	require.NotEmpty(t, told)
	assert.Contains(t, told[len(told)-1].Text, "Goes out in the name of: Dialogue Centre")
	bs, err := w.st.Broadcasts(context.Background())
	require.NoError(t, err)
	require.Len(t, bs, 1)
	assert.Zero(t, bs[0].Audience.Institution)
	assert.Equal(t, []uint64{inst.ID}, bs[0].Organiser.Institutions)
	assert.Equal(t, store.BroadcastAwaitingApproval, bs[0].Status)
}

func TestAnInstitutionsPeopleAndTheCoalitionsNumbers(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	ctx := context.Background()
	inst := w.member("rep", "Dialogue Centre")
	sami := w.onboard("sami")
	assert.Contains(t, w.say("rep", "/appointcoordinator #"+strconv.FormatUint(sami.ID, 10)), "is now coordinator of Dialogue Centre")
	assert.Contains(t, w.say("sami", "/appointcoordinator #1"), w.en(messages.ErrNotAllowed), "a coordinator appoints no one")
	people := w.say("rep", "/institutionpeople")
	assert.Contains(t, people, "representative: ")
	assert.Contains(t, people, "coordinator: ")
	assert.Contains(t, w.say("rep", "/removeperson #"+strconv.FormatUint(sami.ID, 10)), "no longer acts for Dialogue Centre")
	got, err := w.st.Contact(ctx, sami.ID)
	require.NoError(t, err)
	assert.Empty(t, got.Affiliations)

	w.onboard("coord")
	w.role("coord", store.RoleCoordinator)
	overview := w.say("coord", "/overview")
	assert.Contains(t, overview, "The Civil Peace Coalition")
	assert.Contains(t, overview, "Dialogue Centre")
	assert.Contains(t, w.say("rep", "/overview"), w.en(messages.ErrNotAllowed), "an institution sees its own numbers, not all")

	// a change of name waits for an admin
	w.say("rep", "/editinstitution")
	w.say("rep", "2")
	saved := w.say("rep", "Community Dialogue Centre")
	assert.Contains(t, saved, w.en(messages.OrgRenameSent))
	w.say("admin", "/approvename "+strconv.FormatUint(inst.ID, 10))
	renamed, err := w.st.Institution(ctx, inst.ID)
	require.NoError(t, err)
	assert.Equal(t, "Community Dialogue Centre", renamed.NameEN)
}

// An institution's people ask its supporters a poll in its name, from the
// same conversation as the coalition's; the answers count in its numbers.
func TestAnInstitutionAsksItsSupporters(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	ctx := context.Background()
	inst := w.member("rep", "Dialogue Centre")
	w.onboard("amal")
	w.onboard("huda")
	w.say("amal", "/join "+inst.Code)
	w.say("amal", "yes")
	// one institution of its own: no question of whose name it goes in
	for _, in := range []string{"/poll", "1", "هل تأتون؟", "skip", "نعم\nلا"} {
		w.say("rep", in)
	}
	w.say("rep", "skip")
	w.say("rep", "1") // the first audience offered: its supporters
	assert.Contains(t, w.say("rep", "1"), "Audience: Supporters of Dialogue Centre")
	w.say("rep", "1")
	polls, err := w.st.Polls(ctx)
	require.NoError(t, err)
	require.Len(t, polls, 1)
	assert.Equal(t, store.OrganisedBy(inst.ID), polls[0].Organiser)
	copies := w.pending(true)
	require.Len(t, copies, 1, "its supporters only")
	assert.Equal(t, "test:amal", copies[0].To.String())
	assert.Contains(t, copies[0].Text, "— "+messages.Isolate("مؤسسة Dialogue Centre"))

	w.say("amal", "1")
	a, err := w.st.PollAnswerOf(ctx, polls[0].ID, w.actorOf("amal").Person)
	require.NoError(t, err)
	assert.Equal(t, inst.ID, a.Institution)
	assert.Contains(t, w.say("rep", "/institutionstats"), "one answer to a poll")
	assert.Contains(t, w.say("rep", "/poll "+strconv.FormatUint(polls[0].ID, 10)), "هل تأتون؟", "its people read its results")
}

// An admin suspends and reinstates an institution by its number as well
// as by its code.
func TestMembershipStandingByNumberOrCode(t *testing.T) {
	for _, name := range []string{"standing_en.txt", "standing_ar.txt"} {
		t.Run(name, func(t *testing.T) {
			h := newTranscript(t)
			h.check(name)
			inst := institutionOf(t, h, "rep")
			assert.Equal(t, store.InstitutionApproved, inst.Status, "suspended and reinstated")
			assert.NotEmpty(t, inst.StatusReason)
		})
	}
}

// An institution's coordinator attaches a file to their institution's
// campaign, and is refused another institution's at once.
func TestInstitutionCoordinatorActsWithinItsCampaigns(t *testing.T) {
	h := newTranscript(t)
	files, err := store.OpenMediaFiles(filepath.Join(t.TempDir(), "media"), store.DefaultMaxMedia)
	require.NoError(t, err)
	h.media = files
	h.check("institution_scope_en.txt")
	ctx := context.Background()
	own, err := h.st.CampaignByCode(ctx, "dwalk")
	require.NoError(t, err)
	require.NotNil(t, own.Media, "the poster is on their institution's campaign")
	theirs, err := h.st.CampaignByCode(ctx, "forumc")
	require.NoError(t, err)
	assert.Nil(t, theirs.Media)
	assert.Equal(t, "حملة المنتدى", theirs.TitleAR)
}
