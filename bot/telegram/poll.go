package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"

	"mobilise/bot"
)

const (
	// updatesPerBatch is getUpdates' limit, the most it allows.
	updatesPerBatch = 100
	// maxResponseBytes bounds a Bot API answer read into memory.
	maxResponseBytes = 32 << 20
	pollBackoffMin   = time.Second
	pollBackoffMax   = 30 * time.Second
)

// Run checks the token, sets the command menus, and passes updates to h until
// ctx is cancelled; it returns once no call to h is running and the offset is
// saved. A rejected token returns an error wrapping ErrUnauthorized at once.
func (c *Channel) Run(ctx context.Context, h bot.Handler) error {
	if c.state == nil {
		return errors.New("telegram: run: no state to keep the offset in")
	}
	if _, err := c.Check(ctx); err != nil {
		return err
	}
	if c.dir == nil {
		// a handler that knows the commands sets the menus unless
		// WithCommands named a directory of its own
		if d, ok := bot.DirectoryOf(h); ok {
			c.dir = d
		}
	}
	if err := c.RefreshCommands(ctx); err != nil {
		// menus are a convenience: the bot works without them
		c.log.Error("setting command menus", "error", err)
	}
	menus := make(chan struct{})
	go func() {
		defer close(menus)
		c.refreshOnChange(ctx)
	}()
	defer func() { <-menus }()
	if c.webhook != nil {
		return c.runWebhook(ctx, h)
	}
	return c.runPolling(ctx, h)
}

// refreshOnChange sets the command menus again whenever the directory says
// a role changed, until ctx ends.
func (c *Channel) refreshOnChange(ctx context.Context) {
	if c.dir == nil {
		return
	}
	changed := c.dir.MenusChanged()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
			if err := c.RefreshCommands(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("refreshing command menus", "error", err)
			}
		}
	}
}

// runPolling is the long-polling loop. It fetches a batch, has every update
// in it handled by the workers, saves the offset past the handled ones, and
// only then fetches again: the next getUpdates is what confirms the batch to
// Telegram. go-telegram/bot's own poller confirms updates before handlers run,
// so it is not used.
func (c *Channel) runPolling(ctx context.Context, h bot.Handler) error {
	// a webhook left from webhook mode makes getUpdates fail with 409
	err := c.call(ctx, func(ctx context.Context) error {
		_, err := c.api.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{DropPendingUpdates: false})
		return err
	})
	if err != nil {
		return fmt.Errorf("telegram: deleteWebhook: %w", c.redact(err))
	}
	offset, err := c.state.TelegramOffset(ctx)
	if err != nil {
		return fmt.Errorf("telegram: reading offset: %w", err)
	}
	saved := offset

	d := c.startWorkers(ctx, h)
	var runErr error
	var backoff time.Duration
	for ctx.Err() == nil {
		if backoff > 0 {
			if c.sleep(ctx, backoff) != nil {
				break
			}
		}
		raws, err := c.getUpdates(ctx, offset)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if errors.Is(err, ErrUnauthorized) {
				runErr = err
				break
			}
			backoff = nextBackoff(backoff)
			var throttled *bot.ThrottledError
			if errors.As(err, &throttled) {
				backoff = max(backoff, throttled.RetryAfter)
			}
			c.log.Warn("fetching updates", "error", err, "retry_in", backoff)
			continue
		}
		backoff = 0
		if len(raws) == 0 {
			continue
		}
		next, failed := d.runBatch(raws, offset)
		if next > offset {
			offset = next
			// on failure the offset is still confirmed to Telegram by the next
			// getUpdates: everything below it is handled, so that is safe
			if err := c.state.SetTelegramOffset(ctx, offset); err != nil {
				c.log.Error("saving offset", "offset", offset, "error", err)
			} else {
				saved = offset
			}
		}
		if failed {
			backoff = pollBackoffMin
		}
	}
	d.stop()
	if offset != saved {
		if err := c.state.SetTelegramOffset(context.WithoutCancel(ctx), offset); err != nil {
			return errors.Join(runErr, fmt.Errorf("telegram: saving offset %d: %w", offset, err))
		}
	}
	return runErr
}

func nextBackoff(d time.Duration) time.Duration {
	if d == 0 {
		return pollBackoffMin
	}
	return min(2*d, pollBackoffMax)
}

