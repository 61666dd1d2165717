package telegram

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeRates are the limits the fake Bot API holds a bot to, as Telegram
// does: messages (sendMessage and editMessageText) at most perSecond in any
// one second; per private chat a bucket of chatBurst messages refilled one
// every perChat; per group (a negative chat ID) at most perGroup in any
// minute. A message over a limit is answered 429 with retry_after and not
// delivered. A zero field lifts that limit.
type fakeRates struct {
	perSecond int
	perChat   time.Duration
	chatBurst int
	perGroup  int
}

// telegramRates are the Bot API's published limits.
func telegramRates() fakeRates {
	return fakeRates{perSecond: 30, perChat: time.Second, chatBurst: 3, perGroup: 20}
}

const (
	// chatJitter is how early a message to one chat may come before its
	// bucket has a whole token: the bot paces each chat to the same one a
	// second, and the network moves each message a few milliseconds either
	// way. A bot that ignored the limit would come a whole second early.
	chatJitter = 50 * time.Millisecond
	// inFlightGrace is how long after a 429 was written a request counts
	// as one the bot had sent before it could read the 429 (in flight, on
	// another connection) rather than as ignoring it. Such requests are
	// counted apart (inFlight) and reported; any request later in the
	// window is a violation.
	inFlightGrace = 20 * time.Millisecond
)

// fakeWindow is the time a 429 told the bot to wait: from when the answer
// was written until retry_after had passed.
type fakeWindow struct {
	from, until time.Time
	// cause says which limit was passed, for the failure message.
	cause string
}

// fakeBucket is one chat's token bucket.
type fakeBucket struct {
	tokens float64
	at     time.Time
}

// fakeMessage is a message the fake accepted; At is when its request arrived.
type fakeMessage struct {
	Method, Chat, Text string
	At                 time.Time
}

// rateState is what the fake keeps to enforce its rates; guarded by fakeTelegram.mu.
type rateState struct {
	rates fakeRates
	// recent are the times of the latest accepted messages, oldest first
	recent  []time.Time
	buckets map[string]*fakeBucket
	groups  map[string][]time.Time
	windows []fakeWindow
	// throttleNext makes the next call of a method get 429 with this retry_after
	throttleNext map[string]time.Duration
	accepted     []fakeMessage
	tooMany      int
	// inFlight counts requests that arrived within inFlightGrace of a 429
	inFlight int
	// inWindow are the requests that arrived later inside a window
	inWindow []string
	// sendsInWindow counts the messages among them
	sendsInWindow int
	// changed is signalled at each message accepted and each 429
	changed chan struct{}
}

func newRateState() rateState {
	return rateState{rates: telegramRates(), buckets: map[string]*fakeBucket{}, groups: map[string][]time.Time{},
		throttleNext: map[string]time.Duration{}, changed: make(chan struct{}, 1)}
}

// signal wakes a test waiting for the fake; called with f.mu held.
func (r *rateState) signal() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// waitRates waits until cond holds of what the fake saw, failing after timeout.
func (f *fakeTelegram) waitRates(t testing.TB, timeout time.Duration, what string, cond func(rateReport) bool) rateReport {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	// a slow tick too, for conditions on time passing rather than on messages
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		r := f.rateReport()
		if cond(r) {
			return r
		}
		select {
		case <-f.rate.changed:
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s: %d messages delivered, %d 429s", timeout, what, len(r.messages), r.tooMany)
		}
	}
}

// isMessage reports whether a method sends or changes a message, which
// Telegram's rate limits count.
func isMessage(method string) bool {
	switch method {
	case "sendMessage", "editMessageText", "sendPhoto", "sendDocument", "sendVideo", "copyMessage":
		return true
	}
	return false
}

