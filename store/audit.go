package store

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"
)

// AppendAudit records a privileged action, setting its ID and, if zero, At.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.stamp()
	}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		e.ID = id
		return putJSON(b, itob(id), &e)
	})
	if err != nil {
		return fmt.Errorf("recording %s by contact %d: %w", e.Action, e.ActorID, err)
	}
	return nil
}

// Audit calls fn for each audit entry, oldest first, stopping at fn's first
// error, which it returns as it is. Like Contacts, fn runs outside any
// transaction.
func (s *Store) Audit(ctx context.Context, fn func(*AuditEntry) error) error {
	return scanJSON(ctx, s, bucketAudit, nil, func(_ []byte, e *AuditEntry) error { return fn(e) })
}
