package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// Member institutions, as in the bbolt store: the record is the
// Institution as JSON; the code column is the index of share codes (the
// bbolt store's institution_codes), unique by institutions_code_key and
// set by UpdateInstitution and AssignInstitutionCode; status is the
// record's, for listing by status.

// CreateInstitution stores a new institution and sets inst.ID. An empty
// Status becomes pending and a zero CreatedAt now. As in the bbolt store,
// a Code given here is kept in the record but not indexed: codes are
// given by AssignInstitutionCode or UpdateInstitution.
func (s *Store) CreateInstitution(ctx context.Context, inst *store.Institution) error {
	rec := *inst
	if rec.Status == "" {
		rec.Status = store.InstitutionPending
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.stamp()
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO institutions (status, record) VALUES ($1, '{}') RETURNING id`,
			string(rec.Status)).Scan(&rec.ID); err != nil {
			return err
		}
		return putInstitution(ctx, tx, &rec)
	})
	if err != nil {
		return fmt.Errorf("creating institution: %w", err)
	}
	*inst = rec
	return nil
}

// putInstitution writes inst's record and status; the code column is the
// callers'.
func putInstitution(ctx context.Context, tx pgx.Tx, inst *store.Institution) error {
	rec, err := json.Marshal(inst)
	if err != nil {
		return fmt.Errorf("encoding institution %d: %w", inst.ID, err)
	}
	_, err = tx.Exec(ctx, `UPDATE institutions SET status = $2, record = $3 WHERE id = $1`, inst.ID, string(inst.Status), rec)
	return err
}

// scanInstitution reads one row of (id, record), or ErrNotFound.
func scanInstitution(row pgx.Row) (*store.Institution, error) {
	return scanRecord(row, "institution", func(inst *store.Institution, id uint64) { inst.ID = id })
}

// Institution returns the institution with the given ID, or ErrNotFound.
func (s *Store) Institution(ctx context.Context, id uint64) (*store.Institution, error) {
	inst, err := scanInstitution(s.q(ctx).QueryRow(ctx, `SELECT id, record FROM institutions WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("institution %d: %w", id, err)
	}
	return inst, nil
}

// Institutions returns the institutions with the given status ("" for all)
// in ID order.
func (s *Store) Institutions(ctx context.Context, status store.InstitutionStatus) ([]store.Institution, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT id, record FROM institutions WHERE $1 = '' OR status = $1 ORDER BY id`, string(status))
	if err != nil {
		return nil, fmt.Errorf("listing institutions: %w", err)
	}
	var out []store.Institution
	for rows.Next() {
		inst, err := scanInstitution(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing institutions: %w", err)
		}
		out = append(out, *inst)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing institutions: %w", err)
	}
	return out, nil
}

// UpdateInstitution reads the institution, lets fn change it and writes it
// back, in one transaction holding the institution's row lock; if fn
// returns an error nothing is written. fn cannot change the ID; a changed
// Code is lower-cased and indexed (store.ErrCodeTaken if another
// institution has it; institutions_code_key decides a race). ErrNotFound
// if there is no such institution.
func (s *Store) UpdateInstitution(ctx context.Context, id uint64, fn func(*store.Institution) error) (*store.Institution, error) {
	var out *store.Institution
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = nil
		inst, err := scanInstitution(tx.QueryRow(ctx, `SELECT id, record FROM institutions WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		oldCode := inst.Code
		if err := fn(inst); err != nil {
			return err
		}
		inst.ID = id
		inst.Code = normCode(inst.Code)
		if inst.Code != oldCode {
			if err := setInstitutionCode(ctx, tx, id, inst.Code); err != nil {
				return err
			}
		}
		if err := putInstitution(ctx, tx, inst); err != nil {
			return err
		}
		out = inst
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("updating institution %d: %w", id, err)
	}
	return out, nil
}

