package lease

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLocalGrantsOneHolderPerName(t *testing.T) {
	var l Local
	ctx := context.Background()
	a, err := l.Hold(ctx, "scheduler")
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Hold(ctx, "outbox telegram")
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Held(); !slices.Equal(got, []string{"outbox telegram", "scheduler"}) {
		t.Errorf("Held = %v", got)
	}
	second := make(chan Lease, 1)
	go func() {
		ls, err := l.Hold(ctx, "scheduler")
		if err != nil {
			t.Error(err)
		}
		second <- ls
	}()
	select {
	case <-second:
		t.Fatal("a held lease granted again")
	case <-time.After(100 * time.Millisecond):
	}
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := l.Hold(wctx, "scheduler"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hold until a deadline = %v, want the deadline", err)
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Lost():
	default:
		t.Error("released lease's Lost not closed")
	}
	if err := a.Err(); !errors.Is(err, ErrReleased) {
		t.Errorf("released lease's Err = %v, want ErrReleased", err)
	}
	if err := b.Err(); err != nil {
		t.Errorf("held lease's Err = %v", err)
	}
	c := <-second
	if err := a.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	if got := l.Held(); !slices.Equal(got, []string{"outbox telegram", "scheduler"}) {
		t.Errorf("Held after the handover = %v", got)
	}
	for _, ls := range []Lease{b, c} {
		if err := ls.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.Held(); len(got) != 0 {
		t.Errorf("Held after releasing all = %v", got)
	}
}

// errTurn ends a singleton's turn, so another runner may take over.
var errTurn = errors.New("turn over")

func TestRunOneAtATimeAndStops(t *testing.T) {
	var (
		l           Local
		running     atomic.Int32
		most        atomic.Int32
		runs        [2]atomic.Int32
		wg          sync.WaitGroup
		ctx, cancel = context.WithCancel(context.Background())
	)
	defer cancel()
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	for i := range 2 {
		wg.Go(func() {
			Run(ctx, &l, "scheduler", func(ctx context.Context) error {
				n := running.Add(1)
				defer running.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				runs[i].Add(1)
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(20 * time.Millisecond):
					return errTurn
				}
			}, WithLogger(log), WithRetry(10*time.Millisecond))
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for runs[0].Load() < 3 || runs[1].Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("runs %d and %d, want 3 each", runs[0].Load(), runs[1].Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return when its context ended")
	}
	if m := most.Load(); m != 1 {
		t.Errorf("%d singletons ran at once, want 1", m)
	}
	if n := running.Load(); n != 0 {
		t.Errorf("%d still running after Run returned", n)
	}
	if got := l.Held(); len(got) != 0 {
		t.Errorf("leases still held after Run returned: %v", got)
	}
}

func TestRunReturnsWhenDone(t *testing.T) {
	var l Local
	calls := 0
	Run(context.Background(), &l, "migration", func(ctx context.Context) error {
		calls++
		if got := l.Held(); !slices.Equal(got, []string{"migration"}) {
			t.Errorf("Held while running = %v", got)
		}
		return nil
	}, WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))))
	if calls != 1 {
		t.Errorf("fn ran %d times, want 1", calls)
	}
	if got := l.Held(); len(got) != 0 {
		t.Errorf("Held after Run = %v", got)
	}
}
