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

// PledgesBackend is a Backend with sign-ups, withdrawals, the lists of a
// campaign's and a person's pledges and sign-ups, and the campaign's
// statistics.
type PledgesBackend interface {
	RecipientsBackend
	Pledges(ctx context.Context, campaignID uint64, fn func(*store.Pledge) error) error
	ContactPledges(ctx context.Context, contactID uint64) ([]store.Pledge, error)
	AddSignup(ctx context.Context, su store.Signup) (store.Counts, error)
	CancelSignup(ctx context.Context, campaignID, contactID uint64) (store.Counts, error)
	WithdrawPledge(ctx context.Context, campaignID, contactID uint64) (store.Counts, error)
	Signup(ctx context.Context, campaignID, contactID uint64) (*store.Signup, error)
	Signups(ctx context.Context, campaignID uint64, fn func(*store.Signup) error) error
	ContactSignups(ctx context.Context, contactID uint64) ([]store.Signup, error)
	CampaignStats(ctx context.Context, campaignID uint64) (store.Stats, error)
	CampaignShareStats(ctx context.Context, campaignID, institutionID uint64) (store.Stats, error)
}

// RunPledges runs the tests of sign-ups, withdrawals, lists and statistics,
// each on a new backend.
func RunPledges(t *testing.T, open func(t *testing.T) PledgesBackend) {
	t.Run("Signups", func(t *testing.T) { testSignups(t, open(t)) })
	t.Run("ConcurrentSignups", func(t *testing.T) { testConcurrentSignups(t, open(t)) })
	t.Run("WithdrawPledge", func(t *testing.T) { testWithdrawPledge(t, open(t)) })
	t.Run("PledgeLists", func(t *testing.T) { testPledgeLists(t, open(t)) })
	t.Run("CampaignStats", func(t *testing.T) { testCampaignStats(t, open(t)) })
	t.Run("SignupAudience", func(t *testing.T) { testSignupAudience(t, open(t)) })
}

func signup(campaignID, contactID uint64) store.Signup {
	return store.Signup{CampaignID: campaignID, ContactID: contactID, At: time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC),
		Channel: bot.WhatsApp, Governorate: "hebron", Lang: "en", Institution: 4}
}

