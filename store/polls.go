package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"mobilise/bot"

	"go.etcd.io/bbolt"
)

// Buckets of schema version 8: polls, their answers and the codes that
// prove a call genuine (verify.go).
var (
	bucketPolls       = []byte("polls")
	bucketPollIndex   = []byte("poll_index")
	bucketPollAnswers = []byte("poll_answers")
	bucketPollAsked   = []byte("poll_asked")
	bucketPollCounts  = []byte("poll_counts")
)

// Keys of poll_index: what finds a poll from what it belongs to.
const (
	indexBroadcast  = 'b' // ‖ broadcast id : poll id   the poll a broadcast carries
	indexAttendance = 'e' // ‖ campaign id  : poll id   the campaign's question after its event
	indexNoFollowUp = 'o' // ‖ campaign id  : <empty>   the campaign switched that question off
)

// MaxPollOptions bounds the options of a poll: the option travels in one
// byte of an answer's key, and ten is as many as a phone shows as buttons.
const MaxPollOptions = 10

// Errors of polls.
var (
	// ErrPollExists means a campaign has its question after the event already.
	ErrPollExists = errors.New("poll exists")
	// ErrNoSuchOption means an answer names an option the poll does not have.
	ErrNoSuchOption = errors.New("no such option")
)

// PollKind says what a poll asks.
type PollKind string

// The poll kinds.
const (
	// PollQuestion is a coordinator's question to an audience, carried by
	// a broadcast (Poll.BroadcastID) and held to its rules.
	PollQuestion PollKind = "question"
	// PollAttendance asks the people signed up for a campaign's event,
	// after it, whether they came.
	PollAttendance PollKind = "attendance"
)

// PollOption is one answer a poll offers, in Arabic and, optionally, English.
type PollOption struct {
	AR string `json:"ar"`
	EN string `json:"en,omitempty"`
}

// Poll is a question put to an audience with 2 to 10 options. A person has
// one answer, which they may change while the poll is open.
type Poll struct {
	ID         uint64   `json:"id"`
	Kind       PollKind `json:"kind"`
	CampaignID uint64   `json:"campaign_id,omitempty"`
	QuestionAR string   `json:"question_ar"`
	QuestionEN string   `json:"question_en,omitempty"`
	// Options are in the order shown; answers name them by index.
	Options  []PollOption `json:"options"`
	Audience Audience     `json:"audience"`
	// BroadcastID is the broadcast that carries a question poll.
	BroadcastID uint64    `json:"broadcast_id,omitempty"`
	CreatedBy   uint64    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	// ClosesAt ends the answers; zero keeps the poll open until it is closed.
	ClosesAt time.Time `json:"closes_at,omitempty"`
	Closed   bool      `json:"closed,omitempty"`
	ClosedBy uint64    `json:"closed_by,omitempty"`
	ClosedAt time.Time `json:"closed_at,omitempty"`
	// Organiser is who asks, as the people asked read it: the coalition,
	// or the member institutions that organise it (an event's question is
	// its campaign's).
	Organiser Organiser `json:"organiser,omitzero"`
}

// Open reports whether the poll takes answers at now.
func (p *Poll) Open(now time.Time) bool {
	return !p.Closed && (p.ClosesAt.IsZero() || now.Before(p.ClosesAt))
}

// PollAnswer is one person's answer. After the person asks to be forgotten
// it stays as an anonymous answer (no contact, channel, governorate,
// language or campaigns; the institution credited stays), so the counts
// stay right.
type PollAnswer struct {
	PollID    uint64 `json:"poll_id"`
	ContactID uint64 `json:"contact_id,omitempty"`
	// Option is the index of the chosen option.
	Option      int             `json:"option"`
	At          time.Time       `json:"at"`
	Channel     bot.ChannelName `json:"channel,omitempty"`
	Governorate string          `json:"governorate,omitempty"`
	Lang        string          `json:"lang,omitempty"`
	// Campaigns are the campaigns the person had pledged to or signed up
	// for when they answered, so results can be read by campaign.
	Campaigns []uint64 `json:"campaigns,omitempty"`
	// Institution is the organising institution the answer is credited to,
	// as a pledge is; 0 for the coalition.
	Institution uint64 `json:"institution,omitempty"`
}

