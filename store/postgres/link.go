package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// Schema, migration 16:
//
//	aliases      id PK → contact_id            a contact ID merged away by LinkAddresses, and the contact it
//	                                           stands for now (aliases_contact_idx repoints older aliases)
//	ref_aliases  code PK → contact_id          the share code of a contact merged away, leading to the one it
//	                                           was merged into; deleted with that contact
//
// Trigger ref_code_unique keeps share codes unique across contacts.ref_code
// and ref_aliases.code, raising the unique violation of
// contacts_ref_code_key (or ref_aliases_pkey) that the constraints would.

// LinkAddresses merges contact mergeID into keepID, in one transaction,
// when one person reached the bot on two channels, as
// store.Store.LinkAddresses does: addresses, share codes, pledges,
// sign-ups, requests to hear of a campaign, poll answers and the marks of
// polls asked, places on institutions' lists and bulk sends move to keepID
// (a campaign both pledged to or signed up for keeps keepID's and its
// counter drops by one; so does a poll both answered or were asked); on a
// list the person is on if either account was; Consent and Stopped are
// set if either was; empty fields of keepID take mergeID's; Referrals add
// up and the higher role wins, in the coalition and in each member
// institution. mergeID's contact and session are deleted. Who wrote,
// approved, applied for or decided a broadcast, reminder, campaign, poll
// or institution is moved to keepID too, and mergeID becomes an alias of
// keepID (see Identity). It returns the merged contact.
//
// Both contacts' rows are locked, in ID order, before anything moves, and
// then the counts of the polls concerned, in poll order.
func (s *Store) LinkAddresses(ctx context.Context, keepID, mergeID uint64) (*store.Contact, error) {
	if keepID == mergeID {
		return nil, fmt.Errorf("linking contact %d to itself", keepID)
	}
	var out *store.Contact
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = nil
		keep, merge, err := lockPair(ctx, tx, keepID, mergeID)
		if err != nil {
			return err
		}
		for _, a := range merge.Addresses {
			if !slices.Contains(keep.Addresses, a) {
				keep.Addresses = append(keep.Addresses, a)
			}
		}
		for _, sql := range []string{
			`UPDATE addresses SET contact_id = $1 WHERE contact_id = $2`,
			`UPDATE ref_aliases SET contact_id = $1 WHERE contact_id = $2`,
			`DELETE FROM watchers w WHERE contact_id = $2 AND EXISTS (SELECT 1 FROM watchers k WHERE k.campaign_id = w.campaign_id AND k.contact_id = $1)`,
			`UPDATE watchers SET contact_id = $1 WHERE contact_id = $2`,
		} {
			if _, err := tx.Exec(ctx, sql, int64(keepID), int64(mergeID)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE contact_id = $1`, int64(mergeID)); err != nil {
			return err
		}
		if err := movePairs(ctx, tx, "pledges", keepID, mergeID); err != nil {
			return err
		}
		if err := movePairs(ctx, tx, "signups", keepID, mergeID); err != nil {
			return err
		}
		if err := movePollAnswers(ctx, tx, keepID, mergeID); err != nil {
			return err
		}
		if err := moveSupports(ctx, tx, keepID, mergeID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE bulk_sends SET author = $1, record = jsonb_set(record, '{author}', to_jsonb($1::bigint))
			WHERE author = $2`, int64(keepID), int64(mergeID)); err != nil {
			return err
		}
		keep.Absorb(merge)
		roles := slices.Clone(keep.Affiliations)
		keep.AbsorbAffiliations(merge)
		if _, err := tx.Exec(ctx, `DELETE FROM contacts WHERE id = $1`, int64(mergeID)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ref_aliases (code, contact_id) VALUES ($1, $2)`, merge.RefCode, int64(keepID)); err != nil {
			return err
		}
		if err := putContact(ctx, tx, keep); err != nil {
			return err
		}
		// merge's rows of institution_people went with its contact
		if err := syncAffiliations(ctx, tx, keepID, roles, keep.Affiliations); err != nil {
			return err
		}
		if err := recordAlias(ctx, tx, mergeID, keepID); err != nil {
			return err
		}
		out = keep
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("linking contact %d into %d: %w", mergeID, keepID, err)
	}
	return out, nil
}

// lockPair reads and locks two contacts, in ID order.
func lockPair(ctx context.Context, tx pgx.Tx, keepID, mergeID uint64) (keep, merge *store.Contact, err error) {
	rows, err := tx.Query(ctx, `SELECT id, record FROM contacts WHERE id = ANY($1) ORDER BY id FOR UPDATE`,
		[]int64{int64(keepID), int64(mergeID)})
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			rows.Close()
			return nil, nil, err
		}
		if c.ID == keepID {
			keep = c
		} else {
			merge = c
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	switch {
	case keep == nil:
		return nil, nil, fmt.Errorf("contact %d: %w", keepID, store.ErrNotFound)
	case merge == nil:
		return nil, nil, fmt.Errorf("contact %d: %w", mergeID, store.ErrNotFound)
	}
	return keep, merge, nil
}

// movePairs moves mergeID's pledges or sign-ups (table) to keepID; of a
// campaign both have one for, keepID's stays, mergeID's goes and the
// campaign's counter drops by one, counter rows locked in campaign order.
func movePairs(ctx context.Context, tx pgx.Tx, table string, keepID, mergeID uint64) error {
	rows, err := tx.Query(ctx, `DELETE FROM `+table+` m WHERE m.contact_id = $2
		AND EXISTS (SELECT 1 FROM `+table+` k WHERE k.campaign_id = m.campaign_id AND k.contact_id = $1) RETURNING m.campaign_id`,
		int64(keepID), int64(mergeID))
	if err != nil {
		return err
	}
	both, err := pgx.CollectRows(rows, pgx.RowTo[uint64])
	if err != nil {
		return err
	}
	slices.Sort(both)
	for _, cid := range both {
		dp, ds := -1, 0
		if table == "signups" {
			dp, ds = 0, -1
		}
		if _, err := addCounts(ctx, tx, cid, dp, ds); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `UPDATE `+table+` SET contact_id = $1 WHERE contact_id = $2`, int64(keepID), int64(mergeID))
	return err
}

// recordAlias makes mergeID an alias of keepID: aliases that pointed at
// mergeID point at keepID, and the broadcasts, reminders and campaigns
// that name mergeID as their author or approver name keepID.
func recordAlias(ctx context.Context, tx pgx.Tx, mergeID, keepID uint64) error {
	if _, err := tx.Exec(ctx, `UPDATE aliases SET contact_id = $1 WHERE contact_id = $2`, int64(keepID), int64(mergeID)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO aliases (id, contact_id) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET contact_id = EXCLUDED.contact_id`, int64(mergeID), int64(keepID)); err != nil {
		return err
	}
	move := func(id *uint64) bool {
		if *id != mergeID {
			return false
		}
		*id = keepID
		return true
	}
	if err := rewrite(ctx, tx, "broadcasts", []string{"created_by", "approved_by"}, mergeID, func(b *store.Broadcast) {
		move(&b.CreatedBy)
		move(&b.ApprovedBy)
	}); err != nil {
		return err
	}
	if err := rewrite(ctx, tx, "reminders", []string{"created_by", "approved_by"}, mergeID, func(r *store.Reminder) {
		move(&r.CreatedBy)
		move(&r.ApprovedBy)
	}); err != nil {
		return err
	}
	if err := rewrite(ctx, tx, "campaigns", []string{"created_by"}, mergeID, func(c *store.Campaign) { move(&c.CreatedBy) }); err != nil {
		return err
	}
	if err := rewrite(ctx, tx, "polls", []string{"created_by", "closed_by"}, mergeID, func(p *store.Poll) {
		move(&p.CreatedBy)
		move(&p.ClosedBy)
	}); err != nil {
		return err
	}
	return rewrite(ctx, tx, "institutions", []string{"applicant_id", "decided_by"}, mergeID, func(i *store.Institution) {
		move(&i.ApplicantID)
		move(&i.DecidedBy)
	})
}

// movePollAnswers gives mergeID's poll answers and asked marks to keepID,
// as the bbolt store does: where both answered a poll, keepID's answer
// stands and the count of mergeID's option drops by one; where both were
// asked, Asked drops by one. The counts' rows of the polls concerned are
// locked first, in poll order, as AnswerPoll and MarkAsked lock a poll's
// counts before its answers and marks.
func movePollAnswers(ctx context.Context, tx pgx.Tx, keepID, mergeID uint64) error {
	rows, err := tx.Query(ctx, `SELECT poll_id FROM poll_counts WHERE poll_id IN (
			SELECT poll_id FROM poll_answers WHERE contact_id = $1 UNION SELECT poll_id FROM poll_asked WHERE contact_id = $1)
		ORDER BY poll_id FOR UPDATE`, int64(mergeID))
	if err != nil {
		return err
	}
	if _, err := pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return err
	}
	for _, sql := range []string{
		`WITH dropped AS (DELETE FROM poll_answers m WHERE m.contact_id = $2
				AND EXISTS (SELECT 1 FROM poll_answers k WHERE k.poll_id = m.poll_id AND k.contact_id = $1) RETURNING m.poll_id, m.option)
			UPDATE poll_counts c SET options[d.option + 1] = c.options[d.option + 1] - 1 FROM dropped d WHERE c.poll_id = d.poll_id`,
		`UPDATE poll_answers SET contact_id = $1, answer = jsonb_set(answer, '{contact_id}', to_jsonb($1::bigint)) WHERE contact_id = $2`,
		`WITH dropped AS (DELETE FROM poll_asked m WHERE m.contact_id = $2
				AND EXISTS (SELECT 1 FROM poll_asked k WHERE k.poll_id = m.poll_id AND k.contact_id = $1) RETURNING m.poll_id)
			UPDATE poll_counts c SET asked = c.asked - 1 FROM dropped d WHERE c.poll_id = d.poll_id`,
		`UPDATE poll_asked SET contact_id = $1 WHERE contact_id = $2`,
	} {
		if _, err := tx.Exec(ctx, sql, int64(keepID), int64(mergeID)); err != nil {
			return fmt.Errorf("moving the poll answers of contact %d: %w", mergeID, err)
		}
	}
	return nil
}