// getUpdates long-polls for updates from offset on. go-telegram/bot has no
// exported getUpdates, so it is a plain request to the same Bot API. Updates
// come back undecoded, so one that cannot be decoded does not lose its batch.
func (c *Channel) getUpdates(ctx context.Context, offset int64) ([]json.RawMessage, error) {
	body, err := json.Marshal(map[string]any{
		"offset":          offset,
		"limit":           updatesPerBatch,
		"timeout":         int(c.pollTimeout / time.Second),
		"allowed_updates": allowedUpdates(),
	})
	if err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: %w", err)
	}
	// a 429's wait first, so a long one does not use up the poll's timeout
	if err := c.waitGate(ctx); err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.pollTimeout+15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.serverURL+"/bot"+c.token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: %w", c.redact(err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.httpClient.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			uerr.URL = c.redactString(uerr.URL)
		}
		return nil, fmt.Errorf("telegram: getUpdates: %w", c.redact(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: reading answer: %w", err)
	}
	var r struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		ErrorCode   int               `json:"error_code"`
		Description string            `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: HTTP %d, undecodable answer: %w", resp.StatusCode, err)
	}
	if !r.OK {
		switch r.ErrorCode {
		case http.StatusUnauthorized, http.StatusNotFound:
			return nil, fmt.Errorf("telegram: getUpdates: %w", ErrUnauthorized)
		case http.StatusTooManyRequests:
			return nil, fmt.Errorf("telegram: getUpdates: %w", &bot.ThrottledError{RetryAfter: time.Duration(r.Parameters.RetryAfter) * time.Second})
		}
		return nil, fmt.Errorf("telegram: getUpdates: %d %s", r.ErrorCode, c.redactString(r.Description))
	}
	return r.Result, nil
}

// dispatcher runs the workers. Each person's updates go to one worker, in
// order; different workers run in parallel.
type dispatcher struct {
	c       *Channel
	h       bot.Handler
	ctx     context.Context
	queues  []chan job
	running sync.WaitGroup
}

type job struct {
	id         int64
	in         bot.Incoming
	callbackID string
	batch      *batch
	idx        int
}

// batch collects what became of each update of one getUpdates answer.
type batch struct {
	results chan result
	// aborted stops further handling once one failed, so a person's later
	// update is not handled before an earlier one that will come again
	aborted atomic.Bool
}

type outcome int

const (
	// done: handled and committed (or handled before), or needs no handling
	done outcome = iota
	// skipped: not handled because the channel is stopping; Telegram will send it again
	skipped
	// failed: the handler did not commit; Telegram will send it again
	failed
)

type result struct {
	idx     int
	outcome outcome
}

func (c *Channel) startWorkers(ctx context.Context, h bot.Handler) *dispatcher {
	d := &dispatcher{c: c, h: h, ctx: ctx, queues: make([]chan job, c.workers)}
	for i := range d.queues {
		// a batch has at most updatesPerBatch updates and is fully claimed before
		// the next is queued, so queuing never blocks the poller
		d.queues[i] = make(chan job, updatesPerBatch)
		d.running.Add(1)
		go d.work(d.queues[i])
	}
	return d
}

// stop waits for queued and running handlers and stops the workers.
func (d *dispatcher) stop() {
	for _, q := range d.queues {
		close(q)
	}
	d.running.Wait()
}

// runBatch queues the updates, waits until each is handled, and returns the
// offset past the longest run of done updates, and whether one failed.
func (d *dispatcher) runBatch(raws []json.RawMessage, offset int64) (int64, bool) {
	b := &batch{results: make(chan result, len(raws))}
	ids := make([]int64, len(raws))
	outcomes := make([]outcome, len(raws))
	queued := 0
	for i, raw := range raws {
		id, upd, err := decodeUpdate(raw)
		ids[i] = id
		if err != nil {
			// it would fail the same way every time: skip past it
			d.c.log.Warn("skipping an undecodable update", "update_id", id, "error", err)
			continue
		}
		in, ok := incomingFromUpdate(upd, d.c.botUsername())
		if !ok {
			d.c.log.Debug("ignoring update", "update_id", id)
			continue
		}
		if in.ReceivedAt.IsZero() {
			in.ReceivedAt = d.c.now().UTC()
		}
		d.c.fetchable(&in, upd)
		j := job{id: id, in: in, batch: b, idx: i}
		if upd.CallbackQuery != nil {
			j.callbackID = upd.CallbackQuery.ID
		}
		queued++
		d.queues[shard(in, len(d.queues))] <- j
	}
	for range queued {
		r := <-b.results
		outcomes[r.idx] = r.outcome
	}
	next := offset
	for i := range raws {
		if outcomes[i] != done {
			return next, outcomes[i] == failed
		}
		next = max(next, ids[i]+1)
	}
	return next, false
}

func (d *dispatcher) work(q <-chan job) {
	defer d.running.Done()
	for j := range q {
		if d.ctx.Err() != nil || j.batch.aborted.Load() {
			j.batch.results <- result{j.idx, skipped}
			continue
		}
		if err := d.c.deliver(d.ctx, d.h, j); err != nil {
			j.batch.aborted.Store(true)
			d.c.log.Error("handling update", "update_id", j.id, "error", err)
			j.batch.results <- result{j.idx, failed}
			continue
		}
		j.batch.results <- result{j.idx, done}
	}
}

// deliver answers a button press and hands the update to the handler. The
// answer comes first, so the button's spinner stops whatever the handler
// does. A handler that panics counts as one that failed: the update comes
// again.
func (c *Channel) deliver(ctx context.Context, h bot.Handler, j job) (err error) {
	if j.callbackID != "" {
		c.answerCallback(ctx, j.callbackID)
	}
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("handler panicked", "update_id", j.id, "address", j.in.From.String(), "panic", r)
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	// a handler that has started finishes even when the channel is stopping
	return h.HandleIncoming(context.WithoutCancel(ctx), j.in)
}

func (c *Channel) answerCallback(ctx context.Context, id string) {
	// answered even when stopping: the person is looking at a spinner
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callbackAnswerTimeout)
	defer cancel()
	err := c.call(ctx, func(ctx context.Context) error {
		_, err := c.api.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id})
		return err
	})
	if err != nil {
		c.log.Warn("answering button press", "error", c.redactString(err.Error()))
	}
}
