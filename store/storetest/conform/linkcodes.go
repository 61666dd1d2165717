package conform

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

// LinkCodesBackend is a Backend that keeps the codes of /link, pending
// links, address marks and what is kept under them, on a clock the suite
// moves.
type LinkCodesBackend interface {
	Backend
	Clock
	PutLinkCode(ctx context.Context, code string, contactID uint64, expires time.Time) error
	TakeLinkCode(ctx context.Context, code string, now time.Time) (uint64, error)
	ForgetLinkCodes(ctx context.Context, contactID uint64) error
	PutPendingLink(ctx context.Context, token string, pl store.PendingLink) error
	TakePendingLink(ctx context.Context, token string, now time.Time) (store.PendingLink, error)
	AddressMark(ctx context.Context, addr bot.Address) ([]byte, error)
	LinkFailures(ctx context.Context, mark []byte, now time.Time) ([]time.Time, error)
	AddLinkFailure(ctx context.Context, mark []byte, now time.Time) error
	CreditReferralOnce(ctx context.Context, mark []byte) (bool, error)
}

// RunLinkCodes runs those tests, each on a new backend.
func RunLinkCodes(t *testing.T, open func(t *testing.T) LinkCodesBackend) {
	t.Run("LinkCodes", func(t *testing.T) { testLinkCodes(t, open(t)) })
	t.Run("ConcurrentTakeLinkCode", func(t *testing.T) { testConcurrentTakeLinkCode(t, open(t)) })
	t.Run("PendingLinks", func(t *testing.T) { testPendingLinks(t, open(t)) })
	t.Run("AddressMarks", func(t *testing.T) { testAddressMarks(t, open(t)) })
	t.Run("ConcurrentMarks", func(t *testing.T) { testConcurrentMarks(t, open(t)) })
}

func testLinkCodes(t *testing.T, b LinkCodesBackend) {
	now := b.Now()
	require.NoError(t, b.PutLinkCode(ctx, "first", 7, now.Add(10*time.Minute)))
	require.NoError(t, b.PutLinkCode(ctx, "second", 7, now.Add(10*time.Minute)))
	_, err := b.TakeLinkCode(ctx, "first", now)
	require.ErrorIs(t, err, store.ErrNotFound, "a new code replaces the old one")
	id, err := b.TakeLinkCode(ctx, "second", now)
	require.NoError(t, err)
	require.Equal(t, uint64(7), id)
	_, err = b.TakeLinkCode(ctx, "second", now)
	require.ErrorIs(t, err, store.ErrNotFound, "a code works once")

	require.NoError(t, b.PutLinkCode(ctx, "late", 8, now.Add(time.Minute)))
	_, err = b.TakeLinkCode(ctx, "late", now.Add(2*time.Minute))
	require.ErrorIs(t, err, store.ErrNotFound, "expired")
	_, err = b.TakeLinkCode(ctx, "late", now)
	require.ErrorIs(t, err, store.ErrNotFound, "an expired code taken is gone")
	require.NoError(t, b.PutLinkCode(ctx, "edge", 8, now.Add(time.Minute)))
	_, err = b.TakeLinkCode(ctx, "edge", now.Add(time.Minute))
	require.ErrorIs(t, err, store.ErrNotFound, "expired at its time")

	// codes expired before new ones are stored are pruned; live ones stay
	for i := range 40 {
		require.NoError(t, b.PutLinkCode(ctx, fmt.Sprintf("c%d", i), uint64(100+i), b.Now().Add(time.Minute)))
	}
	require.NoError(t, b.PutLinkCode(ctx, "live", 9, b.Now().Add(3*time.Hour)))
	b.Advance(time.Hour)
	for i := range 5 {
		require.NoError(t, b.PutLinkCode(ctx, fmt.Sprintf("n%d", i), uint64(200+i), b.Now().Add(time.Minute)))
	}
	id, err = b.TakeLinkCode(ctx, "live", b.Now())
	require.NoError(t, err)
	require.Equal(t, uint64(9), id)
	id, err = b.TakeLinkCode(ctx, "n4", b.Now())
	require.NoError(t, err)
	require.Equal(t, uint64(204), id)
	_, err = b.TakeLinkCode(ctx, "c0", b.Now())
	require.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, b.PutLinkCode(ctx, "mine", 4, b.Now().Add(time.Minute)))
	require.NoError(t, b.ForgetLinkCodes(ctx, 4))
	_, err = b.TakeLinkCode(ctx, "mine", b.Now())
	require.ErrorIs(t, err, store.ErrNotFound, "forgotten with the person")
}