// moveSupports gives mergeID's records on institutions' lists to keepID,
// as the bbolt store does: where both were on a list, keepID's record
// stays unless only mergeID's is active, so the person is on the list if
// either account was.
func moveSupports(ctx context.Context, tx pgx.Tx, keepID, mergeID uint64) error {
	if _, err := tx.Exec(ctx, `INSERT INTO supporters (institution_id, contact_id, support, active)
			SELECT institution_id, $1, jsonb_set(support, '{contact_id}', to_jsonb($1::bigint)), active
			FROM supporters WHERE contact_id = $2 ORDER BY institution_id
		ON CONFLICT (institution_id, contact_id) DO UPDATE SET support = EXCLUDED.support, active = EXCLUDED.active
			WHERE NOT supporters.active AND EXCLUDED.active`, int64(keepID), int64(mergeID)); err != nil {
		return fmt.Errorf("moving the lists of contact %d: %w", mergeID, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM supporters WHERE contact_id = $1`, int64(mergeID)); err != nil {
		return fmt.Errorf("moving the lists of contact %d: %w", mergeID, err)
	}
	return nil
}

// rewrite applies fix to the records of table (id, record) whose fields
// name id, locking them, and writes them back.
func rewrite[T any](ctx context.Context, tx pgx.Tx, table string, fields []string, id uint64, fix func(*T)) error {
	where := ""
	for i, f := range fields {
		if i > 0 {
			where += " OR "
		}
		where += fmt.Sprintf("(record->>'%s')::bigint = $1", f)
	}
	rows, err := tx.Query(ctx, `SELECT id, record FROM `+table+` WHERE `+where+` ORDER BY id FOR UPDATE`, int64(id))
	if err != nil {
		return err
	}
	type fixed struct {
		id  int64
		buf []byte
	}
	var out []fixed
	var (
		rid int64
		buf []byte
	)
	if _, err := pgx.ForEachRow(rows, []any{&rid, &buf}, func() error {
		rec := new(T)
		if err := json.Unmarshal(buf, rec); err != nil {
			return fmt.Errorf("decoding %s %d: %w", table, rid, err)
		}
		fix(rec)
		nb, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("encoding %s %d: %w", table, rid, err)
		}
		out = append(out, fixed{rid, nb})
		return nil
	}); err != nil {
		return err
	}
	for _, f := range out {
		if _, err := tx.Exec(ctx, `UPDATE `+table+` SET record = $2 WHERE id = $1`, f.id, f.buf); err != nil {
			return err
		}
	}
	return nil
}

// Identity returns the contact ID that id stands for now, as
// store.Store.Identity does: id itself, or, if id was merged into another
// contact by LinkAddresses, that contact's ID.
func (s *Store) Identity(ctx context.Context, id uint64) (uint64, error) {
	var to int64
	err := s.q(ctx).QueryRow(ctx, `SELECT contact_id FROM aliases WHERE id = $1`, int64(id)).Scan(&to)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return id, nil
	case err != nil:
		return 0, fmt.Errorf("identity of contact %d: %w", id, err)
	}
	return uint64(to), nil
}
