// Package coalition is the coalition's rulebook: what it can do, each as an
// operation that takes the acting person and returns a result or a typed
// error. Every rule lives in the operation that it governs — who may do it,
// when a second person must approve, what the people concerned are told,
// what goes into the audit log — so the chat, the dashboard and the
// scheduler all get the same rules by calling the same operations.
//
// The operations, by domain:
//
//	People        arrive, language, consent, stop and resume, /mydata, /forget, /link
//	Members       roles: appoint, dismiss, take over or drop what a dismissed person left
//	Institutions  register, approve, reject; their people, supporters,
//	              directory, details, suspension and numbers (org*.go)
//	Campaigns     create, close, pledge, sign up, cancel a sign-up, open and close on time
//	Broadcasts    preview, submit, approve, reject, cancel, report progress
//	Reminders     create, approve, reject, cancel, fire when due
//	Sending       pause and resume all sending; hold messages through quiet hours
//	Polls         put a question, answer it, results, follow-through after an event
//	Verify        whether a message is a genuine call; warn of a fake
//	Posters       a campaign's printable poster, made from chat
//
// An operation called with a context that carries a unit of work
// (store.InTx) joins it: the chat's turn commits the operation, the handled
// mark and the replies at once. Called without one, it commits by itself.
// Rules are checked before anything is written, so an operation that
// returns a rule's error has changed nothing.
package coalition

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"time"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/bot/schedule"
	"mobilise/messages"
	"mobilise/store"
)

// Errors the operations return; front ends tell them to people in their language.
var (
	// ErrNotAllowed: the acting person's role does not allow it.
	ErrNotAllowed = errors.New("not allowed")
	// ErrNotFound: no such campaign, broadcast, reminder, institution or person.
	ErrNotFound = errors.New("not found")
	// ErrCampaignClosed: the campaign is not open for people to act on.
	ErrCampaignClosed = errors.New("campaign not open")
	// ErrNoPledges and ErrNoEvent: the campaign takes no pledges, has no event.
	ErrNoPledges = errors.New("campaign takes no pledges")
	ErrNoEvent   = errors.New("campaign has no event")
	// ErrEventPassed: the event has taken place.
	ErrEventPassed = errors.New("event has passed")
	// ErrAlreadyPledged and ErrAlreadySignedUp: once per person.
	ErrAlreadyPledged  = store.ErrAlreadyPledged
	ErrAlreadySignedUp = store.ErrAlreadySignedUp
	// ErrNotSignedUp: there is no sign-up to cancel.
	ErrNotSignedUp = errors.New("not signed up")
	// ErrCodeTaken: another campaign has this code.
	ErrCodeTaken = store.ErrCodeTaken
	// ErrNobody: the audience reaches no one.
	ErrNobody = errors.New("the audience reaches nobody")
	// ErrOwnApproval: the second person must be another person, across linked accounts too.
	ErrOwnApproval = errors.New("the author cannot approve their own send")
	// ErrDecided: someone decided already; nothing to approve, reject or cancel.
	ErrDecided = errors.New("already decided")
	// ErrAudienceGrew: the audience grew past what the approval request
	// showed; the admins are asked again with the count it reaches now.
	ErrAudienceGrew = errors.New("the audience grew past the approval request")
	// ErrAlreadyPaused: sending is paused already; nothing changed.
	ErrAlreadyPaused = errors.New("sending is paused already")
	// ErrTooOften: a recurring reminder may not fire more than once an hour.
	ErrTooOften = errors.New("repeats too often")
	// ErrTooManyReminders: the author has as many recurring reminders as allowed.
	ErrTooManyReminders = errors.New("too many recurring reminders")
	// ErrPending: the person already has an application waiting.
	ErrPending = errors.New("an application is already pending")
	// ErrYourself: an admin cannot change their own role.
	ErrYourself = errors.New("not on yourself")
	// ErrConfiguredAdmin: admins named in the configuration are changed there.
	ErrConfiguredAdmin = errors.New("an admin named in the configuration")
	// ErrAlreadyAdmin: an admin cannot be appointed coordinator.
	ErrAlreadyAdmin = errors.New("already an admin")
	// ErrBadCode, ErrSameAccount, ErrSameChannel, ErrTooManyTries: what can go wrong with /link.
	ErrBadCode      = errors.New("unknown or expired code")
	ErrSameAccount  = errors.New("the same account")
	ErrSameChannel  = errors.New("two accounts on one channel")
	ErrTooManyTries = errors.New("too many wrong codes")
	// ErrConfirm: linking a privileged account needs an explicit yes first.
	ErrConfirm = errors.New("confirmation needed")
)

