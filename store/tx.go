package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// A unit of work. Handling one incoming message must change the store once:
// mark the update handled, apply what the person did, and queue the replies,
// all in one commit (a crash then either loses nothing or leaves the replies
// queued). The store's methods each run in a transaction of their own, unless
// ctx carries one opened by InTx: then they join it, and everything commits or
// rolls back together. Operations can therefore be called alone (from the
// dashboard, the scheduler, a command-line tool) or as part of a larger unit,
// without knowing which.
//
// A joined transaction belongs to the goroutine that runs the unit: bbolt
// transactions are not safe for concurrent use.
//
// Commits are shared: InSharedTx, and the methods that write alone on the
// hot path (writeBatch), put the writers that arrive while a commit is under
// way into the next one, which then syncs the disk once for all of them. A
// lone writer commits at once. One commit is one transaction however many
// messages it carries, and the cost of the sync, not of the work, bounds
// how many messages a second the bot handles.

// ambient is the transaction InTx puts in a context.
type ambient struct {
	tx    *bbolt.Tx
	store *Store
	hooks []func()
}

type ambientKey struct{}

// ErrNested means InTx was called with a context that already carries a
// transaction of another store.
var ErrNested = errors.New("a transaction of another store is already open")

// InTx runs fn with a context carrying one write transaction: every store
// method called with that context joins it. If fn returns an error, nothing
// fn did is kept. Functions given to AfterCommit run once the transaction has
// committed, in order. If ctx already carries a transaction of this store, fn
// joins it (and its hooks run when the outer one commits).
//
// A rule an operation enforces must be checked before it writes: an error
// that fn handles, rather than returns, does not undo writes made before it.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if a := ambientOf(ctx); a != nil {
		if a.store != s {
			return ErrNested
		}
		return fn(ctx)
	}
	a := &ambient{store: s}
	err := s.update(func(tx *bbolt.Tx) (err error) {
		a.tx = tx
		defer func() {
			a.tx = nil
			if r := recover(); r != nil {
				// fn is the caller's code: only a panic inside bbolt means damage
				err = PanicError(r)
			}
		}()
		return fn(context.WithValue(ctx, ambientKey{}, a))
	})
	if err != nil {
		return err
	}
	for _, h := range a.hooks {
		h()
	}
	return nil
}

// InSharedTx is InTx in a write transaction that may be shared with other
// writers, so that messages handled at the same moment share one commit,
// and one sync to disk, instead of waiting for each other's: a commit starts
// at once if none is under way, else it takes every writer that arrived
// meanwhile. Nothing waits for company (unless WithBatchDelay says to), so
// a lone message is as quick as with InTx.
//
// fn may run more than once: when another function of the shared
// transaction fails, the transaction is rolled back and the others run
// again, and the one that failed runs alone. So fn must change nothing but
// the store, except through AfterCommit, whose hooks run once. fn's
// functions run one after another on whichever goroutine commits, never at
// once. If ctx already carries a transaction of this store, fn joins it, as
// with InTx.
func (s *Store) InSharedTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if a := ambientOf(ctx); a != nil {
		if a.store != s {
			return ErrNested
		}
		return fn(ctx)
	}
	var a *ambient
	err := s.sharedUpdate(func(tx *bbolt.Tx) (err error) {
		// a run afresh forgets the hooks of the one rolled back
		a = &ambient{store: s, tx: tx}
		defer func() {
			a.tx = nil
			if r := recover(); r != nil {
				err = PanicError(r)
			}
		}()
		return fn(context.WithValue(ctx, ambientKey{}, a))
	})
	if err != nil {
		return err
	}
	for _, h := range a.hooks {
		h()
	}
	return nil
}

// committer shares write transactions between callers of sharedUpdate.
type committer struct {
	// delay is how long a commit waits for company before it starts.
	delay time.Duration
	mu    sync.Mutex
	// waiting are the calls for the next commit; busy is set while a
	// caller commits, and until it has handed on to the next.
	waiting []*sharedCall
	busy    bool
}

// maxShared bounds the calls of one shared commit, as bbolt's
// MaxBatchSize does, so its transaction stays a few megabytes.
const maxShared = 1000

// sharedCall is one caller's function and where its outcome goes.
type sharedCall struct {
	fn   func(tx *bbolt.Tx) error
	done chan error
}