// testConcurrentTakeLinkCode: a code typed on two instances at once links
// once.
func testConcurrentTakeLinkCode(t *testing.T, b LinkCodesBackend) {
	now := b.Now()
	const codes = 5
	for i := range codes {
		require.NoError(t, b.PutLinkCode(ctx, fmt.Sprintf("code%d", i), uint64(i+1), now.Add(time.Hour)))
	}
	var taken [codes]atomic.Int32
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range codes {
				k := (i + w) % codes
				id, err := b.TakeLinkCode(ctx, fmt.Sprintf("code%d", k), now)
				switch {
				case err == nil:
					if id != uint64(k+1) {
						t.Errorf("code%d stands for %d", k, id)
					}
					taken[k].Add(1)
				case !isNotFound(err):
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for i := range codes {
		require.Equal(t, int32(1), taken[i].Load(), "code%d", i)
	}
}

func isNotFound(err error) bool { return err != nil && errors.Is(err, store.ErrNotFound) }

func testPendingLinks(t *testing.T, b LinkCodesBackend) {
	now := b.Now()
	require.NoError(t, b.PutPendingLink(ctx, "tok", store.PendingLink{Owner: 1, Requester: 2,
		Expires: now.Add(time.Minute).In(time.FixedZone("x", 3600))}))
	pl, err := b.TakePendingLink(ctx, "tok", now)
	require.NoError(t, err)
	require.Equal(t, store.PendingLink{Owner: 1, Requester: 2, Expires: now.Add(time.Minute).UTC()}, pl)
	_, err = b.TakePendingLink(ctx, "tok", now)
	require.ErrorIs(t, err, store.ErrNotFound, "confirmed once")

	require.NoError(t, b.PutPendingLink(ctx, "old", store.PendingLink{Owner: 1, Requester: 2, Expires: now.Add(time.Minute)}))
	_, err = b.TakePendingLink(ctx, "old", now.Add(time.Minute))
	require.ErrorIs(t, err, store.ErrNotFound, "expired")

	require.NoError(t, b.PutPendingLink(ctx, "tok2", store.PendingLink{Owner: 3, Requester: 4, Expires: now.Add(time.Minute)}))
	require.NoError(t, b.PutPendingLink(ctx, "tok3", store.PendingLink{Owner: 4, Requester: 5, Expires: now.Add(time.Minute)}))
	require.NoError(t, b.PutPendingLink(ctx, "tok4", store.PendingLink{Owner: 6, Requester: 7, Expires: now.Add(time.Minute)}))
	require.NoError(t, b.ForgetLinkCodes(ctx, 4))
	for _, tok := range []string{"tok2", "tok3"} {
		_, err = b.TakePendingLink(ctx, tok, now)
		require.ErrorIs(t, err, store.ErrNotFound, "%s: forgotten with the person, either side", tok)
	}
	pl, err = b.TakePendingLink(ctx, "tok4", now)
	require.NoError(t, err)
	require.Equal(t, uint64(6), pl.Owner)

	var wg sync.WaitGroup
	var won atomic.Int32
	require.NoError(t, b.PutPendingLink(ctx, "race", store.PendingLink{Owner: 8, Requester: 9, Expires: now.Add(time.Minute)}))
	for range 5 {
		wg.Go(func() {
			if _, err := b.TakePendingLink(ctx, "race", now); err == nil {
				won.Add(1)
			} else if !isNotFound(err) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(1), won.Load(), "two confirmations at once link once")
}

func testAddressMarks(t *testing.T, b LinkCodesBackend) {
	a := addr("telegram:42")
	m1, err := b.AddressMark(ctx, a)
	require.NoError(t, err)
	require.Len(t, m1, 16)
	m2, err := b.AddressMark(ctx, a)
	require.NoError(t, err)
	require.Equal(t, m1, m2)
	other, err := b.AddressMark(ctx, addr("telegram:43"))
	require.NoError(t, err)
	require.NotEqual(t, m1, other)
	if r, ok := b.(Reopener); ok {
		nb, err := r.Reopen()
		require.NoError(t, err)
		b = nb.(LinkCodesBackend)
		m3, err := b.AddressMark(ctx, a)
		require.NoError(t, err)
		require.Equal(t, m1, m3, "the key is kept")
	}

	now := time.Date(2026, 3, 1, 9, 0, 0, 500, time.UTC)
	for range 3 {
		require.NoError(t, b.AddLinkFailure(ctx, m1, now))
	}
	fails, err := b.LinkFailures(ctx, m1, now)
	require.NoError(t, err)
	require.Len(t, fails, 3)
	for _, f := range fails {
		require.True(t, f.Equal(now.Truncate(time.Second)), "kept to the second")
	}
	none, err := b.LinkFailures(ctx, other, now)
	require.NoError(t, err)
	require.Empty(t, none)
	fails, err = b.LinkFailures(ctx, m1, now.Add(59*time.Minute))
	require.NoError(t, err)
	require.Len(t, fails, 3)
	fails, err = b.LinkFailures(ctx, m1, now.Add(61*time.Minute))
	require.NoError(t, err)
	require.Empty(t, fails, "an hour later they no longer count")
	require.NoError(t, b.AddLinkFailure(ctx, m1, now.Add(61*time.Minute)))
	fails, err = b.LinkFailures(ctx, m1, now.Add(61*time.Minute))
	require.NoError(t, err)
	require.Len(t, fails, 1, "the old ones dropped")

	first, err := b.CreditReferralOnce(ctx, m1)
	require.NoError(t, err)
	require.True(t, first)
	first, err = b.CreditReferralOnce(ctx, m1)
	require.NoError(t, err)
	require.False(t, first, "for good")
	first, err = b.CreditReferralOnce(ctx, other)
	require.NoError(t, err)
	require.True(t, first)
}

// testConcurrentMarks: instances drawing the address key at once agree on
// one; failures recorded at once all count; a referral credited at once is
// credited once.
func testConcurrentMarks(t *testing.T, b LinkCodesBackend) {
	a := addr("whatsapp:970")
	marks := make([][]byte, 6)
	var wg sync.WaitGroup
	for i := range marks {
		wg.Go(func() {
			m, err := b.AddressMark(ctx, a)
			if err != nil {
				t.Error(err)
			}
			marks[i] = m
		})
	}
	wg.Wait()
	for _, m := range marks[1:] {
		require.Equal(t, marks[0], m)
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var credited atomic.Int32
	for range 10 {
		wg.Go(func() {
			if err := b.AddLinkFailure(ctx, marks[0], now); err != nil {
				t.Error(err)
			}
			first, err := b.CreditReferralOnce(ctx, marks[0])
			if err != nil {
				t.Error(err)
			}
			if first {
				credited.Add(1)
			}
		})
	}
	wg.Wait()
	fails, err := b.LinkFailures(ctx, marks[0], now)
	require.NoError(t, err)
	require.Len(t, fails, 10)
	require.Equal(t, int32(1), credited.Load())
}