// InvalidError says which field of a draft is wrong and why.
type InvalidError struct {
	Field  string
	Reason messages.Key
}

func (e *InvalidError) Error() string { return "invalid " + e.Field + ": " + string(e.Reason) }

// invalid is an InvalidError.
func invalid(field string, reason messages.Key) error {
	return &InvalidError{Field: field, Reason: reason}
}

// Actor is who performs an operation: the person (their contact ID now, the
// same across linked accounts), the role they have at the moment of the
// call, and where they act from.
type Actor struct {
	Person uint64
	Role   store.Role
	From   bot.Address
	Lang   string
	// Institutions are the member institutions the person acts for, with
	// their role in each, read with Role; the operations check each
	// institution's standing at the call (org.go).
	Institutions []store.Affiliation
}

// can reports whether the actor's role reaches min.
func (a Actor) can(min store.Role) bool { return a.Role.AtLeast(min) }

// Outbox is where operations hand messages to other people; *outbox.Queue implements it.
type Outbox interface {
	Notify(ctx context.Context, notices ...outbox.Notice) error
	Has(channel bot.ChannelName) bool
	Channels() []bot.ChannelName
	Wake()
	Resume()
}

// Estimator says how long sending n bulk messages on a channel takes.
type Estimator interface {
	Estimate(channel bot.ChannelName, n int) time.Duration
}

// Coalition is every operation, grouped by domain.
type Coalition struct {
	People       *People
	Members      *Members
	Institutions *Institutions
	Campaigns    *Campaigns
	Broadcasts   *Broadcasts
	Reminders    *Reminders
	Sending      *Sending
	Logins       *Logins
	Exports      *Exports
	Polls        *Polls
	Verify       *Verification
	Posters      *Posters
	Media        *Media
}

// rules are what the operations share: the store, the words, the outbox,
// the clock and the coalition's settings.
type rules struct {
	st        store.Backend
	cat       *messages.Catalog
	out       Outbox
	log       *slog.Logger
	now       func() time.Time
	loc       *time.Location
	admins    map[bot.Address]bool
	linkers   map[bot.ChannelName]bot.Linker
	estimator Estimator
	dashboard string // the dashboard's sign-in address; empty when it is off

	threshold    int
	quiet        schedule.QuietHours
	editors      map[bot.ChannelName]bool
	grace        time.Duration
	maxRecurring int
	rolesChanged chan struct{}
	filler       chan struct{}
	co           *Coalition

	// rand is where verification codes are drawn from.
	rand          io.Reader
	followUpDelay time.Duration
	posters       posterConfig
	// files is where the files of calls to action are kept
	files *store.MediaFiles
}

// Option configures the coalition.
type Option func(*rules)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(r *rules) { r.log = l } }

// WithClock sets the clock, so tests can fix the time.
func WithClock(now func() time.Time) Option { return func(r *rules) { r.now = now } }

// WithLocation sets the coalition's time zone, in which dates are typed and shown.
func WithLocation(loc *time.Location) Option { return func(r *rules) { r.loc = loc } }

// WithAdmins names addresses that always rank as admin, whatever the store says.
func WithAdmins(addrs ...bot.Address) Option {
	return func(r *rules) {
		for _, a := range addrs {
			r.admins[a] = true
		}
	}
}

