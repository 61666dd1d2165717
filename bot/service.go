package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"mobilise/messages"
	"mobilise/store"
)

// Sender delivers messages on one channel. Every Channel is a Sender.
type Sender interface {
	Name() string
	Send(ctx context.Context, msg Outgoing) (string, error)
}

// Service is the channel-agnostic engine: it answers what people write,
// runs the conversations, and keeps everything in the store.
type Service struct {
	store   *store.Store
	cat     *messages.Catalog
	log     *slog.Logger
	now     func() time.Time
	loc     *time.Location
	admins  map[string]bool
	senders map[string]Sender
	flows   map[string]flow
	cmds    []command

	locks       keyedMutex
	floods      floodControl
	linkGuesses guessLimit

	// notifier delivers messages to people other than the one being
	// answered; the outbox replaces the direct default.
	notifier func(ctx context.Context, msgs []Notice) error
	// onRoleChange lets channels refresh per-person command menus.
	onRoleChange func(ctx context.Context)

	plan              SendPlan
	approvalThreshold int
	quiet             QuietHours
	reminderGrace     time.Duration
}

// Notice is a message for one contact, written in their language when it is delivered.
type Notice struct {
	ContactID uint64
	// Render returns the message text and buttons in lang.
	Render func(lang string) (string, [][]Button)
	// AvoidChannel is a channel the notice must not go through (an alert about that channel).
	AvoidChannel string
	// Bulk notices go to many people at once (every pledger of a campaign):
	// they wait out quiet hours and keep to the channel's bulk pace.
	Bulk bool
	// RequireConsent drops the notice for people who have not consented to
	// messages or have said /stop; replies to something they asked for go regardless.
	RequireConsent bool
	// Kind names what the notice is, for logs and the outbox ("target_reached", "institution_decided").
	Kind string
}

// Option configures a Service.
type Option func(*Service)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithClock sets the clock, so tests can fix the time.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLocation sets the coalition's time zone, in which dates are typed and shown.
func WithLocation(loc *time.Location) Option { return func(s *Service) { s.loc = loc } }

// WithAdmins names addresses ("telegram:123") that always rank as admin.
func WithAdmins(addrs ...string) Option {
	return func(s *Service) {
		for _, a := range addrs {
			if a = strings.TrimSpace(a); a != "" {
				s.admins[a] = true
			}
		}
	}
}

// WithSender adds a channel the engine can send through.
func WithSender(snd Sender) Option { return func(s *Service) { s.senders[snd.Name()] = snd } }

// WithFloodLimit sets how many messages a person may send in a burst, and how
// fast the allowance refills, before being asked to slow down.
func WithFloodLimit(burst int, every time.Duration) Option {
	return func(s *Service) { s.floods = newFloodControl(burst, every) }
}

// WithNotifier replaces how notices to other people are delivered (the outbox).
func WithNotifier(fn func(ctx context.Context, msgs []Notice) error) Option {
	return func(s *Service) { s.notifier = fn }
}

// WithRoleChangeHook is called after a person's role changes.
func WithRoleChangeHook(fn func(ctx context.Context)) Option {
	return func(s *Service) { s.onRoleChange = fn }
}

// New returns a Service over st and cat.
func New(st *store.Store, cat *messages.Catalog, opts ...Option) *Service {
	s := &Service{
		store:   st,
		cat:     cat,
		log:     slog.New(slog.DiscardHandler),
		now:     time.Now,
		loc:     time.UTC,
		admins:  map[string]bool{},
		senders: map[string]Sender{},
		floods:  newFloodControl(20, 500*time.Millisecond),

		approvalThreshold: 500,
		quiet:             DefaultQuietHours(),
		reminderGrace:     time.Hour,
	}
	for _, o := range opts {
		o(s)
	}
	if s.notifier == nil {
		s.notifier = s.deliverNow
	}
	s.cmds = commands()
	s.flows = s.buildFlows()
	return s
}

// AddSender adds a channel after construction (channels that need the
// Service as their CommandDirectory are built after it).
func (s *Service) AddSender(snd Sender) { s.senders[snd.Name()] = snd }

// HandleIncoming answers one message. Errors are logged; the person gets a
// polite apology rather than silence.
func (s *Service) HandleIncoming(ctx context.Context, in Incoming) {
	// a reply that has started is still sent when the channel is stopping
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	unlock := s.locks.lock(in.From.String())
	defer unlock()
	if err := s.handle(ctx, in); err != nil {
		if errors.Is(err, ErrRecipientGone) {
			// they blocked the bot: the mark is set, an apology would only bounce
			s.log.Info("reply not delivered: recipient gone", "channel", in.From.Channel)
			return
		}
		s.log.Error("handling message", "channel", in.From.Channel, "error", err)
		lang := s.replyLang(in)
		s.sendLogged(ctx, Outgoing{To: in.ReplyTo(), Lang: lang, Text: s.cat.Text(lang, messages.ErrInternal, nil)})
	}
}

