package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
)

// firstWriter is the chat ID of the first person of a burst; the others follow.
const firstWriter = 300_000

// startUpdateJSON is a new person's /start, as getUpdates gives it.
func startUpdateJSON(id int64, chat int64) heldUpdate { return textUpdateJSON(id, chat, "/start") }

// textUpdateJSON is a person's text message, as getUpdates gives it.
func textUpdateJSON(id int64, chat int64, text string) heldUpdate {
	quoted, _ := json.Marshal(text) // a string always encodes
	return heldUpdate{id: id, raw: fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":%d,`+
		`"chat":{"id":%d,"type":"private","first_name":"P%d"},"from":{"id":%d,"is_bot":false,"first_name":"P%d","language_code":"ar"},`+
		`"text":%s}}`, id, id, time.Now().Unix(), chat, chat, chat, chat, quoted)}
}

// burst pushes people updates, perTick every 200 ms, and returns when all are pushed.
func burst(api *crashBotAPI, people, perTick int) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < people; i += perTick {
		var batch []heldUpdate
		for j := i; j < min(i+perTick, people); j++ {
			batch = append(batch, startUpdateJSON(int64(j+1), int64(firstWriter+j)))
		}
		api.push(batch...)
		<-tick.C
	}
}

// answers counts the messages each of the people received so far.
func (f *crashBotAPI) answers(people int) map[int64]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	got := map[int64]int{}
	for i := range people {
		if n := len(f.delivered[int64(firstWriter+i)]); n > 0 {
			got[int64(firstWriter+i)] = n
		}
	}
	return got
}

// unconfirmed returns the IDs of the updates handed out but not confirmed yet.
func (f *crashBotAPI) unconfirmed() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []int64
	for _, u := range f.updates {
		if f.served[u.id] > 0 {
			ids = append(ids, u.id)
		}
	}
	return ids
}

// sendingNow is how many sendMessage calls the fake is answering.
func (f *crashBotAPI) sendingNow() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sending
}

// queuedReplies opens the store of a stopped bot and returns how many
// replies wait in its outbox per chat, and its saved getUpdates offset.
func queuedReplies(t *testing.T, data string) (map[int64]int, int64) {
	t.Helper()
	st, err := store.Open(filepath.Join(data, "mobilise.db"))
	require.NoError(t, err)
	defer func() { require.NoError(t, st.Close()) }()
	queued := map[int64]int{}
	var after uint64
	for {
		page, err := st.PendingOutbox(context.Background(), bot.Telegram, false, after, 500)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			var chat int64
			_, err := fmt.Sscan(e.To.ID, &chat)
			require.NoError(t, err)
			queued[chat]++
			after = e.ID
		}
	}
	offset, err := st.TelegramOffset(context.Background())
	require.NoError(t, err)
	return queued, offset
}

