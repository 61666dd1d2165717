package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"mobilise/bot"
)

// Records are a batch of what a store holds, every record with its ID and
// the keys that tie it to others, as Export reads them from the bbolt file
// and `mobilise migrate` writes them to another store. What a store derives
// from them (the audience counters, the index of a campaign's code, of an
// institution's people, of a poll's broadcast) is not among them: the store
// they are written to derives it again. Addresses are given apart from the
// contacts that hold them only to be counted on both sides.
//
// A pledge, a sign-up's counters or a poll answer with no ContactID is an
// anonymous one, of a person who asked to be forgotten.
type Records struct {
	Settings *Settings

	Institutions   []Institution
	Contacts       []Contact
	Addresses      int
	RefAliases     []RefAlias
	Aliases        []Alias
	Campaigns      []Campaign
	CampaignCounts []CampaignCounts
	Pledges        []Pledge
	Signups        []Signup
	Watchers       []Watch
	Supporters     []Support
	Sessions       []ContactSession
	Audit          []AuditEntry
	Handled        []HandledUpdate
	Broadcasts     []Broadcast
	Outbox         []QueuedEntry
	OutboxSent     []SentMinute
	Reminders      []Reminder
	BulkSends      []BulkSend
	LinkCodes      []LinkCode
	PendingLinks   []TokenPendingLink
	LinkFailures   []MarkTimes
	Referrals      [][]byte
	LoginTokens    []HashLoginToken
	WebSessions    []HashWebSession
	Polls          []Poll
	PollCounts     []PollCountsOf
	PollAnswers    []PollAnswer
	PollAsked      []PollAsk
	NoFollowUp     []uint64
	Calls          []Call
	LatestCalls    []LatestCall
	VerifyFailures []MarkTimes
	Uploads        []AccountUpload
}

// Settings are the store's single values.
type Settings struct {
	TelegramOffset int64
	// AddressKey is the key of AddressMark: the marks kept under it stay
	// valid only with the same key.
	AddressKey []byte
	Pause      Pause
	Throttled  map[bot.ChannelName]time.Time
	// Sequences are the last ID each kind of record was given, deleted
	// records' included, so IDs are never given twice: "contacts",
	// "institutions", "campaigns", "broadcasts", "reminders", "polls",
	// "audit", "outbox".
	Sequences map[string]uint64
}

// RefAlias is the share code of a contact merged into ContactID: it still
// brings people to the one kept.
type RefAlias struct {
	Code      string
	ContactID uint64
}

// Alias records that contact ID was merged into ContactID.
type Alias struct {
	ID, ContactID uint64
}

// CampaignCounts are a campaign's stored totals.
type CampaignCounts struct {
	CampaignID uint64
	Counts
}

// ContactSession is a conversation in progress.
type ContactSession struct {
	ContactID uint64
	Session
}

// HandledUpdate is an incoming message or update already handled.
type HandledUpdate struct {
	Channel bot.ChannelName
	ID      string
	At      time.Time
}

// QueuedEntry is a message in the outbox; Counts is set when it counts
// towards its broadcast (QueueBroadcast's entries).
type QueuedEntry struct {
	OutboxEntry
	Counts bool
}

// SentMinute is how many bulk messages a channel sent in one minute.
type SentMinute struct {
	Channel bot.ChannelName
	Minute  time.Time
	N       int
}

// LinkCode is a live /link code.
type LinkCode struct {
	Code      string
	ContactID uint64
	Expires   time.Time
}

// TokenPendingLink is a link waiting for confirmation, under its token.
type TokenPendingLink struct {
	Token string
	PendingLink
}

// MarkTimes are the times (unix seconds) of wrong codes from an address mark.
type MarkTimes struct {
	Mark  []byte
	Times []int64
}

// HashLoginToken is a sign-in link under the hash of its secret.
type HashLoginToken struct {
	Hash []byte
	LoginToken
}

// HashWebSession is a signed-in browser under the hash of its cookie.
type HashWebSession struct {
	Hash []byte
	WebSession
}

// PollCountsOf are a poll's stored counters.
type PollCountsOf struct {
	PollID uint64
	PollCounts
}

// PollAsk records when a poll was queued for a person.
type PollAsk struct {
	PollID, ContactID uint64
	At                time.Time
}

// LatestCall names the latest code of a broadcast or reminder.
type LatestCall struct {
	Kind  string
	RefID uint64
	Code  string
}