// checkWindows checks a request against the 429 windows open when it came.
func (f *fakeTelegram) checkWindows(method, chat string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, w := range f.rate.windows {
		if at.Before(w.from) || !at.Before(w.until) {
			continue
		}
		if at.Sub(w.from) < inFlightGrace {
			f.rate.inFlight++
			return
		}
		if isMessage(method) {
			f.rate.sendsInWindow++
		}
		v := fmt.Sprintf("%s to %q %v after a 429 (%s) that asked for %v", method, chat,
			at.Sub(w.from).Round(time.Millisecond), w.cause, w.until.Sub(w.from).Round(time.Second))
		f.rate.inWindow = append(f.rate.inWindow, v)
		f.violations = append(f.violations, "inside retry_after: "+v)
		return
	}
}

// throttle makes the next call of method get 429 with retry_after d.
func (f *fakeTelegram) throttle(method string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rate.throttleNext[method] = d
}

// admit decides whether a message to chat that arrived at arrival may be
// delivered now, and records it if so; otherwise it returns the
// retry_after to answer and the limit passed.
func (f *fakeTelegram) admit(method, chat, text string, arrival, now time.Time) (time.Duration, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &f.rate
	if d, ok := r.throttleNext[method]; ok {
		delete(r.throttleNext, method)
		r.tooMany++
		return d, "asked for by the test"
	}
	if !isMessage(method) {
		return 0, ""
	}
	if n := r.rates.perSecond; n > 0 && len(r.recent) >= n && now.Sub(r.recent[len(r.recent)-n]) < time.Second {
		r.tooMany++
		return time.Second, fmt.Sprintf("over %d messages a second", n)
	}
	group := strings.HasPrefix(chat, "-")
	var bucket *fakeBucket
	switch {
	case group && r.rates.perGroup > 0:
		times := r.groups[chat]
		if n := r.rates.perGroup; len(times) >= n && now.Sub(times[len(times)-n]) < time.Minute {
			r.tooMany++
			return wholeSeconds(times[len(times)-n].Add(time.Minute).Sub(now)), fmt.Sprintf("over %d messages a minute to group %s", n, chat)
		}
	case !group && r.rates.perChat > 0:
		bucket = r.buckets[chat]
		if bucket == nil {
			bucket = &fakeBucket{tokens: float64(r.rates.chatBurst), at: now}
			r.buckets[chat] = bucket
		}
		bucket.tokens = min(float64(r.rates.chatBurst), bucket.tokens+float64(now.Sub(bucket.at))/float64(r.rates.perChat))
		bucket.at = now
		if short := 1 - bucket.tokens; short > float64(chatJitter)/float64(r.rates.perChat) {
			r.tooMany++
			return wholeSeconds(time.Duration(short * float64(r.rates.perChat))), fmt.Sprintf("over one message every %v to chat %s", r.rates.perChat, chat)
		}
	}
	if bucket != nil {
		bucket.tokens--
	}
	if group {
		r.groups[chat] = append(r.groups[chat], now)
		if times := r.groups[chat]; len(times) > 2*max(r.rates.perGroup, 1) {
			r.groups[chat] = slices.Clone(times[len(times)-r.rates.perGroup:])
		}
	}
	r.recent = append(r.recent, now)
	if n := max(r.rates.perSecond, 1); len(r.recent) > 2*n {
		r.recent = slices.Clone(r.recent[len(r.recent)-n:])
	}
	r.accepted = append(r.accepted, fakeMessage{Method: method, Chat: chat, Text: text, At: arrival})
	r.signal()
	return 0, ""
}

// wholeSeconds rounds a wait up to whole seconds, at least one, as
// retry_after is given.
func wholeSeconds(d time.Duration) time.Duration {
	return time.Duration(max(1, math.Ceil(d.Seconds()))) * time.Second
}

// tooManyRequests answers 429 and opens the window it asks the bot to wait.
func (f *fakeTelegram) tooManyRequests(w http.ResponseWriter, retryAfter time.Duration, cause string) {
	secs := int(retryAfter / time.Second)
	writeAPI(w, marshalAPI(map[string]any{"ok": false, "error_code": 429,
		"description": fmt.Sprintf("Too Many Requests: retry after %d", secs), "parameters": map[string]any{"retry_after": secs}}))
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	// the window starts once the bot can read the answer
	from := time.Now()
	f.mu.Lock()
	f.rate.windows = append(f.rate.windows, fakeWindow{from: from, until: from.Add(retryAfter), cause: cause})
	f.rate.signal()
	f.mu.Unlock()
}

