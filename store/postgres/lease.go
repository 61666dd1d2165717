package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"mobilise/bot/lease"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Leases on the bot's singletons (package bot/lease): a lease on a name is
// a session-level advisory lock, pg_try_advisory_lock(key) with key the
// 64-bit FNV-1a hash of "mobilise lease " + name, taken on a connection of
// the lease's own (not the pool's). Advisory locks belong to one database,
// so installations sharing a server do not contend; the lock golang-migrate
// takes while migrating has a key of its own.
//
// The lock is held as long as the session lasts, so the lease watches its
// connection:
//
//   - it reads from it all the time, so a session the server ends (an
//     administrator's pg_terminate_backend, a server shut down or
//     restarted) or a connection it closes is noticed at once;
//   - it pings every check interval c, each ping given c to answer, so a
//     connection cut without a word (a network partition, the server's
//     host dead) is noticed within 2c of the last ping answered;
//   - once the lock is won, the session's idle_session_timeout is 3c (and
//     tcp_user_timeout too), so the server ends a session it has heard
//     nothing from for 3c and frees the lock: 3c after that last ping, so
//     a holder still alive has stopped a check interval before another
//     instance can win.
//
// Each try of a session waiting for the lock is given c to answer.
// A holder killed outright (SIGKILL, a crash) frees its lock at once: its
// kernel closes the socket and the server ends the session on the spot.
// Another instance trying every retry interval r wins within r of that, or
// within 3c + r of a cut connection. Defaults c = 2 s, r = 1 s. The session
// settings need PostgreSQL 14 or later.

// Lease check and retry defaults.
const (
	defaultLeaseCheck = 2 * time.Second
	defaultLeaseRetry = time.Second
)

type leaseOptions struct {
	check, retry time.Duration
	holder       string
}

// LeaseOption configures Hold and Leaser.
type LeaseOption func(*leaseOptions)

// LeaseCheck sets the check interval c of the lease's connection (see
// above); default 2 s.
func LeaseCheck(d time.Duration) LeaseOption {
	return func(o *leaseOptions) {
		if d > 0 {
			o.check = d
		}
	}
}

// LeaseRetry sets how often Hold tries again to win a lease another
// session holds; default 1 s.
func LeaseRetry(d time.Duration) LeaseOption {
	return func(o *leaseOptions) {
		if d > 0 {
			o.retry = d
		}
	}
}

// LeaseHolder sets the name this instance gives its lease connections, as
// their application_name "mobilise lease <holder>", which Holders reports
// and pg_stat_activity shows; default host:pid.
func LeaseHolder(name string) LeaseOption {
	return func(o *leaseOptions) {
		if name != "" {
			o.holder = name
		}
	}
}

func leaseOpts(opts []LeaseOption) leaseOptions {
	o := leaseOptions{check: defaultLeaseCheck, retry: defaultLeaseRetry}
	for _, opt := range opts {
		opt(&o)
	}
	if o.holder == "" {
		host, err := os.Hostname()
		if err != nil {
			host = "localhost"
		}
		o.holder = host + ":" + strconv.Itoa(os.Getpid())
	}
	return o
}

// leaseKey is the advisory lock key of the lease on name.
func leaseKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("mobilise lease " + name))
	return int64(h.Sum64())
}

// Lease is a lease held on a named singleton: the advisory lock of a
// database session. It implements lease.Lease.
type Lease struct {
	name  string
	key   int64
	pid   uint32
	since time.Time
	conn  *pgx.Conn
	check time.Duration

	ctx    context.Context
	cancel context.CancelCauseFunc
	lost   chan struct{}      // closed once the lease is not held, lost or released
	stop   context.CancelFunc // called by Release, to stop the watch
	wctx   context.Context    // the watch's context, ended by stop
	done   chan struct{}      // closed when the watch has stopped, the connection its own again
	once   sync.Once
	err    error // why the lease ended, set before lost is closed
	onEnd  func(*Lease)

	relOnce sync.Once
	relErr  error
}

// Hold wins the lease on name and returns it, trying again every retry
// interval while another session holds it, until ctx ends. An error other
// than ctx's means the database could not be reached or answered wrongly.
// The lease lives on after ctx ends, until it is released or lost; its
// connection is its own, which Store.Close does not close, so release
// leases before closing the store.
func (s *Store) Hold(ctx context.Context, name string, opts ...LeaseOption) (*Lease, error) {
	return s.hold(ctx, name, leaseOpts(opts), nil)
}

