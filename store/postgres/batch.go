package postgres

import (
	"context"
	"sync"
)

// batcher commits the IDs of many calls in one transaction: a call that
// arrives while a commit is under way joins the next one, so a dispatcher
// recording hundreds of sends a second pays for one commit, one lock of
// its broadcast's row and one write of the minute's count per batch, not
// per send. A lone call commits at once. A failed batch is retried by
// each of its calls alone, so one call's failure is its own.
type batcher struct {
	slot chan struct{} // held by the call committing
	mu   sync.Mutex
	next *idBatch // collecting the calls for the next commit
}

// idBatch is the IDs of the calls sharing one commit.
type idBatch struct {
	ids       []uint64
	calls     int
	committed bool
	err       error
}

func newBatcher() *batcher { return &batcher{slot: make(chan struct{}, 1)} }

// do commits ids with the others waiting, by commit.
func (bt *batcher) do(ctx context.Context, ids []uint64, commit func(ctx context.Context, ids []uint64) error) error {
	bt.mu.Lock()
	if bt.next == nil {
		bt.next = &idBatch{}
	}
	b := bt.next
	b.ids = append(b.ids, ids...)
	b.calls++
	bt.mu.Unlock()

	select {
	case bt.slot <- struct{}{}:
	case <-ctx.Done():
		// the IDs stay in b, which another call of it, or the next call
		// to join it, commits: recorded late rather than never, as the
		// messages were sent
		return ctx.Err()
	}
	bt.mu.Lock()
	if b.committed {
		bt.mu.Unlock()
		<-bt.slot
		if b.err != nil && b.calls > 1 {
			return commit(ctx, ids)
		}
		return b.err
	}
	if bt.next == b {
		bt.next = nil // no one joins a batch being committed
	}
	bt.mu.Unlock()
	err := commit(ctx, b.ids)
	bt.mu.Lock()
	b.committed, b.err = true, err
	bt.mu.Unlock()
	<-bt.slot
	if err != nil && b.calls > 1 {
		return commit(ctx, ids)
	}
	return err
}
