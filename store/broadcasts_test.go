package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// broadcastEntries builds one entry per contact 1..n, in a shuffled order;
// every third goes to WhatsApp.
func broadcastEntries(n int, text string) []OutboxEntry {
	entries := make([]OutboxEntry, n)
	for i := range entries {
		id := uint64(i + 1)
		to := fmt.Sprintf("telegram:%d", 100000000+id)
		if id%3 == 0 {
			to = fmt.Sprintf("whatsapp:97059%07d", id)
		}
		entries[i] = OutboxEntry{To: bot.MustParseAddress(to), ContactID: id, Text: text, Lang: "ar"}
	}
	rand.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
	return entries
}

// allPending reads a whole lane.
func allPending(t testing.TB, s *Store, channel bot.ChannelName, bulk bool) []OutboxEntry {
	t.Helper()
	var out []OutboxEntry
	var after uint64
	for {
		page, err := s.PendingOutbox(context.Background(), channel, bulk, after, 1000)
		require.NoError(t, err)
		out = append(out, page...)
		if len(page) < 1000 {
			return out
		}
		after = page[len(page)-1].ID
	}
}

func TestBroadcastLifecycle(t *testing.T) {
	s, clock := openOutboxStore(t)
	b := &Broadcast{TextAR: "نداء", TextEN: "Call", Audience: Audience{Kind: AudienceEveryone}, CreatedBy: 7, Urgent: true}
	require.NoError(t, s.CreateBroadcast(context.Background(), b))
	assert.NotZero(t, b.ID)
	assert.Equal(t, BroadcastAwaitingApproval, b.Status)
	assert.Equal(t, clock.Now(), b.CreatedAt)

	b, err := s.UpdateBroadcast(context.Background(), b.ID, func(b *Broadcast) error {
		b.ApprovedBy = 9
		b.StatusMessage = map[string]string{"telegram:7": "555"}
		b.ID = 42 // ignored
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, uint64(9), b.ApprovedBy)
	assert.NotEqual(t, uint64(42), b.ID)

	// 2,501 entries in chunks of 1,000: three transactions
	const n = 2501
	entries := broadcastEntries(n, "نداء")
	clock.Add(time.Minute)
	require.NoError(t, s.queueBroadcast(context.Background(), b.ID, entries, 1000))
	for i := 1; i < len(entries); i++ {
		require.Less(t, entries[i-1].ContactID, entries[i].ContactID, "sorted by contact")
		require.Less(t, entries[i-1].ID, entries[i].ID, "IDs in contact order")
	}
	got, err := s.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, BroadcastQueued, got.Status)
	assert.Equal(t, n, got.Total)
	assert.Equal(t, n, got.Left())
	assert.True(t, got.AllQueued)
	assert.Equal(t, uint64(n), got.QueuedThrough)
	assert.Equal(t, clock.Now(), got.QueuedAt)
	assert.Equal(t, map[string]string{"telegram:7": "555"}, got.StatusMessage)

	tg, wa := allPending(t, s, "telegram", true), allPending(t, s, "whatsapp", true)
	assert.Len(t, tg, n-n/3)
	assert.Len(t, wa, n/3)
	assert.Empty(t, allPending(t, s, "telegram", false), "broadcasts go to the bulk lane")
	for _, e := range append(tg, wa...) {
		require.Equal(t, "نداء", e.Text)
		require.Equal(t, b.ID, e.BroadcastID)
		require.True(t, e.Bulk)
		require.True(t, e.Urgent, "the broadcast's urgency")
		require.Equal(t, KindBroadcast, e.Kind)
	}

	// outcomes count towards the broadcast; the last one finishes it
	require.NoError(t, s.OutboxDone(context.Background(), tg[0].ID, tg[1].ID))
	got, err = s.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, BroadcastSending, got.Status)
	assert.Equal(t, 2, got.Sent)
	require.NoError(t, s.OutboxFailed(context.Background(), tg[2].ID, "chat not found", false))
	require.NoError(t, s.OutboxFailed(context.Background(), tg[3].ID, "blocked", true))
	rest := append(tg[4:], wa...)
	ids := make([]uint64, len(rest))
	for i, e := range rest {
		ids[i] = e.ID
	}
	clock.Add(time.Hour)
	require.NoError(t, s.OutboxDone(context.Background(), ids...))
	got, err = s.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, BroadcastDone, got.Status)
	assert.Equal(t, []int{n - 2, 1, 1, 0}, []int{got.Sent, got.Failed, got.Blocked, got.Left()})
	assert.Equal(t, "chat not found", got.LastError)
	assert.Equal(t, clock.Now(), got.FinishedAt)

	// nothing more can be queued; cancelling a done broadcast changes nothing
	require.ErrorIs(t, s.QueueBroadcast(context.Background(), b.ID, broadcastEntries(1, "x")), ErrBroadcastClosed)
	removed, err := s.CancelBroadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Zero(t, removed)
	got, err = s.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, BroadcastDone, got.Status)

	all, err := s.Broadcasts(context.Background())
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.Equal(t, *got, all[0])
	_, err = s.Broadcast(context.Background(), 999)
	require.ErrorIs(t, err, ErrNotFound)
}

