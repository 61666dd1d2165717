package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// Polls, as in the bbolt store. A poll's record is the Poll as JSON; the
// columns by_broadcast and attendance_of are its index, set when it is
// created: the broadcast that carries a question (the newest poll
// indexed under a broadcast is its poll) and the campaign whose question
// after its event it is (one per campaign, polls_attendance_key).
// poll_counts holds the running totals, moved in the transaction of every
// answer: its row's lock orders a poll's answers, so each sees the exact
// counts it made. An answer is one row per person per poll
// (poll_answers_pkey), its details in columns for the results and the
// audience of an option. ForgetContact moves a person's answers to
// forgotten_poll_answers (migration 25), which keeps only what the counts
// and the institutions' shares need: an option's audience never reads it,
// and the results count it under "" for every detail.

// pollAnswersPage is how many answers PollAnswers reads at a time.
const pollAnswersPage = 1000

// CreatePoll stores a new poll with zero counts, setting p.ID, and indexes
// it under its broadcast or, for an attendance poll, its campaign: a
// campaign has one, and a second gives store.ErrPollExists (the
// constraint polls_attendance_key decides between concurrent creators).
func (s *Store) CreatePoll(ctx context.Context, p *store.Poll) error {
	rec := *p
	if n := len(rec.Options); n < 2 || n > store.MaxPollOptions {
		return fmt.Errorf("creating poll: %d options", n)
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.stamp()
	}
	var (
		byBroadcast  uint64
		attendanceOf *uint64
	)
	switch {
	case rec.Kind == store.PollAttendance:
		attendanceOf = &rec.CampaignID
	case rec.BroadcastID != 0:
		byBroadcast = rec.BroadcastID
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		if attendanceOf != nil {
			// checked first so that, in a caller's transaction, a second
			// poll does not abort it; the constraint still decides a race
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM polls WHERE attendance_of = $1)`, *attendanceOf).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return store.ErrPollExists
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO polls (by_broadcast, attendance_of, record) VALUES ($1, $2, '{}') RETURNING id`,
			byBroadcast, attendanceOf).Scan(&rec.ID)
		if isUnique(err, "polls_attendance_key") {
			return store.ErrPollExists
		}
		if err != nil {
			return err
		}
		if err := putPoll(ctx, tx, &rec); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO poll_counts (poll_id, options) VALUES ($1, $2)`, rec.ID, make([]int32, len(rec.Options)))
		return err
	})
	if err != nil {
		return fmt.Errorf("creating poll: %w", err)
	}
	*p = rec
	return nil
}

// putPoll writes p's record.
func putPoll(ctx context.Context, tx pgx.Tx, p *store.Poll) error {
	rec, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding poll %d: %w", p.ID, err)
	}
	_, err = tx.Exec(ctx, `UPDATE polls SET record = $2 WHERE id = $1`, p.ID, rec)
	return err
}

// scanPoll reads one row of (id, record), or ErrNotFound.
func scanPoll(row pgx.Row) (*store.Poll, error) {
	return scanRecord(row, "poll", func(p *store.Poll, id uint64) { p.ID = id })
}

// listPolls reads the polls sql selects as (id, record).
func (s *Store) listPolls(ctx context.Context, sql string, args ...any) ([]store.Poll, error) {
	rows, err := s.q(ctx).Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	var out []store.Poll
	for rows.Next() {
		p, err := scanPoll(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

// Poll returns the poll with the given ID, or ErrNotFound.
func (s *Store) Poll(ctx context.Context, id uint64) (*store.Poll, error) {
	p, err := scanPoll(s.q(ctx).QueryRow(ctx, `SELECT id, record FROM polls WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("poll %d: %w", id, err)
	}
	return p, nil
}

// Polls returns every poll in ID order.
func (s *Store) Polls(ctx context.Context) ([]store.Poll, error) {
	out, err := s.listPolls(ctx, `SELECT id, record FROM polls ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("listing polls: %w", err)
	}
	return out, nil
}

// RecentPolls returns the newest n polls, newest first.
func (s *Store) RecentPolls(ctx context.Context, n int) ([]store.Poll, error) {
	if n <= 0 {
		return nil, nil
	}
	out, err := s.listPolls(ctx, `SELECT id, record FROM polls ORDER BY id DESC LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("listing recent polls: %w", err)
	}
	return out, nil
}