// setInstitutionCode indexes code ("" for none) as institution id's;
// store.ErrCodeTaken if another institution has it.
func setInstitutionCode(ctx context.Context, tx pgx.Tx, id uint64, code string) error {
	if code == "" {
		_, err := tx.Exec(ctx, `UPDATE institutions SET code = NULL WHERE id = $1`, id)
		return err
	}
	// checked first so that, in a caller's transaction, a taken code does
	// not abort it; the constraint still decides a race
	var owner uint64
	switch err := tx.QueryRow(ctx, `SELECT id FROM institutions WHERE code = $1`, code).Scan(&owner); {
	case err == nil && owner != id:
		return fmt.Errorf("institution code %q: %w", code, store.ErrCodeTaken)
	case err != nil && !errors.Is(err, pgx.ErrNoRows):
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE institutions SET code = $2 WHERE id = $1`, id, code); err != nil {
		if isUnique(err, "institutions_code_key") {
			return fmt.Errorf("institution code %q: %w", code, store.ErrCodeTaken)
		}
		return err
	}
	return nil
}

// DeleteInstitution removes an institution's record and its code.
// ErrNotFound if there is none.
func (s *Store) DeleteInstitution(ctx context.Context, id uint64) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM institutions WHERE id = $1`, id)
		if err == nil && tag.RowsAffected() == 0 {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting institution %d: %w", id, err)
	}
	return nil
}

// InstitutionByCode returns the institution whose share code is code, in
// any case, or ErrNotFound.
func (s *Store) InstitutionByCode(ctx context.Context, code string) (*store.Institution, error) {
	inst, err := scanInstitution(s.q(ctx).QueryRow(ctx, `SELECT id, record FROM institutions WHERE code = $1`, normCode(code)))
	if err != nil {
		return nil, fmt.Errorf("institution %q: %w", code, err)
	}
	return inst, nil
}

// AssignInstitutionCode gives the institution a share code if it has none:
// its English name in lower-case Latin letters and digits when that makes
// a free code of 3 to 20 characters, else "org" and its number (then
// "org<n>x2", "x3", …), as store.Store.AssignInstitutionCode does. It
// returns the institution. Concurrent assignments of the same code to two
// institutions are decided by institutions_code_key: the loser takes its
// next candidate.
func (s *Store) AssignInstitutionCode(ctx context.Context, id uint64) (*store.Institution, error) {
	var out *store.Institution
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = nil
		inst, err := scanInstitution(tx.QueryRow(ctx, `SELECT id, record FROM institutions WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if inst.Code != "" {
			out = inst
			return nil
		}
		if inst.Code, err = claimCode(ctx, tx, id, codeCandidates(id, inst.NameEN)); err != nil {
			return err
		}
		if err := putInstitution(ctx, tx, inst); err != nil {
			return err
		}
		out = inst
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("giving institution %d a code: %w", id, err)
	}
	return out, nil
}

// codeCandidates returns the codes institution id may take, in the order
// it tries them: its English name's letters and digits (if 3 or more),
// "org<id>", then "org<id>x<n>" for n from 2 on.
func codeCandidates(id uint64, nameEN string) func() string {
	var b strings.Builder
	for _, r := range strings.ToLower(nameEN) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) && b.Len() < 20 {
			b.WriteRune(r)
		}
	}
	org := "org" + strconv.FormatUint(id, 10)
	var queue []string
	if b.Len() >= 3 {
		queue = append(queue, b.String())
	}
	queue = append(queue, org)
	n := 1
	return func() string {
		if len(queue) > 0 {
			c := queue[0]
			queue = queue[1:]
			return c
		}
		n++
		return org + "x" + strconv.Itoa(n)
	}
}

// claimCode indexes the first free candidate as institution id's code,
// each attempt in a savepoint so a code taken meanwhile rolls back only
// that attempt.
func claimCode(ctx context.Context, tx pgx.Tx, id uint64, next func() string) (string, error) {
	for {
		code := next()
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM institutions WHERE code = $1)`, code).Scan(&taken); err != nil {
			return "", err
		}
		if taken {
			continue
		}
		sp, err := tx.Begin(ctx)
		if err != nil {
			return "", err
		}
		_, err = sp.Exec(ctx, `UPDATE institutions SET code = $2 WHERE id = $1`, id, code)
		if err == nil {
			return code, sp.Commit(ctx)
		}
		if rerr := sp.Rollback(ctx); rerr != nil {
			return "", errors.Join(err, rerr)
		}
		if !isUnique(err, "institutions_code_key") {
			return "", err
		}
	}
}

