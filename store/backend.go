package store

import (
	"context"
	"time"

	"mobilise/bot"
)

// Backend is the store as the bot's operations use it, named by domain:
// the bbolt file (*Store, the default) and PostgreSQL (store/postgres)
// both implement it, with the same types, rules and errors, and the
// conformance suite (store/storetest/conform) holds them to it. What only
// a file has (its snapshot and backup, its check, its compaction) stays on
// *Store.
//
// A unit of work is InTx (or InSharedTx): the methods called with the
// context it gives join its transaction, and AfterCommit (the package
// function) runs hooks once it commits, whichever store opened it.
type Backend interface {
	// Ping checks that the store answers, for /healthz.
	Ping(ctx context.Context) error

	// activity
	ActivityByDay(ctx context.Context, campaignID uint64, loc *time.Location) ([]DayCount, error)

	// audience
	CountAudience(ctx context.Context, aud Audience, channelOK func(channel bot.ChannelName) bool) (AudienceCount, error)
	Recipients(ctx context.Context, aud Audience, channelOK func(channel bot.ChannelName) bool) ([]Recipient, error)
	RecipientsPage(ctx context.Context, aud Audience, channelOK func(channel bot.ChannelName) bool, after uint64, limit int) (RecipientPage, error)

	// audit
	AppendAudit(ctx context.Context, e AuditEntry) error
	Audit(ctx context.Context, fn func(*AuditEntry) error) error

	// broadcasts
	Broadcast(ctx context.Context, id uint64) (*Broadcast, error)
	Broadcasts(ctx context.Context) ([]Broadcast, error)
	CancelBroadcast(ctx context.Context, id uint64) (removed int, err error)
	CreateBroadcast(ctx context.Context, b *Broadcast) error
	QueueBroadcast(ctx context.Context, id uint64, entries []OutboxEntry) error
	QueueBroadcastStream(ctx context.Context, id uint64, channelOK func(channel bot.ChannelName) bool,
		render func([]Recipient) ([]OutboxEntry, error)) (int, error)
	ResumeBroadcast(ctx context.Context, id, author uint64) (*Broadcast, error)
	SetStatusMessage(ctx context.Context, broadcastID uint64, to bot.Address, messageID string) error
	SuspendBroadcast(ctx context.Context, id uint64) (parked int, err error)
	UpdateBroadcast(ctx context.Context, id uint64, fn func(*Broadcast) error) (*Broadcast, error)

	// campaigns
	Campaign(ctx context.Context, id uint64) (*Campaign, error)
	CampaignByCode(ctx context.Context, code string) (*Campaign, error)
	Campaigns(ctx context.Context) ([]Campaign, error)
	CreateCampaign(ctx context.Context, c *Campaign) error
	UpdateCampaign(ctx context.Context, id uint64, fn func(*Campaign) error) (*Campaign, error)

	// contacts
	Contact(ctx context.Context, id uint64) (*Contact, error)
	ContactByAddress(ctx context.Context, addr bot.Address) (*Contact, error)
	ContactByRefCode(ctx context.Context, code string) (*Contact, error)
	Contacts(ctx context.Context, fn func(*Contact) error) error
	EnsureContact(ctx context.Context, addr bot.Address, name, lang string) (c *Contact, created bool, err error)
	ForgetContact(ctx context.Context, id uint64) error
	Identity(ctx context.Context, id uint64) (uint64, error)
	LinkAddresses(ctx context.Context, keepID, mergeID uint64) (*Contact, error)
	SetReferrer(ctx context.Context, contactID uint64, refCode string) (bool, error)
	UpdateContact(ctx context.Context, id uint64, fn func(*Contact) error) (*Contact, error)

	// dashboard
	DeleteWebSession(ctx context.Context, hash []byte) error
	DeleteWebSessions(ctx context.Context, contactID uint64) (int, error)
	PutLoginToken(ctx context.Context, hash []byte, t LoginToken) error
	PutWebSession(ctx context.Context, hash []byte, ws WebSession) error
	TakeLoginToken(ctx context.Context, hash []byte, now time.Time) (LoginToken, error)
	WebSession(ctx context.Context, hash []byte, now time.Time) (WebSession, error)
	WebSessionCount(ctx context.Context, now time.Time) (int, error)

	// institutions
	CreateInstitution(ctx context.Context, inst *Institution) error
	DeleteInstitution(ctx context.Context, id uint64) error
	Institution(ctx context.Context, id uint64) (*Institution, error)
	Institutions(ctx context.Context, status InstitutionStatus) ([]Institution, error)
	UpdateInstitution(ctx context.Context, id uint64, fn func(*Institution) error) (*Institution, error)

	// institutions_migrate
	AssignInstitutionCode(ctx context.Context, id uint64) (*Institution, error)
	InstitutionByCode(ctx context.Context, code string) (*Institution, error)

	// institutions_staff
	InstitutionPeople(ctx context.Context, institutionID uint64) ([]Affiliate, error)
	UpdateAffiliations(ctx context.Context, contactID uint64, fn func(*Contact) error) (*Contact, error)

	// ledger
	BulkSentSince(ctx context.Context, author uint64, since time.Time) ([]BulkSend, error)
	RecordBulkSend(ctx context.Context, e BulkSend) error

	// linkcodes
	AddLinkFailure(ctx context.Context, mark []byte, now time.Time) error
	AddressMark(ctx context.Context, addr bot.Address) ([]byte, error)
	CreditReferralOnce(ctx context.Context, mark []byte) (bool, error)
	ForgetLinkCodes(ctx context.Context, contactID uint64) error
	LinkFailures(ctx context.Context, mark []byte, now time.Time) ([]time.Time, error)
	PutLinkCode(ctx context.Context, code string, contactID uint64, expires time.Time) error
	PutPendingLink(ctx context.Context, token string, pl PendingLink) error
	TakeLinkCode(ctx context.Context, code string, now time.Time) (uint64, error)
	TakePendingLink(ctx context.Context, token string, now time.Time) (PendingLink, error)

	// media
	ForgetUpload(ctx context.Context, account, sha string) error
	SaveUpload(ctx context.Context, account, sha string, u bot.Upload) error
	Upload(ctx context.Context, account, sha string) (bot.Upload, bool, error)

	// meta
	MarkHandled(ctx context.Context, channel bot.ChannelName, id string) (first bool, err error)
	SetTelegramOffset(ctx context.Context, offset int64) error
	TelegramOffset(ctx context.Context) (int64, error)

	// outbox
	Enqueue(ctx context.Context, entries ...OutboxEntry) error
	OutboxDepth(ctx context.Context) (map[bot.ChannelName]int, error)
	OutboxDone(ctx context.Context, ids ...uint64) error
	OutboxFailed(ctx context.Context, id uint64, reason string, blocked bool) error
	OutboxForget(ctx context.Context, contactID uint64, addrs []bot.Address) (removed int, err error)
	OutboxNotStarted(ctx context.Context, ids ...uint64) error
	OutboxQueued(ctx context.Context, id uint64) (bool, error)
	OutboxRetry(ctx context.Context, id uint64, notBefore time.Time, reason string) error
	OutboxSentSince(ctx context.Context, channel bot.ChannelName, since time.Time) (int, error)
	OutboxStarted(ctx context.Context, ids ...uint64) error
	OutboxWithdrawBulk(ctx context.Context, contactID uint64, addrs []bot.Address) (removed int, err error)
	PendingOutbox(ctx context.Context, channel bot.ChannelName, bulk bool, after uint64, limit int) ([]OutboxEntry, error)
	ReplaceQueued(ctx context.Context, id uint64, text string, buttons [][]bot.Button) (bool, error)

	// pause
	Pause(ctx context.Context) (Pause, error)
	SetPause(ctx context.Context, p Pause) error
	SetThrottledUntil(ctx context.Context, channel bot.ChannelName, until time.Time) error
	ThrottledUntil(ctx context.Context, channel bot.ChannelName) (time.Time, error)

	// pledges
	AddPledge(ctx context.Context, p Pledge) (PledgeResult, error)
	AddSignup(ctx context.Context, su Signup) (Counts, error)
	CampaignShareStats(ctx context.Context, campaignID, institutionID uint64) (Stats, error)
	CampaignStats(ctx context.Context, campaignID uint64) (Stats, error)
	CancelSignup(ctx context.Context, campaignID, contactID uint64) (Counts, error)
	ContactPledges(ctx context.Context, contactID uint64) ([]Pledge, error)
	ContactSignups(ctx context.Context, contactID uint64) ([]Signup, error)
	Counts(ctx context.Context, campaignID uint64) (Counts, error)
	Pledge(ctx context.Context, campaignID, contactID uint64) (*Pledge, error)
	Pledges(ctx context.Context, campaignID uint64, fn func(*Pledge) error) error
	Signup(ctx context.Context, campaignID, contactID uint64) (*Signup, error)
	Signups(ctx context.Context, campaignID uint64, fn func(*Signup) error) error
	WithdrawPledge(ctx context.Context, campaignID, contactID uint64) (Counts, error)

	// polls
	AnswerPoll(ctx context.Context, a PollAnswer) (PollAnswered, error)
	Asked(ctx context.Context, pollID, contactID uint64) (at time.Time, ok bool, err error)
	AttendancePoll(ctx context.Context, campaignID uint64) (*Poll, error)
	ContactPollAnswers(ctx context.Context, contactID uint64) ([]PollAnswer, error)
	CreatePoll(ctx context.Context, p *Poll) error
	FollowUp(ctx context.Context, campaignID uint64) (bool, error)
	MarkAsked(ctx context.Context, pollID uint64, contactIDs []uint64, at time.Time) error
	Poll(ctx context.Context, id uint64) (*Poll, error)
	PollAnswerOf(ctx context.Context, pollID, contactID uint64) (*PollAnswer, error)
	PollAnswers(ctx context.Context, pollID uint64, fn func(*PollAnswer) error) error
	PollCounts(ctx context.Context, pollID uint64) (PollCounts, error)
	PollOfBroadcast(ctx context.Context, broadcastID uint64) (*Poll, error)
	PollResults(ctx context.Context, pollID uint64) (PollResults, error)
	Polls(ctx context.Context) ([]Poll, error)
	RecentPolls(ctx context.Context, n int) ([]Poll, error)
	SetFollowUp(ctx context.Context, campaignID uint64, on bool) error
	UpdatePoll(ctx context.Context, id uint64, fn func(*Poll) error) (*Poll, error)

	// reminders
	ClaimReminder(ctx context.Context, id uint64, slot, next time.Time, entries []OutboxEntry) (claimed bool, err error)
	ClaimReminderAsBroadcast(ctx context.Context, id uint64, slot, next time.Time, b *Broadcast) (claimed bool, err error)
	CreateReminder(ctx context.Context, r *Reminder) error
	DeleteReminder(ctx context.Context, id uint64) error
	DueReminders(ctx context.Context, now time.Time) ([]Reminder, error)
	MarkReminderMissed(ctx context.Context, id uint64, slot, next time.Time, entries ...OutboxEntry) error
	Reminder(ctx context.Context, id uint64) (*Reminder, error)
	Reminders(ctx context.Context) ([]Reminder, error)
	UpdateReminder(ctx context.Context, id uint64, fn func(*Reminder) error) (*Reminder, error)

	// sessions
	DeleteSession(ctx context.Context, contactID uint64) error
	PutSession(ctx context.Context, contactID uint64, sess *Session) error
	Session(ctx context.Context, contactID uint64) (*Session, error)

	// store
	Close() error

	// supporters
	AddSupporter(ctx context.Context, sp Support, rejoin bool) (bool, error)
	ContactSupports(ctx context.Context, contactID uint64) ([]Support, error)
	LeaveSupporters(ctx context.Context, institutionID, contactID uint64) (bool, error)
	Supporter(ctx context.Context, institutionID, contactID uint64) (*Support, error)
	Supporters(ctx context.Context, institutionID uint64, fn func(*Support) error) error

	// tx
	InSharedTx(ctx context.Context, fn func(ctx context.Context) error) error
	InTx(ctx context.Context, fn func(ctx context.Context) error) error

	// verify
	AddVerifyFailure(ctx context.Context, mark []byte, now time.Time) error
	Call(ctx context.Context, code string) (*Call, error)
	CallOf(ctx context.Context, kind string, id uint64) (*Call, error)
	PutCall(ctx context.Context, c *Call) error
	VerifyFailures(ctx context.Context, mark []byte, now time.Time) ([]time.Time, error)

	// watchers
	AddWatch(ctx context.Context, campaignID, contactID uint64) (bool, error)
	TakeWatchers(ctx context.Context, campaignID uint64) ([]Watch, error)
	Watching(ctx context.Context, campaignID, contactID uint64) (bool, error)
}

var _ Backend = (*Store)(nil)

// Committer is a unit of work of another store, as its context carries it
// (WithCommitter). Open reports whether it is still under way; AddHook
// adds a function to run once it has committed.
type Committer interface {
	Open() bool
	AddHook(fn func())
}

type committerKey struct{}

// WithCommitter returns ctx carrying c, so that AfterCommit and
// InTransaction see the unit of work of a store other than bbolt.
func WithCommitter(ctx context.Context, c Committer) context.Context {
	return context.WithValue(ctx, committerKey{}, c)
}
