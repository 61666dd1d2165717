package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mobilise/bot/lease"

	"github.com/jackc/pgx/v5"
)

// openAgain opens a second store on the database at u, as another
// instance would, closed when the test ends.
func openAgain(t *testing.T, u string) *Store {
	t.Helper()
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// terminate ends the database session pid, as an administrator would.
func terminate(t *testing.T, u string, pid uint32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := conn.Close(ctx); err != nil {
			t.Error(err)
		}
	}()
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int64(pid)).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminating session %d: %v %v", pid, ok, err)
	}
}

// holdAsync calls Hold in a goroutine; the channel gets its result.
func holdAsync(ctx context.Context, s *Store, name string, opts ...LeaseOption) <-chan holdResult {
	c := make(chan holdResult, 1)
	go func() {
		l, err := s.Hold(ctx, name, opts...)
		c <- holdResult{l, err, time.Now()}
	}()
	return c
}

type holdResult struct {
	l   *Lease
	err error
	at  time.Time
}

// await returns what c gets within d, failing the test otherwise.
func await(t *testing.T, c <-chan holdResult, d time.Duration) holdResult {
	t.Helper()
	select {
	case r := <-c:
		if r.err != nil {
			t.Fatalf("Hold: %v", r.err)
		}
		t.Cleanup(func() {
			if err := r.l.Release(); err != nil {
				t.Error(err)
			}
		})
		return r
	case <-time.After(d):
		t.Fatalf("no lease within %v", d)
	}
	return holdResult{}
}

// notWon checks c gets nothing for d: the lease stays another's.
func notWon(t *testing.T, c <-chan holdResult, d time.Duration) {
	t.Helper()
	select {
	case r := <-c:
		t.Fatalf("lease won while another holds it (err %v)", r.err)
	case <-time.After(d):
	}
}

func TestLeaseOneHolderAtATime(t *testing.T) {
	s1, u := openTest(t)
	s2 := openAgain(t, u)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l1, l2 := s1.Leaser(LeaseHolder("one"), LeaseRetry(20*time.Millisecond)), s2.Leaser(LeaseHolder("two"), LeaseRetry(20*time.Millisecond))

	a, err := l1.Hold(ctx, "scheduler")
	if err != nil {
		t.Fatal(err)
	}
	second := make(chan holdResult, 1)
	go func() {
		l, err := l2.Hold(ctx, "scheduler")
		pl, _ := l.(*Lease)
		second <- holdResult{pl, err, time.Now()}
	}()
	// another name is another lease
	other, err := l2.Hold(ctx, "outbox telegram")
	if err != nil {
		t.Fatal(err)
	}
	notWon(t, second, 500*time.Millisecond)

	if got := l1.Held(); !slices.Equal(got, []string{"scheduler"}) {
		t.Errorf("one holds %v, want [scheduler]", got)
	}
	if got := l2.Held(); !slices.Equal(got, []string{"outbox telegram"}) {
		t.Errorf("two holds %v, want [outbox telegram]", got)
	}
	hs, err := l2.Holders(ctx, "whatsapp")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		held, mine bool
		app        string
	}{
		"outbox telegram": {true, true, "mobilise lease two"},
		"scheduler":       {true, false, "mobilise lease one"},
		"whatsapp":        {false, false, ""},
	}
	if len(hs) != len(want) {
		t.Fatalf("holders %+v, want %d", hs, len(want))
	}
	for _, h := range hs {
		w := want[h.Name]
		if h.Held != w.held || h.Mine != w.mine || h.Application != w.app {
			t.Errorf("holder %+v, want %+v", h, w)
		}
	}
	if h := hs[1]; h.PID != a.(*Lease).PID() || h.Client != "127.0.0.1" || h.Connected.IsZero() {
		t.Errorf("scheduler held by %+v, want session %d from 127.0.0.1", h, a.(*Lease).PID())
	}

	if err := other.Release(); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Lost():
	default:
		t.Fatal("a released lease's Lost is not closed")
	}
	if err := a.(*Lease).Err(); !errors.Is(err, lease.ErrReleased) {
		t.Errorf("released lease's Err = %v, want ErrReleased", err)
	}
	if err := context.Cause(a.(*Lease).Context()); !errors.Is(err, lease.ErrReleased) {
		t.Errorf("released lease's context cause = %v, want ErrReleased", err)
	}
	if err := a.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	b := await(t, second, 5*time.Second)
	if b.l.Err() != nil {
		t.Errorf("the new holder's lease has ended: %v", b.l.Err())
	}
	if got := l1.Held(); len(got) != 0 {
		t.Errorf("one still holds %v after releasing", got)
	}
	if got := l2.Held(); !slices.Equal(got, []string{"scheduler"}) {
		t.Errorf("two holds %v, want [scheduler]", got)
	}
}

