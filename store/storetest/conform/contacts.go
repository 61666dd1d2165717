package conform

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"mobilise/bot"
	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// ContactsBackend is a Backend that lists contacts, records referrers and
// forgets people.
type ContactsBackend interface {
	PledgesBackend
	SessionsBackend
	Contacts(ctx context.Context, fn func(*store.Contact) error) error
	SetReferrer(ctx context.Context, contactID uint64, refCode string) (bool, error)
	ForgetContact(ctx context.Context, id uint64) error
}

// RunContacts runs the tests of those operations, each on a new backend.
func RunContacts(t *testing.T, open func(t *testing.T) ContactsBackend) {
	t.Run("ContactsList", func(t *testing.T) { testContactsList(t, open(t)) })
	t.Run("SetReferrer", func(t *testing.T) { testSetReferrer(t, open(t)) })
	t.Run("ConcurrentReferrals", func(t *testing.T) { testConcurrentReferrals(t, open(t)) })
	t.Run("ForgetContact", func(t *testing.T) { testForgetContact(t, open(t)) })
}

func testContactsList(t *testing.T, b ContactsBackend) {
	require.NoError(t, b.Contacts(ctx, func(*store.Contact) error {
		t.Fatal("no contacts yet")
		return nil
	}))
	const n = 300 // more than a page
	for i := range n {
		person(t, b, fmt.Sprintf("telegram:%d", i+1), nil)
	}
	var last uint64
	seen := 0
	require.NoError(t, b.Contacts(ctx, func(c *store.Contact) error {
		require.Greater(t, c.ID, last, "in ID order")
		last = c.ID
		seen++
		// fn may call other operations
		_, err := b.Contact(ctx, c.ID)
		return err
	}))
	require.Equal(t, n, seen)
	stop := errors.New("stop")
	seen = 0
	err := b.Contacts(ctx, func(*store.Contact) error {
		seen++
		if seen == 5 {
			return stop
		}
		return nil
	})
	require.Equal(t, stop, err, "fn's error as it is")
	require.Equal(t, 5, seen)
}

