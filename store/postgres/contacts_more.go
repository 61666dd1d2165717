package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// contactPage is how many contacts Contacts reads at a time.
const contactPage = 256

// Contacts calls fn for every contact in ID order, stopping at fn's first
// error, which it returns as it is, as store.Store.Contacts does. fn runs
// outside any transaction (the scan reads a page at a time), so it may
// call other methods; contacts changed during the scan may be seen either
// way.
func (s *Store) Contacts(ctx context.Context, fn func(*store.Contact) error) error {
	var after uint64
	for {
		rows, err := s.q(ctx).Query(ctx, `SELECT id, record FROM contacts WHERE id > $1 ORDER BY id LIMIT $2`, after, contactPage)
		if err != nil {
			return fmt.Errorf("listing contacts: %w", err)
		}
		var page []*store.Contact
		for rows.Next() {
			c, err := scanContact(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("listing contacts: %w", err)
			}
			page = append(page, c)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("listing contacts: %w", err)
		}
		for _, c := range page {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(page) < contactPage {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// SetReferrer records that the contact came through refCode's owner, as
// store.Store.SetReferrer does: if the contact has no referrer yet, the
// code exists and is not their own; the owner's Referrals grows by one in
// the same transaction, both rows locked. It reports whether the referrer
// was set; ErrNotFound if there is no such contact.
func (s *Store) SetReferrer(ctx context.Context, contactID uint64, refCode string) (bool, error) {
	set := false
	err := s.write(ctx, func(tx pgx.Tx) error {
		set = false
		c, err := scanContact(tx.QueryRow(ctx, `SELECT id, record FROM contacts WHERE id = $1 FOR UPDATE`, contactID))
		if err != nil {
			return err
		}
		code := normCode(refCode)
		if c.ReferredBy != 0 || code == "" {
			return nil
		}
		ref, err := scanContact(tx.QueryRow(ctx, `SELECT id, record FROM contacts WHERE id = (
			SELECT id FROM contacts WHERE ref_code = $1 UNION ALL SELECT contact_id FROM ref_aliases WHERE code = $1 LIMIT 1)
			FOR UPDATE`, code))
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return err
		case ref.ID == contactID:
			return nil
		}
		c.ReferredBy = ref.ID
		ref.Referrals++
		if err := putContact(ctx, tx, c); err != nil {
			return err
		}
		set = true
		return putContact(ctx, tx, ref)
	})
	if err != nil {
		return false, fmt.Errorf("setting referrer of contact %d: %w", contactID, err)
	}
	return set, nil
}

// ForgetContact erases a person in one transaction, as
// store.Store.ForgetContact does: the contact, its addresses, its share
// code and those of the accounts merged into it (ref_aliases), its
// session, its requests to hear of a campaign (watchers), its roles in
// member institutions (institution_people) and its places on their lists
// (supporters) are deleted, the last five by the foreign keys' cascades;
// its poll answers stay as anonymous answers (forgotten_poll_answers: the
// option, the time and the institution credited) and the marks that it was
// asked go; its pledges stay as anonymous pledges (forgotten_pledges: the
// time and the institution credited) so totals stay exact; its sign-ups
// are deleted and the sign-up counters lowered; messages still queued for
// it are deleted, counted as cancelled for their broadcasts. Other
// contacts' ReferredBy, and the IDs that name it as an author or the
// giver of a role, keep the number. ErrNotFound if there is no such
// contact.
//
// The contact's row lock, taken first, makes a pledge, sign-up or poll
// answer being added meanwhile wait for the erasure and then find no
// contact. PostgreSQL keeps the erased rows until VACUUM reclaims them,
// and in its write-ahead log and backups as long as those are kept.
func (s *Store) ForgetContact(ctx context.Context, id uint64) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		c, err := scanContact(tx.QueryRow(ctx, `SELECT id, record FROM contacts WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if _, err := s.removeQueued(ctx, tx, id, c.Addresses, false); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE contact_id = $1`, id); err != nil {
			return err
		}
		if err := forgetPollAnswers(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO forgotten_pledges (campaign_id, at, institution)
			SELECT campaign_id, at, institution FROM pledges WHERE contact_id = $1 ORDER BY campaign_id`, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM pledges WHERE contact_id = $1`, id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `DELETE FROM signups WHERE contact_id = $1 RETURNING campaign_id`, id)
		if err != nil {
			return err
		}
		campaigns, err := pgx.CollectRows(rows, pgx.RowTo[uint64])
		if err != nil {
			return err
		}
		slices.Sort(campaigns) // counter rows locked in one order
		for _, cid := range campaigns {
			if _, err := addCounts(ctx, tx, cid, 0, -1); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `DELETE FROM contacts WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("forgetting contact %d: %w", id, err)
	}
	return nil
}
