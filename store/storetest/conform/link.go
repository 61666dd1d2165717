package conform

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// LinkBackend is a Backend that merges the contacts of one person, with
// what each account may have: polls answered and asked, places on
// institutions' lists and roles in them, bulk sends.
type LinkBackend interface {
	WatchersBackend
	PollsBackend
	RecordBulkSend(ctx context.Context, e store.BulkSend) error
	BulkSentSince(ctx context.Context, author uint64, since time.Time) ([]store.BulkSend, error)
	CreateReminder(ctx context.Context, r *store.Reminder) error
	Reminder(ctx context.Context, id uint64) (*store.Reminder, error)
	LinkAddresses(ctx context.Context, keepID, mergeID uint64) (*store.Contact, error)
	Identity(ctx context.Context, id uint64) (uint64, error)
}

// RunLink runs the tests of merging contacts, each on a new backend.
func RunLink(t *testing.T, open func(t *testing.T) LinkBackend) {
	t.Run("LinkAddresses", func(t *testing.T) { testLinkAddresses(t, open(t)) })
	t.Run("LinkReferredEachOther", func(t *testing.T) { testLinkReferredEachOther(t, open(t)) })
	t.Run("LinkKeepsOneIdentity", func(t *testing.T) { testLinkIdentity(t, open(t)) })
	t.Run("ConcurrentLinks", func(t *testing.T) { testConcurrentLinks(t, open(t)) })
	t.Run("LinkMovesEverything", func(t *testing.T) { testLinkMovesEverything(t, open(t)) })
}