// rateReport is what the fake saw of the bot's pacing.
type rateReport struct {
	// messages are the ones delivered, in the order accepted
	messages      []fakeMessage
	tooMany       int
	windows       []fakeWindow
	inFlight      int
	inWindow      []string
	sendsInWindow int
	// maxPerSecond is the most messages delivered in any one second
	maxPerSecond int
}

func (f *fakeTelegram) rateReport() rateReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := rateReport{messages: slices.Clone(f.rate.accepted), tooMany: f.rate.tooMany, windows: slices.Clone(f.rate.windows),
		inFlight: f.rate.inFlight, inWindow: slices.Clone(f.rate.inWindow), sendsInWindow: f.rate.sendsInWindow}
	at := make([]time.Time, len(r.messages))
	for i, m := range r.messages {
		at[i] = m.At
	}
	slices.SortFunc(at, time.Time.Compare)
	j := 0
	for i := range at {
		for at[i].Sub(at[j]) >= time.Second {
			j++
		}
		r.maxPerSecond = max(r.maxPerSecond, i-j+1)
	}
	return r
}

// TestFakeEnforcesTelegramRates checks the fake's rates, so tests that
// find no 429 and no violation against it mean something.
func TestFakeEnforcesTelegramRates(t *testing.T) {
	send := func(t *testing.T, f *fakeTelegram, chat string) int {
		t.Helper()
		resp, err := http.PostForm(f.URL+"/bot"+testToken+"/sendMessage", url.Values{"chat_id": {chat}, "text": {"x"}})
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		if resp.StatusCode == http.StatusTooManyRequests {
			assert.Contains(t, string(body), `"retry_after"`)
		}
		return resp.StatusCode
	}
	lenient := func(t *testing.T) *fakeTelegram {
		f := newFake(t)
		f.lenient = true
		return f
	}
	t.Run("thirty a second overall", func(t *testing.T) {
		f := lenient(t)
		for i := range 30 {
			require.Equal(t, 200, send(t, f, strconv.Itoa(1000+i)))
		}
		assert.Equal(t, 429, send(t, f, "2000"), "the 31st in the second")
		r := f.rateReport()
		assert.Len(t, r.messages, 30)
		require.Len(t, r.windows, 1)
		assert.Equal(t, time.Second, r.windows[0].until.Sub(r.windows[0].from))
	})
	t.Run("one a second per chat after a burst of three", func(t *testing.T) {
		f := lenient(t)
		for range 3 {
			require.Equal(t, 200, send(t, f, "7"))
		}
		assert.Equal(t, 200, send(t, f, "8"), "another chat is not held")
		assert.Equal(t, 429, send(t, f, "7"))
	})
	t.Run("twenty a minute per group", func(t *testing.T) {
		f := lenient(t)
		for range 20 {
			require.Equal(t, 200, send(t, f, "-1001"))
		}
		assert.Equal(t, 429, send(t, f, "-1001"))
		r := f.rateReport()
		require.Len(t, r.windows, 1)
		assert.Greater(t, r.windows[0].until.Sub(r.windows[0].from), 50*time.Second, "until the first of the twenty is a minute old")
	})
	t.Run("any request inside retry_after is a violation", func(t *testing.T) {
		f := lenient(t)
		f.throttle("sendMessage", 2*time.Second)
		assert.Equal(t, 429, send(t, f, "7"))
		time.Sleep(inFlightGrace) // past the time a request could have been on its way already
		assert.Equal(t, 200, send(t, f, "8"), "the fake still delivers it")
		resp, err := http.Get(f.URL + "/bot" + testToken + "/getMe")
		require.NoError(t, err)
		resp.Body.Close()
		r := f.rateReport()
		assert.Len(t, r.inWindow, 2)
		assert.Equal(t, 1, r.sendsInWindow)
		assert.Len(t, f.violations, 2)
	})
}