func (s *Store) hold(ctx context.Context, name string, o leaseOptions, onEnd func(*Lease)) (*Lease, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "mobilise lease " + o.holder
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("holding lease %q: connecting: %w", name, err)
	}
	key := leaseKey(name)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, errors.Join(fmt.Errorf("holding lease %q: %w", name, context.Cause(ctx)), closeConn(conn))
		case <-t.C:
		}
		won, err := tryLock(ctx, conn, key, o.check)
		if err != nil {
			// a won lock whose answer was lost is freed with the session
			return nil, errors.Join(fmt.Errorf("holding lease %q: %w", name, err), closeConn(conn))
		}
		if won {
			break
		}
		t.Reset(o.retry)
	}
	lctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	l := &Lease{
		name: name, key: key, pid: conn.PgConn().PID(), since: time.Now(), conn: conn, check: o.check,
		ctx: lctx, cancel: cancel, lost: make(chan struct{}), done: make(chan struct{}),
		onEnd: onEnd,
	}
	l.wctx, l.stop = context.WithCancel(context.Background())
	go l.watch()
	return l, nil
}

// tryLock tries once to take the lock key on conn, and if it does, has the
// server end the session after 3 check intervals of silence; a session
// still waiting may be quiet for longer.
func tryLock(ctx context.Context, conn *pgx.Conn, key int64, check time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, check)
	defer cancel()
	var won bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&won); err != nil || !won {
		return false, err
	}
	silent := strconv.FormatInt((3 * check).Milliseconds(), 10)
	if _, err := conn.Exec(ctx, `SET idle_session_timeout = `+silent+`; SET tcp_user_timeout = `+silent); err != nil {
		return false, fmt.Errorf("setting the session's timeouts (PostgreSQL 14 or later): %w", err)
	}
	return true, nil
}

// closeConn closes conn, within a few seconds.
func closeConn(conn *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return conn.Close(ctx)
}

// watch reads the lease's connection, pinging it every check interval,
// until Release stops it or the connection fails, and then the lease is lost.
func (l *Lease) watch() {
	defer close(l.done)
	wctx := l.wctx
	for {
		err := l.readFor(wctx, l.check)
		if err == nil {
			err = l.ping(wctx)
		}
		if wctx.Err() != nil {
			return // released
		}
		if err != nil {
			l.end(fmt.Errorf("lease %q: %w: %w", l.name, lease.ErrLost, err))
			_ = l.conn.Close(context.Background()) // already broken: the error says nothing more
			return
		}
	}
}

// readFor reads the connection for d: what arrives is a notification (none
// is expected, and it is dropped), the server's error ending the session,
// or the connection's end.
func (l *Lease) readFor(ctx context.Context, d time.Duration) error {
	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := l.conn.PgConn().WaitForNotification(rctx)
	if err != nil && pgconn.Timeout(err) && ctx.Err() == nil {
		return nil
	}
	return err
}