// PollCounts are a poll's running totals, written in the transaction of
// every answer.
type PollCounts struct {
	// Asked counts the people the poll was queued for.
	Asked int `json:"asked"`
	// Options counts the current answers per option.
	Options []int `json:"options"`
}

// Percent is option i's share of the answers, rounded to the nearest whole
// percent; 0 when nobody has answered.
func (c PollCounts) Percent(i int) int {
	total := c.Answered()
	if total == 0 || i < 0 || i >= len(c.Options) {
		return 0
	}
	return (c.Options[i]*200 + total) / (2 * total)
}

// Answered is how many people answer the poll now.
func (c PollCounts) Answered() int {
	n := 0
	for _, v := range c.Options {
		n += v
	}
	return n
}

// Tally counts answers per option for each value of one detail (a
// governorate key, "ar"/"en", a channel, a campaign ID); "" is unknown.
type Tally map[string][]int

// PollResults break a poll's answers down.
type PollResults struct {
	Counts                                       PollCounts
	ByGovernorate, ByLang, ByChannel, ByCampaign Tally
}

// PollAnswered is what AnswerPoll did.
type PollAnswered struct {
	// Previous is the option the person had chosen before, -1 if none.
	Previous int
	Counts   PollCounts
}

// answerKey is (poll id ‖ option ‖ contact id): a prefix scan of (poll id
// ‖ option) lists the people who chose the option.
func answerKey(pollID uint64, option int, contactID uint64) []byte {
	k := make([]byte, 17)
	copy(k, itob(pollID))
	k[8] = byte(option)
	copy(k[9:], itob(contactID))
	return k
}

// optionPrefix is the prefix of the answers to one option.
func optionPrefix(pollID uint64, option int) []byte {
	return append(itob(pollID), byte(option))
}

func indexKey(kind byte, id uint64) []byte { return append([]byte{kind}, itob(id)...) }

// CreatePoll stores a new poll with zero counts, setting p.ID, and indexes
// it under its broadcast or, for an attendance poll, its campaign: a
// campaign has one, and a second gives ErrPollExists.
func (s *Store) CreatePoll(ctx context.Context, p *Poll) error {
	rec := *p
	if n := len(rec.Options); n < 2 || n > MaxPollOptions {
		return fmt.Errorf("creating poll: %d options", n)
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.stamp()
	}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		index := tx.Bucket(bucketPollIndex)
		var key []byte
		switch {
		case rec.Kind == PollAttendance:
			key = indexKey(indexAttendance, rec.CampaignID)
			if index.Get(key) != nil {
				return ErrPollExists
			}
		case rec.BroadcastID != 0:
			key = indexKey(indexBroadcast, rec.BroadcastID)
		}
		b := tx.Bucket(bucketPolls)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		rec.ID = id
		if err := putJSON(b, itob(id), &rec); err != nil {
			return err
		}
		if key != nil {
			if err := index.Put(key, itob(id)); err != nil {
				return err
			}
		}
		return putJSON(tx.Bucket(bucketPollCounts), itob(id), PollCounts{Options: make([]int, len(rec.Options))})
	})
	if err != nil {
		return fmt.Errorf("creating poll: %w", err)
	}
	*p = rec
	return nil
}

// Poll returns the poll with the given ID, or ErrNotFound.
func (s *Store) Poll(ctx context.Context, id uint64) (*Poll, error) {
	p := &Poll{}
	if err := s.read(ctx, func(tx *bbolt.Tx) error { return getJSON(tx.Bucket(bucketPolls), itob(id), p) }); err != nil {
		return nil, fmt.Errorf("poll %d: %w", id, err)
	}
	return p, nil
}

