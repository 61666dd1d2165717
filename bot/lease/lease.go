// Package lease runs the bot's singletons — the Telegram poller in polling
// mode, the scheduler, each channel's outbox dispatcher, the WhatsApp
// connection — on exactly one instance at a time. Each singleton is named;
// an instance runs it only while it holds the lease of that name.
//
// A Leaser grants leases. On PostgreSQL (package store/postgres) a lease is
// an advisory lock of a database session, so several instances on one
// database share it out; Local is the Leaser of the one-instance bbolt
// installation, where bbolt's file lock already keeps a second process
// away, and grants a lease at once unless this process holds it already.
//
// A lease is not a fence: when the database ends the holder's session
// (an administrator's pg_terminate_backend, a server restart), the lock is
// free at once, and the holder learns it a moment later, when the news
// reaches it. Work run under a lease keeps its own rules for the instants
// two instances overlap, as the outbox does with its leased claims.
package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Lease is a lease held on a named singleton.
type Lease interface {
	// Lost is closed when the lease is no longer held: lost, or released.
	Lost() <-chan struct{}
	// Err is nil while the lease is held, and then says why it is not:
	// an error wrapping ErrLost and the cause, or ErrReleased.
	Err() error
	// Release gives the lease up. It may be called more than once, and
	// after the lease was lost.
	Release() error
}

// Leaser grants leases. Hold blocks until the lease of name is won, or ctx
// ends; an error other than ctx's means trying failed (the database is
// unreachable, say) and may be tried again.
type Leaser interface {
	Hold(ctx context.Context, name string) (Lease, error)
}

// ErrLost is the cause of the context Run gives fn when the lease is lost.
var ErrLost = errors.New("lease lost")

// ErrReleased is the cause a released lease's context carries.
var ErrReleased = errors.New("lease released")

type options struct {
	log   *slog.Logger
	retry time.Duration
}

// Option configures Run.
type Option func(*options)

// WithLogger sets the logger Run writes to; default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithRetry sets how long Run waits before trying to win the lease again
// after Hold or fn failed; default 1 s.
func WithRetry(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.retry = d
		}
	}
}

// Run runs fn while it holds the lease of name, until ctx ends. fn's
// context is cancelled, with cause ErrLost, when the lease is lost; once
// fn has returned, Run releases the lease and tries to win it again. An
// error from fn is logged and fn runs again after the retry delay, when
// the lease is won again, so that another instance may take over a
// singleton failing here. fn returning nil while the lease is held means
// its work is done: Run releases the lease and returns. Run returns when
// ctx ends, once fn has returned and the lease is released.
func Run(ctx context.Context, l Leaser, name string, fn func(ctx context.Context) error, opts ...Option) {
	o := options{log: slog.Default(), retry: time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	log := o.log.With("lease", name)
	for ctx.Err() == nil {
		ls, err := l.Hold(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("cannot win the lease", "error", err)
			pause(ctx, o.retry)
			continue
		}
		log.Info("lease won")
		lost, err := runHeld(ctx, ls, fn)
		if rerr := ls.Release(); rerr != nil {
			log.Warn("releasing the lease", "error", rerr)
		}
		switch {
		case ctx.Err() != nil:
			log.Info("lease released", "reason", context.Cause(ctx))
			return
		case lost:
			log.Warn("lease lost, singleton stopped", "reason", ls.Err(), "fn_error", err)
		case err != nil:
			log.Error("singleton failed; lease released", "error", err)
			pause(ctx, o.retry)
		default:
			log.Info("singleton done; lease released")
			return
		}
	}
}

// runHeld runs fn with a context cancelled when ls is lost, and reports
// whether the lease was lost meanwhile, and fn's error.
func runHeld(ctx context.Context, ls Lease, fn func(ctx context.Context) error) (bool, error) {
	fctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-ls.Lost():
			cancel(ErrLost)
		case <-fctx.Done():
		}
	}()
	err := fn(fctx)
	cancel(nil)
	<-watched
	return errors.Is(context.Cause(fctx), ErrLost), err
}

// pause waits d, or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Local grants leases within one process: a lease is granted at once
// unless this Local holds it already, and then when it is released. Its
// leases are never lost. It is the Leaser of the bbolt store, whose file
// one process opens at a time. The zero Local is ready to use.
type Local struct {
	mu   sync.Mutex
	held map[string]*localLease
}

type localLease struct {
	l        *Local
	name     string
	released chan struct{}
	once     sync.Once
}

// Hold returns the lease of name once no other lease of this Local holds
// it, or ctx's error if ctx ends first.
func (l *Local) Hold(ctx context.Context, name string) (Lease, error) {
	for {
		l.mu.Lock()
		cur := l.held[name]
		if cur == nil {
			if l.held == nil {
				l.held = make(map[string]*localLease)
			}
			ls := &localLease{l: l, name: name, released: make(chan struct{})}
			l.held[name] = ls
			l.mu.Unlock()
			return ls, nil
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("holding lease %q: %w", name, context.Cause(ctx))
		case <-cur.released:
		}
	}
}

// Held returns the names of the leases this Local holds, sorted.
func (l *Local) Held() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := make([]string, 0, len(l.held))
	for n := range l.held {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (ls *localLease) Lost() <-chan struct{} { return ls.released }

func (ls *localLease) Err() error {
	select {
	case <-ls.released:
		return ErrReleased
	default:
		return nil
	}
}

func (ls *localLease) Release() error {
	ls.once.Do(func() {
		ls.l.mu.Lock()
		delete(ls.l.held, ls.name)
		ls.l.mu.Unlock()
		close(ls.released)
	})
	return nil
}
