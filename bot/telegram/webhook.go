package telegram

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"

	"mobilise/bot"
)

const (
	secretHeader = "X-Telegram-Bot-Api-Secret-Token"
	// maxWebhookBody bounds one update; real ones are a few kilobytes.
	maxWebhookBody = 1 << 20
)

// runWebhook serves the webhook on the listen address, registers it with
// Telegram, and on ctx cancellation stops taking requests and waits for those
// in flight. The webhook stays registered, so Telegram keeps updates for the
// next start.
func (c *Channel) runWebhook(ctx context.Context, h bot.Handler) error {
	u, err := url.Parse(c.webhook.publicURL)
	if err != nil {
		return fmt.Errorf("telegram: webhook URL: %w", err)
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	wh := c.WebhookHandler(h)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != path {
				http.NotFound(w, r)
				return
			}
			wh.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", c.webhook.listenAddr)
	if err != nil {
		return fmt.Errorf("telegram: webhook: %w", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	err = c.call(ctx, func(ctx context.Context) error {
		_, err := c.api.SetWebhook(ctx, &tgbot.SetWebhookParams{
			URL:            c.webhook.publicURL,
			SecretToken:    c.webhook.secret,
			AllowedUpdates: allowedUpdates(),
			// pending updates are kept: they were sent while the bot was down
			DropPendingUpdates: false,
		})
		return err
	})
	if err != nil {
		return errors.Join(fmt.Errorf("telegram: setWebhook: %w", c.redact(err)), srv.Close())
	}
	c.log.Info("webhook registered", "listen", ln.Addr().String())
	if c.webhookListening != nil {
		c.webhookListening <- ln.Addr().String()
	}

	select {
	case err := <-served:
		return fmt.Errorf("telegram: webhook server: %w", err)
	case <-ctx.Done():
	}
	// Shutdown returns once every request, and so every handler, has finished
	if err := srv.Shutdown(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("telegram: stopping webhook server: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("telegram: webhook server: %w", err)
	}
	return nil
}

// WebhookHandler returns the handler for Telegram's webhook requests. It
// answers 401 to a request without the right secret before reading its body,
// and 200 once the handler has committed the update (an update_id handled
// before, which Telegram re-delivers when an answer is late, is recognised
// by the handler), so Telegram sends one person's next update only after
// this one. If the handler fails it answers 500 and Telegram delivers the
// update again.
func (c *Channel) WebhookHandler(h bot.Handler) http.Handler {
	return &webhookHandler{c: c, h: h, shards: make([]sync.Mutex, c.workers)}
}

type webhookHandler struct {
	c *Channel
	h bot.Handler
	// shards serialise each person's updates and bound the handlers running at once
	shards []sync.Mutex
}

func (wh *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := wh.c
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var secret string
	if c.webhook != nil {
		secret = c.webhook.secret
	}
	got := r.Header.Get(secretHeader)
	if secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
		c.log.Warn("webhook request without the right secret", "remote", r.RemoteAddr)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	id, upd, err := decodeUpdate(body)
	if err != nil {
		c.log.Warn("skipping an undecodable update", "update_id", id, "error", err)
		if id == 0 {
			http.Error(w, "not an update", http.StatusBadRequest)
			return
		}
		// it would fail the same way every time: accept it so Telegram moves on
		w.WriteHeader(http.StatusOK)
		return
	}
	in, ok := incomingFromUpdate(upd, c.botUsername())
	if !ok {
		c.log.Debug("ignoring update", "update_id", id)
		w.WriteHeader(http.StatusOK)
		return
	}
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = c.now().UTC()
	}
	c.fetchable(&in, upd)
	j := job{id: id, in: in}
	if upd.CallbackQuery != nil {
		j.callbackID = upd.CallbackQuery.ID
	}

	mu := &wh.shards[shard(in, len(wh.shards))]
	mu.Lock()
	defer mu.Unlock()
	// Telegram closing the connection must not cut a handler short
	if err := c.deliver(context.WithoutCancel(r.Context()), wh.h, j); err != nil {
		c.log.Error("handling update", "update_id", id, "error", err)
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}
