package store_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"mobilise/bot"
	"mobilise/store"
	"mobilise/store/storetest"
)

// scalePeople is how many people the scale benchmarks keep.
const scalePeople = 200_000

// BenchmarkScale measures the store at 200,000 people, built once per run
// (storetest.Build: every person through the store's own methods, with a
// pledge each and a sign-up for every third) and shared by the
// sub-benchmarks; those that write work on a copy. Each reports its figures
// with b.ReportMetric, beside bbolt's own cost of the same reads where a
// ratio says something.
//
//	go test ./store -run '^$' -bench Scale
func BenchmarkScale(b *testing.B) {
	dir := b.TempDir()
	built := filepath.Join(dir, "built.db")
	began := time.Now()
	storetest.Build(b, built, scalePeople)
	b.Logf("built %d people in %s", scalePeople, time.Since(began).Round(time.Millisecond))
	ctx := context.Background()

	b.Run("count", func(b *testing.B) {
		s := openScale(b, built)
		auds := map[string]store.Audience{
			"everyone":    {Kind: store.AudienceEveryone},
			"members":     {Kind: store.AudienceMembers},
			"governorate": {Kind: store.AudienceGovernorate, Governorate: "nablus"},
			"english":     {Kind: store.AudienceLang, Lang: "en"},
			"pledgers":    {Kind: store.AudiencePledgers, CampaignID: 1},
			"signups":     {Kind: store.AudienceSignups, CampaignID: 1},
			"not-pledged": {Kind: store.AudienceNotPledged, CampaignID: 1},
		}
		for _, name := range []string{"everyone", "members", "governorate", "english", "pledgers", "signups", "not-pledged"} {
			b.Run(name, func(b *testing.B) {
				var n store.AudienceCount
				for b.Loop() {
					var err error
					if n, err = s.CountAudience(ctx, auds[name], nil); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n.Total), "people")
				b.ReportMetric(float64(b.Elapsed())/float64(b.N)/1e6, "ms/count")
			})
		}
		// bbolt's own floor for any count: a read transaction and one key
		b.Run("raw-bbolt-get", func(b *testing.B) {
			for b.Loop() {
				if err := s.DB().View(func(tx *bbolt.Tx) error {
					tx.Bucket([]byte("meta")).Get([]byte("schema_version"))
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/1e6, "ms/count")
		})
	})

	b.Run("list", func(b *testing.B) {
		s := openScale(b, built)
		// bbolt's own floor: one pass over every contact's key and value
		raw := time.Duration(math.MaxInt64)
		for range 3 {
			began := time.Now()
			if err := s.DB().View(func(tx *bbolt.Tx) error {
				c := tx.Bucket([]byte("contacts")).Cursor()
				for k, _ := c.First(); k != nil; k, _ = c.Next() {
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			raw = min(raw, time.Since(began))
		}
		for _, tc := range []struct {
			name string
			aud  store.Audience
		}{
			{"everyone", store.Audience{Kind: store.AudienceEveryone}},
			{"governorate", store.Audience{Kind: store.AudienceGovernorate, Governorate: "nablus"}},
			{"pledgers", store.Audience{Kind: store.AudiencePledgers, CampaignID: 1}},
			{"not-pledged", store.Audience{Kind: store.AudienceNotPledged, CampaignID: 1}},
		} {
			b.Run(tc.name, func(b *testing.B) {
				var n int
				for b.Loop() {
					rs, err := s.Recipients(ctx, tc.aud, nil)
					if err != nil {
						b.Fatal(err)
					}
					n = len(rs)
				}
				per := b.Elapsed() / time.Duration(b.N)
				b.ReportMetric(float64(n), "people")
				b.ReportMetric(storetest.Ms(per), "ms/list")
				b.ReportMetric(storetest.Ms(raw), "ms-raw-bbolt-pass")
				b.ReportMetric(float64(per)/float64(raw), "x-raw")
			})
		}
	})

	b.Run("size", func(b *testing.B) {
		var live, compacted int64
		var perBucket map[string]bucketSize
		for b.Loop() {
			b.StopTimer()
			path := storetest.Copy(b, built, b.TempDir())
			b.StartTimer()
			var err error
			if live, err = fileSize(path); err != nil {
				b.Fatal(err)
			}
			perBucket = bucketSizes(b, path)
			res, err := store.Compact(path)
			if err != nil {
				b.Fatal(err)
			}
			compacted = res.After
		}
		var payload int64
		for _, name := range slices.Sorted(maps.Keys(perBucket)) {
			bs := perBucket[name]
			payload += bs.payload
			if bs.keys >= 100 {
				b.Logf("%-16s %7d keys %4d B/key in use %4d B/key allocated: %5.1f B/person", name, bs.keys,
					bs.inUse/int64(bs.keys), bs.alloc/int64(bs.keys), float64(bs.alloc)/scalePeople)
			}
		}
		b.ReportMetric(float64(live)/scalePeople, "B/person-as-built")
		b.ReportMetric(float64(compacted)/scalePeople, "B/person-compacted")
		b.ReportMetric(float64(payload)/scalePeople, "B/person-raw-keys-and-values")
		contact := perBucket["contacts"].inUse + perBucket["addresses"].inUse + perBucket["refcodes"].inUse
		b.ReportMetric(float64(contact)/scalePeople, "B/person-contact-and-indexes-in-use")
	})

	b.Run("migrate-version-3", func(b *testing.B) {
		var before, after int64
		for b.Loop() {
			b.StopTimer()
			path := filepath.Join(b.TempDir(), "old.db")
			err := store.WriteVersion3(path, scalePeople, storetest.Campaigns, storetest.Person,
				func(i int) uint64 { return uint64(i%storetest.Campaigns + 1) },
				func(i int) uint64 {
					if i%3 == 0 {
						return uint64(i%storetest.Campaigns + 1)
					}
					return 0
				})
			if err != nil {
				b.Fatal(err)
			}
			if before, err = fileSize(path); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			s, err := store.Open(path) // migrates, then compacts
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if after, err = fileSize(path); err != nil {
				b.Fatal(err)
			}
			n, err := s.CountAudience(ctx, store.Audience{Kind: store.AudienceEveryone}, nil)
			if err != nil || n.Total != scalePeople*9/10 {
				b.Fatalf("after the migration everyone counts %d (%v), want %d", n.Total, err, scalePeople*9/10)
			}
			if err := s.Check(); err != nil {
				b.Fatal(err)
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(before)/scalePeople, "B/person-version-3")
		b.ReportMetric(float64(after)/scalePeople, "B/person-migrated")
		b.ReportMetric(float64(b.Elapsed())/float64(b.N)/1e9, "s/migration")
	})

	// a broadcast to the 100,000 people reached on WhatsApp, each greeted
	// by name, and the same to everyone on Telegram, where one text serves
	// all: written from one list of every entry (what the filler did), and
	// streamed a chunk at a time
	text := string([]rune(strings.Repeat("نداء للمصالحة ", 30))[:300])
	for _, tc := range []struct {
		name    string
		channel bot.ChannelName
	}{{"queue-personalised", bot.WhatsApp}, {"queue-shared-text", bot.Telegram}} {
		b.Run(tc.name, func(b *testing.B) {
			only := func(ch bot.ChannelName) bool { return ch == tc.channel }
			render := func(rs []store.Recipient) ([]store.OutboxEntry, error) {
				entries := make([]store.OutboxEntry, 0, len(rs))
				for _, r := range rs {
					t := text
					if r.Channel() == bot.WhatsApp {
						t = fmt.Sprintf("أهلاً %s،\n\n%s", r.Name, text)
					}
					entries = append(entries, store.OutboxEntry{To: r.Address, ContactID: r.ContactID, Text: t, Lang: r.Lang,
						Buttons: [][]bot.Button{{{Text: "الحملة", Payload: "/campaign c1"}}}})
				}
				return entries, nil
			}
			var slicePeak, streamPeak uint64
			var queued int
			for b.Loop() {
				b.StopTimer()
				s := openScale(b, storetest.Copy(b, built, b.TempDir()))
				one := &store.Broadcast{TextAR: text, Audience: store.Audience{Kind: store.AudienceEveryone}, Status: store.BroadcastQueued}
				two := *one
				for _, bc := range []*store.Broadcast{one, &two} {
					if err := s.CreateBroadcast(ctx, bc); err != nil {
						b.Fatal(err)
					}
				}
				slicePeak = max(slicePeak, storetest.PeakHeap(func() {
					rs, err := s.Recipients(ctx, one.Audience, only)
					if err == nil {
						var entries []store.OutboxEntry
						if entries, err = render(rs); err == nil {
							err = s.QueueBroadcast(ctx, one.ID, entries)
						}
					}
					if err != nil {
						b.Fatal(err)
					}
				}))
				b.StartTimer()
				streamPeak = max(streamPeak, storetest.PeakHeap(func() {
					var err error
					if queued, err = s.QueueBroadcastStream(ctx, two.ID, only, render); err != nil {
						b.Fatal(err)
					}
				}))
			}
			b.ReportMetric(float64(queued), "people")
			b.ReportMetric(float64(streamPeak)/(1<<20), "MB-peak-heap-streamed")
			b.ReportMetric(float64(slicePeak)/(1<<20), "MB-peak-heap-one-list")
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/1e9, "s/queue-streamed")
		})
	}
}

// openScale opens a scale store for one sub-benchmark, closed at its end.
func openScale(b *testing.B, path string) *store.Store {
	b.Helper()
	s, err := store.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := s.Close(); err != nil {
			b.Error(err)
		}
	})
	return s
}

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// bucketSize is how much of the file a bucket takes.
type bucketSize struct {
	keys                  int
	inUse, alloc, payload int64
}

// bucketSizes reads the size of every bucket of the file at path.
func bucketSizes(b *testing.B, path string) map[string]bucketSize {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	out := map[string]bucketSize{}
	if err := db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, bk *bbolt.Bucket) error {
			st := bk.Stats()
			bs := bucketSize{keys: st.KeyN, inUse: int64(st.LeafInuse + st.BranchInuse), alloc: int64(st.LeafAlloc + st.BranchAlloc)}
			err := bk.ForEach(func(k, v []byte) error {
				bs.payload += int64(len(k) + len(v))
				return nil
			})
			out[string(name)] = bs
			return err
		})
	}); err != nil {
		b.Fatal(err)
	}
	return out
}
