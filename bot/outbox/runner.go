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
	held map[bot.Address]bool
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
func (l *lane) hold(person bot.Address, until time.Time) {
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
	claimed  // another dispatcher holds it (see claimer), until notBefore: not sent
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
	name    bot.ChannelName
	snd     bot.Sender
	lim     Limits
	pacer   *Pacer
	log     *slog.Logger
	prog    *progress
	results chan result
	wake    chan struct{}
	flush   chan chan struct{}

	mu sync.Mutex
	// probeUntil holds sends back while a channel that keeps failing is probed.
	probeUntil time.Time
	// down is set when the channel reported bot.ErrChannelDown: nothing is
	// sent until the admins resume it.
	down     bool
	failures int

	lanes    [2]*lane // replies and notices, bulk
	loaded   map[uint64]*item
	people   map[bot.Address]*person
	inflight int
	bulkNext time.Time
	day      time.Time
	dayCount int
	dayRead  bool
	lastPoll time.Time
	progress map[uint64]*progressState
	// flushing are Flush requests waiting for the channel to have nothing ready.
	flushing []chan struct{}
}

type progressState struct {
	last    time.Time
	pending bool
}

func newRunner(d *Dispatcher, name bot.ChannelName, snd bot.Sender, prog *progress) *runner {
	lim := d.Limits(name)
	r := &runner{
		d: d, name: name, snd: snd, lim: lim, pacer: d.pacers[name], prog: prog,
		log:      d.log.With("channel", string(name)),
		results:  make(chan result, lim.Concurrency),
		wake:     d.wakes[name],
		flush:    d.flushes[name],
		loaded:   map[uint64]*item{},
		people:   map[bot.Address]*person{},
		progress: map[uint64]*progressState{},
	}
	notices, bulk := max(2*lim.Concurrency, 16), max(4*lim.Concurrency, 32)
	r.lanes[0] = &lane{window: notices, held: map[bot.Address]bool{}}
	r.lanes[1] = &lane{bulk: true, window: bulk, held: map[bot.Address]bool{}}
	return r
}

func (r *runner) run(ctx context.Context) {
	r.lastPoll = r.d.now()
	for ctx.Err() == nil {
		r.drain()
		r.noticed()
		r.fill(ctx)
		r.reportProgress(false)
		it, wait := r.pick()
		if it != nil {
			if d := r.pacer.delay(r.d.now(), r.reserve(it.lane)); d > 0 {
				// wait for the account's next token here, not in Take: a
				// reply queued meanwhile is read and takes it first
				r.idle(ctx, d)
				continue
			}
			r.launch(ctx, it)
			continue
		}
		if r.scanning() {
			continue
		}
		if r.inflight == 0 && !r.prog.busy() {
			r.flushed()
		}
		r.idle(ctx, wait)
	}
	// stopping: start nothing, let the sends in flight finish
	for r.inflight > 0 {
		r.handle(<-r.results)
	}
	r.reportProgress(true)
	r.flushed()
}

// flushed answers the Flush requests: nothing is ready to send, and no
// progress report that could queue a message is due or being made (the
// reports wake the loop when they are done).
func (r *runner) flushed() {
	for _, done := range r.flushing {
		close(done)
	}
	r.flushing = nil
}

// noticed takes a wake-up or a flush request that came while the loop was
// busy: a reply queued during a long broadcast is read at once, not when
// the broadcast is over.
func (r *runner) noticed() {
	select {
	case <-r.wake:
		r.restartAll()
	case done := <-r.flush:
		r.flushing = append(r.flushing, done)
		r.restartAll()
	default:
	}
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

// idle waits for a result, a wake-up, a flush request, ctx, or wait
// (negative: no timer).
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
	case done := <-r.flush:
		// a full pass after the request: what was queued before it is read
		r.flushing = append(r.flushing, done)
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
func (r *runner) fill(ctx context.Context) {
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
		if err := r.read(ctx, l, now); err != nil {
			r.log.Error("reading the outbox", "error", err)
			l.exhausted = true
			l.hold(bot.Address{}, now.Add(storeRetry))
		}
	}
}

