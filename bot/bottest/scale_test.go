package bottest_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/bot/coalition"
	"mobilise/bot/console"
	"mobilise/messages"
	"mobilise/store"
	"mobilise/store/storetest"
)

// sink is a channel that takes every message at once: the platform's round
// trip is not what these measure.
type sink struct {
	name bot.ChannelName
	sent atomic.Int64
}

func (s *sink) Name() bot.ChannelName { return s.name }

func (s *sink) Send(context.Context, bot.Outgoing) (string, error) {
	return fmt.Sprint(s.sent.Add(1)), nil
}

// admin is the coordinator of these tests, an admin by the configuration,
// who works in the terminal chat.
var admin = bot.Address{Channel: bot.Console, ID: "admin"}

// stackOver builds the bot over the store at path, on the real console
// channel (printing into out) and sinks for the channels given, with admin
// already onboarded in English.
func stackOver(tb testing.TB, path string, out *bytes.Buffer, channels ...bot.ChannelName) *bottest.Stack {
	tb.Helper()
	st, err := store.Open(path)
	require.NoError(tb, err)
	tb.Cleanup(func() { assert.NoError(tb, st.Close()) })
	c, _, err := st.EnsureContact(context.Background(), admin, "Admin", "en")
	require.NoError(tb, err)
	_, err = st.UpdateContact(context.Background(), c.ID, func(c *store.Contact) error {
		c.OnboardedAt = time.Now().UTC()
		return nil
	})
	require.NoError(tb, err)
	senders := []bot.Sender{console.New(strings.NewReader(""), out)}
	for _, ch := range channels {
		senders = append(senders, &sink{name: ch})
	}
	return bottest.New(tb, st, senders, bottest.Config{Admins: []bot.Address{admin}})
}

// personAt is the address person i of storetest.Build writes from.
func personAt(i int) bot.Address {
	return storetest.Person(i).Addresses[0]
}

// unpledged is a campaign code person i of storetest.Build has not pledged to.
func unpledged(i, k int) string {
	return fmt.Sprintf("c%d", (i+k)%storetest.Campaigns+1)
}

// lastCommit is the ID of the last committed write transaction, read
// around the store's counters.
func lastCommit(tb testing.TB, st *store.Store) int {
	var id int
	require.NoError(tb, st.DB().View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil }))
	return id
}

// pledgeTransactions handles one /pledge from person i, with nothing else
// running, and returns the transactions it took by the store's count, and
// by bbolt's: read transactions begun and write transactions committed.
func pledgeTransactions(tb testing.TB, stack *bottest.Stack, i int, id string) (store.TxStats, int, int) {
	tb.Helper()
	st := stack.Store.(*store.Store)
	commits := lastCommit(tb, st) // its own view is not the message's: read first
	before, reads := st.TxStats(), st.DB().Stats().TxN
	require.NoError(tb, stack.Bot.HandleIncoming(context.Background(), bot.Incoming{
		From: personAt(i), Name: "سمر", Text: "/pledge " + unpledged(i, 1), ExternalID: id,
	}))
	after, readsAfter := st.TxStats(), st.DB().Stats().TxN
	return store.TxStats{Reads: after.Reads - before.Reads, Writes: after.Writes - before.Writes},
		readsAfter - reads, lastCommit(tb, st) - commits
}

// TestAPledgeTakesOneTransaction counts, for real, the store transactions
// of handling a /pledge: by the store's own count, and by bbolt's.
func TestAPledgeTakesOneTransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mobilise.db")
	storetest.Build(t, path, 50)
	var out bytes.Buffer
	stack := stackOver(t, path, &out, bot.Telegram, bot.WhatsApp)
	got, reads, commits := pledgeTransactions(t, stack, 7, "9001")
	assert.Equal(t, store.TxStats{Reads: 0, Writes: 1}, got, "the store's count")
	assert.Equal(t, 0, reads, "bbolt's read transactions")
	assert.Equal(t, 1, commits, "bbolt's commits")
	assert.LessOrEqual(t, got.Reads+got.Writes, uint64(3))
	pledged, err := stack.Store.Pledge(context.Background(), 1+uint64((7+1)%storetest.Campaigns), 8)
	require.NoError(t, err, "the pledge is kept")
	assert.Equal(t, uint64(8), pledged.ContactID)

	// the same update again is recognised in the same one transaction
	again, _, _ := pledgeTransactions(t, stack, 7, "9001")
	assert.Equal(t, store.TxStats{Writes: 1}, again)

	// delivering the replies is the dispatcher's, counted apart
	stack.Start(t)
	require.NoError(t, stack.Disp.Flush(context.Background(), bot.Telegram))
	before := stack.Store.(*store.Store).TxStats()
	require.NoError(t, stack.Bot.HandleIncoming(context.Background(), bot.Incoming{
		From: personAt(9), Name: "سمر", Text: "/pledge " + unpledged(9, 1), ExternalID: "9002",
	}))
	handled := stack.Store.(*store.Store).TxStats()
	require.NoError(t, stack.Disp.Flush(context.Background(), bot.Telegram))
	delivered := stack.Store.(*store.Store).TxStats()
	t.Logf("a /pledge with the dispatcher running: handling %d reads %d writes; delivering its replies %d reads %d writes",
		handled.Reads-before.Reads, handled.Writes-before.Writes, delivered.Reads-handled.Reads, delivered.Writes-handled.Writes)
}

