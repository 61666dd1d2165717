package outbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"mobilise/bot"
	"mobilise/store"
)

const (
	// retry delays after the first, second, … failed attempt; one more
	// failure than there are delays fails the message for good.
	retry1, retry2, retry3, retry4 = 15 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute
	// maxAttempts is how many times a message is tried before it fails.
	maxAttempts = 5
	// probeAfter failures in a row make a channel send one message at a
	// time, pausing between tries, until a send goes through.
	probeAfter = 3
	maxProbe   = time.Minute
	// sendTimeout bounds one send; a send that has started is not cancelled
	// by a stop.
	sendTimeout = time.Minute
	// progressEvery is the least time between two progress reports of a broadcast.
	progressEvery = 2 * time.Second
	// scanBudget bounds the entries one fill reads, so a long queue of held
	// messages does not stall sending.
	scanBudget = 4096
	pageSize   = 256
	// storeRetry is how long a channel waits after the store failed.
	storeRetry = 5 * time.Second
	// perPerson bounds how many of one person's messages are read ahead.
	perPerson = 4
	// interrupted is the reason an AtMostOnce message started before a
	// crash is counted as failed.
	interrupted = "interrupted"
)

var retryDelays = [...]time.Duration{retry1, retry2, retry3, retry4}

// item is a message read from the outbox.
type item struct {
	e    store.OutboxEntry
	lane *lane
}

// lane is the reading state of one of a channel's two queues.
type lane struct {
	bulk   bool
	window int
	// cursor is the ID of the last entry read in this pass.
	cursor uint64
	// held are people with a message held back in this pass: their later
	// messages are skipped until the pass starts again from the beginning.
	held map[string]bool
	// exhausted means the pass reached the end of the queue.
	exhausted bool
	// restartAt is when a held message may be ready: start a new pass then.
	restartAt time.Time
	items     []*item // read ahead, in ID order
}

func (l *lane) restart() {
	l.cursor, l.exhausted, l.restartAt = 0, false, time.Time{}
	clear(l.held)
}

// hold skips the person's later messages in this pass and starts a new
// pass at until.
func (l *lane) hold(person string, until time.Time) {
	l.held[person] = true
	if l.restartAt.IsZero() || until.Before(l.restartAt) {
		l.restartAt = until
	}
}

func (l *lane) remove(it *item) {
	if i := slices.Index(l.items, it); i >= 0 {
		l.items = slices.Delete(l.items, i, i+1)
	}
}

// person is the read-ahead messages of one chat, oldest first.
type person struct {
	items []*item
	busy  bool
}

type outcome int

const (
	sent outcome = iota
	failed
	gone
	retried  // back in the outbox with NotBefore
	aborted  // not sent: stopping
	storeErr // the outcome could not be recorded
	vanished // no longer in the outbox (its broadcast was cancelled): not sent
)

type result struct {
	it        *item
	outcome   outcome
	notBefore time.Time
}

// runner is one channel's loop. Fields below mu are shared with the send
// goroutines; the rest belong to the loop.
type runner struct {
	d       *Dispatcher
	name    string
	snd     bot.Sender
	lim     Limits
	limiter *rate.Limiter
	log     *slog.Logger
	prog    *progress
	results chan result
	wake    chan struct{}

	mu          sync.Mutex
	pausedUntil time.Time
	// down is set when the channel reported bot.ErrChannelDown: nothing is
	// sent until Dispatcher.Resume.
	down     bool
	failures int
	// window holds the start times of the last WindowCap sends, oldest at next.
	window []time.Time
	next   int

	lanes    [2]*lane // notices, bulk
	loaded   map[uint64]*item
	people   map[string]*person
	lastSent map[string]time.Time
	inflight int
	bulkNext time.Time
	day      time.Time
	dayCount int
	dayRead  bool
	lastPoll time.Time
	progress map[uint64]*progressState
}

type progressState struct {
	last    time.Time
	pending bool
}