// Polls returns every poll in ID order.
func (s *Store) Polls(ctx context.Context) ([]Poll, error) {
	var out []Poll
	err := scanJSON(ctx, s, bucketPolls, nil, func(_ []byte, p *Poll) error {
		out = append(out, *p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing polls: %w", err)
	}
	return out, nil
}

// pollBy returns the poll indexed under key, or ErrNotFound.
func (s *Store) pollBy(ctx context.Context, key []byte) (*Poll, error) {
	p := &Poll{}
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		id := tx.Bucket(bucketPollIndex).Get(key)
		if id == nil {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bucketPolls), id, p)
	})
	return p, err
}

// PollOfBroadcast returns the poll the broadcast carries, or ErrNotFound.
func (s *Store) PollOfBroadcast(ctx context.Context, broadcastID uint64) (*Poll, error) {
	p, err := s.pollBy(ctx, indexKey(indexBroadcast, broadcastID))
	if err != nil {
		return nil, fmt.Errorf("poll of broadcast %d: %w", broadcastID, err)
	}
	return p, nil
}

// AttendancePoll returns the campaign's question after its event, or ErrNotFound.
func (s *Store) AttendancePoll(ctx context.Context, campaignID uint64) (*Poll, error) {
	p, err := s.pollBy(ctx, indexKey(indexAttendance, campaignID))
	if err != nil {
		return nil, fmt.Errorf("attendance poll of campaign %d: %w", campaignID, err)
	}
	return p, nil
}

// UpdatePoll reads the poll, lets fn change it and writes it back, in one
// transaction; if fn returns an error nothing is written. fn cannot change
// the ID or the options, which the answers' keys depend on.
func (s *Store) UpdatePoll(ctx context.Context, id uint64, fn func(*Poll) error) (*Poll, error) {
	p := &Poll{}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPolls)
		if err := getJSON(b, itob(id), p); err != nil {
			return err
		}
		options := slices.Clone(p.Options)
		if err := fn(p); err != nil {
			return err
		}
		p.ID, p.Options = id, options
		return putJSON(b, itob(id), p)
	})
	if err != nil {
		return nil, fmt.Errorf("updating poll %d: %w", id, err)
	}
	return p, nil
}

// SetFollowUp switches a campaign's question after its event on or off.
func (s *Store) SetFollowUp(ctx context.Context, campaignID uint64, on bool) error {
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketCampaigns).Get(itob(campaignID)) == nil {
			return ErrCampaignNotFound
		}
		key := indexKey(indexNoFollowUp, campaignID)
		if on {
			return tx.Bucket(bucketPollIndex).Delete(key)
		}
		return tx.Bucket(bucketPollIndex).Put(key, nil)
	})
	if err != nil {
		return fmt.Errorf("follow-up of campaign %d: %w", campaignID, err)
	}
	return nil
}

// FollowUp reports whether a campaign's people are asked after its event
// whether they came: on unless switched off.
func (s *Store) FollowUp(ctx context.Context, campaignID uint64) (bool, error) {
	off := false
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		off = tx.Bucket(bucketPollIndex).Get(indexKey(indexNoFollowUp, campaignID)) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("follow-up of campaign %d: %w", campaignID, err)
	}
	return !off, nil
}

// MarkAsked records that the poll was queued for each contact at at,
// raising Asked by the contacts not recorded before, in one transaction.
func (s *Store) MarkAsked(ctx context.Context, pollID uint64, contactIDs []uint64, at time.Time) error {
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		counts, err := readPollCounts(tx, pollID)
		if err != nil {
			return err
		}
		b := tx.Bucket(bucketPollAsked)
		b.FillPercent = fillPercent
		stamp := itob(uint64(at.Unix()))
		for _, id := range contactIDs {
			key := pairKey(pollID, id)
			if b.Get(key) != nil {
				continue
			}
			if err := b.Put(key, stamp); err != nil {
				return err
			}
			counts.Asked++
		}
		return putJSON(tx.Bucket(bucketPollCounts), itob(pollID), counts)
	})
	if err != nil {
		return fmt.Errorf("marking poll %d asked: %w", pollID, err)
	}
	return nil
}

