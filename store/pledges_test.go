package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAddPledge(t *testing.T) {
	s, clock := openTestStore(t)
	c := campaign(t, s, "peace", 2)
	a, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:1"), "", "ar")
	require.NoError(t, err)
	b, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:2"), "", "en")
	require.NoError(t, err)

	res, err := s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: a.ID, Channel: "telegram", Lang: "ar", Governorate: "jenin"})
	require.NoError(t, err)
	assert.Equal(t, Counts{Pledges: 1}, res.Counts)
	assert.False(t, res.ReachedTarget)
	assert.Equal(t, c.ID, res.Campaign.ID)
	assert.True(t, res.Campaign.TargetReachedAt.IsZero())

	p, err := s.Pledge(context.Background(), c.ID, a.ID)
	require.NoError(t, err)
	assert.Equal(t, Pledge{CampaignID: c.ID, ContactID: a.ID, At: clock.Now(), Channel: "telegram", Lang: "ar", Governorate: "jenin"}, *p)

	res, err = s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: a.ID})
	require.ErrorIs(t, err, ErrAlreadyPledged)
	assert.Equal(t, Counts{Pledges: 1}, res.Counts, "the current counts come with the error")
	assert.Equal(t, "peace", res.Campaign.Code)

	clock.Add(time.Minute)
	res, err = s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: b.ID})
	require.NoError(t, err)
	assert.True(t, res.ReachedTarget)
	assert.Equal(t, Counts{Pledges: 2}, res.Counts)
	assert.Equal(t, clock.Now(), res.Campaign.TargetReachedAt)
	stored, err := s.Campaign(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, clock.Now(), stored.TargetReachedAt)

	_, err = s.AddPledge(context.Background(), Pledge{CampaignID: 99, ContactID: a.ID})
	assert.ErrorIs(t, err, ErrCampaignNotFound)
	_, err = s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: 99})
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.AddPledge(context.Background(), Pledge{CampaignID: c.ID})
	assert.Error(t, err)
	_, err = s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: anonBit | 1})
	assert.Error(t, err)
	_, err = s.Pledge(context.Background(), c.ID, 99)
	assert.ErrorIs(t, err, ErrNotFound)

	mine, err := s.ContactPledges(context.Background(), a.ID)
	require.NoError(t, err)
	require.Len(t, mine, 1)
	assert.Equal(t, c.ID, mine[0].CampaignID)

	var seen []uint64
	require.NoError(t, s.Pledges(context.Background(), c.ID, func(p *Pledge) error {
		seen = append(seen, p.ContactID)
		return nil
	}))
	assert.Equal(t, []uint64{a.ID, b.ID}, seen)
	stop := errors.New("stop")
	assert.Equal(t, stop, s.Pledges(context.Background(), c.ID, func(*Pledge) error { return stop }))
}

func TestTargetLoweredBelowCountFiresOnNextPledge(t *testing.T) {
	s, _ := openTestStore(t)
	c := campaign(t, s, "peace", 100)
	require.NoError(t, bulkContacts(s, 4))
	for id := uint64(1); id <= 3; id++ {
		res, err := s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: id})
		require.NoError(t, err)
		require.False(t, res.ReachedTarget)
	}
	_, err := s.UpdateCampaign(context.Background(), c.ID, func(c *Campaign) error { c.Target = 2; return nil })
	require.NoError(t, err)
	res, err := s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: 4})
	require.NoError(t, err)
	assert.True(t, res.ReachedTarget)
}

