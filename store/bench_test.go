package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// writers is the number of concurrent writers in the benchmarks: many
// people pledging at the same moment.
const writers = 64

// benchStore opens a store with the production settings (durable commits,
// bbolt's default batch delay) and b.N contacts.
func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"))
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, s.Close()) })
	require.NoError(b, bulkContacts(s, b.N))
	return s
}

// runWriters calls op(i) for i in [0, b.N) from 64 goroutines and reports
// the rate in pledges/s and how many shared each commit.
func runWriters(b *testing.B, s *Store, op func(i int) error) {
	b.Helper()
	txBefore := lastTxID(b, s)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range writers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pledges/s")
	b.ReportMetric(float64(b.N)/float64(lastTxID(b, s)-txBefore), "pledges/commit")
}

// lastTxID is the ID of the last committed write transaction.
func lastTxID(b *testing.B, s *Store) int {
	var id int
	require.NoError(b, s.DB().View(func(tx *bbolt.Tx) error {
		id = tx.ID()
		return nil
	}))
	return id
}

// benchPledge is the pledge both benchmarks write, so the raw put stores a
// record of the same size.
func benchPledge(campaignID uint64, i int) Pledge {
	return Pledge{CampaignID: campaignID, ContactID: uint64(i + 1), At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		Channel: "telegram", Governorate: "gaza", Lang: "ar"}
}

// BenchmarkPledges64 measures durable AddPledge calls, each by another
// person, to one campaign from 64 writers.
func BenchmarkPledges64(b *testing.B) {
	s := benchStore(b)
	c := &Campaign{Code: "bench", Kind: KindPledge, Target: b.N}
	require.NoError(b, s.CreateCampaign(context.Background(), c))
	runWriters(b, s, func(i int) error {
		_, err := s.AddPledge(context.Background(), benchPledge(c.ID, i))
		return err
	})
	counts, err := s.Counts(context.Background(), c.ID)
	require.NoError(b, err)
	require.Equal(b, b.N, counts.Pledges)
}

// BenchmarkRawBatchPut64 measures bbolt's own db.Batch putting a record of
// a pledge's size under a pledge-shaped key from 64 writers: the baseline
// AddPledge's shared commits are compared with. It is no ceiling: Batch
// waits out its MaxBatchDelay (10 ms) before each commit, while a shared
// commit starts as soon as the one before it ends, so AddPledge, with its
// rules, counters and indexes, goes several times faster. Run both with
// enough writes for the rate to mean something:
//
//	go test ./store -run '^$' -bench 'Pledges64|RawBatchPut64' -benchtime 20000x
func BenchmarkRawBatchPut64(b *testing.B) {
	s := benchStore(b)
	raw := []byte("raw")
	require.NoError(b, s.DB().Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket(raw)
		return err
	}))
	val, err := json.Marshal(benchPledge(1, 1_000_000))
	require.NoError(b, err)
	runWriters(b, s, func(i int) error {
		return s.DB().Batch(func(tx *bbolt.Tx) error {
			return tx.Bucket(raw).Put(pairKey(1, uint64(i+1)), val)
		})
	})
}
