package store

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"
)

// CreateInstitution stores a new institution and sets inst.ID. An empty
// Status becomes pending and a zero CreatedAt now.
func (s *Store) CreateInstitution(ctx context.Context, inst *Institution) error {
	rec := *inst
	if rec.Status == "" {
		rec.Status = InstitutionPending
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.stamp()
	}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketInstitutions)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		rec.ID = id
		return putJSON(b, itob(id), &rec)
	})
	if err != nil {
		return fmt.Errorf("creating institution: %w", err)
	}
	*inst = rec
	return nil
}

// Institution returns the institution with the given ID, or ErrNotFound.
func (s *Store) Institution(ctx context.Context, id uint64) (*Institution, error) {
	inst := &Institution{}
	if err := s.read(ctx, func(tx *bbolt.Tx) error { return getJSON(tx.Bucket(bucketInstitutions), itob(id), inst) }); err != nil {
		return nil, fmt.Errorf("institution %d: %w", id, err)
	}
	return inst, nil
}

// Institutions returns the institutions with the given status ("" for all)
// in ID order.
func (s *Store) Institutions(ctx context.Context, status InstitutionStatus) ([]Institution, error) {
	var out []Institution
	err := scanJSON(ctx, s, bucketInstitutions, nil, func(_ []byte, inst *Institution) error {
		if status == "" || inst.Status == status {
			out = append(out, *inst)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing institutions: %w", err)
	}
	return out, nil
}

// UpdateInstitution reads the institution, lets fn change it and writes it
// back, in one transaction; if fn returns an error nothing is written. fn
// cannot change the ID; a changed Code is lower-cased and re-indexed
// (ErrCodeTaken if another institution has it). ErrNotFound if there is no
// such institution.
func (s *Store) UpdateInstitution(ctx context.Context, id uint64, fn func(*Institution) error) (*Institution, error) {
	inst := &Institution{}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketInstitutions)
		if err := getJSON(b, itob(id), inst); err != nil {
			return err
		}
		oldCode := inst.Code
		if err := fn(inst); err != nil {
			return err
		}
		inst.ID = id
		if err := syncInstitutionCode(tx, inst, oldCode); err != nil {
			return err
		}
		return putJSON(b, itob(id), inst)
	})
	if err != nil {
		return nil, fmt.Errorf("updating institution %d: %w", id, err)
	}
	return inst, nil
}

// DeleteInstitution removes an institution's record.
func (s *Store) DeleteInstitution(ctx context.Context, id uint64) error {
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketInstitutions)
		inst := &Institution{}
		if err := getJSON(b, itob(id), inst); err != nil {
			return err
		}
		if inst.Code != "" {
			if err := tx.Bucket(bucketInstitutionCodes).Delete([]byte(inst.Code)); err != nil {
				return err
			}
		}
		return b.Delete(itob(id))
	})
	if err != nil {
		return fmt.Errorf("deleting institution %d: %w", id, err)
	}
	return nil
}