// AccountUpload is a platform's reference to a file uploaded once.
type AccountUpload struct {
	Account, SHA string
	bot.Upload
}

// Counts returns how many records of each kind r holds, by the names
// Export and the stores' counts use.
func (r *Records) Counts() map[string]int {
	anonPledges, anonAnswers := 0, 0
	for _, p := range r.Pledges {
		if p.ContactID == 0 {
			anonPledges++
		}
	}
	for _, a := range r.PollAnswers {
		if a.ContactID == 0 {
			anonAnswers++
		}
	}
	settings := 0
	if r.Settings != nil {
		settings = 1
	}
	return map[string]int{
		"settings": settings, "institutions": len(r.Institutions), "contacts": len(r.Contacts),
		"addresses": r.Addresses, "ref_aliases": len(r.RefAliases), "aliases": len(r.Aliases),
		"campaigns": len(r.Campaigns), "campaign_counts": len(r.CampaignCounts),
		"pledges": len(r.Pledges) - anonPledges, "forgotten_pledges": anonPledges, "signups": len(r.Signups),
		"watchers": len(r.Watchers), "supporters": len(r.Supporters), "sessions": len(r.Sessions),
		"audit": len(r.Audit), "handled": len(r.Handled), "broadcasts": len(r.Broadcasts),
		"outbox": len(r.Outbox), "outbox_sent": len(r.OutboxSent), "reminders": len(r.Reminders),
		"bulk_sends": len(r.BulkSends), "link_codes": len(r.LinkCodes), "pending_links": len(r.PendingLinks),
		"link_failures": len(r.LinkFailures), "referral_credits": len(r.Referrals),
		"login_tokens": len(r.LoginTokens), "web_sessions": len(r.WebSessions), "polls": len(r.Polls),
		"poll_counts": len(r.PollCounts), "poll_answers": len(r.PollAnswers) - anonAnswers,
		"forgotten_poll_answers": anonAnswers, "poll_asked": len(r.PollAsked),
		"poll_no_follow_up": len(r.NoFollowUp), "calls": len(r.Calls), "latest_calls": len(r.LatestCalls),
		"verify_failures": len(r.VerifyFailures), "media_uploads": len(r.Uploads),
	}
}

// exportBatch is how many records of one kind a batch of Export holds at most.
const exportBatch = 2000

