package conform

import (
	"context"
	"errors"
	"testing"
	"time"

	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// SessionsBackend is a Backend that keeps conversation state.
type SessionsBackend interface {
	Backend
	Session(ctx context.Context, contactID uint64) (*store.Session, error)
	PutSession(ctx context.Context, contactID uint64, sess *store.Session) error
	DeleteSession(ctx context.Context, contactID uint64) error
}

// RunSessions runs the tests of conversation state, each on a new backend.
func RunSessions(t *testing.T, open func(t *testing.T) SessionsBackend) {
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open(t)) })
}

func testSessions(t *testing.T, b SessionsBackend) {
	_, err := b.Session(ctx, 1)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, b.DeleteSession(ctx, 1), "deleting nothing is fine")

	sess := &store.Session{Flow: "register", Step: "name", Data: map[string]string{"name_ar": "جمعية"},
		Menu: &store.Menu{ID: "m1", Options: []string{"yes", "no"}}}
	require.NoError(t, b.PutSession(ctx, 1, sess))
	require.False(t, sess.UpdatedAt.IsZero(), "a zero UpdatedAt is stamped")
	got, err := b.Session(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, sess, got)
	_, err = b.Session(ctx, 2)
	require.ErrorIs(t, err, store.ErrNotFound, "contacts are apart")

	set := time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)
	require.NoError(t, b.PutSession(ctx, 1, &store.Session{Flow: "pledge", UpdatedAt: set}))
	got, err = b.Session(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, &store.Session{Flow: "pledge", UpdatedAt: set}, got, "replaced; the caller's UpdatedAt kept to the nanosecond")

	// a unit of work that fails keeps neither the put nor the delete
	boom := errors.New("boom")
	err = b.InTx(ctx, func(ctx context.Context) error {
		if err := b.PutSession(ctx, 2, &store.Session{Flow: "signup"}); err != nil {
			return err
		}
		if err := b.DeleteSession(ctx, 1); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = b.Session(ctx, 2)
	require.ErrorIs(t, err, store.ErrNotFound)
	got, err = b.Session(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "pledge", got.Flow)

	require.NoError(t, b.DeleteSession(ctx, 1))
	_, err = b.Session(ctx, 1)
	require.ErrorIs(t, err, store.ErrNotFound)
}
