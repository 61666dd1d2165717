package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// Session returns the contact's conversation state, or ErrNotFound.
func (s *Store) Session(ctx context.Context, contactID uint64) (*store.Session, error) {
	var buf []byte
	err := s.q(ctx).QueryRow(ctx, `SELECT record FROM sessions WHERE contact_id = $1`, int64(contactID)).Scan(&buf)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("session of contact %d: %w", contactID, err)
	}
	sess := &store.Session{}
	if err := json.Unmarshal(buf, sess); err != nil {
		return nil, fmt.Errorf("session of contact %d: decoding: %w", contactID, err)
	}
	return sess, nil
}

// PutSession stores the contact's conversation state, replacing any; a
// zero UpdatedAt becomes now (in sess too), as store.Store.PutSession does.
func (s *Store) PutSession(ctx context.Context, contactID uint64, sess *store.Session) error {
	if sess.UpdatedAt.IsZero() {
		sess.UpdatedAt = s.stamp()
	}
	buf, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("encoding session of contact %d: %w", contactID, err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sessions (contact_id, record) VALUES ($1, $2)
			ON CONFLICT (contact_id) DO UPDATE SET record = EXCLUDED.record`, int64(contactID), buf)
		return err
	})
	if err != nil {
		return fmt.Errorf("saving session of contact %d: %w", contactID, err)
	}
	return nil
}

// DeleteSession deletes the contact's conversation state, if any.
func (s *Store) DeleteSession(ctx context.Context, contactID uint64) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE contact_id = $1`, int64(contactID))
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting session of contact %d: %w", contactID, err)
	}
	return nil
}
