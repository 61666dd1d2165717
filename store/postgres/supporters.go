package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// The supporters of member institutions, as in the bbolt store: one row per
// person per institution (supporters_pkey), the record the Support as JSON
// and active whether the person is on the list now. The primary key's
// order is one institution's list in contact ID order; supporters_contact_idx
// finds a person's lists.

// supportersPage is how many records Supporters reads at a time.
const supportersPage = 1000

// AddSupporter puts a person on an institution's list, as
// store.Store.AddSupporter does. A person already on it stays as they were.
// A person who left it is put back only when rejoin is set; otherwise their
// leaving is respected. It reports whether the person is newly on the
// list. ErrNotFound if the contact or the institution does not exist. Of
// two instances adding the same person at once, one adds them: the second
// waits on the primary key, then finds the first's record.
func (s *Store) AddSupporter(ctx context.Context, sp store.Support, rejoin bool) (bool, error) {
	if sp.At.IsZero() {
		sp.At = s.stamp()
	}
	sp.At, sp.Left = sp.At.UTC(), time.Time{}
	added := false
	err := s.write(ctx, func(tx pgx.Tx) error {
		added = false
		var found bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM institutions WHERE id = $1)`, sp.InstitutionID).Scan(&found); err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("institution %d: %w", sp.InstitutionID, store.ErrNotFound)
		}
		if sp.ContactID != 0 && sp.ContactID&(1<<63) == 0 {
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM contacts WHERE id = $1)`, sp.ContactID).Scan(&found); err != nil {
				return err
			}
		} else {
			found = false
		}
		if !found {
			return fmt.Errorf("contact %d: %w", sp.ContactID, store.ErrNotFound)
		}
		rec, err := json.Marshal(&sp)
		if err != nil {
			return fmt.Errorf("encoding a supporter: %w", err)
		}
		for {
			var active bool
			err := tx.QueryRow(ctx, `SELECT active FROM supporters WHERE institution_id = $1 AND contact_id = $2 FOR UPDATE`,
				sp.InstitutionID, sp.ContactID).Scan(&active)
			switch {
			case err == nil && (active || !rejoin):
				return nil
			case err == nil:
				_, err = tx.Exec(ctx, `UPDATE supporters SET support = $3, active = true WHERE institution_id = $1 AND contact_id = $2`,
					sp.InstitutionID, sp.ContactID, rec)
				added = err == nil
				return err
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
			tag, err := tx.Exec(ctx, `INSERT INTO supporters (institution_id, contact_id, support, active) VALUES ($1, $2, $3, true)
				ON CONFLICT (institution_id, contact_id) DO NOTHING`, sp.InstitutionID, sp.ContactID, rec)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				added = true
				return nil
			}
			// added meanwhile by another transaction: read what it wrote
		}
	})
	if err != nil {
		return false, fmt.Errorf("adding contact %d to the supporters of institution %d: %w", sp.ContactID, sp.InstitutionID, err)
	}
	return added, nil
}

// LeaveSupporters takes a person off an institution's list, keeping the
// record of their leaving. It reports whether they were on it.
func (s *Store) LeaveSupporters(ctx context.Context, institutionID, contactID uint64) (bool, error) {
	left := false
	err := s.write(ctx, func(tx pgx.Tx) error {
		left = false
		sp, err := scanSupport(tx.QueryRow(ctx, `SELECT support FROM supporters WHERE institution_id = $1 AND contact_id = $2 FOR UPDATE`,
			institutionID, contactID))
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		if !sp.Active() {
			return nil
		}
		sp.Left = s.stamp()
		rec, err := json.Marshal(sp)
		if err != nil {
			return fmt.Errorf("encoding a supporter: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE supporters SET support = $3, active = false WHERE institution_id = $1 AND contact_id = $2`,
			institutionID, contactID, rec); err != nil {
			return err
		}
		left = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("contact %d leaving the supporters of institution %d: %w", contactID, institutionID, err)
	}
	return left, nil
}

// scanSupport reads one row of (support), or ErrNotFound.
func scanSupport(row pgx.Row) (*store.Support, error) {
	var rec []byte
	if err := row.Scan(&rec); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, err
	}
	sp := &store.Support{}
	if err := json.Unmarshal(rec, sp); err != nil {
		return nil, fmt.Errorf("decoding a supporter: %w", err)
	}
	return sp, nil
}

// Supporter returns a person's record on an institution's list (which may
// say they left), or ErrNotFound.
func (s *Store) Supporter(ctx context.Context, institutionID, contactID uint64) (*store.Support, error) {
	sp, err := scanSupport(s.q(ctx).QueryRow(ctx, `SELECT support FROM supporters WHERE institution_id = $1 AND contact_id = $2`,
		institutionID, contactID))
	if err != nil {
		return nil, fmt.Errorf("contact %d in the supporters of institution %d: %w", contactID, institutionID, err)
	}
	return sp, nil
}

// ContactSupports returns the person's records on every institution's list,
// those they left included, in institution ID order.
func (s *Store) ContactSupports(ctx context.Context, contactID uint64) ([]store.Support, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT support FROM supporters WHERE contact_id = $1 ORDER BY institution_id`, contactID)
	if err != nil {
		return nil, fmt.Errorf("lists of contact %d: %w", contactID, err)
	}
	var out []store.Support
	for rows.Next() {
		sp, err := scanSupport(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("lists of contact %d: %w", contactID, err)
		}
		out = append(out, *sp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lists of contact %d: %w", contactID, err)
	}
	return out, nil
}

// Supporters calls fn for every record of an institution's list, those who
// left included, in contact ID order, stopping at fn's first error, which
// it returns as it is. The list is read a page at a time, and fn runs
// between the reads, holding no rows open.
func (s *Store) Supporters(ctx context.Context, institutionID uint64, fn func(*store.Support) error) error {
	after := uint64(0)
	for {
		var page []*store.Support
		rows, err := s.q(ctx).Query(ctx, `SELECT contact_id, support FROM supporters WHERE institution_id = $1 AND contact_id > $2
			ORDER BY contact_id LIMIT $3`, institutionID, after, supportersPage)
		if err != nil {
			return fmt.Errorf("supporters of institution %d: %w", institutionID, err)
		}
		var (
			id  uint64
			rec []byte
		)
		_, err = pgx.ForEachRow(rows, []any{&id, &rec}, func() error {
			sp := &store.Support{}
			if err := json.Unmarshal(rec, sp); err != nil {
				return fmt.Errorf("decoding the supporter %d: %w", id, err)
			}
			page, after = append(page, sp), id
			return nil
		})
		if err != nil {
			return fmt.Errorf("supporters of institution %d: %w", institutionID, err)
		}
		for _, sp := range page {
			if err := fn(sp); err != nil {
				return err
			}
		}
		if len(page) < supportersPage {
			return nil
		}
	}
}