func (s *Service) handle(ctx context.Context, in Incoming) error {
	addr := in.From.String()
	if in.Kind == KindBlocked {
		return s.markUnreachable(addr)
	}
	switch s.floods.check(addr, s.now()) {
	case floodIgnore:
		s.log.Debug("ignoring flood", "address", addr)
		return nil
	case floodWarn:
		lang := s.replyLang(in)
		s.sendLogged(ctx, Outgoing{To: in.ReplyTo(), Lang: lang, Text: s.cat.Text(lang, messages.ErrSlowDown, nil)})
		return nil
	}
	if in.Group {
		// nothing of a group conversation is kept, not even who wrote
		return s.groupCommand(ctx, in)
	}
	c, created, err := s.store.EnsureContact(addr, in.Name, messages.NormalizeLang(in.LangHint))
	if err != nil {
		return fmt.Errorf("loading contact %s: %w", addr, err)
	}
	// a person on two linked channels is one conversation: lock the person too,
	// always after the address, so two turns never wait on each other in a circle
	unlock := s.locks.lock("contact:" + strconv.FormatUint(c.ID, 10))
	defer unlock()
	if c.PreferredChannel != in.From.Channel && len(c.Addresses) > 1 {
		// broadcasts follow the person to the channel they last wrote on
		if c, err = s.store.UpdateContact(c.ID, func(c *store.Contact) error {
			c.PreferredChannel = in.From.Channel
			return nil
		}); err != nil {
			return fmt.Errorf("noting the channel of contact %s: %w", addr, err)
		}
	}
	if _, gone := c.Unreachable[addr]; gone {
		if c, err = s.store.UpdateContact(c.ID, func(c *store.Contact) error {
			delete(c.Unreachable, addr)
			return nil
		}); err != nil {
			return fmt.Errorf("clearing unreachable mark of %s: %w", addr, err)
		}
	}
	sess, err := s.store.Session(c.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		sess = &store.Session{}
	case err != nil:
		return fmt.Errorf("loading session of contact %d: %w", c.ID, err)
	}
	t := &turn{ctx: ctx, s: s, in: in, c: c, created: created, sess: sess, lang: c.Lang}
	if t.lang == "" {
		t.lang = messages.NormalizeLang(in.LangHint)
	}
	t.role = s.roleOf(c)
	if err := t.dispatch(); err != nil {
		return err
	}
	return t.finish()
}

// replyLang is the language to answer in outside a conversation: the one
// stored for the writer, else the platform's guess.
func (s *Service) replyLang(in Incoming) string {
	if c, err := s.store.ContactByAddress(in.From.String()); err == nil && c.Lang != "" {
		return c.Lang
	}
	return messages.NormalizeLang(in.LangHint)
}

// roleOf is the one place a person's role is worked out: configured admins
// rank as admin whatever the store says.
func (s *Service) roleOf(c *store.Contact) store.Role {
	for _, a := range c.Addresses {
		if s.admins[a] {
			return store.RoleAdmin
		}
	}
	if c.Role == "" {
		return store.RoleCitizen
	}
	return c.Role
}

func (s *Service) markUnreachable(addr string) error {
	c, err := s.store.ContactByAddress(addr)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("loading contact %s: %w", addr, err)
	}
	_, err = s.store.UpdateContact(c.ID, func(c *store.Contact) error {
		if c.Unreachable == nil {
			c.Unreachable = map[string]time.Time{}
		}
		c.Unreachable[addr] = s.now().UTC()
		return nil
	})
	if err != nil {
		return fmt.Errorf("marking %s unreachable: %w", addr, err)
	}
	s.log.Info("contact unreachable", "contact_id", c.ID, "channel", strings.SplitN(addr, ":", 2)[0])
	return nil
}

// MarkUnreachable records that sends to addr fail because the person blocked
// the bot; the outbox calls it on ErrRecipientGone.
func (s *Service) MarkUnreachable(addr string) error { return s.markUnreachable(addr) }

// send delivers msg through its channel.
func (s *Service) send(ctx context.Context, msg Outgoing) error {
	snd, ok := s.senders[msg.To.Channel]
	if !ok {
		return fmt.Errorf("sending to %s: no channel %q", msg.To, msg.To.Channel)
	}
	if _, err := snd.Send(ctx, msg); err != nil {
		if errors.Is(err, ErrRecipientGone) {
			if merr := s.markUnreachable(msg.To.String()); merr != nil {
				return errors.Join(err, merr)
			}
		}
		return fmt.Errorf("sending to %s: %w", msg.To, err)
	}
	return nil
}