// Asked returns when the poll was queued for the contact; ok is false if it never was.
func (s *Store) Asked(ctx context.Context, pollID, contactID uint64) (at time.Time, ok bool, err error) {
	err = s.read(ctx, func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketPollAsked).Get(pairKey(pollID, contactID)); v != nil {
			at, ok = time.Unix(int64(btoi(v)), 0).UTC(), true
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("asked of poll %d: %w", pollID, err)
	}
	return at, ok, nil
}

func readPollCounts(tx *bbolt.Tx, pollID uint64) (PollCounts, error) {
	var c PollCounts
	if err := getJSON(tx.Bucket(bucketPollCounts), itob(pollID), &c); err != nil {
		return PollCounts{}, fmt.Errorf("counts of poll %d: %w", pollID, err)
	}
	return c, nil
}

// AnswerPoll records a.ContactID's answer, replacing the one they gave
// before, and keeps the poll's counts in the same transaction. A zero a.At
// becomes now. Errors: ErrNotFound for an unknown poll or contact,
// ErrNoSuchOption. Whether the poll is open is the caller's rule.
func (s *Store) AnswerPoll(ctx context.Context, a PollAnswer) (PollAnswered, error) {
	if !isContactID(a.ContactID) {
		return PollAnswered{}, fmt.Errorf("answering poll %d: bad contact %d", a.PollID, a.ContactID)
	}
	if a.At.IsZero() {
		a.At = s.stamp()
	}
	a.At = a.At.UTC()
	out := PollAnswered{Previous: -1}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		out = PollAnswered{Previous: -1}
		p := &Poll{}
		if err := getJSON(tx.Bucket(bucketPolls), itob(a.PollID), p); err != nil {
			return err
		}
		if a.Option < 0 || a.Option >= len(p.Options) {
			return fmt.Errorf("option %d of %d: %w", a.Option+1, len(p.Options), ErrNoSuchOption)
		}
		if tx.Bucket(bucketContacts).Get(itob(a.ContactID)) == nil {
			return fmt.Errorf("contact %d: %w", a.ContactID, ErrNotFound)
		}
		counts, err := readPollCounts(tx, a.PollID)
		if err != nil {
			return err
		}
		answers := tx.Bucket(bucketPollAnswers)
		if prev := previousOption(answers, a.PollID, len(p.Options), a.ContactID); prev >= 0 {
			out.Previous = prev
			if err := answers.Delete(answerKey(a.PollID, prev, a.ContactID)); err != nil {
				return err
			}
			counts.Options[prev]--
		}
		if err := putJSON(answers, answerKey(a.PollID, a.Option, a.ContactID), &a); err != nil {
			return err
		}
		counts.Options[a.Option]++
		out.Counts = counts
		return putJSON(tx.Bucket(bucketPollCounts), itob(a.PollID), counts)
	})
	if err != nil {
		return out, fmt.Errorf("answer of contact %d to poll %d: %w", a.ContactID, a.PollID, err)
	}
	return out, nil
}

// previousOption finds the option a contact chose in a poll of n options, -1 if none.
func previousOption(answers *bbolt.Bucket, pollID uint64, n int, contactID uint64) int {
	for o := range n {
		if answers.Get(answerKey(pollID, o, contactID)) != nil {
			return o
		}
	}
	return -1
}

// PollAnswerOf returns the contact's answer to the poll, or ErrNotFound.
func (s *Store) PollAnswerOf(ctx context.Context, pollID, contactID uint64) (*PollAnswer, error) {
	a := &PollAnswer{}
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		for o := range MaxPollOptions {
			if v := tx.Bucket(bucketPollAnswers).Get(answerKey(pollID, o, contactID)); v != nil {
				return json.Unmarshal(v, a)
			}
		}
		return ErrNotFound
	})
	if err != nil {
		return nil, fmt.Errorf("answer of contact %d to poll %d: %w", contactID, pollID, err)
	}
	return a, nil
}

// PollCounts returns the poll's totals, or ErrNotFound.
func (s *Store) PollCounts(ctx context.Context, pollID uint64) (PollCounts, error) {
	var c PollCounts
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		c, err = readPollCounts(tx, pollID)
		return err
	})
	return c, err
}