func newRunner(d *Dispatcher, name string, snd bot.Sender, prog *progress) *runner {
	lim := d.Limits(name)
	r := &runner{
		d: d, name: name, snd: snd, lim: lim, prog: prog,
		log:      d.log.With("channel", name),
		results:  make(chan result, lim.Concurrency),
		wake:     d.wakes[name],
		loaded:   map[uint64]*item{},
		people:   map[string]*person{},
		lastSent: map[string]time.Time{},
		progress: map[uint64]*progressState{},
	}
	if lim.PerSecond > 0 {
		r.limiter = rate.NewLimiter(rate.Limit(lim.PerSecond), lim.Burst)
		// start empty: the burst is for catching up, not for the first second
		r.limiter.AllowN(d.now(), lim.Burst)
	}
	if lim.WindowCap > 0 {
		r.window = make([]time.Time, 0, lim.WindowCap)
	}
	notices, bulk := max(2*lim.Concurrency, 16), max(4*lim.Concurrency, 32)
	r.lanes[0] = &lane{window: notices, held: map[string]bool{}}
	r.lanes[1] = &lane{bulk: true, window: bulk, held: map[string]bool{}}
	return r
}

func (r *runner) run(ctx context.Context) {
	r.lastPoll = r.d.now()
	for ctx.Err() == nil {
		r.drain()
		r.fill()
		r.reportProgress(false)
		it, wait := r.pick()
		if it != nil {
			r.launch(ctx, it)
			continue
		}
		if r.scanning() {
			continue
		}
		r.idle(ctx, wait)
	}
	// stopping: start nothing, let the sends in flight finish
	for r.inflight > 0 {
		r.handle(<-r.results)
	}
	r.reportProgress(true)
}

// drain handles the results that are in.
func (r *runner) drain() {
	for {
		select {
		case res := <-r.results:
			r.handle(res)
		default:
			return
		}
	}
}

// idle waits for a result, a wake-up, ctx, or wait (negative: no timer).
func (r *runner) idle(ctx context.Context, wait time.Duration) {
	now := r.d.now()
	if r.d.poll > 0 {
		wait = minWait(wait, r.lastPoll.Add(r.d.poll).Sub(now))
	}
	for _, l := range r.lanes {
		if !l.restartAt.IsZero() {
			wait = minWait(wait, l.restartAt.Sub(now))
		}
	}
	for _, p := range r.progress {
		if p.pending {
			wait = minWait(wait, p.last.Add(progressEvery).Sub(now))
		}
	}
	var timer chan struct{}
	if wait >= 0 {
		sctx, cancel := context.WithCancel(ctx)
		timer = make(chan struct{})
		go func() {
			_ = r.d.sleep(sctx, wait)
			close(timer)
		}()
		defer func() {
			cancel()
			<-timer
		}()
	}
	select {
	case res := <-r.results:
		r.handle(res)
	case <-r.wake:
		r.restartAll()
	case <-timer:
	case <-ctx.Done():
	}
}

// minWait is the shorter of two waits, where negative means none.
func minWait(a, b time.Duration) time.Duration {
	b = max(b, 0)
	if a < 0 || b < a {
		return b
	}
	return a
}

func (r *runner) restartAll() {
	for _, l := range r.lanes {
		l.restart()
	}
}

// scanning reports whether a lane stopped reading for its budget rather
// than because it is full or at its end.
func (r *runner) scanning() bool {
	for _, l := range r.lanes {
		if !l.exhausted && len(l.items) < l.window/2 {
			return true
		}
	}
	return false
}

// fill reads messages ahead, up to each lane's window.
func (r *runner) fill() {
	now := r.d.now()
	if r.d.poll > 0 && now.Sub(r.lastPoll) >= r.d.poll {
		r.lastPoll = now
		r.restartAll()
	}
	for _, l := range r.lanes {
		if !l.restartAt.IsZero() && !now.Before(l.restartAt) {
			l.restart()
		}
		if l.exhausted || len(l.items) >= l.window/2 {
			continue
		}
		if err := r.read(l, now); err != nil {
			r.log.Error("reading the outbox", "error", err)
			l.exhausted = true
			l.hold("", now.Add(storeRetry))
		}
	}
}

// read continues the lane's pass from its cursor.
func (r *runner) read(l *lane, now time.Time) error {
	budget := scanBudget
	for budget > 0 && len(l.items) < l.window {
		page, err := r.d.st.PendingOutbox(r.name, l.bulk, l.cursor, pageSize)
		if err != nil {
			return err
		}
		for i := range page {
			if len(l.items) >= l.window {
				return nil
			}
			l.cursor = page[i].ID
			budget--
			if err := r.consider(l, &page[i], now); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			l.exhausted = true
			return nil
		}
	}
	return nil
}