// sendLogged sends where nothing more can be done about a failure than logging it.
func (s *Service) sendLogged(ctx context.Context, msg Outgoing) {
	if err := s.send(ctx, msg); err != nil {
		s.log.Warn("reply not delivered", "channel", msg.To.Channel, "error", err)
	}
}

// hasSender reports whether the engine can send on channel.
func (s *Service) hasSender(channel string) bool {
	_, ok := s.senders[channel]
	return ok
}

// reachableAddress is the address store.Contact.ReachableAddress picks for c,
// parsed; channelOK says which channels may be used.
func reachableAddress(c *store.Contact, channelOK func(channel string) bool) (Address, bool) {
	raw, ok := c.ReachableAddress(channelOK)
	if !ok {
		return Address{}, false
	}
	a, err := ParseAddress(raw)
	return a, err == nil
}

// ResolveNotice works out the message n becomes: rendered in the contact's
// language and addressed to their preferred channel if usable, else to their
// first address that is not unreachable, on a channel other than
// n.AvoidChannel that channelOK accepts (nil accepts every channel). ok is
// false when the notice is to be dropped: the contact no longer exists, has
// not consented or said /stop while n.RequireConsent, or cannot be reached.
func ResolveNotice(st *store.Store, n Notice, channelOK func(channel string) bool) (msg Outgoing, ok bool, err error) {
	c, err := st.Contact(n.ContactID)
	if errors.Is(err, store.ErrNotFound) {
		return Outgoing{}, false, nil
	}
	if err != nil {
		return Outgoing{}, false, fmt.Errorf("notice %s: %w", n.Kind, err)
	}
	if n.RequireConsent && (!c.Consent || c.Stopped) {
		return Outgoing{}, false, nil
	}
	to, ok := reachableAddress(c, func(ch string) bool { return ch != n.AvoidChannel && (channelOK == nil || channelOK(ch)) })
	if !ok {
		return Outgoing{}, false, nil
	}
	lang := messages.NormalizeLang(c.Lang)
	text, buttons := n.Render(lang)
	return Outgoing{To: to, Lang: lang, Text: text, Buttons: buttons}, true, nil
}

// deliverNow is the default notifier: it sends each notice at once.
func (s *Service) deliverNow(ctx context.Context, notices []Notice) error {
	var errs []error
	for _, n := range notices {
		msg, ok, err := ResolveNotice(s.store, n, s.hasSender)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		if err := s.send(ctx, msg); err != nil {
			errs = append(errs, fmt.Errorf("notice %s to contact %d: %w", n.Kind, n.ContactID, err))
		}
	}
	return errors.Join(errs...)
}

// notify hands notices to the notifier: the outbox, or direct delivery.
func (s *Service) notify(ctx context.Context, notices []Notice) error {
	return s.notifier(ctx, notices)
}

// newMenuID returns a short random ID that ties buttons to the menu they were shown with.
func newMenuID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return hex.EncodeToString(b[:])
}

// keyedMutex serialises work per key, so one person's messages never interleave.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedEntry{}
	}
	e := k.locks[key]
	if e == nil {
		e = &keyedEntry{}
		k.locks[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

type floodVerdict int

const (
	floodOK floodVerdict = iota
	floodWarn
	floodIgnore
)

// floodControl gives each person a token bucket; one who empties it is told
// once to slow down and ignored until it refills.
type floodControl struct {
	mu      sync.Mutex
	burst   int
	every   time.Duration
	buckets map[string]*floodBucket
}

type floodBucket struct {
	lim    *rate.Limiter
	warned bool
	last   time.Time
}

func newFloodControl(burst int, every time.Duration) floodControl {
	return floodControl{burst: burst, every: every, buckets: map[string]*floodBucket{}}
}

func (f *floodControl) check(key string, now time.Time) floodVerdict {
	if f.burst <= 0 {
		return floodOK
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.buckets[key]
	if b == nil {
		if len(f.buckets) > 10000 {
			f.prune(now)
		}
		b = &floodBucket{lim: rate.NewLimiter(rate.Every(f.every), f.burst)}
		f.buckets[key] = b
	}
	b.last = now
	if b.lim.AllowN(now, 1) {
		b.warned = false
		return floodOK
	}
	if b.warned {
		return floodIgnore
	}
	b.warned = true
	return floodWarn
}

// prune forgets buckets that have long been full again.
func (f *floodControl) prune(now time.Time) {
	idle := f.every * time.Duration(f.burst) * 2
	for k, b := range f.buckets {
		if now.Sub(b.last) > idle {
			delete(f.buckets, k)
		}
	}
}