func testLinkAddresses(t *testing.T, b LinkBackend) {
	c1, c2, c3 := campaign(t, b, "one", 0), campaign(t, b, "two", 0), campaign(t, b, "three", 0)
	keep, _, err := b.EnsureContact(ctx, addr("telegram:10"), "Huda", "ar")
	require.NoError(t, err)
	consentAt := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	merge := person(t, b, "whatsapp:970599000010", func(c *store.Contact) {
		c.Name = ""
		c.Consent, c.ConsentAt, c.Stopped, c.Governorate, c.Role, c.Referrals = true, consentAt, true, "gaza", store.RoleCoordinator, 2
	})
	brought := person(t, b, "telegram:11", nil)
	ok, err := b.SetReferrer(ctx, brought.ID, merge.RefCode)
	require.NoError(t, err)
	require.True(t, ok)
	for _, p := range []store.Pledge{
		{CampaignID: c1.ID, ContactID: keep.ID}, {CampaignID: c1.ID, ContactID: merge.ID},
		{CampaignID: c2.ID, ContactID: merge.ID, Channel: bot.WhatsApp}, {CampaignID: c3.ID, ContactID: keep.ID},
	} {
		_, err := b.AddPledge(ctx, p)
		require.NoError(t, err)
	}
	for _, su := range []store.Signup{{CampaignID: c1.ID, ContactID: keep.ID}, {CampaignID: c1.ID, ContactID: merge.ID},
		{CampaignID: c2.ID, ContactID: merge.ID}} {
		_, err := b.AddSignup(ctx, su)
		require.NoError(t, err)
	}
	for _, w := range [][2]uint64{{c1.ID, keep.ID}, {c1.ID, merge.ID}, {c2.ID, merge.ID}} {
		_, err := b.AddWatch(ctx, w[0], w[1])
		require.NoError(t, err)
	}
	require.NoError(t, b.PutSession(ctx, merge.ID, &store.Session{Flow: "pledge"}))

	got, err := b.LinkAddresses(ctx, keep.ID, merge.ID)
	require.NoError(t, err)
	require.Equal(t, keep.ID, got.ID)
	require.Equal(t, []bot.Address{addr("telegram:10"), addr("whatsapp:970599000010")}, got.Addresses)
	require.Equal(t, "Huda", got.Name)
	require.Equal(t, "ar", got.Lang)
	require.Equal(t, "gaza", got.Governorate)
	require.True(t, got.Consent)
	require.True(t, got.ConsentAt.Equal(consentAt))
	require.True(t, got.Stopped)
	require.Equal(t, store.RoleCoordinator, got.Role)
	require.Equal(t, 3, got.Referrals)
	require.Equal(t, keep.RefCode, got.RefCode)
	require.True(t, got.CreatedAt.Equal(keep.CreatedAt))
	stored, err := b.Contact(ctx, keep.ID)
	require.NoError(t, err)
	require.Equal(t, got, stored)

	_, err = b.Contact(ctx, merge.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	byAddr, err := b.ContactByAddress(ctx, addr("whatsapp:970599000010"))
	require.NoError(t, err)
	require.Equal(t, keep.ID, byAddr.ID)
	byCode, err := b.ContactByRefCode(ctx, merge.RefCode)
	require.NoError(t, err)
	require.Equal(t, keep.ID, byCode.ID, "the merged person's share links still work")
	newcomer := person(t, b, "telegram:12", nil)
	ok, err = b.SetReferrer(ctx, newcomer.ID, merge.RefCode)
	require.NoError(t, err)
	require.True(t, ok)
	again, err := b.Contact(ctx, newcomer.ID)
	require.NoError(t, err)
	require.Equal(t, keep.ID, again.ReferredBy, "credited to the person they are now")
	_, err = b.UpdateContact(ctx, newcomer.ID, func(c *store.Contact) error {
		c.RefCode = merge.RefCode
		return nil
	})
	require.ErrorIs(t, err, store.ErrCodeTaken, "a merged code stays taken")
	_, err = b.Session(ctx, merge.ID)
	require.ErrorIs(t, err, store.ErrNotFound)

	for _, tc := range []struct {
		c    *store.Campaign
		want store.Counts
	}{{c1, store.Counts{Pledges: 1, Signups: 1}}, {c2, store.Counts{Pledges: 1, Signups: 1}}, {c3, store.Counts{Pledges: 1}}} {
		counts, err := b.Counts(ctx, tc.c.ID)
		require.NoError(t, err)
		require.Equal(t, tc.want, counts, "campaign %s", tc.c.Code)
	}
	pledges, err := b.ContactPledges(ctx, keep.ID)
	require.NoError(t, err)
	require.Len(t, pledges, 3)
	require.Equal(t, keep.ID, pledges[1].ContactID)
	require.Equal(t, bot.WhatsApp, pledges[1].Channel, "the moved pledge keeps its details")
	signups, err := b.ContactSignups(ctx, keep.ID)
	require.NoError(t, err)
	require.Len(t, signups, 2)
	pledges, err = b.ContactPledges(ctx, merge.ID)
	require.NoError(t, err)
	require.Empty(t, pledges)
	for _, cid := range []uint64{c1.ID, c2.ID} {
		on, err := b.Watching(ctx, cid, keep.ID)
		require.NoError(t, err)
		require.True(t, on, "campaign %d", cid)
	}
	ws, err := b.TakeWatchers(ctx, c1.ID)
	require.NoError(t, err)
	require.Len(t, ws, 1, "one request for one person")

	_, err = b.LinkAddresses(ctx, keep.ID, keep.ID)
	require.Error(t, err)
	_, err = b.LinkAddresses(ctx, keep.ID, merge.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.LinkAddresses(ctx, newcomer.ID+50, keep.ID)
	require.ErrorIs(t, err, store.ErrNotFound)

	// in a unit of work that fails, nothing is merged
	boom := errors.New("boom")
	require.ErrorIs(t, b.InTx(ctx, func(ctx context.Context) error {
		if _, err := b.LinkAddresses(ctx, keep.ID, newcomer.ID); err != nil {
			return err
		}
		return boom
	}), boom)
	_, err = b.Contact(ctx, newcomer.ID)
	require.NoError(t, err)
	id, err := b.Identity(ctx, newcomer.ID)
	require.NoError(t, err)
	require.Equal(t, newcomer.ID, id)
}

func testLinkReferredEachOther(t *testing.T, b LinkBackend) {
	a := person(t, b, "telegram:1", nil)
	c := person(t, b, "whatsapp:1", nil)
	ok, err := b.SetReferrer(ctx, c.ID, a.RefCode)
	require.NoError(t, err)
	require.True(t, ok)
	got, err := b.LinkAddresses(ctx, c.ID, a.ID)
	require.NoError(t, err)
	require.Zero(t, got.ReferredBy, "one cannot have brought oneself")
	require.Zero(t, got.Referrals)
}

func testLinkIdentity(t *testing.T, b LinkBackend) {
	admin := person(t, b, "telegram:1", nil)
	second := person(t, b, "whatsapp:970599000001", nil)
	other := person(t, b, "telegram:9", nil)
	bc := &store.Broadcast{TextAR: "نص", Audience: everyone(), CreatedBy: second.ID, ApprovedBy: second.ID}
	require.NoError(t, b.CreateBroadcast(ctx, bc))
	r := &store.Reminder{TextAR: "تذكير", Audience: everyone(), At: t0.Add(time.Hour), CreatedBy: second.ID, ApprovedBy: other.ID}
	require.NoError(t, b.CreateReminder(ctx, r))
	kept := &store.Broadcast{TextAR: "آخر", Audience: everyone(), CreatedBy: other.ID}
	require.NoError(t, b.CreateBroadcast(ctx, kept))
	camp := &store.Campaign{Code: "olive", TitleAR: "زيتون", Kind: store.KindPledge, CreatedBy: second.ID}
	require.NoError(t, b.CreateCampaign(ctx, camp))

	_, err := b.LinkAddresses(ctx, admin.ID, second.ID)
	require.NoError(t, err)
	id, err := b.Identity(ctx, second.ID)
	require.NoError(t, err)
	require.Equal(t, admin.ID, id, "the merged account is the same person")
	id, err = b.Identity(ctx, other.ID)
	require.NoError(t, err)
	require.Equal(t, other.ID, id)
	got, err := b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, []uint64{admin.ID, admin.ID}, []uint64{got.CreatedBy, got.ApprovedBy})
	gotR, err := b.Reminder(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, []uint64{admin.ID, other.ID}, []uint64{gotR.CreatedBy, gotR.ApprovedBy})
	untouched, err := b.Broadcast(ctx, kept.ID)
	require.NoError(t, err)
	require.Equal(t, other.ID, untouched.CreatedBy)
	gotC, err := b.Campaign(ctx, camp.ID)
	require.NoError(t, err)
	require.Equal(t, admin.ID, gotC.CreatedBy)

	// merging again carries the alias along: the oldest ID still names the person
	third := person(t, b, "console:admin", nil)
	_, err = b.LinkAddresses(ctx, third.ID, admin.ID)
	require.NoError(t, err)
	for _, old := range []uint64{second.ID, admin.ID} {
		id, err := b.Identity(ctx, old)
		require.NoError(t, err)
		require.Equal(t, third.ID, id)
	}
	for _, code := range []string{second.RefCode, admin.RefCode, third.RefCode} {
		c, err := b.ContactByRefCode(ctx, code)
		require.NoError(t, err)
		require.Equal(t, third.ID, c.ID, "code %s", code)
	}
}

// testConcurrentLinks: two merges of the same pair in opposite directions
// at once: one happens, the other finds a contact gone.
func testConcurrentLinks(t *testing.T, b LinkBackend) {
	camp := campaign(t, b, "olive", 0)
	for round := range 4 {
		x := person(t, b, "telegram:x"+string(rune('a'+round)), nil)
		y := person(t, b, "whatsapp:y"+string(rune('a'+round)), nil)
		for _, id := range []uint64{x.ID, y.ID} {
			_, err := b.AddPledge(ctx, pledge(camp.ID, id))
			require.NoError(t, err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Go(func() { _, errs[0] = b.LinkAddresses(ctx, x.ID, y.ID) })
		wg.Go(func() { _, errs[1] = b.LinkAddresses(ctx, y.ID, x.ID) })
		wg.Wait()
		if errs[0] == nil {
			require.ErrorIs(t, errs[1], store.ErrNotFound)
		} else {
			require.ErrorIs(t, errs[0], store.ErrNotFound)
			require.NoError(t, errs[1])
		}
		counts, err := b.Counts(ctx, camp.ID)
		require.NoError(t, err)
		require.Equal(t, round+1, counts.Pledges, "one pledge per person")
		n := 0
		require.NoError(t, b.Pledges(ctx, camp.ID, func(*store.Pledge) error {
			n++
			return nil
		}))
		require.Equal(t, counts.Pledges, n)
	}
}

// testLinkMovesEverything merges an account that answered polls and was
// asked them, was on institutions' lists, had roles in them, sent in bulk,
// created a poll and applied for an institution: all of it is the kept
// person's afterwards, once where both accounts had it, with counts exact.
func testLinkMovesEverything(t *testing.T, b LinkBackend) {
	inst, other := member(t, b, "Dialogue Centre"), member(t, b, "Peace Forum")
	keep := person(t, b, "telegram:1", consenting("gaza", "ar"))
	merge := person(t, b, "whatsapp:9702", consenting("nablus", "ar"))
	p, q := question(t, b, 7), question(t, b, 8)
	require.NoError(t, b.MarkAsked(ctx, p.ID, []uint64{keep.ID, merge.ID}, time.Unix(1000, 0)))
	require.NoError(t, b.MarkAsked(ctx, q.ID, []uint64{merge.ID}, time.Unix(2000, 0)))
	for _, a := range []store.PollAnswer{
		{PollID: p.ID, ContactID: keep.ID, Option: 0, Governorate: "gaza"},
		{PollID: p.ID, ContactID: merge.ID, Option: 1, Governorate: "nablus"},
		{PollID: q.ID, ContactID: merge.ID, Option: 2, Governorate: "nablus", Channel: bot.WhatsApp},
	} {
		_, err := b.AnswerPoll(ctx, a)
		require.NoError(t, err)
	}
	for _, sp := range []store.Support{
		{InstitutionID: inst.ID, ContactID: merge.ID, Via: store.ViaLink, Newcomer: true},
		{InstitutionID: other.ID, ContactID: keep.ID, Via: store.ViaPledge},
		{InstitutionID: other.ID, ContactID: merge.ID, Via: store.ViaPoll},
	} {
		_, err := b.AddSupporter(ctx, sp, false)
		require.NoError(t, err)
	}
	left, err := b.LeaveSupporters(ctx, other.ID, keep.ID)
	require.NoError(t, err)
	require.True(t, left)
	for id, as := range map[uint64][]store.Affiliation{
		keep.ID:  {{InstitutionID: inst.ID, Role: store.InstitutionCoordinator}},
		merge.ID: {{InstitutionID: inst.ID, Role: store.InstitutionRepresentative}, {InstitutionID: other.ID, Role: store.InstitutionCoordinator}},
	} {
		_, err := b.UpdateAffiliations(ctx, id, func(c *store.Contact) error {
			c.Affiliations = as
			return nil
		})
		require.NoError(t, err)
	}
	sent := time.Now().UTC().Truncate(time.Second)
	require.NoError(t, b.RecordBulkSend(ctx, store.BulkSend{Author: merge.ID, At: sent, Kind: "broadcast", ID: 3, Recipients: 40}))
	made := &store.Poll{Kind: store.PollQuestion, QuestionAR: "؟", Options: threeOptions(), CreatedBy: merge.ID}
	require.NoError(t, b.CreatePoll(ctx, made))
	_, err = b.UpdatePoll(ctx, made.ID, func(p *store.Poll) error {
		p.Closed, p.ClosedBy = true, merge.ID
		return nil
	})
	require.NoError(t, err)
	applied := &store.Institution{NameAR: "مؤسسة", Status: store.InstitutionApproved, ApplicantID: merge.ID, DecidedBy: merge.ID}
	require.NoError(t, b.CreateInstitution(ctx, applied))

	_, err = b.LinkAddresses(ctx, keep.ID, merge.ID)
	require.NoError(t, err)

	// polls: where both answered, the kept account's answer stands
	got, err := b.PollAnswerOf(ctx, p.ID, keep.ID)
	require.NoError(t, err)
	require.Equal(t, 0, got.Option)
	got, err = b.PollAnswerOf(ctx, q.ID, keep.ID)
	require.NoError(t, err)
	require.Equal(t, store.PollAnswer{PollID: q.ID, ContactID: keep.ID, Option: 2, At: got.At, Governorate: "nablus", Channel: bot.WhatsApp}, *got,
		"the moved answer keeps its details")
	mine, err := b.ContactPollAnswers(ctx, keep.ID)
	require.NoError(t, err)
	require.Len(t, mine, 2)
	for _, pid := range []uint64{p.ID, q.ID} {
		_, err = b.PollAnswerOf(ctx, pid, merge.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, ok, err := b.Asked(ctx, pid, merge.ID)
		require.NoError(t, err)
		require.False(t, ok)
		_, ok, err = b.Asked(ctx, pid, keep.ID)
		require.NoError(t, err)
		require.True(t, ok, "poll %d", pid)
	}
	at, _, err := b.Asked(ctx, q.ID, keep.ID)
	require.NoError(t, err)
	require.Equal(t, int64(2000), at.Unix(), "the moved mark keeps its time")
	for pid, want := range map[uint64]store.PollCounts{p.ID: {Asked: 1, Options: []int{1, 0, 0}}, q.ID: {Asked: 1, Options: []int{0, 0, 1}}} {
		counts, err := b.PollCounts(ctx, pid)
		require.NoError(t, err)
		require.Equal(t, want, counts, "one person counts once, poll %d", pid)
	}
	n, err := b.CountAudience(ctx, store.Audience{Kind: store.AudiencePollAnswer, PollID: q.ID, Option: 2}, nil)
	require.NoError(t, err)
	require.Equal(t, 1, n.Total)
	listed(t, b, store.Audience{Kind: store.AudiencePollAnswer, PollID: q.ID, Option: 2}, keep.ID)

	// lists: on a list if either account was; the first way in is kept
	sups, err := b.ContactSupports(ctx, keep.ID)
	require.NoError(t, err)
	require.Len(t, sups, 2)
	for _, sp := range sups {
		require.Equal(t, keep.ID, sp.ContactID)
		require.True(t, sp.Active(), "institution %d", sp.InstitutionID)
	}
	sp, err := b.Supporter(ctx, inst.ID, keep.ID)
	require.NoError(t, err)
	require.Equal(t, store.ViaLink, sp.Via)
	require.True(t, sp.Newcomer)
	sp, err = b.Supporter(ctx, other.ID, keep.ID)
	require.NoError(t, err)
	require.Equal(t, store.ViaPoll, sp.Via, "the active record wins over the one left")
	sups, err = b.ContactSupports(ctx, merge.ID)
	require.NoError(t, err)
	require.Empty(t, sups)

	// roles: the higher one wins in each institution
	c, err := b.Contact(ctx, keep.ID)
	require.NoError(t, err)
	require.Equal(t, store.InstitutionRepresentative, c.AffiliationWith(inst.ID))
	require.Equal(t, store.InstitutionCoordinator, c.AffiliationWith(other.ID))
	for id, role := range map[uint64]store.InstitutionRole{inst.ID: store.InstitutionRepresentative, other.ID: store.InstitutionCoordinator} {
		people, err := b.InstitutionPeople(ctx, id)
		require.NoError(t, err)
		require.Len(t, people, 1, "institution %d", id)
		require.Equal(t, keep.ID, people[0].ContactID)
		require.Equal(t, role, people[0].Role)
	}

	// what the merged account did is the kept person's
	sends, err := b.BulkSentSince(ctx, keep.ID, sent.Add(-time.Minute))
	require.NoError(t, err)
	require.Len(t, sends, 1)
	require.Equal(t, keep.ID, sends[0].Author)
	sends, err = b.BulkSentSince(ctx, merge.ID, sent.Add(-time.Minute))
	require.NoError(t, err)
	require.Empty(t, sends)
	gotPoll, err := b.Poll(ctx, made.ID)
	require.NoError(t, err)
	require.Equal(t, []uint64{keep.ID, keep.ID}, []uint64{gotPoll.CreatedBy, gotPoll.ClosedBy})
	gotInst, err := b.Institution(ctx, applied.ID)
	require.NoError(t, err)
	require.Equal(t, []uint64{keep.ID, keep.ID}, []uint64{gotInst.ApplicantID, gotInst.DecidedBy})
}
