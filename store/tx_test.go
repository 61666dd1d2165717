package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

func TestInTxCommitsEverythingOnce(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	var hooks []string
	err := s.InTx(ctx, func(ctx context.Context) error {
		assert.True(t, InTransaction(ctx))
		c, created, err := s.EnsureContact(ctx, bot.MustParseAddress("telegram:1"), "Salma", "ar")
		require.NoError(t, err)
		require.True(t, created)
		// a read inside the unit sees its own writes
		got, err := s.ContactByAddress(ctx, bot.MustParseAddress("telegram:1"))
		require.NoError(t, err)
		assert.Equal(t, c.ID, got.ID)
		AfterCommit(ctx, func() { hooks = append(hooks, "first") })
		// a nested unit joins the outer one
		require.NoError(t, s.InTx(ctx, func(ctx context.Context) error {
			AfterCommit(ctx, func() { hooks = append(hooks, "nested") })
			return s.Enqueue(ctx, OutboxEntry{To: bot.MustParseAddress("telegram:1"), Text: "أهلًا"})
		}))
		assert.Empty(t, hooks, "nothing runs before the commit")
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"first", "nested"}, hooks)
	_, err = s.ContactByAddress(ctx, bot.MustParseAddress("telegram:1"))
	assert.NoError(t, err)
	depth, err := s.OutboxDepth(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, depth["telegram"])
}

func TestInTxRollsBackEverything(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	boom := errors.New("boom")
	ran := false
	err := s.InTx(ctx, func(ctx context.Context) error {
		if _, _, err := s.EnsureContact(ctx, bot.MustParseAddress("telegram:2"), "Omar", "en"); err != nil {
			return err
		}
		if err := s.Enqueue(ctx, OutboxEntry{To: bot.MustParseAddress("telegram:2"), Text: "hi"}); err != nil {
			return err
		}
		if _, err := s.MarkHandled(ctx, "telegram", "77"); err != nil {
			return err
		}
		AfterCommit(ctx, func() { ran = true })
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.False(t, ran, "a hook of a rolled-back unit never runs")
	_, err = s.ContactByAddress(ctx, bot.MustParseAddress("telegram:2"))
	assert.ErrorIs(t, err, ErrNotFound)
	depth, err := s.OutboxDepth(ctx)
	require.NoError(t, err)
	assert.Zero(t, depth["telegram"])
	first, err := s.MarkHandled(ctx, "telegram", "77")
	require.NoError(t, err)
	assert.True(t, first, "the handled mark went with the rest: the update is handled again")
}

func TestAfterCommitOutsideATransactionRunsAtOnce(t *testing.T) {
	ran := false
	AfterCommit(context.Background(), func() { ran = true })
	assert.True(t, ran)
	assert.False(t, InTransaction(context.Background()))
}

func TestInTxRefusesAnotherStoresTransaction(t *testing.T) {
	a, _ := openTestStore(t)
	b, err := Open(filepath.Join(t.TempDir(), "other.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	err = a.InTx(context.Background(), func(ctx context.Context) error {
		return b.InTx(ctx, func(context.Context) error { return nil })
	})
	assert.ErrorIs(t, err, ErrNested)
}

func TestPanicErrorTellsDamageFromFaults(t *testing.T) {
	s, _ := openTestStore(t)
	var leaked *bbolt.Tx
	require.NoError(t, s.DB().View(func(tx *bbolt.Tx) error { leaked = tx; return nil }))
	recovered := func(f func()) (err error) {
		defer func() { err = PanicError(recover()) }()
		f()
		return nil
	}
	err := recovered(func() { leaked.Bucket(bucketContacts).Cursor().First() })
	assert.ErrorIs(t, err, ErrCorrupt, "a panic raised inside bbolt")
	err = recovered(func() { panic("a fault of the program") })
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), "a fault of the program")

	// a whole unit of work: the program's fault is not called damage
	err = s.InTx(context.Background(), func(ctx context.Context) error { panic("bug in a handler") })
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrCorrupt)
}

// lastCommit is the ID of the last committed write transaction.
func lastCommit(t testing.TB, s *Store) int {
	var id int
	require.NoError(t, s.DB().View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil }))
	return id
}

// holdCommit starts a shared commit whose unit waits, once inside the
// transaction, until release is called, so that other writers queue up for
// the next one; then it runs fn. release returns the unit's error.
func holdCommit(t *testing.T, s *Store, fn func(ctx context.Context) error) (release func() error) {
	inside, proceed, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.InSharedTx(context.Background(), func(ctx context.Context) error {
			close(inside)
			<-proceed
			return fn(ctx)
		})
	}()
	var once sync.Once
	release = func() error {
		once.Do(func() { close(proceed) })
		return <-done
	}
	// a failing test must not leave the transaction open: closing the store would wait for it
	t.Cleanup(func() { once.Do(func() { close(proceed) }) })
	<-inside
	return release
}

