package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/store"
	"mobilise/store/storetest"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// The benchmarks compare the bbolt and PostgreSQL stores in the same run,
// as sub-benchmarks "bbolt" and "postgres" of each, on the same work. Both
// commit durably: bbolt syncs the file, PostgreSQL flushes its WAL
// (synchronous_commit on, the server's default, checked below).

// benchWriters is the number of concurrent writers: many people pledging
// at the same moment.
const benchWriters = 64

// pledger is the part of a store the pledge benchmark uses.
type pledger interface {
	CreateCampaign(ctx context.Context, c *store.Campaign) error
	AddPledge(ctx context.Context, p store.Pledge) (store.PledgeResult, error)
	Counts(ctx context.Context, campaignID uint64) (store.Counts, error)
}

// BenchmarkPledges64 measures durable AddPledge calls, each by another
// person, to one campaign from 64 writers, as store's BenchmarkPledges64.
func BenchmarkPledges64(b *testing.B) {
	b.Run("bbolt", func(b *testing.B) {
		s := openBolt(b)
		ids := boltContacts(b, s, b.N)
		runPledges(b, s, ids)
	})
	b.Run("postgres", func(b *testing.B) {
		s, _ := openTest(b, WithMaxConns(benchWriters))
		requireDurable(b, s)
		ids := copyContacts(b, s, b.N, nil)
		runPledges(b, s, ids)
	})
}