// PollOfBroadcast returns the poll the broadcast carries, or ErrNotFound.
func (s *Store) PollOfBroadcast(ctx context.Context, broadcastID uint64) (*store.Poll, error) {
	p, err := scanPoll(s.q(ctx).QueryRow(ctx, `SELECT id, record FROM polls WHERE by_broadcast = $1 AND by_broadcast <> 0
		ORDER BY id DESC LIMIT 1`, broadcastID))
	if err != nil {
		return nil, fmt.Errorf("poll of broadcast %d: %w", broadcastID, err)
	}
	return p, nil
}

// AttendancePoll returns the campaign's question after its event, or ErrNotFound.
func (s *Store) AttendancePoll(ctx context.Context, campaignID uint64) (*store.Poll, error) {
	p, err := scanPoll(s.q(ctx).QueryRow(ctx, `SELECT id, record FROM polls WHERE attendance_of = $1`, campaignID))
	if err != nil {
		return nil, fmt.Errorf("attendance poll of campaign %d: %w", campaignID, err)
	}
	return p, nil
}

// UpdatePoll reads the poll, lets fn change it and writes it back, in one
// transaction holding the poll's row lock; if fn returns an error nothing
// is written. fn cannot change the ID or the options, which the answers
// depend on; the poll stays indexed where it was created.
func (s *Store) UpdatePoll(ctx context.Context, id uint64, fn func(*store.Poll) error) (*store.Poll, error) {
	var out *store.Poll
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = nil
		p, err := scanPoll(tx.QueryRow(ctx, `SELECT id, record FROM polls WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		options := slices.Clone(p.Options)
		if err := fn(p); err != nil {
			return err
		}
		p.ID, p.Options = id, options
		if err := putPoll(ctx, tx, p); err != nil {
			return err
		}
		out = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("updating poll %d: %w", id, err)
	}
	return out, nil
}

// SetFollowUp switches a campaign's question after its event on or off.
func (s *Store) SetFollowUp(ctx context.Context, campaignID uint64, on bool) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		var found bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1)`, campaignID).Scan(&found); err != nil {
			return err
		}
		if !found {
			return store.ErrCampaignNotFound
		}
		var err error
		if on {
			_, err = tx.Exec(ctx, `DELETE FROM poll_no_follow_up WHERE campaign_id = $1`, campaignID)
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO poll_no_follow_up (campaign_id) VALUES ($1) ON CONFLICT DO NOTHING`, campaignID)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("follow-up of campaign %d: %w", campaignID, err)
	}
	return nil
}

// FollowUp reports whether a campaign's people are asked after its event
// whether they came: on unless switched off.
func (s *Store) FollowUp(ctx context.Context, campaignID uint64) (bool, error) {
	var off bool
	if err := s.q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM poll_no_follow_up WHERE campaign_id = $1)`, campaignID).Scan(&off); err != nil {
		return false, fmt.Errorf("follow-up of campaign %d: %w", campaignID, err)
	}
	return !off, nil
}

// MarkAsked records that the poll was queued for each contact at at (to
// the second, as in the bbolt store), raising Asked by the contacts not
// recorded before, in one transaction holding the counts' row lock.
func (s *Store) MarkAsked(ctx context.Context, pollID uint64, contactIDs []uint64, at time.Time) error {
	stamp := time.Unix(at.Unix(), 0).UTC()
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := lockPollCounts(ctx, tx, pollID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO poll_asked (poll_id, contact_id, at) SELECT $1, id, $3 FROM unnest($2::bigint[]) AS id
			ON CONFLICT (poll_id, contact_id) DO NOTHING`, pollID, contactIDs, stamp)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE poll_counts SET asked = asked + $2 WHERE poll_id = $1`, pollID, tag.RowsAffected())
		return err
	})
	if err != nil {
		return fmt.Errorf("marking poll %d asked: %w", pollID, err)
	}
	return nil
}

// Asked returns when the poll was queued for the contact; ok is false if it never was.
func (s *Store) Asked(ctx context.Context, pollID, contactID uint64) (at time.Time, ok bool, err error) {
	err = s.q(ctx).QueryRow(ctx, `SELECT at FROM poll_asked WHERE poll_id = $1 AND contact_id = $2`, pollID, contactID).Scan(&at)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("asked of poll %d: %w", pollID, err)
	}
	return at.UTC(), true, nil
}

// lockPollCounts reads a poll's counts and locks their row until the
// transaction ends.
func lockPollCounts(ctx context.Context, tx pgx.Tx, pollID uint64) (store.PollCounts, error) {
	return readPollCounts(ctx, tx, pollID, " FOR UPDATE")
}