// waitingCalls is how many calls wait for the next shared commit.
func waitingCalls(s *Store) int {
	s.shared.mu.Lock()
	defer s.shared.mu.Unlock()
	return len(s.shared.waiting)
}

func TestInSharedTxSharesCommits(t *testing.T) {
	s, _ := openTestStore(t, WithBatchDelay(0))
	ctx := context.Background()
	before := lastCommit(t, s)
	release := holdCommit(t, s, func(ctx context.Context) error {
		_, err := s.MarkHandled(ctx, "telegram", "0")
		return err
	})
	const others = 20
	var wg sync.WaitGroup
	hooks := make(chan int, others)
	for i := 1; i <= others; i++ {
		wg.Go(func() {
			err := s.InSharedTx(ctx, func(ctx context.Context) error {
				AfterCommit(ctx, func() { hooks <- i })
				_, err := s.MarkHandled(ctx, "telegram", fmt.Sprint(i))
				return err
			})
			assert.NoError(t, err)
		})
	}
	require.Eventually(t, func() bool { return waitingCalls(s) == others }, 5*time.Second, time.Millisecond)
	require.NoError(t, release())
	wg.Wait()
	close(hooks)
	seen := map[int]int{}
	for h := range hooks {
		seen[h]++
	}
	assert.Len(t, seen, others, "every unit's hook")
	for i, n := range seen {
		assert.Equal(t, 1, n, "hook of unit %d once", i)
	}
	assert.Equal(t, 2, lastCommit(t, s)-before, "the first message's commit, then one for the twenty that came meanwhile")
	for i := 0; i <= others; i++ {
		again, err := s.MarkHandled(ctx, "telegram", fmt.Sprint(i))
		require.NoError(t, err)
		assert.False(t, again, "message %d is marked", i)
	}
}

func TestInSharedTxFailureIsItsOwn(t *testing.T) {
	s, _ := openTestStore(t, WithBatchDelay(0))
	ctx := context.Background()
	release := holdCommit(t, s, func(context.Context) error { return nil })
	boom := errors.New("boom")
	var runs, hooks atomic.Int32
	var wg sync.WaitGroup
	results := make([]error, 4)
	for i := range 4 {
		wg.Go(func() {
			results[i] = s.InSharedTx(ctx, func(ctx context.Context) error {
				runs.Add(1)
				AfterCommit(ctx, func() { hooks.Add(1) })
				if _, err := s.MarkHandled(ctx, "telegram", fmt.Sprint(i)); err != nil {
					return err
				}
				switch i {
				case 2:
					return boom
				case 3:
					panic("a fault of the program")
				}
				return nil
			})
		})
	}
	require.Eventually(t, func() bool { return waitingCalls(s) == 4 }, 5*time.Second, time.Millisecond)
	require.NoError(t, release())
	wg.Wait()
	assert.NoError(t, results[0])
	assert.NoError(t, results[1])
	assert.ErrorIs(t, results[2], boom)
	require.Error(t, results[3])
	assert.Contains(t, results[3].Error(), "a fault of the program")
	assert.Equal(t, int32(2), hooks.Load(), "the hooks of the units that committed, once each")
	assert.Greater(t, runs.Load(), int32(4), "the others ran again without the one that failed")
	for i, kept := range []bool{true, true, false, false} {
		again, err := s.MarkHandled(ctx, "telegram", fmt.Sprint(i))
		require.NoError(t, err)
		assert.Equal(t, kept, !again, "message %d", i)
	}
}

func TestInSharedTxJoinsAUnit(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.InTx(ctx, func(ctx context.Context) error {
		require.NoError(t, s.InSharedTx(ctx, func(ctx context.Context) error {
			_, err := s.MarkHandled(ctx, "telegram", "1")
			return err
		}))
		return boom
	})
	require.ErrorIs(t, err, boom)
	first, err := s.MarkHandled(ctx, "telegram", "1")
	require.NoError(t, err)
	assert.True(t, first, "rolled back with the unit it joined")
}

func TestTxStatsCountTransactions(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	before := s.TxStats()
	_, err := s.Contact(ctx, 1)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.MarkHandled(ctx, "telegram", "1")
	require.NoError(t, err)
	require.NoError(t, s.InSharedTx(ctx, func(ctx context.Context) error {
		_, err := s.Contact(ctx, 1) // joins
		assert.ErrorIs(t, err, ErrNotFound)
		_, err = s.MarkHandled(ctx, "telegram", "2")
		return err
	}))
	after := s.TxStats()
	assert.Equal(t, TxStats{Reads: 1, Writes: 2}, TxStats{Reads: after.Reads - before.Reads, Writes: after.Writes - before.Writes})
}