func TestBroadcastTextIsStoredOnce(t *testing.T) {
	s, _ := openOutboxStore(t)
	b := &Broadcast{TextAR: "نداء", TextEN: "Call"}
	require.NoError(t, s.CreateBroadcast(context.Background(), b))
	entries := []OutboxEntry{
		{To: bot.MustParseAddress("telegram:1"), ContactID: 1, Text: "نداء", Lang: "ar"},
		{To: bot.MustParseAddress("telegram:2"), ContactID: 2, Text: "Call", Lang: "en"},
		{To: bot.MustParseAddress("whatsapp:3"), ContactID: 3, Text: "Salma, نداء", Lang: "ar"}, // personalised
	}
	require.NoError(t, s.QueueBroadcast(context.Background(), b.ID, entries))
	raw := map[uint64]string{}
	require.NoError(t, s.DB().View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			var rec struct {
				ID      uint64 `json:"id"`
				Text    string `json:"text"`
				TextRef string `json:"text_ref"`
			}
			require.NoError(t, json.Unmarshal(v, &rec))
			raw[rec.ID] = rec.Text + "|" + rec.TextRef
			return nil
		})
	}))
	assert.Equal(t, map[uint64]string{entries[0].ID: "|ar", entries[1].ID: "|en", entries[2].ID: "Salma, نداء|"}, raw)

	read := func() []string {
		var texts []string
		for _, e := range append(allPending(t, s, "telegram", true), allPending(t, s, "whatsapp", true)...) {
			texts = append(texts, e.Text)
		}
		return texts
	}
	assert.Equal(t, []string{"نداء", "Call", "Salma, نداء"}, read())
	// a retry keeps the reference
	require.NoError(t, s.OutboxRetry(context.Background(), entries[0].ID, time.Time{}, "timeout"))
	assert.Equal(t, []string{"نداء", "Call", "Salma, نداء"}, read())
	// a corrected text reaches the copies not yet sent
	_, err := s.UpdateBroadcast(context.Background(), b.ID, func(b *Broadcast) error { b.TextEN = "Call!"; return nil })
	require.NoError(t, err)
	assert.Equal(t, []string{"نداء", "Call!", "Salma, نداء"}, read())
}

func TestQueueBroadcastEmptyAudienceIsDone(t *testing.T) {
	s, _ := openOutboxStore(t)
	b := &Broadcast{TextAR: "x"}
	require.NoError(t, s.CreateBroadcast(context.Background(), b))
	require.NoError(t, s.QueueBroadcast(context.Background(), b.ID, nil))
	got, err := s.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, BroadcastDone, got.Status)
	assert.Zero(t, got.Total)
}

func TestQueueBroadcastResumesAfterInterruption(t *testing.T) {
	s, _ := openOutboxStore(t)
	b := &Broadcast{TextAR: "x"}
	require.NoError(t, s.CreateBroadcast(context.Background(), b))
	// the process stopped after writing the chunks up to contact 1,500 of 3,000
	require.NoError(t, s.queueBroadcast(context.Background(), b.ID, broadcastEntries(1500, "x"), 500))
	_, err := s.UpdateBroadcast(context.Background(), b.ID, func(b *Broadcast) error { b.AllQueued = false; return nil })
	require.NoError(t, err)
	// some were sent meanwhile
	first := allPending(t, s, "telegram", true)[:10]
	for _, e := range first {
		require.NoError(t, s.OutboxDone(context.Background(), e.ID))
	}

	// started again, the engine works out the recipients afresh
	require.NoError(t, s.queueBroadcast(context.Background(), b.ID, broadcastEntries(3000, "x"), 500))
	got, err := s.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, 3000, got.Total)
	assert.True(t, got.AllQueued)
	assert.Equal(t, BroadcastSending, got.Status)
	perContact := map[uint64]int{}
	for _, e := range append(allPending(t, s, "telegram", true), allPending(t, s, "whatsapp", true)...) {
		perContact[e.ContactID]++
	}
	for _, e := range first {
		perContact[e.ContactID]++
	}
	assert.Len(t, perContact, 3000)
	for id, n := range perContact {
		require.Equal(t, 1, n, "contact %d queued once", id)
	}

	// a complete broadcast is not queued again
	require.NoError(t, s.QueueBroadcast(context.Background(), b.ID, broadcastEntries(3100, "x")))
	got, err = s.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, 3000, got.Total)
}

