// Package whatsapp is the WhatsApp channel of the bot, a linked device of
// an ordinary WhatsApp account driven through go.mau.fi/whatsmeow.
//
// Addresses are phone numbers in international form without "+"
// ("whatsapp:970599123456"). WhatsApp may identify a sender by a LID
// ("123456789012345@lid") instead of a number; the channel maps it to the
// number through the alternative JID on the message or whatsmeow's LID
// store, so one person is one address. A LID with no known number is kept
// as its JID ("whatsapp:123456789012345@lid"): Send accepts that form too,
// but the person only becomes their number's address once WhatsApp has
// revealed the mapping, and the two are then separate contacts.
//
// Private chats are read; in groups only a command is, and answered in the
// person's private chat. Menus are sent as numbered text because WhatsApp
// shows buttons of linked devices to the sender only.
package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"mobilise/bot"
)

// Name is the channel's address prefix.
const Name = bot.WhatsApp

var (
	// ErrLoggedOut means the account unlinked the bot (or WhatsApp did):
	// the session is gone and `mobilise whatsapp link` must be run again.
	ErrLoggedOut = fmt.Errorf("whatsapp logged out: %w", bot.ErrChannelDown)
	// ErrSendBlocked means WhatsApp refuses messages from this number for
	// now (a temporary ban, a reach-out limit or rate limit): stop sending
	// and let an admin decide when to resume.
	ErrSendBlocked = fmt.Errorf("whatsapp sending blocked: %w", bot.ErrChannelDown)
	// ErrNotConnected means the channel is not connected (starting,
	// reconnecting or stopped); nothing was sent, so the send can be retried.
	ErrNotConnected = errors.New("whatsapp not connected")
)

// Server error codes on a sent message that mean WhatsApp limits this number.
const (
	codeRateOverLimit = 429 // rate-overlimit
	codeReachOutLock  = 463 // reach-out time-lock: no new chats for a while
)

// AlertKind says what happened to the WhatsApp account.
type AlertKind string

const (
	// AlertLoggedOut means the session was removed; the channel has stopped.
	AlertLoggedOut AlertKind = "logged_out"
	// AlertBanned means WhatsApp banned the number until Alert.Expires;
	// Send refuses until then and the channel reconnects when it ends.
	AlertBanned AlertKind = "banned"
	// AlertStreamReplaced means another process connected with the same
	// keys; this one stays disconnected until restarted.
	AlertStreamReplaced AlertKind = "stream_replaced"
	// AlertConnectFailure means connecting failed or WhatsApp rejected
	// this client version (Detail says which).
	AlertConnectFailure AlertKind = "connect_failure"
	// AlertSendBlocked means WhatsApp refused a message with a reach-out
	// or rate limit; broadcasting should stop until an admin resumes it.
	AlertSendBlocked AlertKind = "send_blocked"
)

// Alert reports an event of the WhatsApp account that admins must hear of,
// on the other channels since this one may be down.
type Alert struct {
	Kind AlertKind
	// Expires is when a ban ends; zero when unknown or not a ban.
	Expires time.Time
	// Detail is WhatsApp's reason, in English, for logs and admins.
	Detail string
}

// forBot is the alert as the bot's admins hear of it.
func (a Alert) forBot() bot.Alert {
	kind := map[AlertKind]bot.AlertKind{
		AlertLoggedOut:      bot.AlertLoggedOut,
		AlertBanned:         bot.AlertBanned,
		AlertStreamReplaced: bot.AlertReplaced,
		AlertConnectFailure: bot.AlertConnect,
		AlertSendBlocked:    bot.AlertBlocked,
	}[a.Kind]
	if kind == "" {
		kind = bot.AlertConnect
	}
	return bot.Alert{Channel: Name, Kind: kind, Detail: a.Detail, Until: a.Expires}
}

// alertTimeout bounds one alert callback; Run waits for alerts in flight.
const alertTimeout = 15 * time.Second

// blockedAlertEvery limits AlertSendBlocked: every refused send reports
// the same state.
const blockedAlertEvery = time.Hour