// UpdateAffiliations reads the contact, lets fn change it (its
// Affiliations, and the role fields that go with them) and writes it back
// with institution_people in step, in one transaction, as
// store.Store.UpdateAffiliations does. fn may change any field
// UpdateContact allows; an institution appears at most once in
// Affiliations (a later entry for the same one is dropped). If fn returns
// an error nothing is written.
func (s *Store) UpdateAffiliations(ctx context.Context, contactID uint64, fn func(*store.Contact) error) (*store.Contact, error) {
	var out *store.Contact
	err := s.InTx(ctx, func(ctx context.Context) error {
		var old []store.Affiliation
		c, err := s.UpdateContact(ctx, contactID, func(c *store.Contact) error {
			old = slices.Clone(c.Affiliations)
			if err := fn(c); err != nil {
				return err
			}
			c.Affiliations = uniqueAffiliations(c.Affiliations)
			return nil
		})
		if err != nil {
			return err
		}
		out = c
		return s.write(ctx, func(tx pgx.Tx) error { return syncAffiliations(ctx, tx, contactID, old, c.Affiliations) })
	})
	if err != nil {
		return nil, fmt.Errorf("updating the affiliations of contact %d: %w", contactID, err)
	}
	return out, nil
}

// uniqueAffiliations keeps the first entry of each institution.
func uniqueAffiliations(as []store.Affiliation) []store.Affiliation {
	var out []store.Affiliation
	for _, a := range as {
		if a.InstitutionID == 0 || slices.ContainsFunc(out, func(b store.Affiliation) bool { return b.InstitutionID == a.InstitutionID }) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// syncAffiliations makes institution_people match the change from old to now.
func syncAffiliations(ctx context.Context, tx pgx.Tx, contactID uint64, old, now []store.Affiliation) error {
	var gone []int64
	for _, a := range old {
		if !slices.ContainsFunc(now, func(n store.Affiliation) bool { return n.InstitutionID == a.InstitutionID }) {
			gone = append(gone, int64(a.InstitutionID))
		}
	}
	if len(gone) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM institution_people WHERE contact_id = $1 AND institution_id = ANY($2)`, contactID, gone); err != nil {
			return err
		}
	}
	for _, a := range now {
		rec, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("encoding an affiliation: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO institution_people (institution_id, contact_id, affiliation) VALUES ($1, $2, $3)
			ON CONFLICT (institution_id, contact_id) DO UPDATE SET affiliation = EXCLUDED.affiliation`, a.InstitutionID, contactID, rec); err != nil {
			return err
		}
	}
	return nil
}

// InstitutionPeople returns the representatives and coordinators of an
// institution, in contact ID order.
func (s *Store) InstitutionPeople(ctx context.Context, institutionID uint64) ([]store.Affiliate, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT contact_id, affiliation FROM institution_people WHERE institution_id = $1 ORDER BY contact_id`, institutionID)
	if err != nil {
		return nil, fmt.Errorf("people of institution %d: %w", institutionID, err)
	}
	var (
		out []store.Affiliate
		id  uint64
		rec []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &rec}, func() error {
		a := store.Affiliate{ContactID: id}
		if err := json.Unmarshal(rec, &a.Affiliation); err != nil {
			return fmt.Errorf("decoding the role of contact %d: %w", id, err)
		}
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("people of institution %d: %w", institutionID, err)
	}
	return out, nil
}
