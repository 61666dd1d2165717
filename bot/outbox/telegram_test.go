package outbox_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/bot/telegram"
	"mobilise/store"
	"mobilise/store/postgres/pgtest"
)

const testToken = "123456:TEST-token"

// fakeBotAPI answers sendMessage like the Bot API, counting deliveries per
// chat. With a limit it enforces Telegram's rate: more than limit accepted
// messages in any one-second window gets 429 with retry_after 1.
type fakeBotAPI struct {
	*httptest.Server
	limit   int
	latency time.Duration

	mu       sync.Mutex
	accepted []time.Time // the last limit acceptances, oldest first
	total    int
	tooMany  int
	// tooManyAt are the times of the 429s
	tooManyAt []time.Time
	first     time.Time
	last      time.Time
	perChat   map[string]int
	signal    chan struct{}
}

func newFakeBotAPI(limit int, latency time.Duration) *fakeBotAPI {
	f := &fakeBotAPI{limit: limit, latency: latency, perChat: map[string]int{}, signal: make(chan struct{}, 1)}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

func (f *fakeBotAPI) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !strings.HasSuffix(r.URL.Path, "/sendMessage") {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		return
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"ok":false,"error_code":400,"description":"Bad Request: no form"}`)
		return
	}
	chat := r.FormValue("chat_id")
	if f.latency > 0 {
		time.Sleep(f.latency)
	}
	now := time.Now()
	f.mu.Lock()
	if f.limit > 0 && len(f.accepted) >= f.limit && now.Sub(f.accepted[len(f.accepted)-f.limit]) < time.Second {
		f.tooMany++
		f.tooManyAt = append(f.tooManyAt, now)
		f.mu.Unlock()
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`)
		return
	}
	if f.limit > 0 {
		f.accepted = append(f.accepted, now)
		if len(f.accepted) > 2*f.limit {
			f.accepted = append(f.accepted[:0], f.accepted[len(f.accepted)-f.limit:]...)
		}
	}
	f.total++
	id := f.total
	if f.first.IsZero() {
		f.first = now
	}
	f.last = now
	f.perChat[chat]++
	f.mu.Unlock()
	select {
	case f.signal <- struct{}{}:
	default:
	}
	_, _ = fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":%d,"chat":{"id":%s,"type":"private"},"text":"ok"}}`, id, now.Unix(), chat)
}

// waitTotal waits until n messages were accepted.
func (f *fakeBotAPI) waitTotal(tb testing.TB, n int, timeout time.Duration) {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		total := f.total
		f.mu.Unlock()
		if total >= n {
			return
		}
		select {
		case <-f.signal:
		case <-deadline.C:
			tb.Fatalf("timed out: %d of %d messages accepted", total, n)
		}
	}
}

// telegramChannel is the real Telegram channel pointed at the fake, set up
// as the outbox should use it: enough idle connections for the sends in
// flight, and every 429 handed to the dispatcher (WithMaxThrottleWait(0)),
// which paces the resends through its token bucket.
func telegramChannel(tb testing.TB, url string, conns int) *telegram.Channel {
	tb.Helper()
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxIdleConns: conns}}
	ch, err := telegram.New(testToken, telegram.WithServerURL(url), telegram.WithHTTPClient(hc),
		telegram.WithMaxThrottleWait(0), telegram.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(tb, err)
	return ch
}

// queueTelegramBroadcast queues a broadcast to telegram:1 … telegram:n.
func queueTelegramBroadcast(tb testing.TB, st store.Backend, n int) uint64 {
	tb.Helper()
	b := &store.Broadcast{TextAR: "نداء المصالحة: انضموا إلينا"}
	require.NoError(tb, st.CreateBroadcast(context.Background(), b))
	entries := make([]store.OutboxEntry, n)
	for i := range entries {
		entries[i] = store.OutboxEntry{To: bot.MustParseAddress(fmt.Sprintf("telegram:%d", i+1)), ContactID: uint64(i + 1), Text: b.TextAR, Lang: "ar"}
	}
	require.NoError(tb, st.QueueBroadcast(context.Background(), b.ID, entries))
	return b.ID
}

const crashChildEnv = "OUTBOX_CRASH_CHILD"

// TestCrashChild is the process TestSIGKILLDuringBroadcast kills: it sends
// the outbox of the store it is given to the fake Bot API until killed.
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) == "" {
		t.Skip("run by TestSIGKILLDuringBroadcast")
	}
	st, err := store.Open(os.Getenv("OUTBOX_CRASH_DB"))
	require.NoError(t, err)
	ch := telegramChannel(t, os.Getenv("OUTBOX_CRASH_URL"), 32)
	d := outbox.NewDispatcher(outbox.NewQueue(st, bot.Telegram), map[bot.ChannelName]bot.Sender{"telegram": ch}, outbox.WithLimits("telegram", outbox.Limits{Concurrency: 16}))
	_ = d.Run(context.Background()) // until SIGKILL
}