// client holds the *whatsmeow.Client methods the channel uses, so tests can fake it.
type client interface {
	Connect() error
	Disconnect()
	IsConnected() bool
	AddEventHandler(whatsmeow.EventHandler) uint32
	RemoveEventHandler(id uint32) bool
	SendMessage(ctx context.Context, to types.JID, message *waE2E.Message, extra ...whatsmeow.SendRequestExtra) (whatsmeow.SendResponse, error)
	MarkRead(ctx context.Context, ids []types.MessageID, timestamp time.Time, chat, sender types.JID, receiptTypeExtra ...types.ReceiptType) error
	SendChatPresence(ctx context.Context, jid types.JID, state types.ChatPresence, media types.ChatPresenceMedia) error
	IsOnWhatsApp(ctx context.Context, phones []string) ([]types.IsOnWhatsAppResponse, error)
	Upload(ctx context.Context, plaintext []byte, appInfo whatsmeow.MediaType) (whatsmeow.UploadResponse, error)
	Download(ctx context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error)
}

var _ client = (*whatsmeow.Client)(nil)

// lidStore finds the phone number of a LID; whatsmeow's store.LIDStore is one.
type lidStore interface {
	GetPNForLID(ctx context.Context, lid types.JID) (types.JID, error)
}

// Option configures a Channel.
type Option func(*Channel)

// WithLogger sets the logger; whatsmeow's own lines go to it too.
func WithLogger(l *slog.Logger) Option {
	return func(c *Channel) {
		if l != nil {
			c.log = l
		}
	}
}

// WithAlerts sets the function told of logouts, bans, replaced sessions,
// connect failures and blocked sends. It runs on its own goroutine with a
// context that outlives the channel's by up to 15 s.
func WithAlerts(f func(ctx context.Context, a Alert)) Option {
	return func(c *Channel) { c.alert = f }
}

// WithNow sets the clock used for bans and message times.
func WithNow(now func() time.Time) Option { return func(c *Channel) { c.now = now } }

// WithWorkers sets how many messages are handled at once (default 4); one
// person's messages are always handled in order.
func WithWorkers(n int) Option {
	return func(c *Channel) {
		if n > 0 {
			c.workers = n
		}
	}
}

// withLIDs and withOwnNumber stand in for the Device in tests;
// withTypingDelay lets them see the indicator without waiting a second.
func withLIDs(l lidStore) Option             { return func(c *Channel) { c.lids = l } }
func withOwnNumber(n string) Option          { return func(c *Channel) { c.own = n } }
func withTypingDelay(d time.Duration) Option { return func(c *Channel) { c.typingDelay = d } }

// Channel is the WhatsApp channel. Create it with New; it implements
// bot.Channel and bot.Linker.
type Channel struct {
	client      client
	lids        lidStore
	own         string
	log         *slog.Logger
	alert       func(context.Context, Alert)
	now         func() time.Time
	workers     int
	queueSize   int
	typingDelay time.Duration

	mu           sync.Mutex
	started      bool
	loggedOut    bool
	bannedUntil  time.Time
	blockedAlert time.Time // last AlertSendBlocked
	alertCtx     context.Context

	// qmu guards queues: dispatch sends under RLock, stop closes under Lock
	qmu      sync.RWMutex
	queues   []chan job
	stopping chan struct{}

	fatal  chan error         // logged out: Run returns it
	banned chan time.Duration // a temporary ban: reconnect when it ends
	alerts sync.WaitGroup

	// uploads keeps files' uploads across restarts; media is their memory
	uploads   bot.Uploads
	uploadTTL time.Duration
	media     mediaState
}

var (
	_ bot.Channel     = (*Channel)(nil)
	_ bot.Linker      = (*Channel)(nil)
	_ bot.MediaSender = (*Channel)(nil)
)

// New returns the channel for the linked device d, or ErrNotLinked.
func New(d *Device, opts ...Option) (*Channel, error) {
	if d == nil || !d.Linked() {
		return nil, ErrNotLinked
	}
	c := newWithClient(nil, opts...)
	cli := whatsmeow.NewClient(d.store, newWALogger(c.log, "whatsmeow"))
	cli.EnableAutoReconnect = true
	// a network error on the first connect retries in the background too
	cli.InitialAutoReconnect = true
	c.client = cli
	c.lids = d.store.LIDs
	c.own = d.PhoneNumber()
	return c, nil
}