// consider reads one entry ahead, or holds its person back.
func (r *runner) consider(l *lane, e *store.OutboxEntry, now time.Time) error {
	if r.loaded[e.ID] != nil || l.held[e.To] {
		return nil
	}
	if !e.Started.IsZero() && r.lim.AtMostOnce {
		// marked before a send whose outcome was never recorded: it may
		// have arrived, so it is not sent again
		r.log.Warn("message interrupted while being sent; not sending it again", "outbox_id", e.ID, "broadcast_id", e.BroadcastID)
		if err := r.d.st.OutboxFailed(e.ID, interrupted, false); err != nil {
			return err
		}
		r.progressed(e.BroadcastID)
		return nil
	}
	if e.NotBefore.After(now) {
		l.hold(e.To, e.NotBefore)
		return nil
	}
	if r.d.gate != nil {
		if until := r.d.gate(now, e); until.After(now) {
			l.hold(e.To, until)
			return nil
		}
	}
	p := r.people[e.To]
	if p == nil {
		p = &person{}
		r.people[e.To] = p
	}
	if len(p.items) >= perPerson {
		l.hold(e.To, now.Add(max(r.lim.PerChat, time.Second)))
		return nil
	}
	it := &item{e: *e, lane: l}
	p.items = append(p.items, it)
	r.loaded[e.ID] = it
	i, _ := slices.BinarySearchFunc(l.items, e.ID, func(it *item, id uint64) int { return cmp.Compare(it.e.ID, id) })
	l.items = slices.Insert(l.items, i, it)
	return nil
}

// unload forgets the person's read-ahead messages (none is in flight) and
// holds them back in both lanes until until.
func (r *runner) unload(to string, until time.Time) {
	if p := r.people[to]; p != nil {
		for _, it := range p.items {
			it.lane.remove(it)
			delete(r.loaded, it.e.ID)
		}
		delete(r.people, to)
	}
	for _, l := range r.lanes {
		l.hold(to, until)
	}
}

// pick returns the next message to send, or how long until one may be
// ready (negative: no timer, wait for a result or a wake-up).
func (r *runner) pick() (*item, time.Duration) {
	now := r.d.now()
	r.mu.Lock()
	pausedUntil, probing := r.pausedUntil, r.failures >= probeAfter
	r.mu.Unlock()
	if now.Before(pausedUntil) {
		return nil, pausedUntil.Sub(now)
	}
	if r.inflight >= r.lim.Concurrency || probing && r.inflight > 0 {
		return nil, -1
	}
	wait := time.Duration(-1)
	for _, l := range r.lanes {
		if l.bulk {
			if until, ok := r.bulkBlocked(now); ok {
				if len(l.items) > 0 {
					wait = minWait(wait, until.Sub(now))
				}
				continue
			}
		}
		for _, it := range l.items {
			p := r.people[it.e.To]
			if p.busy || p.items[0] != it {
				continue
			}
			if next := r.lastSent[it.e.To].Add(r.lim.PerChat); now.Before(next) {
				wait = minWait(wait, next.Sub(now))
				continue
			}
			return it, 0
		}
	}
	return nil, wait
}

// bulkBlocked reports whether bulk messages must wait (their gap, or the
// daily cap), and until when.
func (r *runner) bulkBlocked(now time.Time) (time.Time, bool) {
	if r.lim.DailyCap > 0 {
		day := midnight(now.In(r.d.loc))
		if !day.Equal(r.day) {
			r.day, r.dayCount, r.dayRead = day, 0, false
		}
		if !r.dayRead {
			// sends before a restart count too
			n, err := r.d.st.OutboxSentSince(r.name, day)
			if err != nil {
				r.log.Error("reading today's sends", "error", err)
				return now.Add(storeRetry), true
			}
			r.dayCount, r.dayRead = max(r.dayCount, n), true
		}
		if r.dayCount >= r.lim.DailyCap {
			return day.AddDate(0, 0, 1), true
		}
	}
	if now.Before(r.bulkNext) {
		return r.bulkNext, true
	}
	return time.Time{}, false
}

// midnight is the start of t's day in t's location.
func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// launch waits for the channel's rate and starts the send.
func (r *runner) launch(ctx context.Context, it *item) {
	e := &it.e
	if r.d.gate != nil {
		// asked again: a pause may have begun since the message was read
		if until := r.d.gate(r.d.now(), e); until.After(r.d.now()) {
			r.unload(e.To, until)
			return
		}
	}
	if err := r.waitRate(ctx); err != nil {
		return
	}
	now := r.d.now()
	r.mu.Lock()
	paused := now.Before(r.pausedUntil)
	r.mu.Unlock()
	if paused {
		return // a 429 arrived meanwhile
	}
	r.people[e.To].busy = true
	r.inflight++
	r.lastSent[e.To] = now
	if len(r.lastSent) > 4*r.lanes[0].window+4*r.lanes[1].window {
		r.pruneLastSent(now)
	}
	if it.lane.bulk {
		r.dayCount++
		if r.lim.MaxGap > 0 {
			r.bulkNext = now.Add(r.lim.MinGap + time.Duration(r.d.rand()*float64(r.lim.MaxGap-r.lim.MinGap)))
		}
	}
	go func() { r.results <- r.deliver(ctx, it) }()
}