func TestConcurrentPledgesFromAThousandPeople(t *testing.T) {
	s, _ := openTestStore(t, WithBatchDelay(10*time.Millisecond))
	const people = 1000
	c := campaign(t, s, "peace", people/2)
	require.NoError(t, bulkContacts(s, people))

	var wg sync.WaitGroup
	var reached atomic.Int32
	start := make(chan struct{})
	for id := uint64(1); id <= people; id++ {
		wg.Go(func() {
			<-start
			res, err := s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: id, Channel: "telegram"})
			if assert.NoError(t, err) && res.ReachedTarget {
				reached.Add(1)
				assert.Equal(t, people/2, res.Counts.Pledges)
			}
		})
	}
	close(start)
	wg.Wait()

	assert.Equal(t, int32(1), reached.Load(), "the target is reached exactly once")
	counts, err := s.Counts(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, Counts{Pledges: people}, counts)
	seen := map[uint64]bool{}
	require.NoError(t, s.Pledges(context.Background(), c.ID, func(p *Pledge) error {
		assert.False(t, seen[p.ContactID], "duplicate pledge of %d", p.ContactID)
		seen[p.ContactID] = true
		return nil
	}))
	assert.Len(t, seen, people)
	got, err := s.Campaign(context.Background(), c.ID)
	require.NoError(t, err)
	assert.False(t, got.TargetReachedAt.IsZero())
}

