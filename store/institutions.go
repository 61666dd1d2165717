package store

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// CreateInstitution stores a new institution and sets inst.ID. An empty
// Status becomes pending and a zero CreatedAt now.
func (s *Store) CreateInstitution(inst *Institution) error {
	rec := *inst
	if rec.Status == "" {
		rec.Status = InstitutionPending
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.stamp()
	}
	err := s.update(func(tx *bbolt.Tx) error {
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
func (s *Store) Institution(id uint64) (*Institution, error) {
	inst := &Institution{}
	if err := s.view(func(tx *bbolt.Tx) error { return getJSON(tx.Bucket(bucketInstitutions), itob(id), inst) }); err != nil {
		return nil, fmt.Errorf("institution %d: %w", id, err)
	}
	return inst, nil
}

// Institutions returns the institutions with the given status ("" for all)
// in ID order.
func (s *Store) Institutions(status InstitutionStatus) ([]Institution, error) {
	var out []Institution
	err := scanJSON(s, bucketInstitutions, nil, func(_ []byte, inst *Institution) error {
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
// cannot change the ID. ErrNotFound if there is no such institution.
func (s *Store) UpdateInstitution(id uint64, fn func(*Institution) error) (*Institution, error) {
	inst := &Institution{}
	err := s.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketInstitutions)
		if err := getJSON(b, itob(id), inst); err != nil {
			return err
		}
		if err := fn(inst); err != nil {
			return err
		}
		inst.ID = id
		return putJSON(b, itob(id), inst)
	})
	if err != nil {
		return nil, fmt.Errorf("updating institution %d: %w", id, err)
	}
	return inst, nil
}

// DeleteInstitution removes an institution's record.
func (s *Store) DeleteInstitution(id uint64) error {
	err := s.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketInstitutions)
		if b.Get(itob(id)) == nil {
			return ErrNotFound
		}
		return b.Delete(itob(id))
	})
	if err != nil {
		return fmt.Errorf("deleting institution %d: %w", id, err)
	}
	return nil
}