// BenchmarkScale measures the whole bot at 200,000 people (storetest.Build,
// built once per run; every sub-benchmark works on a copy), in process: the
// platforms are sinks that take a message at once.
//
//	go test ./bot/bottest -run '^$' -bench Scale
func BenchmarkScale(b *testing.B) {
	const people = 200_000
	built := filepath.Join(b.TempDir(), "built.db")
	began := time.Now()
	storetest.Build(b, built, people)
	b.Logf("built %d people in %s", people, time.Since(began).Round(time.Millisecond))
	ctx := context.Background()
	copyOf := func(b *testing.B) string { return storetest.Copy(b, built, b.TempDir()) }

	// a coordinator on the console: /help, against the preview of a
	// broadcast to everyone (the answer to the audience question)
	b.Run("preview-vs-help", func(b *testing.B) {
		var out bytes.Buffer
		stack := stackOver(b, copyOf(b), &out, bot.Telegram, bot.WhatsApp)
		stack.Start(b)
		h := stack.Handler(bot.Console)
		say := func(text string) time.Duration {
			began := time.Now()
			require.NoError(b, h.HandleIncoming(ctx, bot.Incoming{From: admin, Name: "Admin", Text: text}))
			return time.Since(began)
		}
		var helps, previews []time.Duration
		for b.Loop() {
			helps = append(helps, say("/help"))
			for _, line := range []string{"/broadcast", "1", "نداء للمصالحة", "skip"} {
				say(line)
			}
			out.Reset()
			previews = append(previews, say("1"))
			require.Contains(b, out.String(), stack.Cat.Count("en", messages.PeopleCount, people*9/10, nil), "the preview counts everyone")
			say("/cancel")
		}
		help, preview := storetest.Percentile(helps, 50), storetest.Percentile(previews, 50)
		b.ReportMetric(storetest.Ms(help), "ms-help-p50")
		b.ReportMetric(storetest.Ms(preview), "ms-preview-p50")
		b.ReportMetric(storetest.Ms(preview-help), "ms-preview-over-help-p50")
		b.ReportMetric(storetest.Ms(storetest.Percentile(previews, 99)-storetest.Percentile(helps, 99)), "ms-preview-over-help-p99")
		b.ReportMetric(float64(preview)/float64(help), "x-help")
	})

	// one message at a time from people picked at random: a /pledge to a
	// campaign they had not pledged to, and a /help, with the dispatcher
	// delivering the replies meanwhile; beside a bare durable bbolt commit
	// of one key in the same file. "unsynced" is the same without the sync
	// to disk, bbolt's and the handling's: the work of the bot alone, which
	// a busy disk does not blur.
	for _, durable := range []bool{true, false} {
		name := "handling"
		if !durable {
			name = "handling-unsynced"
		}
		b.Run(name, func(b *testing.B) {
			var out bytes.Buffer
			stack := stackOver(b, copyOf(b), &out, bot.Telegram, bot.WhatsApp)
			stack.Store.(*store.Store).DB().NoSync = !durable
			stack.Start(b)
			var raws []time.Duration
			require.NoError(b, stack.Store.(*store.Store).DB().Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucketIfNotExists([]byte("raw")); return err }))
			for i := range 300 {
				began := time.Now()
				require.NoError(b, stack.Store.(*store.Store).DB().Update(func(tx *bbolt.Tx) error {
					return tx.Bucket([]byte("raw")).Put([]byte(fmt.Sprint(i)), []byte("handled"))
				}))
				raws = append(raws, time.Since(began))
			}
			rng := rand.New(rand.NewPCG(5, 6))
			var pledges, helps []time.Duration
			seen := map[int]bool{}
			seq := 0
			send := func(i int, text string) time.Duration {
				seq++
				began := time.Now()
				require.NoError(b, stack.Bot.HandleIncoming(ctx, bot.Incoming{From: personAt(i), Name: "سمر", Text: text, ExternalID: fmt.Sprint(seq)}))
				return time.Since(began)
			}
			for b.Loop() {
				i := rng.IntN(people)
				for seen[i] {
					i = rng.IntN(people)
				}
				seen[i] = true
				pledges = append(pledges, send(i, "/pledge "+unpledged(i, 1)))
				helps = append(helps, send(rng.IntN(people), "/help"))
			}
			b.ReportMetric(storetest.Ms(storetest.Percentile(pledges, 50)), "ms-pledge-p50")
			b.ReportMetric(storetest.Ms(storetest.Percentile(pledges, 99)), "ms-pledge-p99")
			b.ReportMetric(storetest.Ms(storetest.Percentile(helps, 50)), "ms-help-p50")
			b.ReportMetric(storetest.Ms(storetest.Percentile(helps, 99)), "ms-help-p99")
			b.ReportMetric(storetest.Ms(storetest.Percentile(raws, 50)), "ms-raw-bbolt-commit-p50")
			b.ReportMetric(storetest.Ms(storetest.Percentile(raws, 99)), "ms-raw-bbolt-commit-p99")
		})
	}

	// 64 people pledging at the same moment: their messages share commits
	b.Run("handling-64-at-once", func(b *testing.B) {
		var out bytes.Buffer
		stack := stackOver(b, copyOf(b), &out, bot.Telegram, bot.WhatsApp)
		stack.Start(b)
		var next, seq atomic.Int64
		commits := lastCommit(b, stack.Store.(*store.Store))
		messages := 0
		for b.Loop() {
			var wg sync.WaitGroup
			for range 64 {
				wg.Go(func() {
					i := int(next.Add(1)*7919) % people
					err := stack.Bot.HandleIncoming(ctx, bot.Incoming{From: personAt(i), Name: "سمر", Text: "/pledge " + unpledged(i, 2),
						ExternalID: fmt.Sprint(seq.Add(1))})
					assert.NoError(b, err)
				})
			}
			wg.Wait()
			messages += 64
		}
		b.ReportMetric(float64(messages)/b.Elapsed().Seconds(), "messages/s")
		// the dispatcher's commits are counted too
		b.ReportMetric(float64(lastCommit(b, stack.Store.(*store.Store))-commits)/float64(messages), "commits/message")
	})

	// the transactions of one /pledge at this size, by the store's count
	b.Run("transactions-per-pledge", func(b *testing.B) {
		var out bytes.Buffer
		stack := stackOver(b, copyOf(b), &out, bot.Telegram, bot.WhatsApp)
		var total store.TxStats
		n := 0
		for b.Loop() {
			got, _, _ := pledgeTransactions(b, stack, n*37%people, fmt.Sprint(n))
			total.Reads += got.Reads
			total.Writes += got.Writes
			n++
		}
		b.ReportMetric(float64(total.Reads+total.Writes)/float64(n), "transactions/pledge")
	})

	// a broadcast submitted to everyone and queued by the filler: to the
	// 100,000 people a bot on WhatsApp alone reaches, each greeted by name;
	// and to the 180,000 a bot on Telegram alone reaches, with one text
	text := string([]rune(strings.Repeat("نداء للمصالحة ", 30))[:300])
	for _, tc := range []struct {
		name    string
		channel bot.ChannelName
		want    int
	}{{"queue-personalised", bot.WhatsApp, 100_000}, {"queue-shared-text", bot.Telegram, people * 9 / 10}} {
		b.Run(tc.name, func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				b.StopTimer()
				var out bytes.Buffer
				stack := stackOver(b, copyOf(b), &out, tc.channel)
				me, err := stack.Store.ContactByAddress(ctx, admin)
				require.NoError(b, err)
				sub, err := stack.Co.Broadcasts.Submit(ctx, coalition.Actor{Person: me.ID, Role: store.RoleAdmin, From: admin, Lang: "en"},
					coalition.BroadcastDraft{TextAR: text, TextEN: "A call for reconciliation", Audience: store.Audience{Kind: store.AudienceEveryone}, Urgent: true})
				require.NoError(b, err)
				b.StartTimer()
				peak = max(peak, storetest.PeakHeap(func() { require.NoError(b, stack.Co.Broadcasts.Resume(ctx)) }))
				b.StopTimer()
				bc, err := stack.Store.Broadcast(ctx, sub.Broadcast.ID)
				require.NoError(b, err)
				require.Equal(b, tc.want, bc.Total)
				require.True(b, bc.AllQueued)
				b.StartTimer()
			}
			b.ReportMetric(float64(tc.want), "people")
			b.ReportMetric(float64(peak)/(1<<20), "MB-peak-heap")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/queue")
		})
	}
}