// Export reads everything the file holds in one read transaction, so what
// it gives is one state of the store, and calls fn with batches of
// records: the settings first, then each kind in turn, a record always
// after the records it names (institutions and contacts before the
// pledges, broadcasts before their outbox entries, polls before their
// answers). A batch holds one kind; fn must not keep it after it returns.
// It stops at fn's first error.
func (s *Store) Export(ctx context.Context, fn func(*Records) error) error {
	err := s.db.View(func(tx *bbolt.Tx) error {
		e := &exporter{ctx: ctx, fn: fn}
		for _, step := range []func(*bbolt.Tx) error{
			e.settings, e.institutions, e.contacts, e.refAliases, e.aliases, e.campaigns, e.pairs,
			e.watchers, e.supporters, e.sessions, e.audit, e.handled, e.broadcasts, e.outbox, e.outboxSent,
			e.reminders, e.bulkSends, e.linkCodes, e.dashboard, e.polls, e.pollAnswers, e.verify, e.uploads,
		} {
			if err := step(tx); err != nil {
				return err
			}
			if err := e.flush(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("exporting %s: %w", s.path, err)
	}
	return nil
}

// exporter gathers one batch of Records at a time.
type exporter struct {
	ctx context.Context
	fn  func(*Records) error
	r   Records
	n   int
}

// added counts n records put in the batch, and hands the batch on when it
// is full.
func (e *exporter) added(n int) error {
	e.n += n
	if e.n < exportBatch {
		return nil
	}
	return e.flush()
}

func (e *exporter) flush() error {
	if e.n == 0 && e.r.Settings == nil {
		return nil
	}
	if err := e.ctx.Err(); err != nil {
		return err
	}
	r := e.r
	e.r, e.n = Records{}, 0
	return e.fn(&r)
}

// each calls fn for every key of bucket that starts with prefix.
func each(tx *bbolt.Tx, bucket, prefix []byte, fn func(k, v []byte) error) error {
	b := tx.Bucket(bucket)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return fmt.Errorf("%s %x: %w", bucket, k, err)
		}
	}
	return nil
}

// eachJSON calls fn with each record of bucket decoded into a fresh T.
func eachJSON[T any](tx *bbolt.Tx, bucket []byte, fn func(k []byte, rec *T) error) error {
	return each(tx, bucket, nil, func(k, v []byte) error {
		rec := new(T)
		if err := json.Unmarshal(v, rec); err != nil {
			return err
		}
		return fn(k, rec)
	})
}

func (e *exporter) settings(tx *bbolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	st := &Settings{Throttled: map[bot.ChannelName]time.Time{}, Sequences: map[string]uint64{}}
	if v := meta.Get(keyTelegramOffset); len(v) == 8 {
		st.TelegramOffset = int64(btoi(v))
	}
	st.AddressKey = bytes.Clone(meta.Get(addressKeyName))
	if err := getJSON(meta, pauseKey, &st.Pause); err != nil && err != ErrNotFound {
		return fmt.Errorf("reading the kill switch: %w", err)
	}
	err := each(tx, bucketMeta, []byte("throttled_until:"), func(k, v []byte) error {
		if len(v) == 8 {
			st.Throttled[bot.ChannelName(strings.TrimPrefix(string(k), "throttled_until:"))] = time.Unix(0, int64(btoi(v))).UTC()
		}
		return nil
	})
	if err != nil {
		return err
	}
	for name, bucket := range map[string][]byte{
		"contacts": bucketContacts, "institutions": bucketInstitutions, "campaigns": bucketCampaigns,
		"broadcasts": bucketBroadcasts, "reminders": bucketReminders, "polls": bucketPolls,
		"audit": bucketAudit, "outbox": bucketOutbox,
	} {
		if b := tx.Bucket(bucket); b != nil {
			st.Sequences[name] = b.Sequence()
		}
	}
	e.r.Settings = st
	return nil
}

func (e *exporter) institutions(tx *bbolt.Tx) error {
	return eachJSON(tx, bucketInstitutions, func(k []byte, inst *Institution) error {
		inst.ID = btoi(k)
		e.r.Institutions = append(e.r.Institutions, *inst)
		return e.added(1)
	})
}

func (e *exporter) contacts(tx *bbolt.Tx) error {
	err := each(tx, bucketContacts, nil, func(k, v []byte) error {
		var c Contact
		if err := decodeContact(btoi(k), v, &c); err != nil {
			return err
		}
		e.r.Contacts = append(e.r.Contacts, c)
		return e.added(1)
	})
	if err != nil {
		return err
	}
	e.r.Addresses = tx.Bucket(bucketAddresses).Stats().KeyN
	return nil
}

// refAliases are the share codes that lead to a contact other than by its
// own RefCode: the codes of the contacts merged into it.
func (e *exporter) refAliases(tx *bbolt.Tx) error {
	contacts := tx.Bucket(bucketContacts)
	return each(tx, bucketRefCodes, nil, func(k, v []byte) error {
		id := btoi(v)
		var c Contact
		if err := getContact(contacts, itob(id), &c); err != nil {
			return fmt.Errorf("the contact %d of share code %q: %w", id, k, err)
		}
		if strings.EqualFold(c.RefCode, string(k)) {
			return nil
		}
		e.r.RefAliases = append(e.r.RefAliases, RefAlias{Code: string(k), ContactID: id})
		return e.added(1)
	})
}

func (e *exporter) aliases(tx *bbolt.Tx) error {
	return each(tx, bucketAliases, nil, func(k, v []byte) error {
		e.r.Aliases = append(e.r.Aliases, Alias{ID: btoi(k), ContactID: btoi(v)})
		return e.added(1)
	})
}

func (e *exporter) campaigns(tx *bbolt.Tx) error {
	err := eachJSON(tx, bucketCampaigns, func(k []byte, c *Campaign) error {
		c.ID = btoi(k)
		e.r.Campaigns = append(e.r.Campaigns, *c)
		return e.added(1)
	})
	if err != nil {
		return err
	}
	if err := e.flush(); err != nil {
		return err
	}
	return eachJSON(tx, bucketCounters, func(k []byte, c *Counts) error {
		e.r.CampaignCounts = append(e.r.CampaignCounts, CampaignCounts{CampaignID: btoi(k), Counts: *c})
		return e.added(1)
	})
}

// pairs are the pledges, anonymous ones included, and the sign-ups.
func (e *exporter) pairs(tx *bbolt.Tx) error {
	err := each(tx, bucketPledges, nil, func(k, v []byte) error {
		var p Pledge
		if err := decodePair(k, v, &p); err != nil {
			return err
		}
		e.r.Pledges = append(e.r.Pledges, p)
		return e.added(1)
	})
	if err != nil {
		return err
	}
	if err := e.flush(); err != nil {
		return err
	}
	return each(tx, bucketSignups, nil, func(k, v []byte) error {
		var su Signup
		if err := decodePair(k, v, &su); err != nil {
			return err
		}
		e.r.Signups = append(e.r.Signups, su)
		return e.added(1)
	})
}

func (e *exporter) watchers(tx *bbolt.Tx) error {
	return eachJSON(tx, bucketWatchers, func(k []byte, w *Watch) error {
		if len(k) == 16 {
			w.CampaignID, w.ContactID = btoi(k[:8]), btoi(k[8:])
		}
		e.r.Watchers = append(e.r.Watchers, *w)
		return e.added(1)
	})
}

func (e *exporter) supporters(tx *bbolt.Tx) error {
	return eachJSON(tx, bucketSupporters, func(k []byte, sp *Support) error {
		if len(k) == 16 {
			sp.InstitutionID, sp.ContactID = btoi(k[:8]), btoi(k[8:])
		}
		e.r.Supporters = append(e.r.Supporters, *sp)
		return e.added(1)
	})
}

func (e *exporter) sessions(tx *bbolt.Tx) error {
	return eachJSON(tx, bucketSessions, func(k []byte, sess *Session) error {
		e.r.Sessions = append(e.r.Sessions, ContactSession{ContactID: btoi(k), Session: *sess})
		return e.added(1)
	})
}

func (e *exporter) audit(tx *bbolt.Tx) error {
	return eachJSON(tx, bucketAudit, func(k []byte, a *AuditEntry) error {
		a.ID = btoi(k)
		e.r.Audit = append(e.r.Audit, *a)
		return e.added(1)
	})
}

// handled reads handledKey back: a number is stored as 8 big-endian bytes,
// any other ID as its text. Eight bytes that are not text (not UTF-8, or
// holding a control character) are a number: one below 2^56 starts with a
// zero byte, and a larger one (a number-only message ID of a platform)
// almost always holds a byte no text has; copied as text it would not be
// the same ID, and PostgreSQL refuses a zero byte in text.
func (e *exporter) handled(tx *bbolt.Tx) error {
	return each(tx, bucketHandled, nil, func(k, v []byte) error {
		i := bytes.IndexByte(k, 0)
		if i < 0 || len(v) != 8 {
			return fmt.Errorf("not a handled update")
		}
		id := string(k[i+1:])
		if rest := k[i+1:]; len(rest) == 8 && !isText(rest) {
			id = fmt.Sprint(btoi(rest))
		}
		e.r.Handled = append(e.r.Handled, HandledUpdate{Channel: bot.ChannelName(k[:i]), ID: id, At: time.Unix(int64(btoi(v)), 0).UTC()})
		return e.added(1)
	})
}

// isText reports whether b is UTF-8 text without control characters, as
// the text of an update's ID is.
func isText(b []byte) bool {
	return utf8.Valid(b) && !bytes.ContainsFunc(b, unicode.IsControl)
}

func (e *exporter) broadcasts(tx *bbolt.Tx) error {
	return eachJSON(tx, bucketBroadcasts, func(k []byte, b *Broadcast) error {
		b.ID = btoi(k)
		e.r.Broadcasts = append(e.r.Broadcasts, *b)
		return e.added(1)
	})
}

// outbox reads the entries in ID order, through outbox_ids, which also
// says which broadcast each counts for.
func (e *exporter) outbox(tx *bbolt.Tx) error {
	outbox, resolve := tx.Bucket(bucketOutbox), broadcastTexts(tx)
	return each(tx, bucketOutboxIDs, nil, func(k, v []byte) error {
		if len(v) < 8 {
			return fmt.Errorf("not an outbox index entry")
		}
		key := v[8:]
		raw := outbox.Get(key)
		if raw == nil {
			return fmt.Errorf("outbox entry %d is indexed but missing", btoi(k))
		}
		var q QueuedEntry
		if err := decodeEntry(raw, &q.OutboxEntry, resolve); err != nil {
			return err
		}
		q.ID = btoi(k)
		if len(key) >= 10 {
			q.Parked = key[len(key)-9] == laneParked
		}
		q.Counts = btoi(v[:8]) != 0
		e.r.Outbox = append(e.r.Outbox, q)
		return e.added(1)
	})
}

func (e *exporter) outboxSent(tx *bbolt.Tx) error {
	return each(tx, bucketOutboxSent, nil, func(k, v []byte) error {
		i := bytes.IndexByte(k, 0)
		if i < 0 || len(k) != i+9 || len(v) != 8 {
			return fmt.Errorf("not a count of messages sent")
		}
		e.r.OutboxSent = append(e.r.OutboxSent, SentMinute{Channel: bot.ChannelName(k[:i]),
			Minute: time.Unix(int64(btoi(k[i+1:])), 0).UTC(), N: int(btoi(v))})
		return e.added(1)
	})
}

func (e *exporter) reminders(tx *bbolt.Tx) error {
	return eachJSON(tx, bucketReminders, func(k []byte, r *Reminder) error {
		r.ID = btoi(k)
		e.r.Reminders = append(e.r.Reminders, *r)
		return e.added(1)
	})
}

func (e *exporter) bulkSends(tx *bbolt.Tx) error {
	return eachJSON(tx, bucketBulkSends, func(_ []byte, b *BulkSend) error {
		e.r.BulkSends = append(e.r.BulkSends, *b)
		return e.added(1)
	})
}

// linkCodes reads the codes of /link, the pending links and the marks
// kept under address marks.
func (e *exporter) linkCodes(tx *bbolt.Tx) error {
	return each(tx, bucketLinkCodes, nil, func(k, v []byte) error {
		kind, rest := string(k[:min(2, len(k))]), k[min(2, len(k)):]
		switch kind {
		case "c:":
			var lc linkCode
			if err := json.Unmarshal(v, &lc); err != nil {
				return err
			}
			e.r.LinkCodes = append(e.r.LinkCodes, LinkCode{Code: string(rest), ContactID: lc.ContactID, Expires: lc.Expires})
		case "l:":
			var pl PendingLink
			if err := json.Unmarshal(v, &pl); err != nil {
				return err
			}
			e.r.PendingLinks = append(e.r.PendingLinks, TokenPendingLink{Token: string(rest), PendingLink: pl})
		case "g:":
			var times []int64
			if err := json.Unmarshal(v, &times); err != nil {
				return err
			}
			e.r.LinkFailures = append(e.r.LinkFailures, MarkTimes{Mark: bytes.Clone(rest), Times: times})
		case "r:":
			e.r.Referrals = append(e.r.Referrals, bytes.Clone(rest))
		default: // "p:": the index of the codes, written again with them
			return nil
		}
		return e.added(1)
	})
}

func (e *exporter) dashboard(tx *bbolt.Tx) error {
	return each(tx, bucketDashboard, nil, func(k, v []byte) error {
		hash := bytes.Clone(k[min(2, len(k)):])
		switch string(k[:min(2, len(k))]) {
		case "t:":
			var t LoginToken
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			e.r.LoginTokens = append(e.r.LoginTokens, HashLoginToken{Hash: hash, LoginToken: t})
		case "s:":
			var ws WebSession
			if err := json.Unmarshal(v, &ws); err != nil {
				return err
			}
			e.r.WebSessions = append(e.r.WebSessions, HashWebSession{Hash: hash, WebSession: ws})
		default:
			return fmt.Errorf("not a sign-in")
		}
		return e.added(1)
	})
}

// polls reads the polls, their counters and whose follow-up is off.
func (e *exporter) polls(tx *bbolt.Tx) error {
	err := eachJSON(tx, bucketPolls, func(k []byte, p *Poll) error {
		p.ID = btoi(k)
		e.r.Polls = append(e.r.Polls, *p)
		return e.added(1)
	})
	if err != nil {
		return err
	}
	if err := e.flush(); err != nil {
		return err
	}
	err = eachJSON(tx, bucketPollCounts, func(k []byte, c *PollCounts) error {
		e.r.PollCounts = append(e.r.PollCounts, PollCountsOf{PollID: btoi(k), PollCounts: *c})
		return e.added(1)
	})
	if err != nil {
		return err
	}
	return each(tx, bucketPollIndex, []byte{'o'}, func(k, _ []byte) error {
		e.r.NoFollowUp = append(e.r.NoFollowUp, btoi(k[1:]))
		return e.added(1)
	})
}

// pollAnswers reads the answers, anonymous ones with no ContactID, and
// whom each poll was queued for.
func (e *exporter) pollAnswers(tx *bbolt.Tx) error {
	err := eachJSON(tx, bucketPollAnswers, func(k []byte, a *PollAnswer) error {
		if len(k) != 17 {
			return fmt.Errorf("not a poll answer")
		}
		a.PollID, a.Option, a.ContactID = btoi(k[:8]), int(k[8]), 0
		if id := btoi(k[9:]); isContactID(id) {
			a.ContactID = id
		}
		e.r.PollAnswers = append(e.r.PollAnswers, *a)
		return e.added(1)
	})
	if err != nil {
		return err
	}
	if err := e.flush(); err != nil {
		return err
	}
	return each(tx, bucketPollAsked, nil, func(k, v []byte) error {
		if len(k) != 16 || len(v) != 8 {
			return fmt.Errorf("not a mark of a poll asked")
		}
		e.r.PollAsked = append(e.r.PollAsked, PollAsk{PollID: btoi(k[:8]), ContactID: btoi(k[8:]), At: time.Unix(int64(btoi(v)), 0).UTC()})
		return e.added(1)
	})
}

// verify reads the codes of genuine calls, the latest of each broadcast
// and reminder, and the wrong codes asked about.
func (e *exporter) verify(tx *bbolt.Tx) error {
	if err := eachPrefix(tx, bucketVerify, "c:", func(_ []byte, v []byte) error {
		var c Call
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		e.r.Calls = append(e.r.Calls, c)
		return e.added(1)
	}); err != nil {
		return err
	}
	if err := e.flush(); err != nil {
		return err
	}
	return each(tx, bucketVerify, nil, func(k, v []byte) error {
		kind, rest := string(k[:min(2, len(k))]), k[min(2, len(k)):]
		switch kind {
		case "r:":
			i := bytes.IndexByte(rest, 0)
			if i < 0 || len(rest) != i+9 {
				return fmt.Errorf("not the latest code of a call")
			}
			e.r.LatestCalls = append(e.r.LatestCalls, LatestCall{Kind: string(rest[:i]), RefID: btoi(rest[i+1:]), Code: string(v)})
		case "g:":
			var times []int64
			if err := json.Unmarshal(v, &times); err != nil {
				return err
			}
			e.r.VerifyFailures = append(e.r.VerifyFailures, MarkTimes{Mark: bytes.Clone(rest), Times: times})
		default: // "c:", read above
			return nil
		}
		return e.added(1)
	})
}

// eachPrefix is each for a text prefix, giving the key without it.
func eachPrefix(tx *bbolt.Tx, bucket []byte, prefix string, fn func(rest, v []byte) error) error {
	return each(tx, bucket, []byte(prefix), func(k, v []byte) error { return fn(k[len(prefix):], v) })
}

func (e *exporter) uploads(tx *bbolt.Tx) error {
	return each(tx, bucketMediaUploads, nil, func(k, v []byte) error {
		i := bytes.IndexByte(k, 0)
		if i < 0 {
			return fmt.Errorf("not an upload")
		}
		var u uploadRecord
		if err := json.Unmarshal(v, &u); err != nil {
			return err
		}
		e.r.Uploads = append(e.r.Uploads, AccountUpload{Account: string(k[:i]), SHA: string(k[i+1:]),
			Upload: bot.Upload{Ref: u.Ref, At: u.At, Expires: u.Expires}})
		return e.added(1)
	})
}

// CopyKinds are the names Records.Counts gives, in the order Export reads them.
func CopyKinds() []string {
	kinds := []string{"settings", "institutions", "contacts", "addresses", "ref_aliases", "aliases",
		"campaigns", "campaign_counts", "pledges", "forgotten_pledges", "signups", "watchers", "supporters",
		"sessions", "audit", "handled", "broadcasts", "outbox", "outbox_sent", "reminders", "bulk_sends",
		"link_codes", "pending_links", "link_failures", "referral_credits", "login_tokens", "web_sessions",
		"polls", "poll_counts", "poll_answers", "forgotten_poll_answers", "poll_asked", "poll_no_follow_up",
		"calls", "latest_calls", "verify_failures", "media_uploads"}
	return slices.Clip(kinds)
}