// waitRate takes a token from the channel's bucket and a place in its
// one-second window, waiting for them.
func (r *runner) waitRate(ctx context.Context) error {
	if r.limiter != nil {
		now := r.d.now()
		res := r.limiter.ReserveN(now, 1)
		if d := res.DelayFrom(now); d > 0 {
			if err := r.d.sleep(ctx, d); err != nil {
				res.CancelAt(r.d.now())
				return err
			}
		}
	}
	for r.lim.WindowCap > 0 {
		wait := r.takeWindow(r.d.now())
		if wait <= 0 {
			break
		}
		if err := r.d.sleep(ctx, wait); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// takeWindow records a send starting at now if fewer than WindowCap started
// in the second before, else returns how long until one may.
func (r *runner) takeWindow(now time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.window) < r.lim.WindowCap {
		r.window = append(r.window, now)
		return 0
	}
	if wait := r.window[r.next].Add(time.Second).Sub(now); wait > 0 {
		return wait
	}
	r.window[r.next] = now
	r.next = (r.next + 1) % len(r.window)
	return 0
}

func (r *runner) pruneLastSent(now time.Time) {
	for to, t := range r.lastSent {
		if now.Sub(t) >= r.lim.PerChat {
			delete(r.lastSent, to)
		}
	}
}

// handle applies a send's result to the read-ahead state.
func (r *runner) handle(res result) {
	r.inflight--
	it := res.it
	to := it.e.To
	if p := r.people[to]; p != nil {
		p.busy = false
	}
	switch res.outcome {
	case sent, failed, gone, vanished:
		if p := r.people[to]; p != nil {
			p.items = slices.DeleteFunc(p.items, func(x *item) bool { return x == it })
			if len(p.items) == 0 {
				delete(r.people, to)
			}
		}
		it.lane.remove(it)
		delete(r.loaded, it.e.ID)
		r.progressed(it.e.BroadcastID)
	case retried:
		r.unload(to, res.notBefore)
	case aborted:
		r.unload(to, r.d.now())
	case storeErr:
		r.unload(to, r.d.now().Add(storeRetry))
	}
}

// progressed notes that a broadcast's counts changed.
func (r *runner) progressed(broadcastID uint64) {
	if broadcastID == 0 {
		return
	}
	p := r.progress[broadcastID]
	if p == nil {
		p = &progressState{}
		r.progress[broadcastID] = p
	}
	p.pending = true
}

// reportProgress reports the broadcasts whose counts changed, at most every
// progressEvery each; final reports all that are pending.
func (r *runner) reportProgress(final bool) {
	now := r.d.now()
	for id, p := range r.progress {
		switch {
		case p.pending && (final || now.Sub(p.last) >= progressEvery):
			r.prog.report(id)
			p.last, p.pending = now, false
		case !p.pending && now.Sub(p.last) >= progressEvery:
			delete(r.progress, id)
		}
	}
}

// deliver sends one message and records the outcome; it runs on its own
// goroutine.
func (r *runner) deliver(ctx context.Context, it *item) result {
	e := &it.e
	log := r.log.With("outbox_id", e.ID, "kind", e.Kind)
	fail := func(format string, args ...any) result {
		log.Error(fmt.Sprintf(format, args...))
		return result{it: it, outcome: storeErr}
	}
	// a cancel removes the entries of a broadcast, not the ones read ahead
	switch queued, err := r.d.st.OutboxQueued(e.ID); {
	case err != nil:
		return fail("looking up a message: %v", err)
	case !queued:
		return result{it: it, outcome: vanished}
	}
	msg, err := outgoing(e)
	if err != nil {
		if err := r.d.st.OutboxFailed(e.ID, err.Error(), false); err != nil {
			return fail("recording a bad message: %v", err)
		}
		return result{it: it, outcome: failed}
	}
	if r.lim.AtMostOnce {
		if err := r.d.st.OutboxStarted(e.ID); err != nil {
			return fail("marking a message started: %v", err)
		}
	}
	for {
		sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		_, err := r.snd.Send(sendCtx, msg)
		cancel()
		var throttled *bot.ThrottledError
		switch {
		case err == nil:
			r.recovered()
			if err := r.d.st.OutboxDone(e.ID); err != nil {
				return fail("recording a sent message: %v", err)
			}
			return result{it: it, outcome: sent}
		case errors.As(err, &throttled):
			wait := max(throttled.RetryAfter, time.Second)
			r.pause(wait)
			log.Warn("channel throttled; pausing it", "retry_after", wait)
			if err := r.waitTurn(ctx); err != nil {
				// stopping before the resend: the message was not delivered
				if r.lim.AtMostOnce {
					if err := r.d.st.OutboxNotStarted(e.ID); err != nil {
						return fail("clearing a message's started mark: %v", err)
					}
				}
				return result{it: it, outcome: aborted}
			}
		case errors.Is(err, bot.ErrChannelDown):
			// the message was refused, not sent: it stays queued, and so does everything else
			r.mu.Lock()
			r.down = true
			r.pausedUntil = r.d.now().Add(downFor)
			r.mu.Unlock()
			log.Error("channel down; sending stopped until an admin resumes it", "error", err)
			if r.lim.AtMostOnce {
				if err := r.d.st.OutboxNotStarted(e.ID); err != nil {
					return fail("clearing a message's started mark: %v", err)
				}
			}
			return result{it: it, outcome: aborted}
		case errors.Is(err, bot.ErrRecipientGone):
			r.recovered() // the platform answered: the channel works
			log.Info("recipient gone", "error", err)
			if r.d.onGone != nil {
				if gerr := r.d.onGone(e.To); gerr != nil {
					log.Error("marking an address unreachable", "error", gerr)
				}
			}
			if err := r.d.st.OutboxFailed(e.ID, err.Error(), true); err != nil {
				return fail("recording a blocked message: %v", err)
			}
			return result{it: it, outcome: gone}
		default:
			r.failedOnce()
			if e.Attempts+1 >= maxAttempts {
				log.Warn("message failed for good", "attempts", e.Attempts+1, "error", err)
				if err := r.d.st.OutboxFailed(e.ID, err.Error(), false); err != nil {
					return fail("recording a failed message: %v", err)
				}
				return result{it: it, outcome: failed}
			}
			notBefore := r.d.now().Add(retryDelays[e.Attempts])
			log.Warn("send failed; will retry", "attempts", e.Attempts+1, "retry_at", notBefore, "error", err)
			if err := r.d.st.OutboxRetry(e.ID, notBefore, err.Error()); err != nil {
				return fail("recording a failed attempt: %v", err)
			}
			return result{it: it, outcome: retried, notBefore: notBefore}
		}
	}
}

// downFor is how long a channel that is down waits for Resume: in effect, until it comes.
const downFor = 100 * 365 * 24 * time.Hour

// resume lifts a stop caused by bot.ErrChannelDown.
func (r *runner) resume() {
	r.mu.Lock()
	if r.down {
		r.down = false
		r.pausedUntil = time.Time{}
		r.log.Info("channel resumed")
	}
	r.mu.Unlock()
}

// pause stops the channel's sends for d.
func (r *runner) pause(d time.Duration) {
	until := r.d.now().Add(d)
	r.mu.Lock()
	if until.After(r.pausedUntil) {
		r.pausedUntil = until
	}
	r.mu.Unlock()
}

// waitTurn waits out a pause and takes a token, for a resend.
func (r *runner) waitTurn(ctx context.Context) error {
	for {
		r.mu.Lock()
		until := r.pausedUntil
		r.mu.Unlock()
		now := r.d.now()
		if !now.Before(until) {
			return r.waitRate(ctx)
		}
		if err := r.d.sleep(ctx, until.Sub(now)); err != nil {
			return err
		}
	}
}

// recovered ends probing after a send went through.
func (r *runner) recovered() {
	r.mu.Lock()
	r.failures = 0
	r.mu.Unlock()
}

// failedOnce counts a failure in a row; from probeAfter on, the channel
// pauses for a time doubling up to maxProbe.
func (r *runner) failedOnce() {
	r.mu.Lock()
	r.failures++
	n := r.failures
	r.mu.Unlock()
	if n >= probeAfter {
		r.pause(min(time.Second<<min(n-probeAfter, 6), maxProbe))
	}
}
