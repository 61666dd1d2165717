package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"mobilise/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A unit of work, as in package store: the methods each run in a
// transaction of their own unless ctx carries one opened by InTx, which
// they then join, so everything commits or rolls back together.
//
// A transaction that fails because PostgreSQL could not serialize it
// (40001) or chose it as a deadlock's victim (40P01) is rolled back and run
// again, up to maxAttempts times, so callers never see those errors. fn may
// therefore run more than once, as with store.InSharedTx: it must change
// nothing but the store, except through AfterCommit, whose hooks run once,
// from the attempt that committed.
//
// A joined transaction belongs to the goroutine that runs the unit: a
// pgx.Tx is one connection, not safe for concurrent use.

// ambient is the transaction InTx puts in a context.
type ambient struct {
	tx    pgx.Tx
	store *Store
	hooks []func()
}

type ambientKey struct{}

// maxAttempts bounds how often a transaction runs again after a
// serialization failure or deadlock.
const maxAttempts = 10

// InTx runs fn with a context carrying one transaction: every method of
// this store called with that context joins it. If fn returns an error,
// nothing fn did is kept. Functions given to AfterCommit run once the
// transaction has committed, in order. If ctx already carries a transaction
// of this store, fn joins it (and its hooks run when the outer one
// commits); one of another store gives store.ErrNested.
//
// An error inside the transaction aborts it in PostgreSQL: an fn that
// handles an operation's error rather than returning it cannot go on
// writing, and should return an error.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if a := ambientOf(ctx); a != nil {
		if a.store != s {
			return store.ErrNested
		}
		return fn(ctx)
	}
	return s.run(ctx, func(tx pgx.Tx, a *ambient) error {
		return fn(store.WithCommitter(context.WithValue(ctx, ambientKey{}, a), a))
	})
}

// InSharedTx is InTx: PostgreSQL shares the disk's flushes between
// concurrent commits itself (commit_delay, group commit), so every unit of
// work has a transaction of its own. As with the bbolt store's, fn may run
// more than once (after a serialization failure).
func (s *Store) InSharedTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.InTx(ctx, fn)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// Open and AddHook make the unit of work a store.Committer, so
// store.AfterCommit, which the bot's operations call, reaches it.
func (a *ambient) Open() bool        { return a.tx != nil }
func (a *ambient) AddHook(fn func()) { a.hooks = append(a.hooks, fn) }

// run runs fn in a transaction of its own, again after a serialization
// failure or deadlock, and then the hooks of the attempt that committed.
func (s *Store) run(ctx context.Context, fn func(tx pgx.Tx, a *ambient) error) error {
	for attempt := 1; ; attempt++ {
		a, err := s.attempt(ctx, fn)
		if err == nil {
			for _, h := range a.hooks {
				h()
			}
			return nil
		}
		if !retryable(err) || attempt == maxAttempts {
			return err
		}
		// a little jitter so the transactions that collided do not again
		wait := time.Duration(attempt) * time.Duration(1+rand.IntN(5)) * time.Millisecond
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// attempt runs fn once in a new transaction and commits it, returning
// the ambient whose hooks are to run.
func (s *Store) attempt(ctx context.Context, fn func(tx pgx.Tx, a *ambient) error) (_ *ambient, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("beginning a transaction: %w", err)
	}
	a := &ambient{tx: tx, store: s}
	defer func() {
		a.tx = nil
		if r := recover(); r != nil {
			err = store.PanicError(r)
		}
		if err != nil {
			// a rollback after a failed statement or a lost connection
			// fails too, and says nothing the first error does not
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(tx, a); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("committing: %w", err)
	}
	return a, nil
}

// retryable reports whether err means the transaction may succeed if run
// again: a serialization failure or a deadlock.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// AfterCommit runs fn once the transaction ctx carries has committed (not
// if it rolls back), or at once if ctx carries none, as store.AfterCommit
// does for the bbolt store.
func AfterCommit(ctx context.Context, fn func()) {
	if a := ambientOf(ctx); a != nil {
		a.hooks = append(a.hooks, fn)
		return
	}
	fn()
}

// InTransaction reports whether ctx carries a transaction opened by InTx.
func InTransaction(ctx context.Context) bool { return ambientOf(ctx) != nil }

func ambientOf(ctx context.Context) *ambient {
	a, _ := ctx.Value(ambientKey{}).(*ambient)
	if a == nil || a.tx == nil {
		return nil
	}
	return a
}

// joined returns the ambient transaction of ctx if it is this store's.
func (s *Store) joined(ctx context.Context) *ambient {
	a := ambientOf(ctx)
	if a == nil || a.store != s {
		return nil
	}
	return a
}

// write runs fn in the transaction ctx carries, or in a transaction of its
// own (run again after a serialization failure, so fn must only change
// the database and its own results, resetting them when it starts).
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if a := s.joined(ctx); a != nil {
		// in a savepoint: an operation refused (a unique violation, say)
		// leaves the unit of work usable, as it does on bbolt, where the
		// caller may answer the refusal and go on writing
		sp, err := a.tx.Begin(ctx)
		if err != nil {
			return fmt.Errorf("postgres: savepoint: %w", err)
		}
		if err := fn(sp); err != nil {
			if rerr := sp.Rollback(ctx); rerr != nil {
				return errors.Join(err, fmt.Errorf("postgres: rolling back to the savepoint: %w", rerr))
			}
			return err
		}
		if err := sp.Commit(ctx); err != nil {
			return fmt.Errorf("postgres: releasing the savepoint: %w", err)
		}
		return nil
	}
	return s.run(ctx, func(tx pgx.Tx, _ *ambient) error { return fn(tx) })
}

// querier is what reads need: a transaction or the pool.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// q is the transaction ctx carries, or the pool for a read of its own.
func (s *Store) q(ctx context.Context) querier {
	if a := s.joined(ctx); a != nil {
		return a.tx
	}
	return s.pool
}

// isUnique reports whether err is a unique violation of constraint.
func isUnique(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == constraint
}