// read continues the lane's pass from its cursor.
func (r *runner) read(ctx context.Context, l *lane, now time.Time) error {
	budget := scanBudget
	for budget > 0 && len(l.items) < l.window {
		page, err := r.d.st.PendingOutbox(ctx, r.name, l.bulk, l.cursor, pageSize)
		if err != nil {
			return err
		}
		for i := range page {
			if len(l.items) >= l.window {
				return nil
			}
			l.cursor = page[i].ID
			budget--
			if err := r.consider(ctx, l, &page[i], now); err != nil {
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
func (r *runner) consider(ctx context.Context, l *lane, e *store.OutboxEntry, now time.Time) error {
	if r.loaded[e.ID] != nil || l.held[e.To] {
		return nil
	}
	if !e.Started.IsZero() && r.atMostOnce(l) {
		if r.d.claims != nil {
			// the dispatcher that marked it may still be sending it
			switch until, ok, err := r.d.claims.ClaimOutboxEntry(ctx, e.ID, time.Time{}, ClaimLease); {
			case errors.Is(err, store.ErrNotFound):
				return nil
			case err != nil:
				return err
			case !ok:
				l.hold(e.To, r.claimedUntil(until))
				return nil
			}
		}
		// marked before a send whose outcome was never recorded: it may
		// have arrived, so it is not sent again
		r.log.Warn("message interrupted while being sent; not sending it again", "outbox_id", e.ID, "broadcast_id", e.BroadcastID)
		if err := r.d.st.OutboxFailed(ctx, e.ID, interrupted, false); err != nil {
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
		if until := r.d.gate.Hold(now, e); until.After(now) {
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

// reserve is what a message of the lane leaves of the account's tokens:
// bulk messages leave Limits.Reserve to replies and notices.
func (r *runner) reserve(l *lane) int {
	if l.bulk {
		return r.lim.Reserve
	}
	return 0
}

// atMostOnce reports whether the lane's messages are marked Started before
// they are sent and never sent again once started: the bulk lane of an
// AtMostOnce channel. Replies and notices are sent again after a crash
// interrupted their send, on every channel.
func (r *runner) atMostOnce(l *lane) bool { return r.lim.AtMostOnce && l.bulk }

// unload forgets the person's read-ahead messages (none is in flight) and
// holds them back in both lanes until until.
func (r *runner) unload(to bot.Address, until time.Time) {
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

// heldUntil is when the channel may send again: after a 429 (the pacer), a
// probe's pause or, once down, an admin's resume.
func (r *runner) heldUntil() (time.Time, bool) {
	r.mu.Lock()
	until, probing := r.probeUntil, r.failures >= probeAfter
	r.mu.Unlock()
	if p := r.pacer.PausedUntil(); p.After(until) {
		until = p
	}
	return until, probing
}

// pick returns the next message to send, or how long until one may be
// ready (negative: no timer, wait for a result or a wake-up).
func (r *runner) pick() (*item, time.Duration) {
	now := r.d.now()
	pausedUntil, probing := r.heldUntil()
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
			if d := r.pacer.ChatWait(it.e.To, now); d > 0 {
				wait = minWait(wait, d)
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
			n, err := r.d.st.OutboxSentSince(context.Background(), r.name, day)
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

// launch waits for the account's pacer and starts the send.
func (r *runner) launch(ctx context.Context, it *item) {
	e := &it.e
	if r.d.gate != nil {
		// asked again: a pause may have begun since the message was read
		if until := r.d.gate.Hold(r.d.now(), e); until.After(r.d.now()) {
			r.unload(e.To, until)
			return
		}
	}
	if err := r.pacer.take(ctx, r.reserve(it.lane)); err != nil {
		return
	}
	now := r.d.now()
	if until, _ := r.heldUntil(); now.Before(until) {
		return // the channel went down, or a probe began, meanwhile
	}
	r.people[e.To].busy = true
	r.inflight++
	r.pacer.ChatTake(e.To, now)
	if it.lane.bulk {
		r.dayCount++
		if r.lim.MaxGap > 0 {
			r.bulkNext = now.Add(r.lim.MinGap + time.Duration(r.d.rand()*float64(r.lim.MaxGap-r.lim.MinGap)))
		}
	}
	go func() { r.results <- r.deliver(ctx, it) }()
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
	case claimed:
		r.unload(to, res.notBefore)
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

// send makes the platform call for e: an edit of a message already sent, or
// a new message. An edit the platform refuses for any reason but a throttle
// or a down channel is sent as a new message instead (the old one may be
// gone), so progress is not lost.
func (r *runner) send(ctx context.Context, e *store.OutboxEntry) (string, error) {
	msg := outgoing(e)
	if e.Edit != "" {
		if ed, ok := bot.EditorOf(r.snd); ok {
			err := ed.Edit(ctx, e.Edit, msg)
			var throttled *bot.ThrottledError
			if err == nil || errors.As(err, &throttled) || errors.Is(err, bot.ErrChannelDown) || errors.Is(err, bot.ErrRecipientGone) {
				return e.Edit, err
			}
			r.log.Info("editing a message failed; sending it anew", "outbox_id", e.ID, "error", err)
			if err := r.pacer.Take(ctx); err != nil {
				return "", err
			}
		}
	}
	return r.sendNew(ctx, e, msg)
}

// deliver sends one message and records the outcome; it runs on its own
// goroutine. Outcomes are recorded even when stopping.
func (r *runner) deliver(ctx context.Context, it *item) result {
	e := &it.e
	rec := context.WithoutCancel(ctx)
	log := r.log.With("outbox_id", e.ID, "kind", string(e.Kind))
	// claim is the lease_until of this dispatcher's claim on e, on a
	// store that claims (see claimer)
	var claim time.Time
	release := func() {
		if claim.IsZero() {
			return
		}
		if err := r.d.claims.ReleaseOutboxEntry(rec, e.ID, claim); err != nil {
			log.Warn("releasing a message; another dispatcher takes it when its lease runs out", "error", err)
		}
	}
	fail := func(format string, args ...any) result {
		log.Error(fmt.Sprintf(format, args...))
		release()
		return result{it: it, outcome: storeErr}
	}
	// own takes e, or keeps it, for the next try: the store's claim
	// makes sure no other dispatcher sends it meanwhile. Without claims
	// it only checks that e is still queued: a cancel removes the entries
	// of a broadcast, not the ones read ahead.
	own := func() (result, bool) {
		if r.d.claims == nil {
			switch queued, err := r.d.st.OutboxQueued(rec, e.ID); {
			case err != nil:
				return fail("looking up a message: %v", err), false
			case !queued:
				return result{it: it, outcome: vanished}, false
			}
			return result{}, true
		}
		until, ok, err := r.d.claims.ClaimOutboxEntry(rec, e.ID, claim, ClaimLease)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return result{it: it, outcome: vanished}, false
		case err != nil:
			return fail("claiming a message: %v", err), false
		case !ok:
			log.Info("message held by another dispatcher, or not due yet; not sending it now", "until", until)
			return result{it: it, outcome: claimed, notBefore: r.claimedUntil(until)}, false
		}
		claim = until
		return result{}, true
	}
	if res, ok := own(); !ok {
		return res
	}
	if r.atMostOnce(it.lane) {
		if err := r.d.st.OutboxStarted(rec, e.ID); err != nil {
			return fail("marking a message started: %v", err)
		}
	}
	for {
		sendCtx, cancel := context.WithTimeout(rec, sendTimeout)
		msgID, err := r.send(sendCtx, e)
		cancel()
		var throttled *bot.ThrottledError
		switch {
		case err == nil:
			r.recovered()
			if err := r.recordSent(rec, it); err != nil {
				return fail("recording a sent message: %v", err)
			}
			if e.StatusOf != 0 && msgID != "" {
				if err := r.d.st.SetStatusMessage(rec, e.StatusOf, e.To, msgID); err != nil {
					log.Warn("recording a progress message", "error", err)
				}
			}
			return result{it: it, outcome: sent}
		case errors.As(err, &throttled):
			wait := max(throttled.RetryAfter, time.Second)
			r.pacer.Throttled(wait)
			if err := r.pacer.take(ctx, r.reserve(it.lane)); err != nil {
				// stopping before the resend: the message was not delivered
				if r.atMostOnce(it.lane) {
					if err := r.d.st.OutboxNotStarted(rec, e.ID); err != nil {
						return fail("clearing a message's started mark: %v", err)
					}
				}
				release()
				return result{it: it, outcome: aborted}
			}
			if r.d.claims != nil {
				// renewed for the resend; if the wait outlasted the claim,
				// another dispatcher may have taken the message meanwhile
				if res, ok := own(); !ok {
					return res
				}
			}
		case errors.Is(err, bot.ErrChannelDown):
			// the message was refused, not sent: it stays queued, and so does everything else
			r.mu.Lock()
			r.down = true
			r.probeUntil = r.d.now().Add(downFor)
			r.mu.Unlock()
			log.Error("channel down; sending stopped until an admin resumes it", "error", err)
			if r.atMostOnce(it.lane) {
				if err := r.d.st.OutboxNotStarted(rec, e.ID); err != nil {
					return fail("clearing a message's started mark: %v", err)
				}
			}
			release()
			return result{it: it, outcome: aborted}
		case errors.Is(err, bot.ErrRecipientGone):
			r.recovered() // the platform answered: the channel works
			log.Info("recipient gone", "error", err)
			if r.d.reporter != nil {
				if gerr := r.d.reporter.Gone(rec, e.To); gerr != nil {
					log.Error("marking an address unreachable", "error", gerr)
				}
			}
			if err := r.d.st.OutboxFailed(rec, e.ID, err.Error(), true); err != nil {
				return fail("recording a blocked message: %v", err)
			}
			return result{it: it, outcome: gone}
		default:
			r.failedOnce()
			if e.Attempts+1 >= maxAttempts {
				log.Warn("message failed for good", "attempts", e.Attempts+1, "error", err)
				if err := r.d.st.OutboxFailed(rec, e.ID, err.Error(), false); err != nil {
					return fail("recording a failed message: %v", err)
				}
				return result{it: it, outcome: failed}
			}
			notBefore := r.d.now().Add(retryDelays[e.Attempts])
			log.Warn("send failed; will retry", "attempts", e.Attempts+1, "retry_at", notBefore, "error", err)
			if err := r.d.st.OutboxRetry(rec, e.ID, notBefore, err.Error()); err != nil {
				return fail("recording a failed attempt: %v", err)
			}
			return result{it: it, outcome: retried, notBefore: notBefore}
		}
	}
}

// claimedUntil is when a message another dispatcher holds may be taken:
// until, or a lease from now when the store could not tell.
func (r *runner) claimedUntil(until time.Time) time.Time {
	if until.IsZero() {
		return r.d.now().Add(ClaimLease)
	}
	return until
}

// batchAbove is the rate, in sends a second, above which (or with no
// limit at all) the records of sent bulk messages share commits: a commit
// with its fsync takes a few milliseconds, so below it each can have its own.
const batchAbove = 100

// recordSent removes a sent message from the outbox. Until that commit is
// on disk a crash sends the message again, so the record gets a commit of
// its own at once; only the bulk messages of a channel sending more than
// batchAbove a second (paid broadcasts, or no limit) share bbolt's
// batched commits, which that rate needs, at the cost of the batch delay
// (10 ms) more of them in flight at a crash.
func (r *runner) recordSent(ctx context.Context, it *item) error {
	if it.lane.bulk && (r.lim.PerSecond == 0 || r.lim.PerSecond > batchAbove) {
		return r.d.st.OutboxDone(ctx, it.e.ID)
	}
	return r.d.st.InTx(ctx, func(ctx context.Context) error { return r.d.st.OutboxDone(ctx, it.e.ID) })
}

// downFor is how long a channel that is down waits for a resume: in effect, until it comes.
const downFor = 100 * 365 * 24 * time.Hour

// resume lifts a stop caused by bot.ErrChannelDown.
func (r *runner) resume() {
	r.mu.Lock()
	if r.down {
		r.down = false
		r.probeUntil = time.Time{}
		r.log.Info("channel resumed")
	}
	r.mu.Unlock()
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
	defer r.mu.Unlock()
	r.failures++
	if n := r.failures; n >= probeAfter {
		if until := r.d.now().Add(min(time.Second<<min(n-probeAfter, 6), maxProbe)); until.After(r.probeUntil) {
			r.probeUntil = until
		}
	}
}
