// Package telegram is the Telegram channel: it receives updates by long
// polling or by webhook, hands them to a bot.Handler, and sends replies as
// HTML-escaped text with inline keyboards, through go-telegram/bot.
//
// Delivery guarantee. Every update is passed to the handler with its
// update_id as ExternalID; the handler records the ID in the same commit
// that applies the update and queues its replies (bot.Handler), and returns
// nil only after that commit. The getUpdates offset is saved, and so
// confirmed to Telegram, only past updates whose handler returned nil (or
// that need no handling); a webhook request is answered 200 only then. So an
// update is never lost: one whose handling had not committed when the
// process stopped or crashed is delivered again by Telegram and handled
// then, and one that had committed is recognised by its ID and skipped, its
// replies already in the outbox. A graceful stop (ctx cancelled) lets running
// handlers finish and saves the offset. Skipping a re-delivery relies on the
// store remembering IDs longer than Telegram keeps updates (24 hours).
//
// Ordering. Each person's updates go to one of the workers, chosen by a hash
// of their ID, and are handled in the order sent; other workers go on in
// parallel. The next getUpdates waits until every update of the current batch
// has been handled. Handlers only write to the store (replies go through the
// outbox), so a batch takes milliseconds.
//
// Pacing. Messages are sent by the outbox's dispatcher through this
// channel's Send and Edit, built with WithMaxThrottleWait(0) so a 429 comes
// back to it at once. Every Bot API request, getUpdates included, passes
// the channel's HTTP transport, which waits in the account's bot.Throttle
// (WithThrottle) at the last moment before the request goes out and
// reports a 429 to it as soon as the answer comes in, so one 429 holds back
// every call on the token: the dispatcher's sends, the workers' answers to
// button presses, the poller and the command menus. The throttle keeps the
// deadline in the store, so a process started inside a retry_after waits
// it out before its first call.
package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
	tgmodels "github.com/go-telegram/bot/models"

	"mobilise/bot"
)

const (
	channelName = bot.Telegram
	// defaultServerURL is the public Bot API.
	defaultServerURL = "https://api.telegram.org"
	// defaultLang describes the default-scope command menu: Arabic comes first.
	defaultLang = "ar"

	defaultWorkers         = 4
	defaultPollTimeout     = 50 * time.Second
	defaultMaxThrottleWait = 30 * time.Second
	// maxThrottleRetries bounds how often one call is resent after a 429.
	maxThrottleRetries = 3
	// maxAttempts bounds the tries of one call that meets network errors or 5xx.
	maxAttempts    = 4
	defaultBackoff = 500 * time.Millisecond
	// callbackAnswerTimeout keeps a slow answerCallbackQuery from holding a worker.
	callbackAnswerTimeout = 5 * time.Second
)

// ErrUnauthorized means the Bot API rejected the token: no retry will help.
var ErrUnauthorized = errors.New("bot token rejected by the Bot API (401 Unauthorized): check the token BotFather gave")

// State is what the channel keeps across restarts. *store.Store implements it.
type State interface {
	// TelegramOffset returns the getUpdates offset saved last, 0 at first.
	TelegramOffset(ctx context.Context) (int64, error)
	// SetTelegramOffset saves the offset of the next update to fetch.
	SetTelegramOffset(ctx context.Context, offset int64) error
}

// Option configures a Channel.
type Option func(*Channel)

// WithServerURL sets the Bot API base URL: a self-hosted Bot API server or a fake in tests.
func WithServerURL(u string) Option {
	return func(c *Channel) { c.serverURL = strings.TrimRight(u, "/") }
}

// WithLogger sets the logger; the channel adds comp=telegram.
func WithLogger(l *slog.Logger) Option {
	return func(c *Channel) { c.log = l }
}

// WithState sets where the offset and handled update IDs are kept. Run needs it.
func WithState(s State) Option {
	return func(c *Channel) { c.state = s }
}

// WithWebhook makes Run receive updates by webhook instead of long polling:
// it listens on listenAddr, registers publicURL (https, routed to listenAddr by
// a reverse proxy) with Telegram, and accepts only requests carrying secret,
// 1–256 characters of A-Z a-z 0-9 _ -.
func WithWebhook(publicURL, listenAddr, secret string) Option {
	return func(c *Channel) {
		c.webhook = &webhookConfig{publicURL: publicURL, listenAddr: listenAddr, secret: secret}
	}
}

