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

// The web dashboard's sign-ins, as in the bbolt store, under the hashes of
// their secrets only: login_tokens holds the one-time sign-in links,
// web_sessions the signed-in browsers, each record as JSON with its owner
// and expiry (to the microsecond) in columns for pruning and ending them.

// pruneDashboard bounds how many expired links, and how many expired
// sessions, one write removes.
const pruneDashboard = 16

// PutLoginToken records a one-time sign-in link under the hash of its
// secret. A few expired links and sessions are pruned on each call.
func (s *Store) PutLoginToken(ctx context.Context, hash []byte, t store.LoginToken) error {
	t.Expires = t.Expires.UTC()
	rec, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("storing a sign-in link: %w", err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO login_tokens (hash, contact_id, token, expires) VALUES ($1, $2, $3, $4)
			ON CONFLICT (hash) DO UPDATE SET contact_id = EXCLUDED.contact_id, token = EXCLUDED.token, expires = EXCLUDED.expires`,
			hash, t.ContactID, rec, t.Expires); err != nil {
			return err
		}
		return pruneDashboardEntries(ctx, tx, s.stamp())
	})
	if err != nil {
		return fmt.Errorf("storing a sign-in link: %w", err)
	}
	return nil
}

// TakeLoginToken returns what the link with this hash stands for and
// deletes it, so it works once: of several instances taking it at once,
// one deletes the row and gets it, the others find nothing. An unknown,
// used or expired link is ErrNotFound (an expired one is deleted all the
// same).
func (s *Store) TakeLoginToken(ctx context.Context, hash []byte, now time.Time) (store.LoginToken, error) {
	var t store.LoginToken
	err := s.write(ctx, func(tx pgx.Tx) error {
		t = store.LoginToken{}
		var rec []byte
		if err := tx.QueryRow(ctx, `DELETE FROM login_tokens WHERE hash = $1 RETURNING token`, hash).Scan(&rec); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		}
		return json.Unmarshal(rec, &t)
	})
	if err == nil && !now.Before(t.Expires) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.LoginToken{}, fmt.Errorf("sign-in link: %w", err)
	}
	return t, nil
}

// PutWebSession stores a signed-in browser under the hash of its cookie.
// A few expired links and sessions are pruned on each call.
func (s *Store) PutWebSession(ctx context.Context, hash []byte, ws store.WebSession) error {
	ws.CreatedAt, ws.SeenAt, ws.Expires = ws.CreatedAt.UTC(), ws.SeenAt.UTC(), ws.Expires.UTC()
	rec, err := json.Marshal(ws)
	if err != nil {
		return fmt.Errorf("storing a dashboard session: %w", err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO web_sessions (hash, contact_id, session, expires) VALUES ($1, $2, $3, $4)
			ON CONFLICT (hash) DO UPDATE SET contact_id = EXCLUDED.contact_id, session = EXCLUDED.session, expires = EXCLUDED.expires`,
			hash, ws.ContactID, rec, ws.Expires); err != nil {
			return err
		}
		return pruneDashboardEntries(ctx, tx, s.stamp())
	})
	if err != nil {
		return fmt.Errorf("storing a dashboard session: %w", err)
	}
	return nil
}

// WebSession returns the session with this hash; ErrNotFound if there is
// none or it expired before now.
func (s *Store) WebSession(ctx context.Context, hash []byte, now time.Time) (store.WebSession, error) {
	var (
		ws  store.WebSession
		rec []byte
	)
	err := s.q(ctx).QueryRow(ctx, `SELECT session FROM web_sessions WHERE hash = $1`, hash).Scan(&rec)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		err = store.ErrNotFound
	case err == nil:
		err = json.Unmarshal(rec, &ws)
	}
	if err == nil && !now.Before(ws.Expires) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.WebSession{}, fmt.Errorf("dashboard session: %w", err)
	}
	return ws, nil
}

// DeleteWebSession ends one session; ending one that is gone is no error.
func (s *Store) DeleteWebSession(ctx context.Context, hash []byte) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE hash = $1`, hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("ending a dashboard session: %w", err)
	}
	return nil
}

// DeleteWebSessions ends every session of the contact, or with contactID 0
// every session of everyone, and the sign-in links not yet used with them.
// It returns how many sessions it ended.
func (s *Store) DeleteWebSessions(ctx context.Context, contactID uint64) (int, error) {
	n := 0
	err := s.write(ctx, func(tx pgx.Tx) error {
		n = 0
		tag, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE $1 = 0 OR contact_id = $1`, contactID)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		_, err = tx.Exec(ctx, `DELETE FROM login_tokens WHERE $1 = 0 OR contact_id = $1`, contactID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("ending dashboard sessions: %w", err)
	}
	return n, nil
}

// WebSessionCount returns how many sessions are live at now.
func (s *Store) WebSessionCount(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := s.q(ctx).QueryRow(ctx, `SELECT count(*) FROM web_sessions WHERE expires > $1`, now).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting dashboard sessions: %w", err)
	}
	return n, nil
}

// pruneDashboardEntries deletes up to pruneDashboard expired links and as
// many expired sessions, skipping rows another transaction holds.
func pruneDashboardEntries(ctx context.Context, tx pgx.Tx, now time.Time) error {
	for _, table := range []string{"login_tokens", "web_sessions"} {
		if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE hash IN
			(SELECT hash FROM `+table+` WHERE expires <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, now, pruneDashboard); err != nil {
			return fmt.Errorf("pruning %s: %w", table, err)
		}
	}
	return nil
}