// runPledges has 64 writers pledge for the people ids, one pledge each,
// and reports pledges/s.
func runPledges(b *testing.B, s pledger, ids []uint64) {
	ctx := context.Background()
	c := &store.Campaign{Code: "bench", Kind: store.KindPledge, Target: b.N}
	require.NoError(b, s.CreateCampaign(ctx, c))
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range benchWriters {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				_, err := s.AddPledge(ctx, store.Pledge{CampaignID: c.ID, ContactID: ids[i],
					At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Channel: bot.Telegram, Governorate: "gaza", Lang: "ar"})
				if err != nil {
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
	counts, err := s.Counts(ctx, c.ID)
	require.NoError(b, err)
	require.Equal(b, b.N, counts.Pledges)
}

// broadcaster is the part of a store the broadcast benchmark uses.
type broadcaster interface {
	CreateBroadcast(ctx context.Context, b *store.Broadcast) error
	QueueBroadcast(ctx context.Context, id uint64, entries []store.OutboxEntry) error
	Broadcast(ctx context.Context, id uint64) (*store.Broadcast, error)
}

// BenchmarkQueueBroadcast100k measures QueueBroadcast writing one outbox
// entry for each of 100,000 recipients, their text the broadcast's, as
// store's BenchmarkQueueBroadcast100k/shared-text.
func BenchmarkQueueBroadcast100k(b *testing.B) {
	b.Run("bbolt", func(b *testing.B) { runQueue(b, openBolt(b)) })
	b.Run("postgres", func(b *testing.B) {
		s, _ := openTest(b)
		requireDurable(b, s)
		runQueue(b, s)
	})
}

func runQueue(b *testing.B, s broadcaster) {
	const n = 100_000
	ctx := context.Background()
	text := string([]rune(strings.Repeat("نداء للمصالحة ", 30))[:300])
	for b.Loop() {
		b.StopTimer()
		bc := &store.Broadcast{TextAR: text}
		require.NoError(b, s.CreateBroadcast(ctx, bc))
		entries := make([]store.OutboxEntry, n)
		for i := range entries {
			id := uint64(i + 1)
			to := fmt.Sprintf("telegram:%d", 100000000+id)
			if id%3 == 0 {
				to = fmt.Sprintf("whatsapp:97059%07d", id)
			}
			entries[i] = store.OutboxEntry{To: bot.MustParseAddress(to), ContactID: id, Text: text, Lang: "ar"}
		}
		b.StartTimer()
		require.NoError(b, s.QueueBroadcast(ctx, bc.ID, entries))
		b.StopTimer()
		got, err := s.Broadcast(ctx, bc.ID)
		require.NoError(b, err)
		require.Equal(b, n, got.Total)
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// audienceCounter is the part of a store the audience benchmark uses.
type audienceCounter interface {
	CountAudience(ctx context.Context, aud store.Audience, channelOK func(channel bot.ChannelName) bool) (store.AudienceCount, error)
}

// BenchmarkCountAudience200k counts audiences of a population of 200,000
// people (storetest.Person), the count a broadcast's preview shows: the
// bbolt store's built by storetest.Build through its own methods, the
// PostgreSQL store's copied in (COPY) with the same people and pledges.
// Both must give the same counts.
func BenchmarkCountAudience200k(b *testing.B) {
	const n = 200_000
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "mobilise.db")
	storetest.Build(b, path, n)
	bolt, err := store.Open(path)
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, bolt.Close()) })
	pg, _ := openTest(b)
	var campaigns []uint64
	for i := range storetest.Campaigns {
		c := &store.Campaign{Code: fmt.Sprintf("c%d", i+1), Kind: store.KindBoth, StartAt: storetest.At.Add(-time.Hour)}
		require.NoError(b, pg.CreateCampaign(ctx, c))
		campaigns = append(campaigns, c.ID)
	}
	copyContacts(b, pg, n, campaigns)

	audiences := []struct {
		name string
		aud  store.Audience
	}{
		{"everyone", store.Audience{Kind: store.AudienceEveryone}},
		{"governorate", store.Audience{Kind: store.AudienceGovernorate, Governorate: storetest.Person(3).Governorate}},
		{"lang", store.Audience{Kind: store.AudienceLang, Lang: "en"}},
		{"members", store.Audience{Kind: store.AudienceMembers}},
		{"pledgers", store.Audience{Kind: store.AudiencePledgers, CampaignID: campaigns[0]}},
		{"not_pledged", store.Audience{Kind: store.AudienceNotPledged, CampaignID: campaigns[0]}},
	}
	noConsole := func(ch bot.ChannelName) bool { return ch != bot.Console }
	for _, a := range audiences {
		want, err := bolt.CountAudience(ctx, a.aud, noConsole)
		require.NoError(b, err)
		got, err := pg.CountAudience(ctx, a.aud, noConsole)
		require.NoError(b, err)
		require.Equal(b, want, got, "%s: the stores count the same people", a.name)
		require.NotZero(b, want.Total)
		b.Run(a.name, func(b *testing.B) {
			for _, st := range []struct {
				name string
				s    audienceCounter
			}{{"bbolt", bolt}, {"postgres", pg}} {
				b.Run(st.name, func(b *testing.B) {
					for b.Loop() {
						if _, err := st.s.CountAudience(ctx, a.aud, noConsole); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// openBolt opens a bbolt store in a new directory with the production
// settings, closed when the benchmark ends.
func openBolt(b *testing.B) *store.Store {
	b.Helper()
	s, err := store.Open(filepath.Join(b.TempDir(), "bench.db"))
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, s.Close()) })
	return s
}

// boltContacts creates n contacts in the bbolt store, in unsynced bulk
// transactions, and returns their IDs.
func boltContacts(b *testing.B, s *store.Store, n int) []uint64 {
	b.Helper()
	ctx := context.Background()
	ids := make([]uint64, 0, n)
	s.DB().NoSync = true
	defer func() { s.DB().NoSync = false }()
	for start := 0; start < n; start += 5000 {
		require.NoError(b, s.InTx(ctx, func(ctx context.Context) error {
			for i := start; i < min(start+5000, n); i++ {
				c, _, err := s.EnsureContact(ctx, bot.Address{Channel: bot.Telegram, ID: fmt.Sprint(5_000_000_000 + i)}, "", "ar")
				if err != nil {
					return err
				}
				ids = append(ids, c.ID)
			}
			return nil
		}))
	}
	require.NoError(b, s.DB().Sync())
	return ids
}

// copyContacts copies n people (storetest.Person) into the PostgreSQL
// store with their addresses and, if campaigns are given, their pledges
// (person i to campaign i%len(campaigns)), and returns their IDs. Rows are
// what the store's own methods would write; VACUUM ANALYZE then leaves
// the tables as a running server's would be.
func copyContacts(b *testing.B, s *Store, n int, campaigns []uint64) []uint64 {
	b.Helper()
	ctx := context.Background()
	var first int64
	require.NoError(b, s.pool.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('contacts', 'id'))`).Scan(&first))
	contacts := make([][]any, n)
	var addrs, pledges [][]any
	ids := make([]uint64, n)
	for i := range n {
		c := storetest.Person(i)
		c.ID = uint64(first) + uint64(i) + 1
		c.RefCode = fmt.Sprintf("r%07d", i)
		c.CreatedAt, c.SeenAt = storetest.At, storetest.At
		ids[i] = c.ID
		rec, err := json.Marshal(&c)
		require.NoError(b, err)
		d := derive(&c)
		contacts[i] = []any{int64(c.ID), c.RefCode, rec, d.reachable, d.preferred, d.channels, c.Governorate, d.lang, d.member, c.CreatedAt}
		for _, a := range c.Addresses {
			addrs = append(addrs, []any{a.String(), int64(c.ID)})
		}
		if len(campaigns) > 0 {
			pledges = append(pledges, []any{int64(campaigns[i%len(campaigns)]), int64(c.ID), storetest.At,
				string(c.Addresses[0].Channel), c.Governorate, c.Lang})
		}
	}
	copyRows := func(table string, cols []string, rows [][]any) {
		_, err := s.pool.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		require.NoError(b, err, "copying %s", table)
	}
	// ids are given, so the identity column is overridden for the copy
	_, err := s.pool.Exec(ctx, `ALTER TABLE contacts ALTER COLUMN id SET GENERATED BY DEFAULT`)
	require.NoError(b, err)
	copyRows("contacts", []string{"id", "ref_code", "record", "reachable", "preferred_channel", "reach_channels", "governorate", "lang", "member", "created_at"}, contacts)
	_, err = s.pool.Exec(ctx, `ALTER TABLE contacts ALTER COLUMN id SET GENERATED ALWAYS`)
	require.NoError(b, err)
	_, err = s.pool.Exec(ctx, `SELECT setval(pg_get_serial_sequence('contacts', 'id'), $1)`, int64(ids[n-1]))
	require.NoError(b, err)
	copyRows("addresses", []string{"address", "contact_id"}, addrs)
	if len(pledges) > 0 {
		copyRows("pledges", []string{"campaign_id", "contact_id", "at", "channel", "governorate", "lang"}, pledges)
		per := map[uint64]int{}
		for i := range n {
			per[campaigns[i%len(campaigns)]]++
		}
		for cid, k := range per {
			_, err := s.pool.Exec(ctx, `UPDATE campaign_counts SET pledges = pledges + $2 WHERE campaign_id = $1`, int64(cid), k)
			require.NoError(b, err)
		}
	}
	_, err = s.pool.Exec(ctx, `VACUUM ANALYZE`)
	require.NoError(b, err)
	return ids
}

// requireDurable checks that the server flushes its WAL at each commit,
// so its pledges/s are durable ones.
func requireDurable(b *testing.B, s *Store) {
	b.Helper()
	var sync, fsync string
	require.NoError(b, s.pool.QueryRow(context.Background(), `SELECT current_setting('synchronous_commit'), current_setting('fsync')`).Scan(&sync, &fsync))
	require.Equal(b, "on", sync, "synchronous_commit")
	require.Equal(b, "on", fsync, "fsync")
}

// BenchmarkMigrate200k copies a bbolt file of 200,000 people
// (storetest.Build: each with a pledge, a third signed up too) into an
// empty PostgreSQL database with Import, as `mobilise migrate` does, and
// reports the records copied per second.
func BenchmarkMigrate200k(b *testing.B) {
	const n = 200_000
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "mobilise.db")
	storetest.Build(b, path, n)
	bolt, err := store.Open(path)
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, bolt.Close()) })
	records := 0
	for b.Loop() {
		b.StopTimer()
		pg, _ := openTest(b)
		b.StartTimer()
		counts, err := pg.Import(ctx, bolt, path)
		require.NoError(b, err)
		records = 0
		for _, c := range counts {
			records += c.Target
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(records), "records")
}
