package conform

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// DashboardBackend is a Backend with the web dashboard's sign-in links and
// sessions.
type DashboardBackend interface {
	Backend

	PutLoginToken(ctx context.Context, hash []byte, t store.LoginToken) error
	TakeLoginToken(ctx context.Context, hash []byte, now time.Time) (store.LoginToken, error)
	PutWebSession(ctx context.Context, hash []byte, ws store.WebSession) error
	WebSession(ctx context.Context, hash []byte, now time.Time) (store.WebSession, error)
	DeleteWebSession(ctx context.Context, hash []byte) error
	DeleteWebSessions(ctx context.Context, contactID uint64) (int, error)
	WebSessionCount(ctx context.Context, now time.Time) (int, error)
}

// RunDashboard runs the tests of the dashboard's sign-ins, each on a new,
// empty backend from open.
func RunDashboard(t *testing.T, open func(t *testing.T) DashboardBackend) {
	t.Run("LoginTokens", func(t *testing.T) { testLoginTokens(t, open(t)) })
	t.Run("ConcurrentLoginTokens", func(t *testing.T) { testConcurrentLoginTokens(t, open(t)) })
	t.Run("WebSessions", func(t *testing.T) { testWebSessions(t, open(t)) })
	t.Run("ExpiredSignInsPruned", func(t *testing.T) { testSignInsPruned(t, open(t)) })
}

func secret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// soon is a time in the future of every backend's clock, to the second.
func soon() time.Time { return time.Now().UTC().Truncate(time.Second).Add(time.Hour) }