func testSetReferrer(t *testing.T, b ContactsBackend) {
	amal := person(t, b, "telegram:1", nil)
	basel := person(t, b, "telegram:2", nil)
	dana := person(t, b, "telegram:3", nil)
	ok, err := b.SetReferrer(ctx, basel.ID, amal.RefCode)
	require.NoError(t, err)
	require.True(t, ok)
	got, err := b.Contact(ctx, basel.ID)
	require.NoError(t, err)
	require.Equal(t, amal.ID, got.ReferredBy)
	got, err = b.Contact(ctx, amal.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.Referrals)

	ok, err = b.SetReferrer(ctx, basel.ID, dana.RefCode)
	require.NoError(t, err)
	require.False(t, ok, "a referrer is set once")
	ok, err = b.SetReferrer(ctx, dana.ID, dana.RefCode)
	require.NoError(t, err)
	require.False(t, ok, "not one's own code")
	ok, err = b.SetReferrer(ctx, dana.ID, "nosuchcode")
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = b.SetReferrer(ctx, dana.ID, "")
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = b.SetReferrer(ctx, dana.ID, " "+basel.RefCode+" ")
	require.NoError(t, err)
	require.True(t, ok, "a code as typed, in any case and with spaces")
	got, err = b.Contact(ctx, basel.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.Referrals)
	_, err = b.SetReferrer(ctx, dana.ID+50, amal.RefCode)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// testConcurrentReferrals: people referred by one person at once each
// count once, and a person referred by two at once gets one referrer.
func testConcurrentReferrals(t *testing.T, b ContactsBackend) {
	ref := person(t, b, "telegram:1", nil)
	other := person(t, b, "telegram:2", nil)
	var newcomers []*store.Contact
	for i := range 10 {
		newcomers = append(newcomers, person(t, b, fmt.Sprintf("whatsapp:97%d", i), nil))
	}
	var wg sync.WaitGroup
	var set atomic.Int32
	for _, c := range newcomers {
		for _, code := range []string{ref.RefCode, other.RefCode} {
			wg.Go(func() {
				ok, err := b.SetReferrer(ctx, c.ID, code)
				if err != nil {
					t.Error(err)
				}
				if ok {
					set.Add(1)
				}
			})
		}
	}
	wg.Wait()
	require.Equal(t, int32(len(newcomers)), set.Load(), "one referrer each")
	a, err := b.Contact(ctx, ref.ID)
	require.NoError(t, err)
	o, err := b.Contact(ctx, other.ID)
	require.NoError(t, err)
	require.Equal(t, len(newcomers), a.Referrals+o.Referrals)
	for _, c := range newcomers {
		got, err := b.Contact(ctx, c.ID)
		require.NoError(t, err)
		require.Contains(t, []uint64{ref.ID, other.ID}, got.ReferredBy)
	}
}

func testForgetContact(t *testing.T, b ContactsBackend) {
	camp := campaign(t, b, "olive", 0)
	gone := person(t, b, "telegram:1", func(c *store.Contact) {
		c.Addresses = append(c.Addresses, addr("whatsapp:9701"))
		c.Consent, c.Governorate = true, "gaza"
	})
	stays := person(t, b, "telegram:2", consenting("gaza", "ar"))
	ok, err := b.SetReferrer(ctx, stays.ID, gone.RefCode)
	require.NoError(t, err)
	require.True(t, ok)
	p := pledge(camp.ID, gone.ID)
	p.Institution = 6
	_, err = b.AddPledge(ctx, p)
	require.NoError(t, err)
	_, err = b.AddPledge(ctx, pledge(camp.ID, stays.ID))
	require.NoError(t, err)
	_, err = b.AddSignup(ctx, signup(camp.ID, gone.ID))
	require.NoError(t, err)
	require.NoError(t, b.PutSession(ctx, gone.ID, &store.Session{Flow: "pledge"}))
	bc := &store.Broadcast{TextAR: "x"}
	require.NoError(t, b.CreateBroadcast(ctx, bc))
	require.NoError(t, b.QueueBroadcast(ctx, bc.ID, []store.OutboxEntry{
		{To: addr("telegram:1"), ContactID: gone.ID, Text: "x"}, {To: addr("telegram:2"), ContactID: stays.ID, Text: "x"}}))
	require.NoError(t, b.Enqueue(ctx, store.OutboxEntry{To: addr("whatsapp:9701"), Text: "a notice"}))

	require.NoError(t, b.ForgetContact(ctx, gone.ID))
	_, err = b.Contact(ctx, gone.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	for _, a := range []string{"telegram:1", "whatsapp:9701"} {
		_, err = b.ContactByAddress(ctx, addr(a))
		require.ErrorIs(t, err, store.ErrNotFound, a)
	}
	_, err = b.ContactByRefCode(ctx, gone.RefCode)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.Session(ctx, gone.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.Pledge(ctx, camp.ID, gone.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.Signup(ctx, camp.ID, gone.ID)
	require.ErrorIs(t, err, store.ErrNotFound)

	counts, err := b.Counts(ctx, camp.ID)
	require.NoError(t, err)
	require.Equal(t, store.Counts{Pledges: 2, Signups: 0}, counts, "pledges stay counted; sign-ups go")
	var pledges []store.Pledge
	require.NoError(t, b.Pledges(ctx, camp.ID, func(p *store.Pledge) error {
		pledges = append(pledges, *p)
		return nil
	}))
	require.Len(t, pledges, 2)
	require.Equal(t, stays.ID, pledges[0].ContactID)
	anon := pledges[1]
	require.Zero(t, anon.ContactID, "an anonymous pledge, after the others")
	require.Equal(t, camp.ID, anon.CampaignID)
	require.True(t, anon.At.Equal(p.At))
	require.Equal(t, uint64(6), anon.Institution, "the institution credited stays")
	require.Equal(t, store.Pledge{CampaignID: camp.ID, At: anon.At, Institution: 6}, anon, "nothing of the person")
	st, err := b.CampaignStats(ctx, camp.ID)
	require.NoError(t, err)
	require.Equal(t, 2, st.Pledges)
	require.Equal(t, 1, st.PledgesByGovernorate[""])
	share, err := b.CampaignShareStats(ctx, camp.ID, 6)
	require.NoError(t, err)
	require.Equal(t, 1, share.Pledges, "the share stays exact")

	for _, e := range append(allPending(t, b, bot.Telegram, true), allPending(t, b, bot.WhatsApp, false)...) {
		require.Equal(t, stays.ID, e.ContactID, "their queued messages are gone")
	}
	got, err := b.Broadcast(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.Cancelled)
	kept, err := b.Contact(ctx, stays.ID)
	require.NoError(t, err)
	require.Equal(t, gone.ID, kept.ReferredBy, "others keep the number")
	n, err := b.CountAudience(ctx, store.Audience{Kind: store.AudienceGovernorate, Governorate: "gaza"}, nil)
	require.NoError(t, err)
	require.Equal(t, 1, n.Total)

	require.ErrorIs(t, b.ForgetContact(ctx, gone.ID), store.ErrNotFound)
	again, created, err := b.EnsureContact(ctx, addr("telegram:1"), "", "")
	require.NoError(t, err)
	require.True(t, created, "the address is free")
	require.NotEqual(t, gone.ID, again.ID)
}