// newWithClient returns a channel over cl; New fills in the real client.
func newWithClient(cl client, opts ...Option) *Channel {
	c := &Channel{
		client:      cl,
		log:         slog.New(slog.DiscardHandler),
		now:         time.Now,
		workers:     4,
		queueSize:   32,
		typingDelay: time.Second,
		alertCtx:    context.Background(),
		fatal:       make(chan error, 1),
		banned:      make(chan time.Duration, 1),
		uploadTTL:   defaultUploadTTL,
		media:       mediaState{refs: map[string]upload{}},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Name returns "whatsapp".
func (c *Channel) Name() bot.ChannelName { return Name }

// Connected reports whether the channel is connected to WhatsApp.
func (c *Channel) Connected() bool {
	c.mu.Lock()
	out := c.loggedOut
	c.mu.Unlock()
	return !out && c.client.IsConnected()
}

// ShareLink returns a wa.me link that opens a chat with the bot's number
// with "start <payload>" typed in, which the bot reads like /start
// <payload>; "" when the number is unknown.
func (c *Channel) ShareLink(payload string) string {
	if c.own == "" {
		return ""
	}
	// wa.me reads "+" literally: spaces must be %20
	text := strings.ReplaceAll(url.QueryEscape("start "+payload), "+", "%20")
	return "https://wa.me/" + c.own + "?text=" + text
}

// job is one incoming message with what is needed to answer its receipt.
type job struct {
	in           bot.Incoming
	chat, sender types.JID
	id           types.MessageID
}

// Run connects, passes each private text message to h until ctx is
// cancelled or the account logs out, then waits for running handlers,
// disconnects and returns (ErrLoggedOut after a logout). Once it has
// returned it may be called again, and connects anew: an instance that
// loses the whatsapp lease and wins it back later runs the channel again.
func (c *Channel) Run(ctx context.Context, h bot.Handler) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return errors.New("whatsapp: Run called while running")
	}
	if c.loggedOut {
		c.mu.Unlock()
		return fmt.Errorf("whatsapp: run: %w", ErrLoggedOut)
	}
	c.started = true
	c.alertCtx = context.WithoutCancel(ctx)
	if a, ok := bot.AlerterOf(h); ok && c.alert == nil {
		// the admins hear of the account's troubles through the bot
		c.alert = func(ctx context.Context, wa Alert) {
			if err := a.Alert(ctx, wa.forBot()); err != nil {
				c.log.Error("alerting admins", "error", err)
			}
		}
	}
	c.mu.Unlock()

	workers := c.startWorkers(context.WithoutCancel(ctx), h)
	handler := c.client.AddEventHandler(c.onEvent)
	defer func() {
		c.client.RemoveEventHandler(handler)
		c.mu.Lock()
		c.started = false
		c.mu.Unlock()
	}()
	if err := c.client.Connect(); err != nil {
		c.stopWorkers(workers)
		c.fireAlert(Alert{Kind: AlertConnectFailure, Detail: err.Error()})
		c.alerts.Wait()
		return fmt.Errorf("whatsapp: connect: %w", err)
	}
	c.log.Info("whatsapp channel started", "phone", c.own)

	var runErr error
	var reconnect <-chan time.Time
	var timer *time.Timer
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case runErr = <-c.fatal:
			break loop
		case d := <-c.banned:
			// whatsmeow does not reconnect after a ban: try again when it ends
			if timer != nil {
				timer.Stop()
			}
			timer = time.NewTimer(d)
			reconnect = timer.C
		case <-reconnect:
			reconnect = nil
			c.log.Info("whatsapp ban over: reconnecting")
			if err := c.client.Connect(); err != nil && !errors.Is(err, whatsmeow.ErrAlreadyConnected) {
				c.log.Error("whatsapp reconnect after ban", "error", err)
				c.fireAlert(Alert{Kind: AlertConnectFailure, Detail: err.Error()})
			}
		}
	}
	if timer != nil {
		timer.Stop()
	}
	c.stopWorkers(workers)
	c.client.Disconnect()
	c.alerts.Wait()
	c.log.Info("whatsapp channel stopped")
	return runErr
}

