package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// TestTwoInstances runs the claims that must happen once on two stores,
// each with a pool of its own, on one database, as two instances of the
// bot do: an update handled once, a reminder's slot fired once, a link
// code taken once, a campaign's watchers told once, a referral credited
// once.
func TestTwoInstances(t *testing.T) {
	ctx := context.Background()
	a, u := openTest(t)
	b, err := Open(ctx, u)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	stores := []*Store{a, b}

	// race runs fn on both instances, n times each, at once, and counts
	// the calls that won
	race := func(n int, fn func(s *Store, i int) (bool, error)) int32 {
		var won atomic.Int32
		var wg sync.WaitGroup
		for _, s := range stores {
			for i := range n {
				wg.Go(func() {
					ok, err := fn(s, i)
					if err != nil {
						t.Error(err)
					}
					if ok {
						won.Add(1)
					}
				})
			}
		}
		wg.Wait()
		return won.Load()
	}

	require.Equal(t, int32(1), race(8, func(s *Store, _ int) (bool, error) {
		return s.MarkHandled(ctx, bot.Telegram, "4242")
	}), "an update delivered to both is handled once")

	slot := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	r := &store.Reminder{TextAR: "يومي", Audience: store.Audience{Kind: store.AudienceEveryone}, NextFireAt: slot}
	require.NoError(t, a.CreateReminder(ctx, r))
	require.Equal(t, int32(1), race(8, func(s *Store, _ int) (bool, error) {
		return s.ClaimReminder(ctx, r.ID, slot, slot.Add(24*time.Hour),
			[]store.OutboxEntry{{To: bot.MustParseAddress("telegram:1"), Text: r.TextAR}})
	}), "a reminder's slot fires once")
	queued, err := b.PendingOutbox(ctx, bot.Telegram, true, 0, 100)
	require.NoError(t, err)
	require.Len(t, queued, 1)

	now := time.Now() // the stores' clock, which prunes expired codes
	require.NoError(t, a.PutLinkCode(ctx, "k7", 7, now.Add(time.Hour)))
	require.Equal(t, int32(1), race(8, func(s *Store, _ int) (bool, error) {
		_, err := s.TakeLinkCode(ctx, "k7", now)
		if err != nil && !isNotFound(err) {
			return false, err
		}
		return err == nil, nil
	}), "a link code is taken once")

	camp := &store.Campaign{Code: "olive", TitleAR: "زيتون", Kind: store.KindPledge}
	require.NoError(t, a.CreateCampaign(ctx, camp))
	for i := range 10 {
		c, _, err := a.EnsureContact(ctx, bot.MustParseAddress(fmt.Sprintf("telegram:%d", 100+i)), "", "")
		require.NoError(t, err)
		_, err = a.AddWatch(ctx, camp.ID, c.ID)
		require.NoError(t, err)
	}
	var mu sync.Mutex
	told := map[uint64]int{}
	race(3, func(s *Store, _ int) (bool, error) {
		ws, err := s.TakeWatchers(ctx, camp.ID)
		mu.Lock()
		defer mu.Unlock()
		for _, w := range ws {
			told[w.ContactID]++
		}
		return false, err
	})
	require.Len(t, told, 10)
	for id, n := range told {
		require.Equal(t, 1, n, "watcher %d told once", id)
	}

	mark, err := a.AddressMark(ctx, bot.MustParseAddress("telegram:5"))
	require.NoError(t, err)
	other, err := b.AddressMark(ctx, bot.MustParseAddress("telegram:5"))
	require.NoError(t, err)
	require.Equal(t, mark, other, "both instances mark an address alike")
	require.Equal(t, int32(1), race(8, func(s *Store, _ int) (bool, error) {
		return s.CreditReferralOnce(ctx, mark)
	}), "a referral is credited once")
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// TestWebhookSecretShared has two instances, eight calls each at once,
// offer secrets of their own: one is kept, and every call returns it.
func TestWebhookSecretShared(t *testing.T) {
	ctx := context.Background()
	a, u := openTest(t)
	b, err := Open(ctx, u)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })

	const each = 8
	got := make([]string, 2*each)
	offered := map[string]bool{}
	var wg sync.WaitGroup
	for i := range got {
		fresh := fmt.Sprintf("secret-%02d-of-instance-%d", i, i%2)
		offered[fresh] = true
		s := []*Store{a, b}[i%2]
		wg.Go(func() {
			var err error
			got[i], err = s.WebhookSecret(ctx, fresh)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	require.True(t, offered[got[0]], "the secret kept is one offered: %q", got[0])
	for i, secret := range got {
		require.Equal(t, got[0], secret, "call %d", i)
	}
	again, err := b.WebhookSecret(ctx, "a later instance's own")
	require.NoError(t, err)
	require.Equal(t, got[0], again, "a later instance gets the kept secret")
	_, err = a.WebhookSecret(ctx, "")
	require.Error(t, err, "an empty secret is refused")
}