// What a waiting caller is told instead of its outcome: to commit the
// waiting calls itself, or to run its function in a transaction of its own.
var (
	errLead  = errors.New("commit the waiting calls")
	errAlone = errors.New("run alone")
)

// sharedUpdate runs fn in a write transaction with the functions of other
// callers that arrive while one is committing.
func (s *Store) sharedUpdate(fn func(tx *bbolt.Tx) error) error {
	s.writes.Add(1)
	g := &s.shared
	call := &sharedCall{fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.waiting = append(g.waiting, call)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	for {
		if lead {
			if g.delay > 0 {
				time.Sleep(g.delay)
			}
			g.mu.Lock()
			n := min(len(g.waiting), maxShared)
			calls := slices.Clone(g.waiting[:n])
			g.waiting = slices.Delete(g.waiting, 0, n)
			g.mu.Unlock()
			s.commitShared(calls)
			// hand on to the first who came meanwhile, or stand down
			g.mu.Lock()
			if len(g.waiting) > 0 {
				g.waiting[0].done <- errLead
			} else {
				g.busy = false
			}
			g.mu.Unlock()
		}
		switch err := <-call.done; {
		case errors.Is(err, errLead):
			lead = true
		case errors.Is(err, errAlone):
			return s.commit(func(tx *bbolt.Tx) error { return safeCall(fn, tx) })
		default:
			return err
		}
	}
}

// commitShared runs calls in one write transaction and tells each its
// outcome. A call that fails is taken out and told to run alone, and the
// others run again without it; a lone call's failure is its outcome.
func (s *Store) commitShared(calls []*sharedCall) {
	for len(calls) > 0 {
		failed := -1
		err := s.commit(func(tx *bbolt.Tx) error {
			for i, c := range calls {
				if err := safeCall(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 && len(calls) > 1 {
			calls[failed].done <- errAlone
			calls = slices.Delete(calls, failed, failed+1)
			continue
		}
		for _, c := range calls {
			c.done <- err
		}
		return
	}
}

// safeCall runs one caller's function of a shared commit, turning its panic
// into its error (PanicError), so it fails alone.
func safeCall(fn func(tx *bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = PanicError(r)
		}
	}()
	return fn(tx)
}

// AfterCommit runs fn once the transaction ctx carries has committed (not
// if it rolls back), or at once if ctx carries none. Use it for what must
// not happen unless the change is kept: waking a dispatcher, refreshing menus.
func AfterCommit(ctx context.Context, fn func()) {
	if a := ambientOf(ctx); a != nil {
		a.hooks = append(a.hooks, fn)
		return
	}
	if c, ok := ctx.Value(committerKey{}).(Committer); ok && c.Open() {
		c.AddHook(fn)
		return
	}
	fn()
}

// InTransaction reports whether ctx carries a transaction opened by InTx,
// of this store or of another (WithCommitter).
func InTransaction(ctx context.Context) bool {
	if ambientOf(ctx) != nil {
		return true
	}
	c, ok := ctx.Value(committerKey{}).(Committer)
	return ok && c.Open()
}

// Ping checks that the file answers: a read transaction opens.
func (s *Store) Ping(ctx context.Context) error {
	return s.read(ctx, func(*bbolt.Tx) error { return nil })
}

func ambientOf(ctx context.Context) *ambient {
	a, _ := ctx.Value(ambientKey{}).(*ambient)
	if a == nil || a.tx == nil {
		return nil
	}
	return a
}

// read runs fn in the transaction ctx carries, or in a read transaction of its own.
func (s *Store) read(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if a := s.joined(ctx); a != nil {
		return fn(a.tx)
	}
	return s.view(fn)
}

// write runs fn in the transaction ctx carries, or in a write transaction of its own.
func (s *Store) write(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if a := s.joined(ctx); a != nil {
		return fn(a.tx)
	}
	return s.update(fn)
}

// writeBatch is write for idempotent changes: alone, it shares its commit
// with concurrent writers (sharedUpdate, which may run fn twice).
func (s *Store) writeBatch(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if a := s.joined(ctx); a != nil {
		return fn(a.tx)
	}
	return s.batch(fn)
}

// joined returns the ambient transaction of ctx if it is this store's.
func (s *Store) joined(ctx context.Context) *ambient {
	a := ambientOf(ctx)
	if a == nil || a.store != s {
		return nil
	}
	return a
}

// wrapf wraps err with context unless it is nil.
func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