func TestQueueBroadcastRejectsEntriesWithoutContact(t *testing.T) {
	s, _ := openOutboxStore(t)
	b := &Broadcast{TextAR: "x"}
	require.NoError(t, s.CreateBroadcast(context.Background(), b))
	require.Error(t, s.QueueBroadcast(context.Background(), b.ID, []OutboxEntry{{To: bot.MustParseAddress("telegram:1"), Text: "x"}}))
	require.Error(t, s.QueueBroadcast(context.Background(), b.ID, []OutboxEntry{{To: bot.Address{Channel: bot.Telegram}, ContactID: 1, Text: "x"}}))
	require.ErrorIs(t, s.QueueBroadcast(context.Background(), 99, broadcastEntries(1, "x")), ErrNotFound)
	got, err := s.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, BroadcastAwaitingApproval, got.Status)
}

func TestCancelBroadcast(t *testing.T) {
	s, clock := openOutboxStore(t)
	b := &Broadcast{TextAR: "x"}
	require.NoError(t, s.CreateBroadcast(context.Background(), b))
	other := &Broadcast{TextAR: "y"}
	require.NoError(t, s.CreateBroadcast(context.Background(), other))
	require.NoError(t, s.Enqueue(context.Background(), OutboxEntry{To: bot.MustParseAddress("telegram:1"), Text: "a notice"}))
	require.NoError(t, s.QueueBroadcast(context.Background(), b.ID, broadcastEntries(1000, "x")))
	require.NoError(t, s.Enqueue(context.Background(), OutboxEntry{To: bot.MustParseAddress("telegram:1"), Text: "a test send", BroadcastID: b.ID}))
	require.NoError(t, s.QueueBroadcast(context.Background(), other.ID, broadcastEntries(10, "y")))

	// a few are sent, one is being sent when the cancel lands
	tg := allPending(t, s, "telegram", true)
	require.NoError(t, s.OutboxDone(context.Background(), tg[0].ID, tg[1].ID, tg[2].ID))
	inFlight := tg[3]

	clock.Add(time.Minute)
	removed, err := s.CancelBroadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, 1000-3, removed)
	got, err := s.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, BroadcastCancelled, got.Status)
	assert.Equal(t, clock.Now(), got.FinishedAt)
	assert.Equal(t, 3, got.Sent)
	assert.Equal(t, 997, got.Cancelled)
	assert.Zero(t, got.Left())

	for _, e := range append(allPending(t, s, "telegram", true), allPending(t, s, "whatsapp", true)...) {
		require.Equal(t, other.ID, e.BroadcastID, "only the other broadcast's entries are left")
	}
	assert.Len(t, allPending(t, s, "telegram", false), 2, "notices and test sends stay")

	// the send in flight finishes: nothing to record; cancelling again changes nothing
	require.NoError(t, s.OutboxDone(context.Background(), inFlight.ID))
	removed, err = s.CancelBroadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Zero(t, removed)
	got, err = s.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, 3, got.Sent)
	require.ErrorIs(t, s.QueueBroadcast(context.Background(), b.ID, broadcastEntries(1000, "x")), ErrBroadcastClosed)
	_, err = s.CancelBroadcast(context.Background(), 999)
	require.ErrorIs(t, err, ErrNotFound)
}