func testLoginTokens(t *testing.T, b DashboardBackend) {
	now := soon()
	from := addr("telegram:42")
	require.NoError(t, b.PutLoginToken(ctx, secret("secret"), store.LoginToken{ContactID: 7, From: from, Lang: "ar", Expires: now.Add(5 * time.Minute)}))
	_, err := b.TakeLoginToken(ctx, secret("guess"), now)
	require.ErrorIs(t, err, store.ErrNotFound)

	got, err := b.TakeLoginToken(ctx, secret("secret"), now)
	require.NoError(t, err)
	require.Equal(t, uint64(7), got.ContactID)
	require.Equal(t, from, got.From)
	require.Equal(t, "ar", got.Lang)
	require.True(t, got.Expires.Equal(now.Add(5*time.Minute)))
	_, err = b.TakeLoginToken(ctx, secret("secret"), now)
	require.ErrorIs(t, err, store.ErrNotFound, "a link works once")

	// a link written again is the new one
	require.NoError(t, b.PutLoginToken(ctx, secret("secret"), store.LoginToken{ContactID: 7, Expires: now.Add(time.Minute)}))
	require.NoError(t, b.PutLoginToken(ctx, secret("secret"), store.LoginToken{ContactID: 8, Expires: now.Add(2 * time.Minute)}))
	_, err = b.TakeLoginToken(ctx, secret("secret"), now.Add(2*time.Minute))
	require.ErrorIs(t, err, store.ErrNotFound, "an expired link is refused, at its expiry exactly")
	_, err = b.TakeLoginToken(ctx, secret("secret"), now)
	require.ErrorIs(t, err, store.ErrNotFound, "and deleted")

	// a link taken in a unit of work that fails is there still
	require.NoError(t, b.PutLoginToken(ctx, secret("other"), store.LoginToken{ContactID: 9, Expires: now.Add(time.Minute)}))
	boom := errors.New("boom")
	err = b.InTx(ctx, func(ctx context.Context) error {
		if _, err := b.TakeLoginToken(ctx, secret("other"), now); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err = b.TakeLoginToken(ctx, secret("other"), now)
	require.NoError(t, err)
	require.Equal(t, uint64(9), got.ContactID)
}

// testConcurrentLoginTokens takes each link from many goroutines at once:
// one of them signs in, the others find nothing.
func testConcurrentLoginTokens(t *testing.T, b DashboardBackend) {
	now := soon()
	const links, takers = 8, 6
	for i := range links {
		require.NoError(t, b.PutLoginToken(ctx, secret(string(rune('a'+i))), store.LoginToken{ContactID: uint64(i + 1), Expires: now.Add(time.Minute)}))
	}
	wins := make([]int, links)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, links*takers)
	for i := range links {
		for range takers {
			wg.Go(func() {
				got, err := b.TakeLoginToken(ctx, secret(string(rune('a'+i))), now)
				switch {
				case errors.Is(err, store.ErrNotFound):
				case err != nil:
					errs <- err
				case got.ContactID != uint64(i+1):
					errs <- errors.New("a link gave another's person")
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
		require.Equal(t, 1, n, "link %d taken once", i)
	}
}

func testWebSessions(t *testing.T, b DashboardBackend) {
	now := soon()
	ws := store.WebSession{ContactID: 7, From: addr("telegram:7"), Lang: "en", CSRF: "c", CreatedAt: now, SeenAt: now, Expires: now.Add(30 * time.Minute)}
	require.NoError(t, b.PutWebSession(ctx, secret("a"), ws))
	ws.ContactID = 8
	require.NoError(t, b.PutWebSession(ctx, secret("b"), ws))
	require.NoError(t, b.PutWebSession(ctx, secret("c"), ws))

	got, err := b.WebSession(ctx, secret("a"), now)
	require.NoError(t, err)
	require.Equal(t, uint64(7), got.ContactID)
	require.Equal(t, addr("telegram:7"), got.From)
	require.Equal(t, "en", got.Lang)
	require.Equal(t, "c", got.CSRF)
	require.True(t, got.CreatedAt.Equal(now))
	require.True(t, got.Expires.Equal(now.Add(30*time.Minute)))
	_, err = b.WebSession(ctx, secret("a"), now.Add(30*time.Minute))
	require.ErrorIs(t, err, store.ErrNotFound, "an idle session has expired")
	_, err = b.WebSession(ctx, secret("z"), now)
	require.ErrorIs(t, err, store.ErrNotFound)
	n, err := b.WebSessionCount(ctx, now)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, err = b.WebSessionCount(ctx, now.Add(30*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 0, n, "none live at their expiry")

	// a request moves the expiry on
	ws.ContactID, ws.SeenAt, ws.Expires = 7, now.Add(20*time.Minute), now.Add(50*time.Minute)
	require.NoError(t, b.PutWebSession(ctx, secret("a"), ws))
	got, err = b.WebSession(ctx, secret("a"), now.Add(40*time.Minute))
	require.NoError(t, err)
	require.True(t, got.SeenAt.Equal(now.Add(20*time.Minute)))
	n, err = b.WebSessionCount(ctx, now.Add(40*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, n)

	require.NoError(t, b.DeleteWebSession(ctx, secret("a")))
	require.NoError(t, b.DeleteWebSession(ctx, secret("a")), "ending a session that is gone is no error")
	_, err = b.WebSession(ctx, secret("a"), now)
	require.ErrorIs(t, err, store.ErrNotFound)

	// ending a person's sessions ends their links too, and no one else's
	require.NoError(t, b.PutLoginToken(ctx, secret("link8"), store.LoginToken{ContactID: 8, Expires: now.Add(time.Minute)}))
	require.NoError(t, b.PutLoginToken(ctx, secret("link9"), store.LoginToken{ContactID: 9, Expires: now.Add(time.Minute)}))
	ws.ContactID = 9
	require.NoError(t, b.PutWebSession(ctx, secret("d"), ws))
	ended, err := b.DeleteWebSessions(ctx, 8)
	require.NoError(t, err)
	require.Equal(t, 2, ended)
	_, err = b.TakeLoginToken(ctx, secret("link8"), now)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = b.WebSession(ctx, secret("d"), now)
	require.NoError(t, err)
	ended, err = b.DeleteWebSessions(ctx, 8)
	require.NoError(t, err)
	require.Equal(t, 0, ended)

	// contact 0 ends everyone's
	ended, err = b.DeleteWebSessions(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, 1, ended)
	_, err = b.TakeLoginToken(ctx, secret("link9"), now)
	require.ErrorIs(t, err, store.ErrNotFound)
	n, err = b.WebSessionCount(ctx, now)
	require.NoError(t, err)
	require.Equal(t, 0, n)
}

// testSignInsPruned writes links and sessions that expired before the
// store's clock: each write prunes them, the live ones stay.
func testSignInsPruned(t *testing.T, b DashboardBackend) {
	past := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
	live := soon()
	require.NoError(t, b.PutWebSession(ctx, secret("live"), store.WebSession{ContactID: 1, Expires: live}))
	require.NoError(t, b.PutLoginToken(ctx, secret("live"), store.LoginToken{ContactID: 1, Expires: live}))
	for i := range 5 {
		require.NoError(t, b.PutWebSession(ctx, secret(string(rune('a'+i))), store.WebSession{ContactID: 2, Expires: past}))
		require.NoError(t, b.PutLoginToken(ctx, secret(string(rune('a'+i))), store.LoginToken{ContactID: 2, Expires: past}))
	}
	for i := range 5 {
		_, err := b.WebSession(ctx, secret(string(rune('a'+i))), past.Add(-time.Hour))
		require.ErrorIs(t, err, store.ErrNotFound, "an expired session is pruned")
		_, err = b.TakeLoginToken(ctx, secret(string(rune('a'+i))), past.Add(-time.Hour))
		require.ErrorIs(t, err, store.ErrNotFound, "an expired link is pruned")
	}
	n, err := b.WebSessionCount(ctx, past.Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the live session is left")
	_, err = b.WebSession(ctx, secret("live"), live.Add(-time.Minute))
	require.NoError(t, err)
	_, err = b.TakeLoginToken(ctx, secret("live"), live.Add(-time.Minute))
	require.NoError(t, err)
}