// startWorkers starts one goroutine per shard; each handles its queue in order.
func (c *Channel) startWorkers(ctx context.Context, h bot.Handler) *sync.WaitGroup {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	c.stopping = make(chan struct{})
	c.queues = make([]chan job, c.workers)
	wg := &sync.WaitGroup{}
	for i := range c.queues {
		q := make(chan job, c.queueSize)
		c.queues[i] = q
		wg.Go(func() {
			for j := range q {
				c.handle(ctx, h, j)
			}
		})
	}
	return wg
}

// stopWorkers stops taking messages, lets the workers finish what is
// queued (whatsmeow has acknowledged it already) and waits for them.
func (c *Channel) stopWorkers(wg *sync.WaitGroup) {
	close(c.stopping) // frees dispatchers blocked on a full queue
	c.qmu.Lock()
	for _, q := range c.queues {
		close(q)
	}
	c.queues = nil
	c.qmu.Unlock()
	wg.Wait()
}

// onEvent receives every whatsmeow event. It runs on whatsmeow's event
// loop, so it only queues messages and records state.
func (c *Channel) onEvent(evt any) {
	switch e := evt.(type) {
	case *events.Message:
		j, ok := c.incoming(e)
		if ok {
			c.dispatch(j)
		}
	case *events.Connected:
		c.mu.Lock()
		c.bannedUntil = time.Time{}
		c.mu.Unlock()
		c.log.Info("whatsapp connected")
	case *events.Disconnected:
		c.log.Warn("whatsapp disconnected; reconnecting")
	case *events.KeepAliveTimeout:
		c.log.Debug("whatsapp keepalive timeout", "errors", e.ErrorCount)
	case *events.LoggedOut:
		c.mu.Lock()
		c.loggedOut = true
		c.mu.Unlock()
		detail := "removed from the phone's linked devices"
		if e.OnConnect {
			detail = e.Reason.String()
		}
		c.log.Error("whatsapp logged out: link again with `mobilise whatsapp link`", "reason", detail)
		c.fireAlert(Alert{Kind: AlertLoggedOut, Detail: detail})
		select {
		case c.fatal <- fmt.Errorf("whatsapp: %s: %w", detail, ErrLoggedOut):
		default:
		}
	case *events.StreamReplaced:
		c.log.Error("whatsapp session replaced: another process uses the same account keys; this one stays disconnected")
		c.fireAlert(Alert{Kind: AlertStreamReplaced, Detail: "another process connected with the same keys"})
	case *events.TemporaryBan:
		expire := e.Expire
		if expire <= 0 {
			// whatsmeow reports no expiry: retry after a day
			expire = 24 * time.Hour
		}
		until := c.now().Add(expire)
		c.mu.Lock()
		c.bannedUntil = until
		select {
		case <-c.banned: // a newer ban replaces one Run has not seen yet
		default:
		}
		c.banned <- expire
		c.mu.Unlock()
		c.log.Error("whatsapp number temporarily banned", "reason", e.Code.String(), "until", until)
		c.fireAlert(Alert{Kind: AlertBanned, Expires: until, Detail: e.Code.String()})
	case *events.ConnectFailure:
		c.log.Error("whatsapp connect failure", "reason", e.Reason.String(), "message", e.Message)
		c.fireAlert(Alert{Kind: AlertConnectFailure, Detail: e.Reason.String()})
	case *events.ClientOutdated:
		c.log.Error("whatsapp rejected this client version: update go.mau.fi/whatsmeow")
		c.fireAlert(Alert{Kind: AlertConnectFailure, Detail: "client outdated: update go.mau.fi/whatsmeow"})
	}
}