// TestRepliesSurviveRepeatedStops has 200 new people write /start within
// five seconds, 40 a second, while the bot is stopped five times and
// started again at once on the same data: three times while a sendMessage
// is being answered, twice while updates just handed out are being handled. With SIGKILL, every
// update is handled once (one commit marks it handled and queues its
// answer), every person is answered, and an answer reaches a person twice
// only when its send was in flight at a kill: the platform had it, the
// outbox had not recorded it. The test works out which those are from
// what the fake received and what each dead process left queued, and
// expects exactly them. With SIGTERM nothing is in flight at the stop and
// nobody gets anything twice.
func TestRepliesSurviveRepeatedStops(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	const people, perTick, stops = 200, 8, 5
	greeting := catalog(t).Text("ar", messages.StartGreeting, nil)
	bound := outbox.TelegramLimits().Concurrency
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			mobiliseBinary(t) // not timed
			s := crashSetup{data: filepath.Join(t.TempDir(), "data")}
			api := newCrashBotAPI(t, 30)
			began := time.Now()
			pushed := make(chan struct{})
			go func() {
				burst(api, people, perTick)
				close(pushed)
			}()

			// repeats[chat] counts the deliveries the outbox never recorded:
			// each is sent again by a later run
			repeats := map[int64]int{}
			prev := map[int64]int{}
			var inFlight, answered []int
			// updates handed out and not confirmed at a stop (the offset
			// saved is not past them), whose handling had committed (they
			// come again and are skipped) or not (they come again and are
			// handled then)
			committed, uncommitted := 0, 0
			var runs []time.Duration
			for run := 1; run <= stops; run++ {
				started := time.Now()
				p := startBot(t, s, api, false, run)
				before := len(api.answers(people))
				waitFor(t, p, 30*time.Second, "an answer being sent", func() bool {
					return time.Since(started) > 700*time.Millisecond && len(api.answers(people)) > before && api.sendingNow() > 0
				})
				if run%2 == 0 {
					// this time stop it while it handles updates just handed
					// out: some committed, some not, the offset not yet saved
					select {
					case <-api.handedOut:
					default:
					}
					select {
					case <-api.handedOut:
					case <-time.After(5 * time.Second):
						t.Fatal("no updates handed out")
					}
					time.Sleep(time.Duration(rand.IntN(4000)) * time.Microsecond)
				}
				code := p.stop(t, sig)
				if sig == syscall.SIGTERM {
					require.Equal(t, 0, code, "a clean exit; the bot's log:\n%s", p.stderr())
					assert.NotContains(t, p.stderr(), "level=ERROR")
				}
				runs = append(runs, time.Since(started))
				// the fake has read every request the stopped process got out
				waitFor(t, nil, 5*time.Second, "the fake to finish its answers", func() bool { return api.sendingNow() == 0 })
				got := api.answers(people)
				queued, offset := queuedReplies(t, s.data)
				for _, id := range api.unconfirmed() {
					if id < offset {
						continue // confirmed by the next getUpdates, not handed out again
					}
					// a committed update queued its answer in the same commit
					if chat := int64(firstWriter) + id - 1; queued[chat]+got[chat] > 0 {
						committed++
					} else {
						uncommitted++
					}
				}
				n := 0
				for chat, c := range got {
					if queued[chat] > 0 && c > prev[chat] {
						// received, and still queued: sent again next run
						repeats[chat] += c - prev[chat]
						n++
					}
				}
				for chat, q := range queued {
					assert.LessOrEqual(t, q, 1, "chat %d has one answer queued at most", chat)
				}
				inFlight = append(inFlight, n)
				answered = append(answered, len(got)-before)
				assert.LessOrEqual(t, n, bound, "at most the sends in flight are unrecorded at a stop")
				prev = got
			}
			<-pushed
			wrote := time.Since(began)

			p := startBot(t, s, api, false, stops+1)
			waitFor(t, p, time.Minute, "every person's answer, and every repeat", func() bool {
				got := api.answers(people)
				if len(got) < people {
					return false
				}
				for chat, c := range got {
					if c < 1+repeats[chat] {
						return false
					}
				}
				return true
			})
			require.Equal(t, 0, p.stop(t, syscall.SIGTERM), "a clean exit; the bot's log:\n%s", p.stderr())
			assert.NotContains(t, p.stderr(), "level=ERROR", "no error on the last run")
			waitFor(t, nil, 5*time.Second, "the fake to finish its answers", func() bool { return api.sendingNow() == 0 })
			finished := time.Since(began)

			got := api.answers(people)
			queued, offset := queuedReplies(t, s.data)
			assert.Empty(t, queued, "nothing left in the outbox")
			assert.Equal(t, int64(people+1), offset, "every update confirmed")
			unanswered, twice, unexplained := people-len(got), 0, 0
			for chat, c := range got {
				if c > 1 {
					twice++
				}
				if c != 1+repeats[chat] {
					unexplained++
					t.Errorf("chat %d got %d answers; %d of them repeats of a send in flight at a stop", chat, c, repeats[chat])
				}
				for _, text := range api.delivered[chat] {
					assert.True(t, strings.HasPrefix(text, strings.SplitN(greeting, "\n", 2)[0]), "chat %d: %q", chat, text)
				}
			}
			assert.Zero(t, unanswered, "people not answered")
			if sig == syscall.SIGTERM {
				assert.Zero(t, twice, "a clean stop repeats nothing")
			}
			api.mu.Lock()
			tooMany, inGrace, violations := api.tooMany, api.inFlight, len(api.violations)
			again := 0
			for _, n := range api.served {
				if n > 1 {
					again++
				}
			}
			api.mu.Unlock()
			t.Logf("%v ×%d: %d people wrote in %v; runs before each stop %v, answering %v new people; %d updates handed out again after a stop (%d handled before it, %d not); unanswered %d; answered twice by a second handling %d; "+
				"answers repeated because their send was in flight at a stop %d (per stop %v, bound %d); %d 429s, %d requests in flight at one, "+
				"%d inside a retry_after; all answered %v after the first update",
				sig, stops, people, wrote.Round(ms), roundAll(runs), answered, again, committed, uncommitted, unanswered, unexplained, twice, inFlight, bound,
				tooMany, inGrace, violations, finished.Round(ms))
		})
	}
}