// PollResults counts the poll's answers by governorate, language, channel
// and campaign, in one read transaction: each Tally maps a value to the
// answers per option. Anonymous answers count under "".
func (s *Store) PollResults(ctx context.Context, pollID uint64) (PollResults, error) {
	r := PollResults{ByGovernorate: Tally{}, ByLang: Tally{}, ByChannel: Tally{}, ByCampaign: Tally{}}
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		if r.Counts, err = readPollCounts(tx, pollID); err != nil {
			return err
		}
		n := len(r.Counts.Options)
		add := func(t Tally, key string, option int) {
			if t[key] == nil {
				t[key] = make([]int, n)
			}
			t[key][option]++
		}
		return forEachPrefix(tx.Bucket(bucketPollAnswers), itob(pollID), func(a *PollAnswer) {
			if a.Option < 0 || a.Option >= n {
				return
			}
			add(r.ByGovernorate, a.Governorate, a.Option)
			add(r.ByLang, a.Lang, a.Option)
			add(r.ByChannel, string(a.Channel), a.Option)
			if len(a.Campaigns) == 0 {
				add(r.ByCampaign, "", a.Option)
			}
			for _, c := range a.Campaigns {
				add(r.ByCampaign, strconv.FormatUint(c, 10), a.Option)
			}
		})
	})
	if err != nil {
		return PollResults{}, fmt.Errorf("results of poll %d: %w", pollID, err)
	}
	return r, nil
}

// PollAnswers calls fn for each answer to the poll, by option, anonymous
// ones included, stopping at fn's first error, which it returns as it is.
// Like Pledges, fn runs outside any transaction.
func (s *Store) PollAnswers(ctx context.Context, pollID uint64, fn func(*PollAnswer) error) error {
	return scanJSON(ctx, s, bucketPollAnswers, itob(pollID), func(_ []byte, a *PollAnswer) error { return fn(a) })
}

// forEachAnswerer calls fn with the contact ID of each person whose answer
// to the poll is option, inside tx; ErrNotFound if there is no such poll.
func forEachAnswerer(tx *bbolt.Tx, pollID uint64, option int, fn func(contactKey []byte) error) error {
	if tx.Bucket(bucketPolls).Get(itob(pollID)) == nil {
		return fmt.Errorf("poll %d: %w", pollID, ErrNotFound)
	}
	prefix := optionPrefix(pollID, option)
	c := tx.Bucket(bucketPollAnswers).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) != 17 || !isContactID(btoi(k[9:])) {
			continue // anonymous
		}
		if err := fn(k[9:]); err != nil {
			return err
		}
	}
	return nil
}

// forEachPoll calls fn with every poll's ID and number of options, inside tx.
func forEachPoll(tx *bbolt.Tx, fn func(id uint64, options int) error) error {
	return tx.Bucket(bucketPolls).ForEach(func(k, v []byte) error {
		var p struct {
			Options []json.RawMessage `json:"options"`
		}
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("decoding poll %d: %w", btoi(k), err)
		}
		return fn(btoi(k), len(p.Options))
	})
}

// forgetPollAnswers makes a forgotten contact's answers anonymous (the
// option and time stay, so counts stay right) and forgets that they were
// asked, inside tx.
func forgetPollAnswers(tx *bbolt.Tx, contactID uint64) error {
	answers, asked := tx.Bucket(bucketPollAnswers), tx.Bucket(bucketPollAsked)
	return forEachPoll(tx, func(pid uint64, n int) error {
		if err := asked.Delete(pairKey(pid, contactID)); err != nil {
			return err
		}
		o := previousOption(answers, pid, n, contactID)
		if o < 0 {
			return nil
		}
		key := answerKey(pid, o, contactID)
		var a PollAnswer
		if err := getJSON(answers, key, &a); err != nil {
			return err
		}
		seq, err := answers.NextSequence()
		if err != nil {
			return err
		}
		// the institution credited stays: it is no one's personal data, and keeps shares exact
		if err := putJSON(answers, answerKey(pid, o, anonBit|seq), PollAnswer{PollID: pid, Option: o, At: a.At, Institution: a.Institution}); err != nil {
			return err
		}
		return answers.Delete(key)
	})
}