func readPollCounts(ctx context.Context, q querier, pollID uint64, lock string) (store.PollCounts, error) {
	var (
		c       store.PollCounts
		options []int32
	)
	err := q.QueryRow(ctx, `SELECT asked, options FROM poll_counts WHERE poll_id = $1`+lock, pollID).Scan(&c.Asked, &options)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.PollCounts{}, fmt.Errorf("counts of poll %d: %w", pollID, err)
	}
	c.Options = make([]int, len(options))
	for i, n := range options {
		c.Options[i] = int(n)
	}
	return c, nil
}

// AnswerPoll records a.ContactID's answer, replacing the one they gave
// before, and keeps the poll's counts in the same transaction, as
// store.Store.AnswerPoll does. A zero a.At becomes now. Errors:
// ErrNotFound for an unknown poll or contact, store.ErrNoSuchOption.
// Whether the poll is open is the caller's rule. The counts' row lock,
// taken before the person's previous answer is read, orders the answers
// to one poll, so a person answering twice at once changes the counts
// once per answer and ends with one answer.
func (s *Store) AnswerPoll(ctx context.Context, a store.PollAnswer) (store.PollAnswered, error) {
	if a.ContactID == 0 || a.ContactID&(1<<63) != 0 {
		return store.PollAnswered{}, fmt.Errorf("answering poll %d: bad contact %d", a.PollID, a.ContactID)
	}
	if a.At.IsZero() {
		a.At = s.stamp()
	}
	a.At = a.At.UTC()
	out := store.PollAnswered{Previous: -1}
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = store.PollAnswered{Previous: -1}
		p, err := scanPoll(tx.QueryRow(ctx, `SELECT id, record FROM polls WHERE id = $1`, a.PollID))
		if err != nil {
			return err
		}
		if a.Option < 0 || a.Option >= len(p.Options) {
			return fmt.Errorf("option %d of %d: %w", a.Option+1, len(p.Options), store.ErrNoSuchOption)
		}
		// the key-share lock holds the contact until the answer commits, so
		// ForgetContact, which locks the row first, cannot miss the answer
		var known int64
		switch err := tx.QueryRow(ctx, `SELECT id FROM contacts WHERE id = $1 FOR KEY SHARE`, a.ContactID).Scan(&known); {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("contact %d: %w", a.ContactID, store.ErrNotFound)
		case err != nil:
			return err
		}
		counts, err := lockPollCounts(ctx, tx, a.PollID)
		if err != nil {
			return err
		}
		var prev int16
		switch err := tx.QueryRow(ctx, `SELECT option FROM poll_answers WHERE poll_id = $1 AND contact_id = $2`, a.PollID, a.ContactID).Scan(&prev); {
		case err == nil:
			out.Previous = int(prev)
			counts.Options[prev]--
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		rec, err := json.Marshal(&a)
		if err != nil {
			return fmt.Errorf("encoding an answer: %w", err)
		}
		campaigns := make([]int64, 0, len(a.Campaigns))
		for _, c := range a.Campaigns {
			campaigns = append(campaigns, int64(c))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO poll_answers (poll_id, contact_id, option, governorate, lang, channel, campaigns, answer)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (poll_id, contact_id) DO UPDATE SET option = EXCLUDED.option, governorate = EXCLUDED.governorate,
				lang = EXCLUDED.lang, channel = EXCLUDED.channel, campaigns = EXCLUDED.campaigns, answer = EXCLUDED.answer`,
			a.PollID, a.ContactID, a.Option, a.Governorate, a.Lang, string(a.Channel), campaigns, rec); err != nil {
			return err
		}
		counts.Options[a.Option]++
		options := make([]int32, len(counts.Options))
		for i, n := range counts.Options {
			options[i] = int32(n)
		}
		if _, err := tx.Exec(ctx, `UPDATE poll_counts SET options = $2 WHERE poll_id = $1`, a.PollID, options); err != nil {
			return err
		}
		out.Counts = counts
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("answer of contact %d to poll %d: %w", a.ContactID, a.PollID, err)
	}
	return out, nil
}

// scanAnswer reads one row of (answer), or ErrNotFound.
func scanAnswer(row pgx.Row) (*store.PollAnswer, error) {
	var rec []byte
	if err := row.Scan(&rec); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, err
	}
	a := &store.PollAnswer{}
	if err := json.Unmarshal(rec, a); err != nil {
		return nil, fmt.Errorf("decoding an answer: %w", err)
	}
	return a, nil
}

// PollAnswerOf returns the contact's answer to the poll, or ErrNotFound.
func (s *Store) PollAnswerOf(ctx context.Context, pollID, contactID uint64) (*store.PollAnswer, error) {
	a, err := scanAnswer(s.q(ctx).QueryRow(ctx, `SELECT answer FROM poll_answers WHERE poll_id = $1 AND contact_id = $2`, pollID, contactID))
	if err != nil {
		return nil, fmt.Errorf("answer of contact %d to poll %d: %w", contactID, pollID, err)
	}
	return a, nil
}

// ContactPollAnswers returns the contact's answers, in poll order.
func (s *Store) ContactPollAnswers(ctx context.Context, contactID uint64) ([]store.PollAnswer, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT answer FROM poll_answers WHERE contact_id = $1 ORDER BY poll_id`, contactID)
	if err != nil {
		return nil, fmt.Errorf("poll answers of contact %d: %w", contactID, err)
	}
	var out []store.PollAnswer
	for rows.Next() {
		a, err := scanAnswer(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("poll answers of contact %d: %w", contactID, err)
		}
		out = append(out, *a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("poll answers of contact %d: %w", contactID, err)
	}
	return out, nil
}

// PollAnswers calls fn for each answer to the poll, by option, anonymous
// ones included, as store.Store.PollAnswers does: an option's answers by
// contact, then its anonymous ones in the order they were forgotten. It
// stops at fn's first error, which it returns as it is. The answers are
// read a page at a time, and fn runs between the reads.
func (s *Store) PollAnswers(ctx context.Context, pollID uint64, fn func(*store.PollAnswer) error) error {
	var options int
	switch err := s.q(ctx).QueryRow(ctx, `SELECT cardinality(options) FROM poll_counts WHERE poll_id = $1`, pollID).Scan(&options); {
	case errors.Is(err, pgx.ErrNoRows):
		return nil // no such poll: no answers, as in the bbolt store
	case err != nil:
		return fmt.Errorf("answers to poll %d: %w", pollID, err)
	}
	for option := range options {
		for _, named := range []bool{true, false} {
			if err := s.pollAnswersOf(ctx, pollID, option, named, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// pollAnswersOf calls fn for each answer to one option of the poll, the
// people's by contact (named) or the anonymous ones by when they were
// forgotten, a page at a time.
func (s *Store) pollAnswersOf(ctx context.Context, pollID uint64, option int, named bool, fn func(*store.PollAnswer) error) error {
	var (
		after       int64
		rec         []byte
		at          time.Time
		institution uint64
	)
	sql, dest := `SELECT contact_id, answer FROM poll_answers WHERE poll_id = $1 AND option = $2 AND contact_id > $3
		ORDER BY contact_id LIMIT $4`, []any{&after, &rec}
	if !named {
		sql, dest = `SELECT id, at, institution FROM forgotten_poll_answers WHERE poll_id = $1 AND option = $2 AND id > $3
			ORDER BY id LIMIT $4`, []any{&after, &at, &institution}
	}
	for {
		var page []*store.PollAnswer
		rows, err := s.q(ctx).Query(ctx, sql, pollID, option, after, pollAnswersPage)
		if err != nil {
			return fmt.Errorf("answers to poll %d: %w", pollID, err)
		}
		_, err = pgx.ForEachRow(rows, dest, func() error {
			if !named {
				page = append(page, &store.PollAnswer{PollID: pollID, Option: option, At: at.UTC(), Institution: institution})
				return nil
			}
			a := &store.PollAnswer{}
			if err := json.Unmarshal(rec, a); err != nil {
				return fmt.Errorf("decoding the answer of contact %d: %w", after, err)
			}
			page = append(page, a)
			return nil
		})
		if err != nil {
			return fmt.Errorf("answers to poll %d: %w", pollID, err)
		}
		for _, a := range page {
			if err := fn(a); err != nil {
				return err
			}
		}
		if len(page) < pollAnswersPage {
			return nil
		}
	}
}

// forgetPollAnswers makes the answers of a contact ForgetContact erases
// anonymous, inside tx, as the bbolt store does: each moves to
// forgotten_poll_answers with its option, time and institution credited,
// so the counts, which do not move, stay exact; the marks that they were
// asked are deleted. The contact IDs merged into them (aliases) are theirs
// too, and whatever was left under those goes the same way.
func forgetPollAnswers(ctx context.Context, tx pgx.Tx, contactID uint64) error {
	const theirs = `SELECT $1::bigint UNION ALL SELECT id FROM aliases WHERE contact_id = $1`
	if _, err := tx.Exec(ctx, `WITH gone AS (DELETE FROM poll_answers WHERE contact_id IN (`+theirs+`)
			RETURNING poll_id, option, contact_id, answer)
		INSERT INTO forgotten_poll_answers (poll_id, option, at, institution)
		SELECT poll_id, option, (answer->>'at')::timestamptz, coalesce((answer->>'institution')::bigint, 0)
		FROM gone ORDER BY poll_id, contact_id`, int64(contactID)); err != nil {
		return fmt.Errorf("forgetting the poll answers of contact %d: %w", contactID, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM poll_asked WHERE contact_id IN (`+theirs+`)`, int64(contactID)); err != nil {
		return fmt.Errorf("forgetting whom polls asked, contact %d: %w", contactID, err)
	}
	return nil
}

// PollCounts returns the poll's totals, or ErrNotFound.
func (s *Store) PollCounts(ctx context.Context, pollID uint64) (store.PollCounts, error) {
	return readPollCounts(ctx, s.q(ctx), pollID, "")
}

// PollResults counts the poll's answers by governorate, language, channel
// and campaign, with its counts, from one snapshot: each Tally maps a value
// to the answers per option. The database groups the answers; an answer
// with no campaigns counts under "", and an anonymous one under "" in
// every Tally.
func (s *Store) PollResults(ctx context.Context, pollID uint64) (store.PollResults, error) {
	var r store.PollResults
	err := s.consistentRead(ctx, func(q querier) error {
		r = store.PollResults{ByGovernorate: store.Tally{}, ByLang: store.Tally{}, ByChannel: store.Tally{}, ByCampaign: store.Tally{}}
		var err error
		if r.Counts, err = readPollCounts(ctx, q, pollID, ""); err != nil {
			return err
		}
		n := len(r.Counts.Options)
		rows, err := q.Query(ctx, `
			SELECT 'g', governorate, option, count(*) FROM poll_answers WHERE poll_id = $1 GROUP BY governorate, option
			UNION ALL SELECT 'l', lang, option, count(*) FROM poll_answers WHERE poll_id = $1 GROUP BY lang, option
			UNION ALL SELECT 'h', channel, option, count(*) FROM poll_answers WHERE poll_id = $1 GROUP BY channel, option
			UNION ALL SELECT 'c', coalesce(c::text, ''), option, count(*) FROM poll_answers LEFT JOIN LATERAL unnest(campaigns) AS c ON true
				WHERE poll_id = $1 GROUP BY 2, option
			UNION ALL SELECT by, '', option, count(*) FROM forgotten_poll_answers CROSS JOIN (VALUES ('g'), ('l'), ('h'), ('c')) AS d (by)
				WHERE poll_id = $1 GROUP BY by, option`, pollID)
		if err != nil {
			return err
		}
		tallies := map[string]store.Tally{"g": r.ByGovernorate, "l": r.ByLang, "h": r.ByChannel, "c": r.ByCampaign}
		var (
			by, key string
			option  int16
			count   int
		)
		_, err = pgx.ForEachRow(rows, []any{&by, &key, &option, &count}, func() error {
			if int(option) >= n {
				return nil
			}
			t := tallies[by]
			if t[key] == nil {
				t[key] = make([]int, n)
			}
			t[key][option] += count
			return nil
		})
		return err
	})
	if err != nil {
		return store.PollResults{}, fmt.Errorf("results of poll %d: %w", pollID, err)
	}
	return r, nil
}

// consistentRead runs fn on the transaction ctx carries, or in a read-only
// transaction of its own at REPEATABLE READ, so that its reads see one
// moment.
func (s *Store) consistentRead(ctx context.Context, fn func(q querier) error) error {
	if a := s.joined(ctx); a != nil {
		return fn(a.tx)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("beginning a read: %w", err)
	}
	err = fn(tx)
	// a read-only transaction has nothing to commit: its end is a rollback
	if rerr := tx.Rollback(context.WithoutCancel(ctx)); err == nil && rerr != nil {
		err = rerr
	}
	return err
}

// pollAnswerAudience is the condition on contacts, and its arguments
// (numbered from $first), of the people whose answer to aud.PollID is
// aud.Option now; ErrNotFound if there is no such poll.
func pollAnswerAudience(ctx context.Context, q querier, aud store.Audience, first int) (string, []any, error) {
	var found bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM polls WHERE id = $1)`, aud.PollID).Scan(&found); err != nil {
		return "", nil, err
	}
	if !found {
		return "", nil, fmt.Errorf("poll %d: %w", aud.PollID, store.ErrNotFound)
	}
	return ` AND EXISTS (SELECT 1 FROM poll_answers a WHERE a.poll_id = $` + strconv.Itoa(first) +
			` AND a.option = $` + strconv.Itoa(first+1) + ` AND a.contact_id = contacts.id)`,
		[]any{aud.PollID, aud.Option}, nil
}