// roundAll rounds durations for a log line.
func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(ms)
	}
	return out
}

// TestRestartWaitsOutRetryAfter has Telegram answer the bot's first
// message 429 with retry_after 4, kills the bot half a second later and
// starts it again at once: the new process makes no request at all, not
// even getMe, until the four seconds have passed, then answers both the
// person from before the kill and one who wrote meanwhile.
func TestRestartWaitsOutRetryAfter(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	mobiliseBinary(t)
	s := crashSetup{data: filepath.Join(t.TempDir(), "data")}
	api := newCrashBotAPI(t, 30)
	p := startBot(t, s, api, false, 1)
	waitFor(t, p, 20*time.Second, "the bot to poll", func() bool {
		api.mu.Lock()
		defer api.mu.Unlock()
		return api.polling > 0
	})
	api.mu.Lock()
	api.throttleNext = 4 * time.Second
	api.mu.Unlock()
	api.push(startUpdateJSON(1, firstWriter))
	var w rateWindow
	waitFor(t, p, 10*time.Second, "the 429", func() bool {
		api.mu.Lock()
		defer api.mu.Unlock()
		if len(api.windows) == 0 {
			return false
		}
		w = api.windows[0]
		return true
	})
	time.Sleep(500 * time.Millisecond) // the deadline is in the store by now
	assert.Equal(t, -1, p.stop(t, syscall.SIGKILL))

	restarted := time.Now()
	api.push(startUpdateJSON(2, firstWriter+1))
	p = startBot(t, s, api, false, 2)
	waitFor(t, p, 20*time.Second, "both answers", func() bool { return len(api.answers(2)) == 2 })
	require.Equal(t, 0, p.stop(t, syscall.SIGTERM), "a clean exit; the bot's log:\n%s", p.stderr())

	api.mu.Lock()
	violations := len(api.violations)
	var firstSend time.Time
	for _, m := range api.sent {
		if m.at.After(restarted) {
			firstSend = m.at
			break
		}
	}
	api.mu.Unlock()
	assert.Zero(t, violations, "requests inside the retry_after")
	assert.False(t, firstSend.Before(w.until), "the first answer after the restart waited the 429 out")
	assert.Contains(t, p.stderr(), "waiting out a throttle from before the restart")
	assert.Equal(t, map[int64]int{firstWriter: 1, firstWriter + 1: 1}, api.answers(2), "each answered once")
	t.Logf("restart %v into a retry_after of %v; first message %v after the restart, %v after the wait ended; %d requests inside it",
		restarted.Sub(w.from).Round(ms), w.until.Sub(w.from).Round(time.Second), firstSend.Sub(restarted).Round(ms),
		firstSend.Sub(w.until).Round(ms), violations)
}