// ping checks the session answers within the check interval.
func (l *Lease) ping(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, l.check)
	defer cancel()
	if err := l.conn.Ping(pctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// end marks the lease ended for reason, once.
func (l *Lease) end(reason error) {
	l.once.Do(func() {
		l.err = reason
		l.cancel(reason)
		close(l.lost)
		if l.onEnd != nil {
			l.onEnd(l)
		}
	})
}

// Name is the lease's name.
func (l *Lease) Name() string { return l.name }

// PID is the process ID of the database session holding the lock.
func (l *Lease) PID() uint32 { return l.pid }

// Since is when the lease was won.
func (l *Lease) Since() time.Time { return l.since }

// Lost is closed when the lease is no longer held: lost, or released.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Context is cancelled when the lease is no longer held; its cause is the
// error Err returns.
func (l *Lease) Context() context.Context { return l.ctx }

// Err is nil while the lease is held; then an error wrapping lease.ErrLost
// and what broke the connection, or lease.ErrReleased.
func (l *Lease) Err() error {
	select {
	case <-l.lost:
		return l.err
	default:
		return nil
	}
}

// Release unlocks the lease and closes its connection; once it returns
// nil, another session can win the lease. If the session does not answer
// within the check interval, Release closes the connection and returns an
// error: the server frees the lock when it ends the session. After a loss
// it does nothing; called again, it returns what the first call did.
func (l *Lease) Release() error {
	l.relOnce.Do(func() { l.relErr = l.release() })
	return l.relErr
}

func (l *Lease) release() error {
	l.stop()
	<-l.done
	select {
	case <-l.lost:
		return nil
	default:
	}
	released := fmt.Errorf("lease %q: %w", l.name, lease.ErrReleased)
	if l.conn.IsClosed() {
		// stopped mid-ping, the connection closed: the lock went with the session
		l.end(released)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.check)
	defer cancel()
	var unlocked bool
	err := l.conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1)`, l.key).Scan(&unlocked)
	if err == nil && !unlocked {
		err = errors.New("the session did not hold it")
	}
	if err != nil {
		err = fmt.Errorf("releasing lease %q: %w", l.name, err)
	}
	// closing the session frees the lock even if unlocking failed
	err = errors.Join(err, closeConn(l.conn))
	l.end(released)
	return err
}

// Leaser grants the leases of one instance, implementing lease.Leaser, and
// knows which of them it holds. Make one per instance with Store.Leaser.
type Leaser struct {
	s    *Store
	o    leaseOptions
	mu   sync.Mutex
	want map[string]bool   // names asked for, held or not
	held map[string]*Lease // names held
}

// Leaser returns a Leaser whose leases have the options opts.
func (s *Store) Leaser(opts ...LeaseOption) *Leaser {
	return &Leaser{s: s, o: leaseOpts(opts), want: map[string]bool{}, held: map[string]*Lease{}}
}

// Hold wins the lease on name, as Store.Hold does; the Lease it returns is
// a *Lease.
func (lr *Leaser) Hold(ctx context.Context, name string) (lease.Lease, error) {
	lr.mu.Lock()
	lr.want[name] = true
	lr.mu.Unlock()
	l, err := lr.s.hold(ctx, name, lr.o, lr.ended)
	if err != nil {
		return nil, err
	}
	lr.mu.Lock()
	defer lr.mu.Unlock()
	select {
	case <-l.Lost():
	default:
		lr.held[name] = l
	}
	return l, nil
}

func (lr *Leaser) ended(l *Lease) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if lr.held[l.name] == l {
		delete(lr.held, l.name)
	}
}

// Held returns the names of the leases this Leaser holds, sorted, as it
// knows them: a lease lost a moment ago may still be listed.
func (lr *Leaser) Held() []string {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	names := make([]string, 0, len(lr.held))
	for n := range lr.held {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Holder is who holds a lease, as the database sees it.
type Holder struct {
	Name string
	// Held is whether a session holds the lease; the fields below are
	// that session's.
	Held bool
	// Mine is whether that session is one of this Leaser's leases.
	Mine bool
	// PID is the session's server process ID.
	PID uint32
	// Application is the session's application_name, "mobilise lease
	// <holder>" for a lease of this package.
	Application string
	// Client is the session's client address, empty over a Unix socket.
	Client string
	// Connected is when the session began.
	Connected time.Time
}

// Holders reports who holds each lease this Leaser has been asked for
// (sorted by name), and those of names, asking the database.
func (lr *Leaser) Holders(ctx context.Context, names ...string) ([]Holder, error) {
	lr.mu.Lock()
	all := slices.Clone(names)
	for n := range lr.want {
		all = append(all, n)
	}
	mine := map[uint32]string{}
	for n, l := range lr.held {
		mine[l.pid] = n
	}
	lr.mu.Unlock()
	slices.Sort(all)
	all = slices.Compact(all)
	out := make([]Holder, 0, len(all))
	for _, n := range all {
		key := uint64(leaseKey(n))
		h := Holder{Name: n}
		var client *string
		err := lr.s.pool.QueryRow(ctx, `
			SELECT l.pid, coalesce(a.application_name, ''), host(a.client_addr), a.backend_start
			FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid`,
			int64(key>>32), int64(key&0xffffffff)).Scan(&h.PID, &h.Application, &client, &h.Connected)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("reading the holder of lease %q: %w", n, err)
		default:
			h.Held = true
			h.Mine = mine[h.PID] == n
			if client != nil {
				h.Client = *client
			}
		}
		out = append(out, h)
	}
	return out, nil
}
