package postgres

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mobilise/bot/lease"
)

// errTurn ends a singleton's turn, so the other instance may take over.
var errTurn = errors.New("turn over")

// waitStopped waits for wg, failing the test after d.
func waitStopped(t *testing.T, wg *sync.WaitGroup, d time.Duration) {
	t.Helper()
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(d):
		t.Fatalf("Run did not return within %v of its context's end", d)
	}
}

func TestRunOnOneInstanceAtATime(t *testing.T) {
	s1, u := openTest(t)
	s2 := openAgain(t, u)
	leasers := [2]*Leaser{
		s1.Leaser(LeaseHolder("one"), LeaseRetry(20*time.Millisecond)),
		s2.Leaser(LeaseHolder("two"), LeaseRetry(20*time.Millisecond)),
	}
	var (
		running, most atomic.Int32
		runs          [2]atomic.Int32
		wg            sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	for i, lr := range leasers {
		wg.Go(func() {
			lease.Run(ctx, lr, "scheduler", func(ctx context.Context) error {
				n := running.Add(1)
				defer running.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				runs[i].Add(1)
				if got := lr.Held(); len(got) != 1 || got[0] != "scheduler" {
					t.Errorf("instance %d runs the scheduler holding %v", i, got)
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(100 * time.Millisecond):
					return errTurn
				}
			}, lease.WithLogger(log.With("instance", i)), lease.WithRetry(100*time.Millisecond))
		})
	}
	deadline := time.Now().Add(20 * time.Second)
	for runs[0].Load() < 3 || runs[1].Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("runs %d and %d, want 3 each", runs[0].Load(), runs[1].Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	waitStopped(t, &wg, 5*time.Second)
	t.Logf("runs: %d and %d", runs[0].Load(), runs[1].Load())
	if m := most.Load(); m != 1 {
		t.Errorf("%d singletons ran at once, want 1", m)
	}
	if n := running.Load(); n != 0 {
		t.Errorf("%d still running after Run returned", n)
	}
	for i, lr := range leasers {
		if got := lr.Held(); len(got) != 0 {
			t.Errorf("instance %d holds %v after Run returned", i, got)
		}
		hs, err := lr.Holders(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(hs) != 1 || hs[0].Held {
			t.Errorf("holders after Run returned: %+v, want the scheduler free", hs)
		}
	}
}

func TestRunStopsWhenLeaseLost(t *testing.T) {
	s, u := openTest(t)
	lr := s.Leaser(LeaseRetry(20 * time.Millisecond))
	type start struct {
		ctx context.Context
		pid uint32
	}
	starts := make(chan start, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		lease.Run(ctx, lr, "outbox telegram", func(fctx context.Context) error {
			hs, err := lr.Holders(fctx)
			if err != nil {
				return err
			}
			starts <- start{fctx, hs[0].PID}
			<-fctx.Done()
			return context.Cause(fctx)
		}, lease.WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))))
	})
	first := <-starts
	terminate(t, u, first.pid)
	select {
	case <-first.ctx.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("fn's context not cancelled when the lease was lost")
	}
	if err := context.Cause(first.ctx); !errors.Is(err, lease.ErrLost) {
		t.Errorf("fn's context cause = %v, want ErrLost", err)
	}
	var second start
	select {
	case second = <-starts:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not win the lease again")
	}
	if second.pid == first.pid {
		t.Errorf("the lease was won again on the ended session %d", first.pid)
	}
	cancel()
	waitStopped(t, &wg, 5*time.Second)
	if err := context.Cause(second.ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("fn's context cause at the end = %v, want Run's context's", err)
	}
}
