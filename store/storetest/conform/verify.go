package conform

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// VerifyBackend is a Backend with the codes that prove a call genuine and
// the count of wrong codes asked about.
type VerifyBackend interface {
	Backend

	PutCall(ctx context.Context, c *store.Call) error
	Call(ctx context.Context, code string) (*store.Call, error)
	CallOf(ctx context.Context, kind string, id uint64) (*store.Call, error)
	VerifyFailures(ctx context.Context, mark []byte, now time.Time) ([]time.Time, error)
	AddVerifyFailure(ctx context.Context, mark []byte, now time.Time) error
}

// RunVerify runs the tests of verification codes, each on a new, empty
// backend from open.
func RunVerify(t *testing.T, open func(t *testing.T) VerifyBackend) {
	t.Run("Calls", func(t *testing.T) { testCalls(t, open(t)) })
	t.Run("ConcurrentCalls", func(t *testing.T) { testConcurrentCalls(t, open(t)) })
	t.Run("VerifyFailures", func(t *testing.T) { testVerifyFailures(t, open(t)) })
}

func testCalls(t *testing.T, b VerifyBackend) {
	before := time.Now().Add(-time.Minute)
	c := &store.Call{Code: "K7P2QX9MRT", Kind: "broadcast", RefID: 3, CampaignID: 1, TextAR: "نص", TextEN: "text"}
	require.NoError(t, b.PutCall(ctx, c))
	require.True(t, c.At.After(before), "stamped now")
	require.Equal(t, time.UTC, c.At.Location())
	got, err := b.Call(ctx, "K7P2QX9MRT")
	require.NoError(t, err)
	require.Equal(t, c.Code, got.Code)
	require.Equal(t, c.Kind, got.Kind)
	require.Equal(t, c.RefID, got.RefID)
	require.Equal(t, c.CampaignID, got.CampaignID)
	require.Equal(t, c.TextAR, got.TextAR)
	require.Equal(t, c.TextEN, got.TextEN)
	require.True(t, c.At.Equal(got.At))
	byRef, err := b.CallOf(ctx, "broadcast", 3)
	require.NoError(t, err)
	require.Equal(t, "K7P2QX9MRT", byRef.Code)
	_, err = b.CallOf(ctx, "reminder", 3)
	require.ErrorIs(t, err, store.ErrNotFound, "kinds do not mix")
	_, err = b.CallOf(ctx, "broadcast", 4)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.Call(ctx, "NOSUCHCODE")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.Call(ctx, "k7p2qx9mrt")
	require.ErrorIs(t, err, store.ErrNotFound, "codes are exact")
	require.ErrorIs(t, b.PutCall(ctx, &store.Call{Code: "K7P2QX9MRT", Kind: "reminder", RefID: 1}), store.ErrCodeTaken, "a code is never reused")
	_, err = b.CallOf(ctx, "reminder", 1)
	require.ErrorIs(t, err, store.ErrNotFound, "a refused call is not anyone's latest")
	require.Error(t, b.PutCall(ctx, &store.Call{Kind: "reminder", RefID: 1}), "a call needs a code")

	// a reminder's later firing is its latest call; the earlier stays valid
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	require.NoError(t, b.PutCall(ctx, &store.Call{Code: "AAAAABBBBB", Kind: "reminder", RefID: 5, At: at}))
	require.NoError(t, b.PutCall(ctx, &store.Call{Code: "CCCCCDDDDD", Kind: "reminder", RefID: 5}))
	latest, err := b.CallOf(ctx, "reminder", 5)
	require.NoError(t, err)
	require.Equal(t, "CCCCCDDDDD", latest.Code)
	first, err := b.Call(ctx, "AAAAABBBBB")
	require.NoError(t, err)
	require.True(t, first.At.Equal(at))

	// a call recorded in a unit of work that fails is not kept
	boom := errors.New("boom")
	err = b.InTx(ctx, func(ctx context.Context) error {
		if err := b.PutCall(ctx, &store.Call{Code: "EEEEEFFFFF", Kind: "reminder", RefID: 5}); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = b.Call(ctx, "EEEEEFFFFF")
	require.ErrorIs(t, err, store.ErrNotFound)
	latest, err = b.CallOf(ctx, "reminder", 5)
	require.NoError(t, err)
	require.Equal(t, "CCCCCDDDDD", latest.Code)
}

// testConcurrentCalls records each code from several goroutines at once:
// one of them gets it, the others store.ErrCodeTaken.
func testConcurrentCalls(t *testing.T, b VerifyBackend) {
	const codes, writers = 6, 5
	wins := make([]int, codes)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, codes*writers)
	for i := range codes {
		for w := range writers {
			wg.Go(func() {
				err := b.PutCall(ctx, &store.Call{Code: fmt.Sprintf("CODE%06d", i), Kind: "broadcast", RefID: uint64(100*i + w)})
				switch {
				case errors.Is(err, store.ErrCodeTaken):
				case err != nil:
					errs <- err
				default:
					mu.Lock()
					wins[i]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for i, n := range wins {
		require.Equal(t, 1, n, "code %d recorded once", i)
		c, err := b.Call(ctx, fmt.Sprintf("CODE%06d", i))
		require.NoError(t, err)
		latest, err := b.CallOf(ctx, "broadcast", c.RefID)
		require.NoError(t, err)
		require.Equal(t, c.Code, latest.Code, "the winner's call is its latest")
	}
}

func testVerifyFailures(t *testing.T, b VerifyBackend) {
	mark, other := []byte("mark-of-telegram:1"), []byte("mark-of-telegram:2")
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	none, err := b.VerifyFailures(ctx, mark, t0)
	require.NoError(t, err)
	require.Empty(t, none)
	for i := range 3 {
		require.NoError(t, b.AddVerifyFailure(ctx, mark, t0.Add(time.Duration(i)*20*time.Minute)))
	}
	fails, err := b.VerifyFailures(ctx, mark, t0.Add(45*time.Minute))
	require.NoError(t, err)
	require.Len(t, fails, 3)
	for i, at := range fails {
		require.True(t, at.Equal(t0.Add(time.Duration(i)*20*time.Minute)), "in the order they came")
	}
	fails, err = b.VerifyFailures(ctx, mark, t0.Add(60*time.Minute))
	require.NoError(t, err)
	require.Len(t, fails, 2, "the first has aged out at the hour exactly")
	fails, err = b.VerifyFailures(ctx, other, t0.Add(45*time.Minute))
	require.NoError(t, err)
	require.Empty(t, fails, "another address has its own count")

	// a failure added later drops those older than the hour for good
	require.NoError(t, b.AddVerifyFailure(ctx, mark, t0.Add(90*time.Minute)))
	fails, err = b.VerifyFailures(ctx, mark, t0.Add(45*time.Minute))
	require.NoError(t, err)
	require.Len(t, fails, 2, "20 and 40 minutes in were kept, 0 was dropped, 90 is not yet")

	// failures added at once from many goroutines are all counted
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			if err := b.AddVerifyFailure(ctx, other, t0.Add(time.Duration(i)*time.Second)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	fails, err = b.VerifyFailures(ctx, other, t0.Add(time.Minute))
	require.NoError(t, err)
	require.Len(t, fails, 20)
}
