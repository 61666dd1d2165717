package postgres

import (
	"context"
	"errors"
	"testing"

	"mobilise/store"

	"github.com/stretchr/testify/require"
)

// TestInTxRetriesSerializationFailures makes PostgreSQL fail the first
// attempts of a unit of work with a serialization failure and a deadlock:
// InTx runs it again, keeps only the attempt that committed, and runs that
// attempt's hooks once.
func TestInTxRetriesSerializationFailures(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	attempts, hooks := 0, 0
	err := s.InTx(ctx, func(ctx context.Context) error {
		attempts++
		tx := s.joined(ctx).tx
		if _, err := tx.Exec(ctx, `INSERT INTO campaigns (code, record) VALUES ($1, '{}')`, "attempt"); err != nil {
			return err
		}
		AfterCommit(ctx, func() { hooks++ })
		switch attempts {
		case 1:
			_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'could not serialize' USING ERRCODE = '40001'; END $$`)
			return err
		case 2:
			_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'deadlock' USING ERRCODE = '40P01'; END $$`)
			return err
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 3, attempts)
	require.Equal(t, 1, hooks, "the hooks of the attempt that committed, once")
	var n int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM campaigns WHERE code = 'attempt'`).Scan(&n))
	require.Equal(t, 1, n, "the failed attempts left nothing")

	// other errors are not retried
	attempts = 0
	err = s.InTx(ctx, func(ctx context.Context) error {
		attempts++
		_, err := s.joined(ctx).tx.Exec(ctx, `INSERT INTO campaigns (code, record) VALUES ('attempt', '{}')`)
		return err
	})
	require.True(t, isUnique(err, "campaigns_code_key"), "%v", err)
	require.Equal(t, 1, attempts)

	// nor is a unit that keeps failing retried for ever
	attempts = 0
	err = s.InTx(ctx, func(ctx context.Context) error {
		attempts++
		_, err := s.joined(ctx).tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'again' USING ERRCODE = '40001'; END $$`)
		return err
	})
	require.True(t, retryable(err))
	require.Equal(t, maxAttempts, attempts)
}

// TestInTxPanic rolls back a unit of work that panics and reports the
// panic as an error, as the bbolt store does.
func TestInTxPanic(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	insert := `INSERT INTO campaigns (code, record) VALUES ('panic', '{}')`
	err := s.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.joined(ctx).tx.Exec(ctx, insert); err != nil {
			return err
		}
		panic("fault")
	})
	require.ErrorContains(t, err, "unexpected fault: fault")
	var n int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM campaigns`).Scan(&n))
	require.Zero(t, n, "rolled back")
	// the connection went back to the pool in a usable state
	require.NoError(t, s.InTx(ctx, func(ctx context.Context) error {
		_, err := s.joined(ctx).tx.Exec(ctx, insert)
		return err
	}))
}

// TestInTxNested joins a nested unit of work to the outer one, runs the
// hooks after the outer commit, and refuses a transaction of another store.
func TestInTxNested(t *testing.T) {
	s, url := openTest(t)
	ctx := context.Background()
	other, err := Open(ctx, url)
	require.NoError(t, err)
	defer other.Close()
	var hooks []string
	boom := errors.New("boom")
	err = s.InTx(ctx, func(ctx context.Context) error {
		outer := s.joined(ctx).tx
		AfterCommit(ctx, func() { hooks = append(hooks, "outer") })
		if err := s.InTx(ctx, func(ctx context.Context) error {
			require.Same(t, outer, s.joined(ctx).tx, "the nested unit joins")
			AfterCommit(ctx, func() { hooks = append(hooks, "inner") })
			return nil
		}); err != nil {
			return err
		}
		require.Empty(t, hooks)
		require.ErrorIs(t, other.InTx(ctx, func(context.Context) error { return nil }), store.ErrNested)
		require.True(t, InTransaction(ctx))
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"outer", "inner"}, hooks)
	require.False(t, InTransaction(ctx))

	hooks = nil
	require.ErrorIs(t, s.InTx(ctx, func(ctx context.Context) error {
		AfterCommit(ctx, func() { hooks = append(hooks, "rolled back") })
		return boom
	}), boom)
	require.Empty(t, hooks)
	AfterCommit(ctx, func() { hooks = append(hooks, "now") })
	require.Equal(t, []string{"now"}, hooks)
}