// incoming turns a message event into a job, or false for what the bot
// does not read: broadcasts, status, newsletters, its own messages, edits,
// reactions and other messages that are not a person's words or media, and
// in groups anything but a command. A private message carries its text, or
// its media's caption with what the media was, a shared location or a
// contact card's number, and whether it was forwarded. A command in a group
// is passed as Group with no Chat: the bot does not write in groups, so the
// pointer to the private chat goes to the person.
func (c *Channel) incoming(e *events.Message) (job, bool) {
	info := e.Info
	log := c.log.With("message_id", info.ID)
	group := info.Chat.Server == types.GroupServer
	switch {
	case info.IsFromMe:
		return job{}, false
	case !group && info.Chat.Server != types.DefaultUserServer && info.Chat.Server != types.HiddenUserServer:
		log.Debug("whatsapp: ignoring message outside a private chat", "chat", info.Chat.String())
		return job{}, false
	case info.Chat.User == types.PSAJID.User && info.Chat.Server == types.DefaultUserServer:
		return job{}, false // WhatsApp's own announcements
	case e.IsEdit || info.Edit != types.EditAttributeEmpty:
		// an edit is not a new answer: reading it again would repeat a step
		log.Debug("whatsapp: ignoring edited or revoked message")
		return job{}, false
	}
	body, ok := contentOf(e.Message)
	if !ok {
		log.Debug("whatsapp: ignoring message that is no one's words", "type", info.Type, "media", info.MediaType)
		return job{}, false
	}
	if group && (!strings.HasPrefix(strings.TrimSpace(body.text), "/") || body.forwarded) {
		// group chatter is not for the bot; only a command is answered
		return job{}, false
	}
	sender := info.Sender.ToNonAD()
	if sender.IsEmpty() {
		sender = info.Chat.ToNonAD()
	}
	ts := info.Timestamp
	if ts.IsZero() {
		ts = c.now()
	}
	in := bot.Incoming{
		From:        bot.Address{Channel: Name, ID: c.addressID(sender, info.SenderAlt)},
		Name:        info.PushName,
		Text:        body.text,
		Attachment:  body.attachment,
		SharedPhone: body.sharedPhone,
		Place:       body.place,
		File:        c.incomingFile(e.Message),
		Group:       group,
		ExternalID:  info.ID,
		ReceivedAt:  ts,
	}
	if body.forwarded {
		in.Forwarded = &bot.Forward{}
	}
	return job{in: in, chat: info.Chat, sender: info.Sender, id: info.ID}, true
}

// addressID returns the phone number of sender, a user JID, looking a LID
// up through alt or the LID store; an unknown LID stays in its JID form.
func (c *Channel) addressID(sender, alt types.JID) string {
	if sender.Server != types.HiddenUserServer {
		return sender.User
	}
	if alt.Server == types.DefaultUserServer {
		return alt.User
	}
	if c.lids != nil {
		pn, err := c.lids.GetPNForLID(context.Background(), sender)
		switch {
		case err != nil:
			c.log.Warn("whatsapp: look up phone number of LID", "lid", sender.String(), "error", err)
		case !pn.IsEmpty():
			return pn.User
		}
	}
	c.log.Debug("whatsapp: no phone number known for LID; using the LID as address", "lid", sender.String())
	return sender.String()
}

// dispatch queues j on its sender's worker, so one person's messages are
// handled in order. It blocks while that queue is full, which holds
// whatsmeow's event loop back rather than dropping messages.
func (c *Channel) dispatch(j job) {
	c.qmu.RLock()
	defer c.qmu.RUnlock()
	if c.queues == nil {
		c.log.Warn("whatsapp: message arrived while stopped; dropped", "message_id", j.id)
		return
	}
	select {
	case c.queues[c.shard(j.in.From)] <- j:
	case <-c.stopping:
		c.log.Warn("whatsapp: message arrived while stopping; dropped", "message_id", j.id)
	}
}

// shard picks the worker of an address.
func (c *Channel) shard(a bot.Address) int {
	h := fnv.New32a()
	h.Write([]byte(a.ID))
	return int(h.Sum32() % uint32(c.workers))
}