// WithLinker gives the channel that makes share links of its own (Telegram
// deep links, wa.me links).
func WithLinker(channel bot.ChannelName, l bot.Linker) Option {
	return func(r *rules) { r.linkers[channel] = l }
}

// WithEstimator says how long sends take, for previews.
func WithEstimator(e Estimator) Option { return func(r *rules) { r.estimator = e } }

// WithApprovalThreshold sets how many people a bulk send (a broadcast, a
// reminder's firing, an author's unapproved sends of a day together) may
// reach before a second person, an admin, must approve it; 0 never asks.
func WithApprovalThreshold(n int) Option { return func(r *rules) { r.threshold = n } }

// WithQuietHours sets when bulk messages wait.
func WithQuietHours(q schedule.QuietHours) Option { return func(r *rules) { r.quiet = q } }

// WithEditor says that messages on channel can be edited once sent, so a
// broadcast's progress is one message edited in place there; elsewhere only
// the final report is sent.
func WithEditor(channel bot.ChannelName) Option { return func(r *rules) { r.editors[channel] = true } }

// WithReminderGrace sets how late a reminder may still go out after the bot
// was down; later ones are recorded as missed and their author told.
func WithReminderGrace(d time.Duration) Option { return func(r *rules) { r.grace = d } }

// WithMaxRecurring bounds the live recurring reminders of one author.
func WithMaxRecurring(n int) Option { return func(r *rules) { r.maxRecurring = n } }

// New returns the coalition's operations over st, speaking through cat and
// handing messages to out.
func New(st store.Backend, cat *messages.Catalog, out Outbox, opts ...Option) *Coalition {
	r := &rules{
		st: st, cat: cat, out: out,
		log:          slog.New(slog.DiscardHandler),
		now:          time.Now,
		loc:          time.UTC,
		admins:       map[bot.Address]bool{},
		linkers:      map[bot.ChannelName]bot.Linker{},
		threshold:    500,
		quiet:        schedule.DefaultQuietHours(),
		editors:      map[bot.ChannelName]bool{},
		grace:        time.Hour,
		maxRecurring: 5,
		rolesChanged: make(chan struct{}, 1),
		filler:       make(chan struct{}, 1),

		rand:          rand.Reader,
		followUpDelay: DefaultFollowUpDelay,
		posters:       posterConfig{requests: make(chan posterRequest, posterQueue)},
	}
	for _, o := range opts {
		o(r)
	}
	co := &Coalition{
		People:       &People{r},
		Members:      &Members{r},
		Institutions: &Institutions{r},
		Campaigns:    &Campaigns{r},
		Broadcasts:   &Broadcasts{r},
		Reminders:    &Reminders{r},
		Sending:      &Sending{r},
		Logins:       &Logins{r},
		Exports:      &Exports{r},
		Polls:        &Polls{r},
		Verify:       &Verification{r},
		Posters:      &Posters{r},
		Media:        &Media{r},
	}
	r.co = co
	return co
}

// Gone implements outbox.Reporter: a message to addr met bot.ErrRecipientGone.
func (co *Coalition) Gone(ctx context.Context, addr bot.Address) error {
	return co.People.MarkUnreachable(ctx, addr)
}

// Progress implements outbox.Reporter: a broadcast's counts changed.
func (co *Coalition) Progress(ctx context.Context, broadcastID uint64) error {
	return co.Broadcasts.ReportProgress(ctx, broadcastID)
}

// Alert implements bot.Alerter: a channel's news for the admins.
func (co *Coalition) Alert(ctx context.Context, a bot.Alert) error {
	return co.Members.AlertAdmins(ctx, a)
}

// audit records a privileged action in the audit log.
func (r *rules) audit(ctx context.Context, by uint64, action string, details map[string]string) error {
	if err := r.st.AppendAudit(ctx, store.AuditEntry{At: r.now().UTC(), ActorID: by, Action: action, Details: details}); err != nil {
		return err
	}
	return nil
}

// notFound turns the store's not found into the coalition's.
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrCampaignNotFound) {
		return ErrNotFound
	}
	return err
}