func TestOutboxForget(t *testing.T) {
	s, _ := openOutboxStore(t)
	b := &Broadcast{TextAR: "x"}
	require.NoError(t, s.CreateBroadcast(context.Background(), b))
	require.NoError(t, s.QueueBroadcast(context.Background(), b.ID, []OutboxEntry{
		{To: bot.MustParseAddress("telegram:1"), ContactID: 1, Text: "x"},
		{To: bot.MustParseAddress("telegram:2"), ContactID: 2, Text: "x"},
	}))
	require.NoError(t, s.Enqueue(context.Background(),
		OutboxEntry{To: bot.MustParseAddress("whatsapp:1"), ContactID: 1, Text: "a notice"},
		OutboxEntry{To: bot.MustParseAddress("console:one"), Text: "no contact ID"},
		OutboxEntry{To: bot.MustParseAddress("telegram:2"), ContactID: 2, Text: "someone else"},
	))
	removed, err := s.OutboxForget(context.Background(), 1, addrList("telegram:1", "console:one"))
	require.NoError(t, err)
	assert.Equal(t, 3, removed)
	assert.Len(t, allPending(t, s, "telegram", true), 1)
	assert.Len(t, allPending(t, s, "telegram", false), 1)
	assert.Empty(t, allPending(t, s, "whatsapp", false))
	assert.Empty(t, allPending(t, s, "console", false))
	got, err := s.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Cancelled)
	assert.Equal(t, BroadcastQueued, got.Status)

	// the other recipient's message settles it
	require.NoError(t, s.OutboxDone(context.Background(), allPending(t, s, "telegram", true)[0].ID))
	got, err = s.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, BroadcastDone, got.Status)
	assert.Equal(t, 1, got.Sent)
}

func TestCancelDuringQueueStopsIt(t *testing.T) {
	s, _ := openOutboxStore(t)
	b := &Broadcast{TextAR: "x"}
	require.NoError(t, s.CreateBroadcast(context.Background(), b))
	entries := broadcastEntries(5000, "x")
	var queueErr error
	var wg sync.WaitGroup
	var queued atomic.Bool
	wg.Go(func() {
		queueErr = s.queueBroadcast(context.Background(), b.ID, entries, 100)
		queued.Store(true)
	})
	// cancel once the first chunk is in
	require.Eventually(t, func() bool {
		got, err := s.Broadcast(context.Background(), b.ID)
		return err == nil && got.Total > 0 || queued.Load()
	}, 10*time.Second, time.Millisecond)
	_, err := s.CancelBroadcast(context.Background(), b.ID)
	require.NoError(t, err)
	wg.Wait()
	got, err := s.Broadcast(context.Background(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, BroadcastCancelled, got.Status)
	if queueErr != nil {
		require.ErrorIs(t, queueErr, ErrBroadcastClosed)
	}
	assert.Empty(t, allPending(t, s, "telegram", true))
	assert.Empty(t, allPending(t, s, "whatsapp", true))
}

// BenchmarkQueueBroadcast100k writes one broadcast to 100,000 recipients
// with a 300-character Arabic text, shared (the usual broadcast) or
// personalised with each person's name, and reports the time per broadcast
// and the peak heap in use while writing (sampled every millisecond) above
// the heap before the call, which already holds the entries.
func BenchmarkQueueBroadcast100k(b *testing.B) {
	const n = 100_000
	text := string([]rune(strings.Repeat("نداء للمصالحة ", 30))[:300])
	for _, personalised := range []bool{false, true} {
		name := "shared-text"
		if personalised {
			name = "personalised"
		}
		b.Run(name, func(b *testing.B) {
			s, err := Open(b.TempDir() + "/bench.db")
			require.NoError(b, err)
			b.Cleanup(func() { require.NoError(b, s.Close()) })
			var peak, base uint64
			for b.Loop() {
				b.StopTimer()
				bc := &Broadcast{TextAR: text}
				require.NoError(b, s.CreateBroadcast(context.Background(), bc))
				entries := broadcastEntries(n, text)
				if personalised {
					for i := range entries {
						entries[i].Text = fmt.Sprintf("Person %d، %s", entries[i].ContactID, text)
					}
				}
				runtime.GC()
				base = heapObjects()
				stop := make(chan struct{})
				sampled := make(chan uint64)
				go func() { sampled <- samplePeakHeap(stop) }()
				b.StartTimer()

				require.NoError(b, s.QueueBroadcast(context.Background(), bc.ID, entries))

				b.StopTimer()
				close(stop)
				if p := <-sampled; p > base && p-base > peak {
					peak = p - base
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(base)/(1<<20), "base-heap-MB")
		})
	}
}

// heapObjects returns the bytes of heap objects now.
func heapObjects() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// samplePeakHeap returns the highest heap in use (live and not yet swept
// objects) seen until stop closes. runtime/metrics reads it without
// stopping the world, so sampling barely slows the benchmark.
func samplePeakHeap(stop <-chan struct{}) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		metrics.Read(sample)
		peak = max(peak, sample[0].Value.Uint64())
		select {
		case <-stop:
			return peak
		case <-tick.C:
		}
	}
}