func TestConcurrentPledgesFromOnePerson(t *testing.T) {
	s, _ := openTestStore(t, WithBatchDelay(10*time.Millisecond))
	c := campaign(t, s, "peace", 1)
	p, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:1"), "", "")
	require.NoError(t, err)

	var wg sync.WaitGroup
	var ok, dup, reached atomic.Int32
	start := make(chan struct{})
	for range 50 {
		wg.Go(func() {
			<-start
			res, err := s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: p.ID})
			switch {
			case err == nil:
				ok.Add(1)
				if res.ReachedTarget {
					reached.Add(1)
				}
			case errors.Is(err, ErrAlreadyPledged):
				dup.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int32(1), ok.Load())
	assert.Equal(t, int32(49), dup.Load())
	assert.Equal(t, int32(1), reached.Load())
	counts, err := s.Counts(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, Counts{Pledges: 1}, counts)
}

func TestSignups(t *testing.T) {
	s, clock := openTestStore(t)
	c := campaign(t, s, "meet", 0)
	a, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:1"), "", "")
	require.NoError(t, err)
	b, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:2"), "", "")
	require.NoError(t, err)

	counts, err := s.AddSignup(context.Background(), Signup{CampaignID: c.ID, ContactID: a.ID, Channel: "telegram"})
	require.NoError(t, err)
	assert.Equal(t, Counts{Signups: 1}, counts)
	counts, err = s.AddSignup(context.Background(), Signup{CampaignID: c.ID, ContactID: a.ID})
	require.ErrorIs(t, err, ErrAlreadySignedUp)
	assert.Equal(t, Counts{Signups: 1}, counts)
	counts, err = s.AddSignup(context.Background(), Signup{CampaignID: c.ID, ContactID: b.ID})
	require.NoError(t, err)
	assert.Equal(t, Counts{Signups: 2}, counts)
	_, err = s.AddSignup(context.Background(), Signup{CampaignID: 99, ContactID: a.ID})
	assert.ErrorIs(t, err, ErrCampaignNotFound)
	_, err = s.AddSignup(context.Background(), Signup{CampaignID: c.ID, ContactID: 99})
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.AddSignup(context.Background(), Signup{ContactID: a.ID})
	assert.Error(t, err)

	su, err := s.Signup(context.Background(), c.ID, a.ID)
	require.NoError(t, err)
	assert.Equal(t, Signup{CampaignID: c.ID, ContactID: a.ID, At: clock.Now(), Channel: "telegram"}, *su)
	mine, err := s.ContactSignups(context.Background(), a.ID)
	require.NoError(t, err)
	assert.Len(t, mine, 1)
	n := 0
	require.NoError(t, s.Signups(context.Background(), c.ID, func(*Signup) error { n++; return nil }))
	assert.Equal(t, 2, n)

	counts, err = s.CancelSignup(context.Background(), c.ID, a.ID)
	require.NoError(t, err)
	assert.Equal(t, Counts{Signups: 1}, counts)
	_, err = s.CancelSignup(context.Background(), c.ID, a.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.Signup(context.Background(), c.ID, a.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	// signing up again after cancelling works
	counts, err = s.AddSignup(context.Background(), Signup{CampaignID: c.ID, ContactID: a.ID})
	require.NoError(t, err)
	assert.Equal(t, Counts{Signups: 2}, counts)
}

func TestCountsAndStats(t *testing.T) {
	s, _ := openTestStore(t)
	counts, err := s.Counts(context.Background(), 42)
	require.NoError(t, err)
	assert.Zero(t, counts)
	st, err := s.CampaignStats(context.Background(), 42)
	require.NoError(t, err)
	for _, m := range []map[string]int{st.PledgesByGovernorate, st.PledgesByLang, st.PledgesByChannel, st.SignupsByGovernorate, st.SignupsByLang, st.SignupsByChannel} {
		assert.NotNil(t, m)
	}

	c, other := campaign(t, s, "peace", 0), campaign(t, s, "other", 0)
	require.NoError(t, bulkContacts(s, 4))
	for _, p := range []Pledge{
		{CampaignID: c.ID, ContactID: 1, Channel: "telegram", Lang: "ar", Governorate: "gaza", ReferredBy: 3},
		{CampaignID: c.ID, ContactID: 2, Channel: "whatsapp", Lang: "ar", Governorate: "gaza"},
		{CampaignID: c.ID, ContactID: 3, Channel: "telegram", Lang: "en"},
		{CampaignID: other.ID, ContactID: 1, Channel: "telegram"},
	} {
		_, err := s.AddPledge(context.Background(), p)
		require.NoError(t, err)
	}
	_, err = s.AddSignup(context.Background(), Signup{CampaignID: c.ID, ContactID: 4, Channel: "console", Lang: "en", Governorate: "ramallah", ReferredBy: 1})
	require.NoError(t, err)

	st, err = s.CampaignStats(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, Stats{
		Counts:               Counts{Pledges: 3, Signups: 1},
		Referred:             2,
		PledgesByGovernorate: map[string]int{"gaza": 2, "": 1},
		PledgesByLang:        map[string]int{"ar": 2, "en": 1},
		PledgesByChannel:     map[string]int{"telegram": 2, "whatsapp": 1},
		SignupsByGovernorate: map[string]int{"ramallah": 1},
		SignupsByLang:        map[string]int{"en": 1},
		SignupsByChannel:     map[string]int{"console": 1},
	}, st)
	counts, err = s.Counts(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, st.Counts, counts)
}

func TestWithdrawPledge(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	c := campaign(t, s, "walk", 2)
	a, _, err := s.EnsureContact(ctx, bot.MustParseAddress("telegram:1"), "", "")
	require.NoError(t, err)
	b, _, err := s.EnsureContact(ctx, bot.MustParseAddress("telegram:2"), "", "")
	require.NoError(t, err)
	_, err = s.AddPledge(ctx, Pledge{CampaignID: c.ID, ContactID: a.ID})
	require.NoError(t, err)
	res, err := s.AddPledge(ctx, Pledge{CampaignID: c.ID, ContactID: b.ID})
	require.NoError(t, err)
	require.True(t, res.ReachedTarget)

	counts, err := s.WithdrawPledge(ctx, c.ID, a.ID)
	require.NoError(t, err)
	assert.Equal(t, Counts{Pledges: 1}, counts)
	_, err = s.WithdrawPledge(ctx, c.ID, a.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.Pledge(ctx, c.ID, a.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	stats, err := s.CampaignStats(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, stats.Pledges, "the counter and the records agree")
	require.NoError(t, s.Check())

	// pledging again counts again, and the target's news is not sent twice
	res, err = s.AddPledge(ctx, Pledge{CampaignID: c.ID, ContactID: a.ID})
	require.NoError(t, err)
	assert.Equal(t, 2, res.Counts.Pledges)
	assert.False(t, res.ReachedTarget)
}