func TestLeaseHoldEndsWithContext(t *testing.T) {
	s, _ := openTest(t)
	a, err := s.Hold(context.Background(), "scheduler")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := a.Release(); err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if l, err := s.Hold(ctx, "scheduler", LeaseRetry(20*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hold of a held lease = %v, %v; want the context's deadline", l, err)
	}
	select {
	case <-a.Lost():
		t.Fatalf("holder's lease ended: %v", a.Err())
	default:
	}
}

func TestLeaseLostWhenSessionTerminated(t *testing.T) {
	s1, u := openTest(t)
	s2 := openAgain(t, u)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const check = 500 * time.Millisecond
	a, err := s1.Hold(ctx, "whatsapp", LeaseCheck(check))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Release(); err != nil {
			t.Error(err)
		}
	})
	second := holdAsync(ctx, s2, "whatsapp", LeaseRetry(20*time.Millisecond))
	notWon(t, second, 200*time.Millisecond)

	start := time.Now()
	terminate(t, u, a.PID())
	select {
	case <-a.Lost():
	case <-time.After(check):
		t.Fatalf("holder did not notice its session's end within the check interval %v", check)
	}
	noticed := time.Since(start)
	if err := context.Cause(a.Context()); !errors.Is(err, lease.ErrLost) {
		t.Errorf("lost lease's context cause = %v, want ErrLost", err)
	}
	b := await(t, second, 5*time.Second)
	t.Logf("holder noticed its session's end after %v; other took over after %v", noticed, b.at.Sub(start))
	if b.l.PID() == a.PID() {
		t.Errorf("new holder has the old session %d", a.PID())
	}
}

// cutProxy forwards TCP connections to a server until cut, and then
// forwards nothing, closing nothing, as a network partition does.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close() // the client sees the refusal
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

// pipe copies from src to dst, dropping what comes once cut; src's end
// closes dst only before the cut.
func (p *cutProxy) pipe(src, dst net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if p.isCut() {
			if err != nil {
				return
			}
			continue
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			_ = dst.Close() // forwarding the end; a second close's error is of no interest
			return
		}
	}
}

func (p *cutProxy) isCut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
}

func (p *cutProxy) close() {
	_ = p.ln.Close() // ends accept
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close() // ends the pipes
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// viaProxy is u with its host replaced by the proxy's address.
func viaProxy(t *testing.T, u string, p *cutProxy) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	pu.Host = p.ln.Addr().String()
	return pu.String()
}

func TestLeaseLostWhenConnectionCut(t *testing.T) {
	s2, u := openTest(t)
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, pu.Host)
	s1 := openAgain(t, viaProxy(t, u, proxy))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const check = 500 * time.Millisecond
	a, err := s1.Hold(ctx, "telegram poller", LeaseCheck(check))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Release(); err != nil {
			t.Error(err)
		}
	})
	second := holdAsync(ctx, s2, "telegram poller", LeaseRetry(20*time.Millisecond))
	notWon(t, second, 2*check)

	start := time.Now()
	proxy.Cut()
	var lostAt time.Time
	select {
	case <-a.Lost():
		lostAt = time.Now()
	case <-time.After(2*check + time.Second):
		t.Fatalf("holder did not notice the cut within 2×%v", check)
	}
	if err := a.Err(); !errors.Is(err, lease.ErrLost) {
		t.Errorf("Err = %v, want ErrLost", err)
	}
	b := await(t, second, 3*check+5*time.Second)
	t.Logf("cut: holder stopped after %v, server freed the lock and the other took over after %v (check %v)",
		lostAt.Sub(start), b.at.Sub(start), check)
	if !lostAt.Before(b.at) {
		t.Errorf("the other won at %v, before the holder stopped at %v", b.at.Sub(start), lostAt.Sub(start))
	}
	if took := b.at.Sub(start); took > 3*check+time.Second {
		t.Errorf("takeover after %v, want within 3×%v and the retry", took, check)
	}
}

// The child process of the tests below: with these set, it holds the
// lease and says so on stdout, then waits to be killed, or says when it
// loses the lease.
const (
	envChildURL   = "MOBILISE_TEST_LEASE_CHILD_URL"
	envChildLease = "MOBILISE_TEST_LEASE_CHILD_LEASE"
	envChildCheck = "MOBILISE_TEST_LEASE_CHILD_CHECK"
	childHeld     = "lease held by session "
	childLost     = "lease lost: "
)

func TestLeaseChildHolder(t *testing.T) {
	u, name := os.Getenv(envChildURL), os.Getenv(envChildLease)
	if u == "" {
		t.Skip("run by TestLeaseTakeoverAfterSIGKILL and TestLeaseTakeoverFromStoppedProcess")
	}
	check, err := time.ParseDuration(os.Getenv(envChildCheck))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Hold(context.Background(), name, LeaseCheck(check))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s%d\n", childHeld, l.PID())
	select {
	case <-l.Lost():
		fmt.Printf("%s%v\n", childLost, l.Err())
	case <-time.After(time.Minute):
		t.Fatal("child not killed within a minute")
	}
}