// personalised renders one recipient's copy as a broadcast's filler does:
// their name, on WhatsApp.
func personalised(b *Broadcast, calls *int, failAt int) func([]Recipient) ([]OutboxEntry, error) {
	return func(rs []Recipient) ([]OutboxEntry, error) {
		*calls++
		if *calls == failAt {
			return nil, errors.New("the process stops")
		}
		entries := make([]OutboxEntry, 0, len(rs))
		for _, r := range rs {
			text := b.TextAR
			if r.Channel() == bot.WhatsApp {
				text = "أهلاً " + r.Name + "\n\n" + text
			}
			entries = append(entries, OutboxEntry{To: r.Address, ContactID: r.ContactID, Text: text, Lang: r.Lang})
		}
		return entries, nil
	}
}

func TestQueueBroadcastStream(t *testing.T) {
	s, _ := openOutboxStore(t)
	ctx := context.Background()
	bulkAudience(t, s, 95) // every tenth stopped: 86 people, every third on WhatsApp
	want, err := s.Recipients(ctx, Audience{Kind: AudienceEveryone}, nil)
	require.NoError(t, err)
	require.Len(t, want, 86)
	b := &Broadcast{TextAR: "نداء", Audience: Audience{Kind: AudienceEveryone}}
	require.NoError(t, s.CreateBroadcast(ctx, b))

	// the process stops while rendering the third chunk of 10
	calls := 0
	n, err := s.queueBroadcastStream(ctx, b.ID, nil, personalised(b, &calls, 3), 10)
	require.Error(t, err)
	assert.Equal(t, 20, n)
	got, err := s.Broadcast(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, 20, got.Total)
	assert.Equal(t, want[19].ContactID, got.QueuedThrough)
	assert.False(t, got.AllQueued)
	assert.Equal(t, BroadcastQueued, got.Status, "the dispatchers start on the first chunk")

	// started again, it carries on above QueuedThrough
	calls = 0
	n, err = s.queueBroadcastStream(ctx, b.ID, nil, personalised(b, &calls, 0), 10)
	require.NoError(t, err)
	assert.Equal(t, 66, n)
	assert.Equal(t, 7, calls, "six full chunks and the end")
	got, err = s.Broadcast(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, 86, got.Total)
	assert.True(t, got.AllQueued)

	var queued []Recipient
	for _, e := range append(allPending(t, s, "telegram", true), allPending(t, s, "whatsapp", true)...) {
		assert.Equal(t, b.ID, e.BroadcastID)
		if e.To.Channel == bot.WhatsApp {
			assert.Contains(t, e.Text, "Person ", "greeted by name")
		} else {
			assert.Equal(t, "نداء", e.Text)
		}
		queued = append(queued, Recipient{ContactID: e.ContactID, Address: e.To, Lang: e.Lang})
	}
	slices.SortFunc(queued, func(a, b Recipient) int { return cmp.Compare(a.ContactID, b.ContactID) })
	require.Len(t, queued, len(want), "everyone once")
	for i := range want {
		assert.Equal(t, want[i].ContactID, queued[i].ContactID)
		assert.Equal(t, want[i].Address, queued[i].Address)
	}

	// all queued: nothing more, however often it is called
	n, err = s.QueueBroadcastStream(ctx, b.ID, nil, personalised(b, &calls, 0))
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = s.CancelBroadcast(ctx, b.ID)
	require.NoError(t, err)
	b2 := &Broadcast{TextAR: "نداء", Audience: Audience{Kind: AudienceEveryone}, Status: BroadcastCancelled}
	require.NoError(t, s.CreateBroadcast(ctx, b2))
	_, err = s.QueueBroadcastStream(ctx, b2.ID, nil, personalised(b2, &calls, 0))
	require.ErrorIs(t, err, ErrBroadcastClosed)
}

func TestQueueBroadcastStreamEmptyAudienceIsDone(t *testing.T) {
	s, _ := openOutboxStore(t)
	ctx := context.Background()
	b := &Broadcast{TextAR: "نداء", Audience: Audience{Kind: AudienceGovernorate, Governorate: "jenin"}}
	require.NoError(t, s.CreateBroadcast(ctx, b))
	calls := 0
	n, err := s.QueueBroadcastStream(ctx, b.ID, nil, personalised(b, &calls, 0))
	require.NoError(t, err)
	assert.Zero(t, n)
	got, err := s.Broadcast(ctx, b.ID)
	require.NoError(t, err)
	assert.True(t, got.AllQueued)
	assert.Equal(t, BroadcastDone, got.Status)
}