// WithWorkers sets how many updates are handled in parallel (default 4).
// One person's updates always go to the same worker, in order.
func WithWorkers(n int) Option {
	return func(c *Channel) { c.workers = n }
}

// WithCommands sets where the command menus come from; without it Run sets none.
func WithCommands(d bot.CommandDirectory) Option {
	return func(c *Channel) { c.dir = d }
}

// WithHTTPClient sets the HTTP client for every Bot API call. Its Timeout, if
// any, must exceed the poll timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Channel) { c.httpClient = hc }
}

// WithPollTimeout sets the long-poll timeout of getUpdates, in whole seconds,
// at least one (default 50s).
func WithPollTimeout(d time.Duration) Option {
	return func(c *Channel) { c.pollTimeout = d }
}

// WithMaxThrottleWait sets the longest 429 wait Send sits out before it gives
// up with a *bot.ThrottledError (default 30s).
func WithMaxThrottleWait(d time.Duration) Option {
	return func(c *Channel) { c.maxThrottleWait = d }
}

// WithThrottle makes every Bot API call wait in t and report its 429s to
// it: the account's one gate, shared with the outbox that sends through
// this channel. Without it the channel keeps a gate of its own.
func WithThrottle(t bot.Throttle) Option {
	return func(c *Channel) { c.throttle = t }
}

type webhookConfig struct{ publicURL, listenAddr, secret string }

// Channel is the Telegram bot.Channel.
type Channel struct {
	token           string
	serverURL       string
	log             *slog.Logger
	state           State
	dir             bot.CommandDirectory
	webhook         *webhookConfig
	workers         int
	httpClient      *http.Client
	pollTimeout     time.Duration
	maxThrottleWait time.Duration
	throttle        bot.Throttle

	api      *tgbot.Bot
	username atomic.Pointer[string]

	// now and sleep are the clock, replaced in tests so 429 waits and
	// backoffs take no real time.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	// gateUntil holds every call back after a 429, bot-wide, when no
	// throttle is shared with the outbox.
	gateMu    sync.Mutex
	gateUntil time.Time

	// phoneAsked are the chats shown a phone-sharing keyboard, removed with
	// the next message that has no menu of its own.
	phoneMu    sync.Mutex
	phoneAsked map[string]bool

	// cmdChats are the chats given a chat-scope menu by the last refresh, so a
	// demoted person's menu can be removed.
	cmdMu    sync.Mutex
	cmdChats map[int64]bool

	// webhookListening receives the webhook server's address once it listens.
	webhookListening chan string

	// uploads keeps file_ids across restarts; files is their memory.
	uploads bot.Uploads
	files   files
}

// Channel is a bot.Channel that can make deep links.
var (
	_ bot.Channel     = (*Channel)(nil)
	_ bot.Linker      = (*Channel)(nil)
	_ bot.MediaSender = (*Channel)(nil)
)

var secretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// New returns a Telegram channel for token. It makes no network call: Check
// (and Run, which calls it) tells whether the token works.
func New(token string, opts ...Option) (*Channel, error) {
	c := &Channel{
		token:           strings.TrimSpace(token),
		serverURL:       defaultServerURL,
		log:             slog.Default(),
		workers:         defaultWorkers,
		pollTimeout:     defaultPollTimeout,
		maxThrottleWait: defaultMaxThrottleWait,
		now:             time.Now,
		sleep:           sleepCtx,
		cmdChats:        map[int64]bool{},
		phoneAsked:      map[string]bool{},
		files:           files{ids: map[string]string{}, uploading: map[string]chan struct{}{}},
	}
	for _, o := range opts {
		o(c)
	}
	c.log = c.log.With("comp", channelName)
	if c.token == "" {
		return nil, errors.New("telegram: empty bot token")
	}
	if strings.ContainsAny(c.token, "/?# ") {
		return nil, errors.New("telegram: malformed bot token")
	}
	if c.workers < 1 {
		return nil, fmt.Errorf("telegram: %d workers: want at least 1", c.workers)
	}
	c.pollTimeout = max(c.pollTimeout.Truncate(time.Second), time.Second)
	if c.httpClient == nil {
		c.httpClient = &http.Client{Timeout: c.pollTimeout + 30*time.Second}
	}
	// a copy, so the caller's client is left as it was
	hc := *c.httpClient
	hc.Transport = &gate{base: hc.Transport, c: c}
	c.httpClient = &hc
	if c.webhook != nil {
		if err := c.webhook.validate(); err != nil {
			return nil, fmt.Errorf("telegram: webhook: %w", err)
		}
	}
	api, err := tgbot.New(c.token,
		tgbot.WithSkipGetMe(),
		tgbot.WithServerURL(c.serverURL),
		tgbot.WithHTTPClient(c.pollTimeout, c.httpClient),
		tgbot.WithErrorsHandler(func(err error) {
			c.log.Error("telegram client", "error", c.redactString(err.Error()))
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	c.api = api
	return c, nil
}

func (w *webhookConfig) validate() error {
	u, err := url.Parse(w.publicURL)
	if err != nil {
		return fmt.Errorf("public URL: %w", err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("public URL %q: Telegram calls only https URLs", w.publicURL)
	}
	if w.listenAddr == "" {
		return errors.New("no listen address")
	}
	if !secretPattern.MatchString(w.secret) {
		return errors.New("secret must be 1-256 characters of A-Z a-z 0-9 _ -")
	}
	return nil
}

// Name returns "telegram", the prefix of Telegram addresses.
func (c *Channel) Name() bot.ChannelName { return channelName }

// Check calls getMe and returns the bot's username. A rejected token gives an
// error wrapping ErrUnauthorized. Errors never contain the token.
func (c *Channel) Check(ctx context.Context) (string, error) {
	var me *tgmodels.User
	err := c.call(ctx, func(ctx context.Context) error {
		var err error
		me, err = c.api.GetMe(ctx)
		return err
	})
	switch {
	// a token without the right shape gets 404 rather than 401 from the Bot API
	case errors.Is(err, tgbot.ErrorUnauthorized), errors.Is(err, tgbot.ErrorNotFound):
		return "", fmt.Errorf("telegram: getMe: %w", ErrUnauthorized)
	case err != nil:
		return "", fmt.Errorf("telegram: getMe: %w", c.redact(err))
	case me.Username == "":
		return "", errors.New("telegram: getMe: the bot has no username")
	}
	c.username.Store(&me.Username)
	return me.Username, nil
}

// botUsername is the username from the last successful Check, or "".
func (c *Channel) botUsername() string {
	if u := c.username.Load(); u != nil {
		return *u
	}
	return ""
}

// ShareLink returns https://t.me/<bot>?start=<payload>. It needs the bot's
// username, so it returns "" until Check (or Run) has succeeded once.
func (c *Channel) ShareLink(payload string) string {
	name := c.botUsername()
	if name == "" {
		return ""
	}
	if payload == "" {
		return "https://t.me/" + name
	}
	return "https://t.me/" + name + "?start=" + url.QueryEscape(payload)
}

// Edit replaces the text of a message the bot sent, so a broadcast's
// progress shows in one message. An edit that changes nothing is not an error.
func (c *Channel) Edit(ctx context.Context, messageID string, msg bot.Outgoing) error {
	if msg.To.Channel != channelName {
		return fmt.Errorf("telegram: edit in %s: not a telegram address", msg.To)
	}
	id, err := strconv.Atoi(messageID)
	if err != nil {
		return fmt.Errorf("telegram: edit in %s: message ID %q is not a number", msg.To, messageID)
	}
	parts := splitText(msg.Text, maxTextLen)
	if len(parts) == 0 {
		return fmt.Errorf("telegram: editMessageText in %s: empty text", msg.To)
	}
	markup, err := inlineKeyboard(msg.Buttons)
	if err != nil {
		return fmt.Errorf("telegram: editMessageText in %s: %w", msg.To, err)
	}
	params := &tgbot.EditMessageTextParams{ChatID: msg.To.ID, MessageID: id, Text: escapeHTML(parts[0]), ParseMode: tgmodels.ParseModeHTML}
	if markup != nil {
		// an edit without a keyboard removes the one the message had
		params.ReplyMarkup = markup
	}
	err = c.call(ctx, func(ctx context.Context) error {
		_, err := c.api.EditMessageText(ctx, params)
		return err
	})
	if err != nil && strings.Contains(err.Error(), "message is not modified") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("telegram: editMessageText in %s: %w", msg.To, err)
	}
	return nil
}

// Send sends msg as HTML-escaped text, split into parts of at most 4096
// characters at line breaks, with the buttons as an inline keyboard on the
// last part. It returns the message ID of the last part.
//
// A 429 holds back every send on this bot for retry_after, then the message
// is resent; a wait longer than the maximum gives a *bot.ThrottledError. A 403
// gives an error wrapping bot.ErrRecipientGone. Network errors and 5xx are
// retried with backoff. Each part after the first takes its own tokens when
// the throttle paces messages (outbox.Pacer), and a 429 on it is waited out
// and that part sent again, not the whole message. If a later part fails
// otherwise, the earlier parts were sent.
func (c *Channel) Send(ctx context.Context, msg bot.Outgoing) (string, error) {
	if msg.To.Channel != channelName {
		return "", fmt.Errorf("telegram: send to %s: not a telegram address", msg.To)
	}
	if _, err := strconv.ParseInt(msg.To.ID, 10, 64); err != nil {
		return "", fmt.Errorf("telegram: send to %s: chat ID is not a number", msg.To)
	}
	markup, err := inlineKeyboard(msg.Buttons)
	if err != nil {
		return "", fmt.Errorf("telegram: sendMessage to %s: %w", msg.To, err)
	}
	parts := splitText(msg.Text, maxTextLen)
	if len(parts) == 0 {
		return "", fmt.Errorf("telegram: sendMessage to %s: empty text", msg.To)
	}
	var id string
	for i, part := range parts {
		params := &tgbot.SendMessageParams{
			ChatID:    msg.To.ID,
			Text:      escapeHTML(part),
			ParseMode: tgmodels.ParseModeHTML,
		}
		if i == len(parts)-1 {
			params.ReplyMarkup = c.replyMarkup(msg, markup)
		}
		var sent *tgmodels.Message
		err := c.sendPart(ctx, msg.To, i, func(ctx context.Context) error {
			var err error
			sent, err = c.api.SendMessage(ctx, params)
			return err
		})
		if err != nil {
			where := msg.To.String()
			if len(parts) > 1 {
				where = fmt.Sprintf("%s (part %d of %d)", msg.To, i+1, len(parts))
			}
			return "", c.sendError(where, err)
		}
		id = strconv.Itoa(sent.ID)
	}
	return id, nil
}

// partPacer is a Throttle that paces messages too (outbox.Pacer): the
// caller took the tokens of a message's first part, and each later part
// takes its own, of the account and of the chat, since to Telegram each
// part is a message.
type partPacer interface {
	TakeChat(ctx context.Context, to bot.Address) error
}

// sendPart sends part i of a message. A part after the first waits for its
// tokens, and a 429 on it is waited out here and the part sent again:
// handing the 429 back would have the whole message sent again, the parts
// before it twice.
func (c *Channel) sendPart(ctx context.Context, to bot.Address, i int, fn func(context.Context) error) error {
	if i == 0 {
		return c.call(ctx, fn)
	}
	p, paced := c.throttle.(partPacer)
	for throttles := 0; ; throttles++ {
		if paced {
			if err := p.TakeChat(ctx, to); err != nil {
				return err
			}
		}
		err := c.call(ctx, fn)
		var throttled *bot.ThrottledError
		if !errors.As(err, &throttled) || throttles >= maxThrottleRetries {
			return err
		}
		if err := c.waitGate(ctx); err != nil {
			return err
		}
	}
}

// replyMarkup is the keyboard of a message's last part: its inline menu;
// else a one-tap button sharing the phone number when the message asks for
// one; else, in a chat that was offered such a button, its removal.
func (c *Channel) replyMarkup(msg bot.Outgoing, inline *inlineMarkup) any {
	c.phoneMu.Lock()
	defer c.phoneMu.Unlock()
	switch {
	case inline != nil:
		return inline
	case msg.PhoneButton != "":
		c.phoneAsked[msg.To.ID] = true
		return &tgmodels.ReplyKeyboardMarkup{
			Keyboard:        [][]tgmodels.KeyboardButton{{{Text: msg.PhoneButton, RequestContact: true}}},
			ResizeKeyboard:  true,
			OneTimeKeyboard: true,
		}
	case c.phoneAsked[msg.To.ID]:
		delete(c.phoneAsked, msg.To.ID)
		return &tgmodels.ReplyKeyboardRemove{RemoveKeyboard: true}
	}
	return nil
}

// sendError maps a failed sendMessage onto the errors bot.Channel promises.
func (c *Channel) sendError(where string, err error) error {
	var throttled *bot.ThrottledError
	switch {
	case errors.As(err, &throttled):
		return fmt.Errorf("telegram: sendMessage to %s: %w", where, throttled)
	case errors.Is(err, tgbot.ErrorForbidden):
		return fmt.Errorf("telegram: sendMessage to %s: %w (%s)", where, bot.ErrRecipientGone, c.redactString(err.Error()))
	case errors.Is(err, tgbot.ErrorUnauthorized):
		return fmt.Errorf("telegram: sendMessage to %s: %w", where, ErrUnauthorized)
	default:
		return fmt.Errorf("telegram: sendMessage to %s: %w", where, c.redact(err))
	}
}

// call runs one Bot API call, waiting out a 429 (bot-wide) and retrying
// network errors and 5xx with exponential backoff, within bounds. The wait
// itself happens in the channel's transport (gate), which every request
// passes, so it holds getUpdates and calls made outside call as well.
func (c *Channel) call(ctx context.Context, fn func(context.Context) error) error {
	backoff := defaultBackoff
	throttles, failures := 0, 0
	for {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		var throttled *bot.ThrottledError
		if errors.As(err, &throttled) {
			// the gate refused to wait that long: nothing was sent
			return throttled
		}
		if ctx.Err() != nil {
			return err
		}
		var tooMany *tgbot.TooManyRequestsError
		switch {
		case errors.As(err, &tooMany):
			// the gate has paused every call already
			wait := max(time.Duration(tooMany.RetryAfter)*time.Second, time.Second)
			throttles++
			if wait > c.maxThrottleWait || throttles > maxThrottleRetries {
				return &bot.ThrottledError{RetryAfter: wait}
			}
		case permanent(err):
			return err
		default:
			failures++
			if failures >= maxAttempts {
				return err
			}
			c.log.Debug("retrying Bot API call", "error", c.redactString(err.Error()), "backoff", backoff)
			if err := c.sleep(ctx, backoff); err != nil {
				return err
			}
			backoff *= 2
		}
	}
}

// permanent reports whether a Bot API error would come back the same on a retry.
func permanent(err error) bool {
	var migrate *tgbot.MigrateError
	var unreadable *fileError
	return errors.As(err, &migrate) || errors.As(err, &unreadable) ||
		errors.Is(err, tgbot.ErrorBadRequest) ||
		errors.Is(err, tgbot.ErrorForbidden) ||
		errors.Is(err, tgbot.ErrorUnauthorized) ||
		errors.Is(err, tgbot.ErrorNotFound) ||
		errors.Is(err, tgbot.ErrorConflict)
}

// gate is the HTTP transport under every Bot API request the channel
// makes, go-telegram/bot's and its own getUpdates alike. Each request waits
// in the throttle at the last moment before it goes out, and an answer of
// 429 pauses the throttle as soon as it arrives, before anything decodes
// it: the time in which a request of another worker can pass the check
// and still leave after Telegram said 429 is as short as this side of the
// network can make it.
type gate struct {
	base http.RoundTripper
	c    *Channel
}

// maxThrottleBody bounds the 429 answer read to find retry_after.
const maxThrottleBody = 64 << 10

// RoundTrip waits out a 429, sends req, and records a 429 it gets.
func (g *gate) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := g.c.waitGate(req.Context()); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	base := g.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxThrottleBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var answer struct {
		Parameters struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if readErr == nil {
		readErr = json.Unmarshal(body, &answer)
	}
	if readErr != nil {
		// the 429 holds all the same, for the least wait
		g.c.log.Warn("reading a 429's retry_after", "error", g.c.redactString(readErr.Error()))
	}
	g.c.holdSends(max(time.Duration(answer.Parameters.RetryAfter)*time.Second, time.Second))
	return resp, nil
}

// holdSends keeps every call on this bot waiting for d, as a 429 asks.
func (c *Channel) holdSends(d time.Duration) {
	if c.throttle != nil {
		c.throttle.Throttled(d)
		return
	}
	c.gateMu.Lock()
	defer c.gateMu.Unlock()
	if until := c.now().Add(d); until.After(c.gateUntil) {
		c.gateUntil = until
	}
	c.log.Warn("throttled by Telegram", "retry_after", d)
}

// waitGate waits until a 429's retry_after has passed, or returns a
// *bot.ThrottledError if that is further off than the caller should wait.
func (c *Channel) waitGate(ctx context.Context) error {
	if c.throttle != nil {
		return c.throttle.Wait(ctx)
	}
	for {
		c.gateMu.Lock()
		d := c.gateUntil.Sub(c.now())
		c.gateMu.Unlock()
		if d <= 0 {
			return nil
		}
		if d > c.maxThrottleWait {
			return &bot.ThrottledError{RetryAfter: d}
		}
		if err := c.sleep(ctx, d); err != nil {
			return err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// RefreshCommands sets the command menus: for everyone, the default
// commands in Arabic (default), Arabic and English; for each person with a
// longer menu, theirs, in the scope of their private chat. A person who had
// such a menu from an earlier refresh of this process and no longer has one
// gets it removed. Run calls it at start and whenever the directory says
// menus changed (a role changed).
func (c *Channel) RefreshCommands(ctx context.Context) error {
	if c.dir == nil {
		return nil
	}
	c.cmdMu.Lock()
	defer c.cmdMu.Unlock()

	var errs []error
	for _, l := range []struct{ code, lang string }{{"", defaultLang}, {"ar", "ar"}, {"en", "en"}} {
		err := c.setCommands(ctx, &tgmodels.BotCommandScopeDefault{}, l.code, c.dir.DefaultCommands(l.lang))
		if err != nil {
			errs = append(errs, fmt.Errorf("default menu %q: %w", l.code, err))
		}
	}
	people, err := c.dir.PersonalMenus(ctx, channelName)
	if err != nil {
		errs = append(errs, fmt.Errorf("listing personal menus: %w", err))
		return fmt.Errorf("telegram: setMyCommands: %w", errors.Join(errs...))
	}
	chats := map[int64]bool{}
	for _, p := range people {
		if p.Address.Channel != channelName {
			continue
		}
		chatID, err := strconv.ParseInt(p.Address.ID, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("menu of %s: chat ID is not a number", p.Address))
			continue
		}
		chats[chatID] = true
		// no language_code: the person's chosen language wins over their client's
		if err := c.setCommands(ctx, &tgmodels.BotCommandScopeChat{ChatID: chatID}, "", p.Commands); err != nil {
			errs = append(errs, fmt.Errorf("menu of %s: %w", p.Address, err))
		}
	}
	for chatID := range c.cmdChats {
		if chats[chatID] {
			continue
		}
		err := c.call(ctx, func(ctx context.Context) error {
			_, err := c.api.DeleteMyCommands(ctx, &tgbot.DeleteMyCommandsParams{Scope: &tgmodels.BotCommandScopeChat{ChatID: chatID}})
			return err
		})
		if err != nil {
			chats[chatID] = true // try again next refresh
			errs = append(errs, fmt.Errorf("removing menu of chat %d: %w", chatID, c.redact(err)))
		}
	}
	c.cmdChats = chats
	if len(errs) > 0 {
		return fmt.Errorf("telegram: setMyCommands: %w", errors.Join(errs...))
	}
	return nil
}

var commandPattern = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (c *Channel) setCommands(ctx context.Context, scope tgmodels.BotCommandScope, langCode string, cmds []bot.Command) error {
	// an empty list, not null, so a menu that lost its commands is cleared
	list := make([]tgmodels.BotCommand, 0, len(cmds))
	for _, cmd := range cmds {
		name := strings.TrimPrefix(cmd.Name, "/")
		if !commandPattern.MatchString(name) {
			return fmt.Errorf("command %q: want 1-32 of a-z 0-9 _", cmd.Name)
		}
		if n := len([]rune(cmd.Description)); n < 1 || n > 256 {
			return fmt.Errorf("command %q: description of %d characters, want 1-256", cmd.Name, n)
		}
		list = append(list, tgmodels.BotCommand{Command: name, Description: cmd.Description})
	}
	err := c.call(ctx, func(ctx context.Context) error {
		_, err := c.api.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: list, Scope: scope, LanguageCode: langCode})
		return err
	})
	return c.redact(err)
}

// redact hides the token in err's message, keeping err's chain for errors.Is.
func (c *Channel) redact(err error) error {
	if err == nil || !strings.Contains(err.Error(), c.token) {
		return err
	}
	return &redactedError{msg: c.redactString(err.Error()), err: err}
}

func (c *Channel) redactString(s string) string {
	return strings.ReplaceAll(s, c.token, "<token>")
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