func testSignups(t *testing.T, b PledgesBackend) {
	camp := campaign(t, b, "march", 0)
	c := person(t, b, "telegram:1", nil)
	counts, err := b.AddSignup(ctx, signup(camp.ID, c.ID))
	require.NoError(t, err)
	require.Equal(t, store.Counts{Signups: 1}, counts)
	counts, err = b.AddSignup(ctx, signup(camp.ID, c.ID))
	require.ErrorIs(t, err, store.ErrAlreadySignedUp)
	require.Equal(t, store.Counts{Signups: 1}, counts, "with the current counts")
	got, err := b.Signup(ctx, camp.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, signup(camp.ID, c.ID), *got)
	_, err = b.AddSignup(ctx, signup(camp.ID+9, c.ID))
	require.ErrorIs(t, err, store.ErrCampaignNotFound)
	_, err = b.AddSignup(ctx, signup(camp.ID, c.ID+9))
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.AddSignup(ctx, store.Signup{CampaignID: camp.ID})
	require.Error(t, err, "no contact")
	stamped := store.Signup{CampaignID: camp.ID, ContactID: person(t, b, "telegram:2", nil).ID}
	_, err = b.AddSignup(ctx, stamped)
	require.NoError(t, err)
	got, err = b.Signup(ctx, camp.ID, stamped.ContactID)
	require.NoError(t, err)
	require.False(t, got.At.IsZero(), "a zero At is stamped")
	pledged, err := b.Counts(ctx, camp.ID)
	require.NoError(t, err)
	require.Equal(t, store.Counts{Signups: 2}, pledged)

	counts, err = b.CancelSignup(ctx, camp.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, store.Counts{Signups: 1}, counts)
	_, err = b.CancelSignup(ctx, camp.ID, c.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.Signup(ctx, camp.ID, c.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	counts, err = b.AddSignup(ctx, signup(camp.ID, c.ID))
	require.NoError(t, err, "signing up again after cancelling")
	require.Equal(t, store.Counts{Signups: 2}, counts)

	// in a unit of work that fails, the counter does not move
	boom := errors.New("boom")
	err = b.InTx(ctx, func(ctx context.Context) error {
		if _, err := b.CancelSignup(ctx, camp.ID, c.ID); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	counts, err = b.Counts(ctx, camp.ID)
	require.NoError(t, err)
	require.Equal(t, store.Counts{Signups: 2}, counts)
}

// testConcurrentSignups: sign-ups, repeats and cancellations at once keep
// the counter exact and each person signed up once.
func testConcurrentSignups(t *testing.T, b PledgesBackend) {
	camp := campaign(t, b, "march", 0)
	const people = 12
	var ids []uint64
	for i := range people {
		ids = append(ids, person(t, b, "telegram:"+string(rune('a'+i)), nil).ID)
	}
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for _, id := range ids {
				_, err := b.AddSignup(ctx, signup(camp.ID, id))
				if err != nil && !errors.Is(err, store.ErrAlreadySignedUp) {
					t.Error(err)
				}
				if w == 0 && id%3 == 0 {
					if _, err := b.CancelSignup(ctx, camp.ID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	n := 0
	require.NoError(t, b.Signups(ctx, camp.ID, func(*store.Signup) error {
		n++
		return nil
	}))
	counts, err := b.Counts(ctx, camp.ID)
	require.NoError(t, err)
	require.Equal(t, n, counts.Signups, "the counter is the number of sign-ups")
	require.GreaterOrEqual(t, n, people-people/3)
}

func testWithdrawPledge(t *testing.T, b PledgesBackend) {
	camp := campaign(t, b, "olive", 2)
	a, c := person(t, b, "telegram:1", nil), person(t, b, "telegram:2", nil)
	_, err := b.AddPledge(ctx, pledge(camp.ID, a.ID))
	require.NoError(t, err)
	res, err := b.AddPledge(ctx, pledge(camp.ID, c.ID))
	require.NoError(t, err)
	require.True(t, res.ReachedTarget)
	counts, err := b.WithdrawPledge(ctx, camp.ID, a.ID)
	require.NoError(t, err)
	require.Equal(t, store.Counts{Pledges: 1}, counts)
	_, err = b.WithdrawPledge(ctx, camp.ID, a.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.Pledge(ctx, camp.ID, a.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	got, err := b.Campaign(ctx, camp.ID)
	require.NoError(t, err)
	require.False(t, got.TargetReachedAt.IsZero(), "a target once reached stays reached")
	res, err = b.AddPledge(ctx, pledge(camp.ID, a.ID))
	require.NoError(t, err, "pledging again after withdrawing")
	require.False(t, res.ReachedTarget, "reached once")
	require.Equal(t, store.Counts{Pledges: 2}, res.Counts)
}

func testPledgeLists(t *testing.T, b PledgesBackend) {
	olive, water := campaign(t, b, "olive", 0), campaign(t, b, "water", 0)
	var cs []*store.Contact
	for _, a := range []string{"telegram:1", "telegram:2", "telegram:3"} {
		cs = append(cs, person(t, b, a, nil))
	}
	for _, c := range []*store.Contact{cs[2], cs[0], cs[1]} {
		_, err := b.AddPledge(ctx, pledge(olive.ID, c.ID))
		require.NoError(t, err)
	}
	_, err := b.AddPledge(ctx, pledge(water.ID, cs[0].ID))
	require.NoError(t, err)
	_, err = b.AddSignup(ctx, signup(water.ID, cs[0].ID))
	require.NoError(t, err)
	_, err = b.AddSignup(ctx, signup(olive.ID, cs[0].ID))
	require.NoError(t, err)
	_, err = b.AddSignup(ctx, signup(olive.ID, cs[2].ID))
	require.NoError(t, err)

	var got []uint64
	require.NoError(t, b.Pledges(ctx, olive.ID, func(p *store.Pledge) error {
		require.Equal(t, olive.ID, p.CampaignID)
		got = append(got, p.ContactID)
		return nil
	}))
	require.Equal(t, []uint64{cs[0].ID, cs[1].ID, cs[2].ID}, got, "in contact order")
	stop := errors.New("stop")
	n := 0
	err = b.Pledges(ctx, olive.ID, func(*store.Pledge) error {
		n++
		return stop
	})
	require.Equal(t, stop, err, "fn's error as it is")
	require.Equal(t, 1, n)
	var sus []uint64
	require.NoError(t, b.Signups(ctx, olive.ID, func(su *store.Signup) error {
		sus = append(sus, su.ContactID)
		return nil
	}))
	require.Equal(t, []uint64{cs[0].ID, cs[2].ID}, sus)
	require.Equal(t, stop, b.Signups(ctx, olive.ID, func(*store.Signup) error { return stop }))

	mine, err := b.ContactPledges(ctx, cs[0].ID)
	require.NoError(t, err)
	require.Len(t, mine, 2)
	require.Equal(t, []uint64{olive.ID, water.ID}, []uint64{mine[0].CampaignID, mine[1].CampaignID}, "in campaign order")
	require.Equal(t, pledge(olive.ID, cs[0].ID), mine[0])
	signed, err := b.ContactSignups(ctx, cs[0].ID)
	require.NoError(t, err)
	require.Equal(t, []store.Signup{signup(olive.ID, cs[0].ID), signup(water.ID, cs[0].ID)}, signed)
	none, err := b.ContactPledges(ctx, cs[1].ID+50)
	require.NoError(t, err)
	require.Empty(t, none)
}

func testCampaignStats(t *testing.T, b PledgesBackend) {
	camp := campaign(t, b, "olive", 0)
	var cs []*store.Contact
	for _, a := range []string{"telegram:1", "telegram:2", "whatsapp:3", "telegram:4"} {
		cs = append(cs, person(t, b, a, nil))
	}
	p := func(c *store.Contact, gov, lang string, ch bot.ChannelName, ref, inst uint64) {
		t.Helper()
		_, err := b.AddPledge(ctx, store.Pledge{CampaignID: camp.ID, ContactID: c.ID, Channel: ch, Governorate: gov, Lang: lang,
			ReferredBy: ref, Institution: inst})
		require.NoError(t, err)
	}
	p(cs[0], "gaza", "ar", bot.Telegram, 0, 0)
	p(cs[1], "gaza", "en", bot.Telegram, cs[0].ID, 5)
	p(cs[2], "", "ar", bot.WhatsApp, 0, 5)
	_, err := b.AddSignup(ctx, store.Signup{CampaignID: camp.ID, ContactID: cs[3].ID, Channel: bot.Telegram, Governorate: "hebron",
		Lang: "ar", ReferredBy: cs[0].ID, Institution: 5})
	require.NoError(t, err)
	_, err = b.AddSignup(ctx, store.Signup{CampaignID: camp.ID, ContactID: cs[0].ID, Channel: bot.Telegram, Lang: "ar"})
	require.NoError(t, err)

	st, err := b.CampaignStats(ctx, camp.ID)
	require.NoError(t, err)
	require.Equal(t, store.Counts{Pledges: 3, Signups: 2}, st.Counts)
	require.Equal(t, 2, st.Referred)
	require.Equal(t, map[string]int{"gaza": 2, "": 1}, st.PledgesByGovernorate)
	require.Equal(t, map[string]int{"ar": 2, "en": 1}, st.PledgesByLang)
	require.Equal(t, map[string]int{"telegram": 2, "whatsapp": 1}, st.PledgesByChannel)
	require.Equal(t, map[string]int{"hebron": 1, "": 1}, st.SignupsByGovernorate)
	require.Equal(t, map[string]int{"ar": 2}, st.SignupsByLang)
	require.Equal(t, map[string]int{"telegram": 2}, st.SignupsByChannel)

	share, err := b.CampaignShareStats(ctx, camp.ID, 5)
	require.NoError(t, err)
	require.Equal(t, store.Counts{Pledges: 2, Signups: 1}, share.Counts)
	require.Equal(t, 2, share.Referred)
	require.Equal(t, map[string]int{"gaza": 1, "": 1}, share.PledgesByGovernorate)
	coalition, err := b.CampaignShareStats(ctx, camp.ID, 0)
	require.NoError(t, err)
	require.Equal(t, store.Counts{Pledges: 1, Signups: 1}, coalition.Counts)

	empty, err := b.CampaignStats(ctx, camp.ID+9)
	require.NoError(t, err)
	require.Zero(t, empty.Pledges)
	require.NotNil(t, empty.PledgesByGovernorate)
	require.NotNil(t, empty.SignupsByChannel)
}

func testSignupAudience(t *testing.T, b PledgesBackend) {
	cs, camp := audienceFixture(t, b)
	for _, i := range []int{0, 2, 4, 6} {
		_, err := b.AddSignup(ctx, signup(camp.ID, cs[i].ID))
		require.NoError(t, err)
	}
	aud := store.Audience{Kind: store.AudienceSignups, CampaignID: camp.ID}
	got, err := b.Recipients(ctx, aud, nil)
	require.NoError(t, err)
	require.Equal(t, []uint64{cs[0].ID, cs[4].ID, cs[6].ID}, recipientIDs(got), "the stopped one is not reached")
	n, err := b.CountAudience(ctx, aud, nil)
	require.NoError(t, err)
	require.Equal(t, 3, n.Total)
	require.Equal(t, map[bot.ChannelName]int{bot.Telegram: 1, bot.WhatsApp: 1, bot.Console: 1}, n.PerChannel)
	page, err := b.RecipientsPage(ctx, aud, nil, cs[4].ID, 10)
	require.NoError(t, err)
	require.Equal(t, []uint64{cs[6].ID}, recipientIDs(page.Recipients))
	require.True(t, page.Last)
	require.Equal(t, cs[6].ID, page.Through)

	_, err = b.CancelSignup(ctx, camp.ID, cs[4].ID)
	require.NoError(t, err)
	n, err = b.CountAudience(ctx, aud, nil)
	require.NoError(t, err)
	require.Equal(t, 2, n.Total, "a cancelled sign-up leaves the audience")
	_, err = b.CountAudience(ctx, store.Audience{Kind: store.AudienceSignups, CampaignID: camp.ID + 9}, nil)
	require.ErrorIs(t, err, store.ErrCampaignNotFound)
}