func TestSIGKILLDuringBroadcast(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	const n, concurrency = 3000, 16
	api := newFakeBotAPI(0, 2*time.Millisecond)
	t.Cleanup(api.Close)
	path := filepath.Join(t.TempDir(), "mobilise.db")
	st, err := store.Open(path)
	require.NoError(t, err)
	bid := queueTelegramBroadcast(t, st, n)
	require.NoError(t, st.Close())

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"=1", "OUTBOX_CRASH_DB="+path, "OUTBOX_CRASH_URL="+api.URL)
	require.NoError(t, cmd.Start())
	api.waitTotal(t, n/3, time.Minute)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	api.mu.Lock()
	atKill := api.total
	api.mu.Unlock()

	// started again, it resumes by itself
	st, err = store.Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, st.Close()) }()
	progressed := make(chan struct{}, 1)
	d := outbox.NewDispatcher(outbox.NewQueue(st, bot.Telegram), map[bot.ChannelName]bot.Sender{"telegram": telegramChannel(t, api.URL, 32)},
		outbox.WithLimits("telegram", outbox.Limits{Concurrency: concurrency}),
		outbox.WithReporter(reporter{progress: func(uint64) {
			select {
			case progressed <- struct{}{}:
			default:
			}
		}}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for {
		b, err := st.Broadcast(context.Background(), bid)
		require.NoError(t, err)
		if b.Status == store.BroadcastDone {
			break
		}
		select {
		case <-progressed:
		case <-timeout.C:
			t.Fatalf("broadcast not done: %+v", b)
		}
	}
	cancel()
	require.NoError(t, <-done)

	api.mu.Lock()
	defer api.mu.Unlock()
	twice := 0
	for i := 1; i <= n; i++ {
		c := api.perChat[fmt.Sprint(i)]
		require.GreaterOrEqual(t, c, 1, "chat %d got the message", i)
		require.LessOrEqual(t, c, 2, "chat %d", i)
		if c == 2 {
			twice++
		}
	}
	t.Logf("killed after %d deliveries; %d people got the message twice (bound %d)", atKill, twice, concurrency)
	assert.LessOrEqual(t, twice, concurrency, "at most the sends in flight are repeated")
	b, err := st.Broadcast(context.Background(), bid)
	require.NoError(t, err)
	assert.Equal(t, n, b.Sent)
}

// benchLong names the 30-per-second benchmark, which takes a minute: it
// runs only when -bench names it.
func benchLong(b *testing.B) {
	if f := flag.Lookup("test.bench"); f == nil || !strings.Contains(f.Value.String(), "DispatchRate30") {
		b.Skip("takes a minute: run with -bench DispatchRate30")
	}
}

// benchDispatch sends n broadcast messages through the real Telegram
// channel to a fake Bot API enforcing limit per second, and reports the
// achieved rate, its ratio to the limit and the 429s the fake answered.
func benchDispatch(b *testing.B, limits outbox.Limits, limit, n int) {
	benchDispatchOn(b, limits, limit, n, func(b *testing.B) store.Backend {
		st, err := store.Open(filepath.Join(b.TempDir(), "bench.db"))
		require.NoError(b, err)
		return st
	})
}

// benchDispatchOn is benchDispatch on the store open gives, a new one for
// each run, which it closes.
func benchDispatchOn(b *testing.B, limits outbox.Limits, limit, n int, open func(b *testing.B) store.Backend) {
	for b.Loop() {
		b.StopTimer()
		api := newFakeBotAPI(limit, 0)
		st := open(b)
		queueTelegramBroadcast(b, st, n)
		ch := telegramChannel(b, api.URL, limits.Concurrency+8)
		d := outbox.NewDispatcher(outbox.NewQueue(st, bot.Telegram), map[bot.ChannelName]bot.Sender{"telegram": ch}, outbox.WithLimits("telegram", limits))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		b.StartTimer()

		go func() { done <- d.Run(ctx) }()
		api.waitTotal(b, n, 10*time.Minute)

		b.StopTimer()
		cancel()
		require.NoError(b, <-done)
		require.NoError(b, st.Close())
		api.Close()
		api.mu.Lock()
		rate := float64(api.total-1) / api.last.Sub(api.first).Seconds()
		b.ReportMetric(rate, "msgs/s")
		b.ReportMetric(rate/float64(limit), "of-limit")
		b.ReportMetric(float64(api.tooMany), "429s")
		api.mu.Unlock()
		b.StartTimer()
	}
}

// BenchmarkDispatchRate measures paid broadcasts: 10,000 messages against a
// limit of 1000 a second. Run: go test -run x -bench 'DispatchRate$' -benchtime 1x ./bot/outbox
func BenchmarkDispatchRate(b *testing.B) {
	benchDispatch(b, outbox.TelegramPaidLimits(), 1000, 10_000)
}

// BenchmarkDispatchRatePostgres is BenchmarkDispatchRate on the PostgreSQL
// store: each send's record is a transaction of its own there.
// Run: MOBILISE_TEST_POSTGRES_REQUIRED=1 go test -run x -bench DispatchRatePostgres -benchtime 1x ./bot/outbox
func BenchmarkDispatchRatePostgres(b *testing.B) {
	benchDispatchOn(b, outbox.TelegramPaidLimits(), 1000, 10_000, func(b *testing.B) store.Backend {
		return openPostgres(b, pgtest.NewDatabase(b))
	})
}

// BenchmarkDispatchRate30 measures the default limits over about a minute:
// 1800 messages against 30 a second. Run: go test -run x -bench DispatchRate30 -benchtime 1x ./bot/outbox
func BenchmarkDispatchRate30(b *testing.B) {
	benchLong(b)
	benchDispatch(b, outbox.TelegramLimits(), 30, 1800)
}