// startChild starts a process holding the lease name, with check interval
// check, and returns it, its session's PID and its further output lines,
// once it holds the lease. It is killed when the test ends.
func startChild(t *testing.T, u, name string, check time.Duration) (*exec.Cmd, uint32, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLeaseChildHolder$")
	cmd.Env = append(os.Environ(), envChildURL+"="+u, envChildLease+"="+name, envChildCheck+"="+check.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // mostly killed already: the error says so
		_ = cmd.Wait()         // reaped already when the test waited for it
	})
	lines := bufio.NewScanner(out)
	var pid uint32
	for lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), childHeld); ok {
			if _, err := fmt.Sscan(rest, &pid); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if pid == 0 {
		t.Fatalf("child exited without holding the lease: %v", lines.Err())
	}
	rest := make(chan string, 16)
	go func() {
		defer close(rest)
		for lines.Scan() {
			rest <- lines.Text()
		}
	}()
	return cmd, pid, rest
}

func TestLeaseTakeoverAfterSIGKILL(t *testing.T) {
	s, u := openTest(t)
	const (
		rounds = 5
		retry  = 50 * time.Millisecond
		bound  = 5 * time.Second // N: the parent must win within this of the kill
	)
	watcher, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := watcher.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	var took, freed []time.Duration
	for i := range rounds {
		name := fmt.Sprintf("outbox whatsapp %d", i)
		cmd, pid, _ := startChild(t, u, name, defaultLeaseCheck)

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		won := holdAsync(ctx, s, name, LeaseRetry(retry))
		notWon(t, won, 200*time.Millisecond)
		killed := time.Now()
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		// how soon the server ends the killed child's session, freeing its lock
		for {
			var alive bool
			if err := watcher.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)`, int64(pid)).Scan(&alive); err != nil {
				t.Fatal(err)
			}
			if !alive {
				freed = append(freed, time.Since(killed))
				break
			}
			if time.Since(killed) > bound {
				t.Fatalf("child's session %d still there %v after the kill", pid, bound)
			}
			time.Sleep(time.Millisecond)
		}
		r := await(t, won, bound)
		took = append(took, r.at.Sub(killed))
		if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Errorf("child's end: %v, want killed", err)
		}
		if r.l.PID() == pid {
			t.Errorf("parent's lease has the child's session %d", pid)
		}
		if err := r.l.Release(); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	for _, m := range []struct {
		what string
		d    []time.Duration
	}{{"session ended", freed}, {"takeover", took}} {
		sorted := slices.Clone(m.d)
		slices.Sort(sorted)
		t.Logf("%s after SIGKILL over %d runs (retry every %v): min %v, median %v, max %v; all %v",
			m.what, rounds, retry, sorted[0], sorted[len(sorted)/2], sorted[len(sorted)-1], m.d)
	}
}

func TestLeaseReleaseWhileCut(t *testing.T) {
	s2, u := openTest(t)
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, pu.Host)
	s1 := openAgain(t, viaProxy(t, u, proxy))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const check = 500 * time.Millisecond
	a, err := s1.Hold(ctx, "scheduler", LeaseCheck(check))
	if err != nil {
		t.Fatal(err)
	}
	second := holdAsync(ctx, s2, "scheduler", LeaseRetry(20*time.Millisecond))
	notWon(t, second, 200*time.Millisecond)

	proxy.Cut()
	start := time.Now()
	err = a.Release()
	took := time.Since(start)
	if err == nil {
		t.Fatal("Release over a cut connection reported the lock unlocked")
	}
	if took > check+time.Second {
		t.Errorf("Release took %v, want about the check interval %v", took, check)
	}
	if !errors.Is(a.Err(), lease.ErrReleased) {
		t.Errorf("Err after Release = %v, want ErrReleased", a.Err())
	}
	b := await(t, second, 3*check+5*time.Second)
	t.Logf("Release over a cut connection returned after %v (%v); the other won after %v", took, err, b.at.Sub(start))
}

func TestLeaseTakeoverFromStoppedProcess(t *testing.T) {
	s, u := openTest(t)
	const check = 500 * time.Millisecond
	cmd, pid, lines := startChild(t, u, "scheduler", check)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	won := holdAsync(ctx, s, "scheduler", LeaseRetry(20*time.Millisecond))
	notWon(t, won, 200*time.Millisecond)

	// a holder frozen (SIGSTOP, as a VM paused or a process swapped out)
	// says nothing: the server ends its session after 3 check intervals
	stopped := time.Now()
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	r := await(t, won, 3*check+5*time.Second)
	took := r.at.Sub(stopped)
	if took < check {
		// its last ping was at most a check interval before it froze
		t.Errorf("lease won %v after the holder froze, within the check interval %v: the server ended a session that had pinged", took, check)
	}
	if r.l.PID() == pid {
		t.Errorf("parent's lease has the child's session %d", pid)
	}
	resumed := time.Now()
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case line := <-lines:
		if !strings.HasPrefix(line, childLost) || !strings.Contains(line, "idle-session timeout") {
			t.Errorf("resumed child says %q, want it lost the lease to the idle-session timeout", line)
		}
		t.Logf("frozen holder: other won after %v; resumed, it stopped after %v: %s", took, time.Since(resumed), line)
	case <-time.After(2 * check):
		t.Fatalf("resumed child did not notice it lost the lease within 2×%v", check)
	}
}