// handle marks j read, runs h on it and shows "typing…" while h takes long.
func (c *Channel) handle(ctx context.Context, h bot.Handler, j job) {
	if err := c.client.MarkRead(ctx, []types.MessageID{j.id}, c.now(), j.chat, j.sender); err != nil {
		c.log.Debug("whatsapp: mark read", "message_id", j.id, "error", err)
	}
	stopTyping := c.startTyping(ctx, j.chat)
	defer stopTyping()
	defer func() {
		// one bad message must not take the other conversations down
		if r := recover(); r != nil {
			c.log.Error("whatsapp: handler panicked", "message_id", j.id, "panic", r)
		}
	}()
	if err := h.HandleIncoming(ctx, j.in); err != nil {
		// WhatsApp has acknowledged the message: it does not come again
		c.log.Error("whatsapp: handling message", "message_id", j.id, "error", err)
	}
}

// startTyping shows "typing…" in chat once typingDelay has passed; the
// returned function clears it.
func (c *Channel) startTyping(ctx context.Context, chat types.JID) func() {
	fired := make(chan bool, 1)
	timer := time.AfterFunc(c.typingDelay, func() {
		err := c.client.SendChatPresence(ctx, chat, types.ChatPresenceComposing, types.ChatPresenceMediaText)
		if err != nil {
			c.log.Debug("whatsapp: send typing", "error", err)
		}
		fired <- err == nil
	})
	return func() {
		if timer.Stop() {
			return // answered before the indicator was due
		}
		if !<-fired {
			return
		}
		if err := c.client.SendChatPresence(ctx, chat, types.ChatPresencePaused, types.ChatPresenceMediaText); err != nil {
			c.log.Debug("whatsapp: clear typing", "error", err)
		}
	}
}

// Send sends msg as plain text, its buttons as a numbered list, and returns
// the WhatsApp message ID. Errors wrap ErrNotConnected (nothing sent, retry
// later), ErrLoggedOut, ErrSendBlocked (banned or limited: stop sending)
// or bot.ErrRecipientGone (the number is not on WhatsApp).
func (c *Channel) Send(ctx context.Context, msg bot.Outgoing) (string, error) {
	if msg.To.Channel != Name {
		return "", fmt.Errorf("whatsapp: send to %s: not a whatsapp address", msg.To)
	}
	to, err := recipientJID(msg.To.ID)
	if err != nil {
		return "", fmt.Errorf("whatsapp: send to %s: %w", msg.To, err)
	}
	c.mu.Lock()
	loggedOut, until := c.loggedOut, c.bannedUntil
	c.mu.Unlock()
	switch {
	case loggedOut:
		return "", fmt.Errorf("whatsapp: send to %s: %w", msg.To, ErrLoggedOut)
	case c.now().Before(until):
		return "", fmt.Errorf("whatsapp: send to %s: banned until %s: %w", msg.To, until.Format(time.RFC3339), ErrSendBlocked)
	case !c.client.IsConnected():
		return "", fmt.Errorf("whatsapp: send to %s: %w", msg.To, ErrNotConnected)
	}
	text := renderText(msg)
	resp, err := c.client.SendMessage(ctx, to, &waE2E.Message{Conversation: &text})
	if err != nil {
		return "", c.sendError(ctx, msg.To, to, err)
	}
	return resp.ID, nil
}

// sendError maps a SendMessage error onto the channel's error set.
func (c *Channel) sendError(ctx context.Context, addr bot.Address, to types.JID, err error) error {
	code, _ := serverErrorCode(err)
	switch {
	case errors.Is(err, whatsmeow.ErrNotLoggedIn):
		return fmt.Errorf("whatsapp: send to %s: %w: %w", addr, ErrLoggedOut, err)
	case errors.Is(err, whatsmeow.ErrNotConnected), errors.Is(err, whatsmeow.ErrIQDisconnected):
		return fmt.Errorf("whatsapp: send to %s: %w: %w", addr, ErrNotConnected, err)
	case code == codeReachOutLock || code == codeRateOverLimit:
		c.alertBlocked(err)
		return fmt.Errorf("whatsapp: send to %s: %w: %w", addr, ErrSendBlocked, err)
	case code == 0 && ctx.Err() == nil && !errors.Is(err, whatsmeow.ErrMessageTimedOut) && c.notOnWhatsApp(ctx, to):
		return fmt.Errorf("whatsapp: send to %s: not on whatsapp: %w: %w", addr, bot.ErrRecipientGone, err)
	}
	return fmt.Errorf("whatsapp: send to %s: %w", addr, err)
}

