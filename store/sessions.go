package store

import (
	"context"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"
)

// Session returns the contact's conversation state, or ErrNotFound.
func (s *Store) Session(ctx context.Context, contactID uint64) (*Session, error) {
	sess := &Session{}
	if err := s.read(ctx, func(tx *bbolt.Tx) error { return getJSON(tx.Bucket(bucketSessions), itob(contactID), sess) }); err != nil {
		return nil, fmt.Errorf("session of contact %d: %w", contactID, err)
	}
	return sess, nil
}

// PutSession stores the contact's conversation state; a zero UpdatedAt
// becomes now (in sess too).
func (s *Store) PutSession(ctx context.Context, contactID uint64, sess *Session) error {
	if sess.UpdatedAt.IsZero() {
		sess.UpdatedAt = s.stamp()
	}
	buf, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("encoding session of contact %d: %w", contactID, err)
	}
	// a plain put: safe for a shared commit to repeat
	if err := s.writeBatch(ctx, func(tx *bbolt.Tx) error { return tx.Bucket(bucketSessions).Put(itob(contactID), buf) }); err != nil {
		return fmt.Errorf("saving session of contact %d: %w", contactID, err)
	}
	return nil
}

// DeleteSession deletes the contact's conversation state, if any. With none
// stored it writes nothing, so calling it after every message is cheap.
func (s *Store) DeleteSession(ctx context.Context, contactID uint64) error {
	key := itob(contactID)
	var exists bool
	if err := s.read(ctx, func(tx *bbolt.Tx) error {
		exists = tx.Bucket(bucketSessions).Get(key) != nil
		return nil
	}); err != nil {
		return fmt.Errorf("deleting session of contact %d: %w", contactID, err)
	}
	if !exists {
		return nil
	}
	if err := s.writeBatch(ctx, func(tx *bbolt.Tx) error { return tx.Bucket(bucketSessions).Delete(key) }); err != nil {
		return fmt.Errorf("deleting session of contact %d: %w", contactID, err)
	}
	return nil
}