// movePollAnswers gives mergeID's answers and asked marks to keepID when
// their accounts merge, inside tx: where both answered a poll, keepID's
// answer stands and the count drops by mergeID's.
func movePollAnswers(tx *bbolt.Tx, keepID, mergeID uint64) error {
	answers, asked := tx.Bucket(bucketPollAnswers), tx.Bucket(bucketPollAsked)
	return forEachPoll(tx, func(pid uint64, n int) error {
		if v := asked.Get(pairKey(pid, mergeID)); v != nil {
			stamp := bytes.Clone(v)
			if err := asked.Delete(pairKey(pid, mergeID)); err != nil {
				return err
			}
			if asked.Get(pairKey(pid, keepID)) == nil {
				if err := asked.Put(pairKey(pid, keepID), stamp); err != nil {
					return err
				}
			} else if err := addPollCounts(tx, pid, func(c *PollCounts) { c.Asked-- }); err != nil {
				return err
			}
		}
		o := previousOption(answers, pid, n, mergeID)
		if o < 0 {
			return nil
		}
		from := answerKey(pid, o, mergeID)
		var a PollAnswer
		if err := getJSON(answers, from, &a); err != nil {
			return err
		}
		if err := answers.Delete(from); err != nil {
			return err
		}
		if previousOption(answers, pid, n, keepID) >= 0 {
			return addPollCounts(tx, pid, func(c *PollCounts) { c.Options[o]-- })
		}
		a.ContactID = keepID
		return putJSON(answers, answerKey(pid, o, keepID), &a)
	})
}

// addPollCounts changes a poll's counts, inside tx.
func addPollCounts(tx *bbolt.Tx, pollID uint64, fn func(*PollCounts)) error {
	c, err := readPollCounts(tx, pollID)
	if err != nil {
		return err
	}
	fn(&c)
	return putJSON(tx.Bucket(bucketPollCounts), itob(pollID), c)
}

// checkPolls reports polls whose counts disagree with their answers.
func checkPolls(tx *bbolt.Tx, report reportFunc) {
	_ = forEachPoll(tx, func(pid uint64, n int) error {
		counts, err := readPollCounts(tx, pid)
		if err != nil {
			report("poll %d: %w", pid, err)
			return nil
		}
		actual := make([]int, n)
		for o := range n {
			actual[o] = countPrefix(tx.Bucket(bucketPollAnswers), optionPrefix(pid, o))
		}
		if !slices.Equal(counts.Options, actual) {
			report("poll %d counts say %v, answers %v", pid, counts.Options, actual)
		}
		return nil
	})
}

// createVersion8 creates the buckets of schema version 8: polls with their
// index, answers, asked marks and counts, and the codes of genuine calls.
func createVersion8(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketPolls, bucketPollIndex, bucketPollAnswers, bucketPollAsked, bucketPollCounts, bucketVerify} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("creating bucket %s: %w", name, err)
		}
	}
	return nil
}

// ContactPollAnswers returns the contact's answers, in poll order.
func (s *Store) ContactPollAnswers(ctx context.Context, contactID uint64) ([]PollAnswer, error) {
	var out []PollAnswer
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		answers := tx.Bucket(bucketPollAnswers)
		return forEachPoll(tx, func(pid uint64, n int) error {
			o := previousOption(answers, pid, n, contactID)
			if o < 0 {
				return nil
			}
			var a PollAnswer
			if err := getJSON(answers, answerKey(pid, o, contactID), &a); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("poll answers of contact %d: %w", contactID, err)
	}
	return out, nil
}

// RecentPolls returns the newest n polls, newest first, in one read.
func (s *Store) RecentPolls(ctx context.Context, n int) ([]Poll, error) {
	var out []Poll
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketPolls).Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			var p Poll
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("decoding poll %d: %w", btoi(k), err)
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing recent polls: %w", err)
	}
	return out, nil
}