// notOnWhatsApp asks WhatsApp whether the number to is registered, for a
// send that failed for a reason whatsmeow does not name (it reports an
// unknown number as a failed LID lookup).
func (c *Channel) notOnWhatsApp(ctx context.Context, to types.JID) bool {
	if to.Server != types.DefaultUserServer {
		return false
	}
	res, err := c.client.IsOnWhatsApp(ctx, []string{"+" + to.User})
	if err != nil {
		c.log.Debug("whatsapp: check number after failed send", "error", err)
		return false
	}
	return len(res) == 1 && !res[0].IsIn
}

// alertBlocked raises AlertSendBlocked at most once an hour.
func (c *Channel) alertBlocked(err error) {
	now := c.now()
	c.mu.Lock()
	due := c.blockedAlert.IsZero() || now.Sub(c.blockedAlert) >= blockedAlertEvery
	if due {
		c.blockedAlert = now
	}
	c.mu.Unlock()
	c.log.Error("whatsapp refused a message: the number is limited", "error", err)
	if due {
		c.fireAlert(Alert{Kind: AlertSendBlocked, Detail: err.Error()})
	}
}

// fireAlert runs the alert callback without blocking the caller (often
// whatsmeow's event loop); Run waits for it before returning.
func (c *Channel) fireAlert(a Alert) {
	if c.alert == nil {
		return
	}
	c.mu.Lock()
	base := c.alertCtx
	c.mu.Unlock()
	c.alerts.Go(func() {
		ctx, cancel := context.WithTimeout(base, alertTimeout)
		defer cancel()
		c.alert(ctx, a)
	})
}

// serverErrorCode returns the code of whatsmeow's "server returned error
// N", which it formats into the message rather than a type.
func serverErrorCode(err error) (int, bool) {
	if !errors.Is(err, whatsmeow.ErrServerReturnedError) {
		return 0, false
	}
	msg := err.Error()
	i := strings.LastIndex(msg, whatsmeow.ErrServerReturnedError.Error())
	if i < 0 {
		return 0, false
	}
	rest := strings.TrimSpace(msg[i+len(whatsmeow.ErrServerReturnedError.Error()):])
	if f := strings.Fields(rest); len(f) > 0 {
		rest = f[0]
	}
	code, err := strconv.Atoi(rest)
	if err != nil {
		return 0, false
	}
	return code, true
}

// recipientJID parses an address ID: a phone number (digits, "+" and
// spaces tolerated) or a full JID such as "123@lid".
func recipientJID(id string) (types.JID, error) {
	if strings.Contains(id, "@") {
		jid, err := types.ParseJID(id)
		if err != nil {
			return types.JID{}, fmt.Errorf("parse jid: %w", err)
		}
		if jid.Server != types.DefaultUserServer && jid.Server != types.HiddenUserServer {
			return types.JID{}, fmt.Errorf("%s is not a private chat", id)
		}
		return jid.ToNonAD(), nil
	}
	digits := strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9':
			return r
		case r == '+' || r == ' ' || r == '-':
			return -1
		}
		return 'x'
	}, id)
	if digits == "" || strings.Contains(digits, "x") || strings.HasPrefix(digits, "0") {
		return types.JID{}, fmt.Errorf("%q is not an international phone number", id)
	}
	return types.NewJID(digits, types.DefaultUserServer), nil
}

// renderText appends msg's buttons as lines. A menu's options are numbered
// across rows, so the person answers with the number. A button that stands
// for a command (its payload starts with "/", as on a notice) shows the
// command to type instead: a number there would collide with the menu the
// person was last shown.
func renderText(msg bot.Outgoing) string {
	var b strings.Builder
	b.WriteString(msg.Text)
	n := 0
	first := true
	for _, row := range msg.Buttons {
		for _, btn := range row {
			if first && msg.Text != "" {
				b.WriteString("\n")
			}
			first = false
			if strings.HasPrefix(btn.Payload, "/") {
				fmt.Fprintf(&b, "\n• %s: %s", btn.Text, btn.Payload)
				continue
			}
			n++
			fmt.Fprintf(&b, "\n%d. %s", n, btn.Text)
		}
	}
	return b.String()
}
