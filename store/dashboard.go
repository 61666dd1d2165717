package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"mobilise/bot"
)

// bucketDashboard holds the web dashboard's sign-ins, kept in the store
// (not in one process's memory) so that several instances can share them:
//
//	"t:" sha256(token)     : <JSON LoginToken>   a one-time sign-in link, until it is used or expires
//	"s:" sha256(session)   : <JSON WebSession>   a signed-in browser
//
// Only hashes of the secrets are keys: a copy of the file (a backup) lets
// no one sign in.
var bucketDashboard = []byte("dashboard")

// pruneDashboard bounds how many expired entries one write removes.
const pruneDashboard = 16

// LoginToken is what a one-time sign-in link stands for.
type LoginToken struct {
	ContactID uint64 `json:"contact_id"`
	// From is the address the person asked for the link from; the session acts from it.
	From    bot.Address `json:"from"`
	Lang    string      `json:"lang,omitempty"`
	Expires time.Time   `json:"expires"`
}

// WebSession is one signed-in browser.
type WebSession struct {
	ContactID uint64      `json:"contact_id"`
	From      bot.Address `json:"from"`
	Lang      string      `json:"lang,omitempty"`
	// CSRF is the secret every form of the session carries back.
	CSRF      string    `json:"csrf"`
	CreatedAt time.Time `json:"created_at"`
	// SeenAt is the last request; the session ends after a while without one.
	SeenAt time.Time `json:"seen_at"`
	// Expires is SeenAt plus the inactivity allowed.
	Expires time.Time `json:"expires"`
}

func tokenKey(hash []byte) []byte   { return append([]byte("t:"), hash...) }
func sessionKey(hash []byte) []byte { return append([]byte("s:"), hash...) }

// PutLoginToken records a one-time sign-in link under the hash of its
// secret. A few expired links and sessions are pruned on each call.
func (s *Store) PutLoginToken(ctx context.Context, hash []byte, t LoginToken) error {
	t.Expires = t.Expires.UTC()
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDashboard)
		if err := putJSON(b, tokenKey(hash), t); err != nil {
			return err
		}
		return pruneDashboardEntries(b, s.stamp())
	})
	if err != nil {
		return fmt.Errorf("storing a sign-in link: %w", err)
	}
	return nil
}

// TakeLoginToken returns what the link with this hash stands for and
// deletes it, so it works once. An unknown, used or expired link is
// ErrNotFound (an expired one is deleted all the same).
func (s *Store) TakeLoginToken(ctx context.Context, hash []byte, now time.Time) (LoginToken, error) {
	var t LoginToken
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDashboard)
		if err := getJSON(b, tokenKey(hash), &t); err != nil {
			return err
		}
		return b.Delete(tokenKey(hash))
	})
	if err == nil && !now.Before(t.Expires) {
		err = ErrNotFound
	}
	if err != nil {
		return LoginToken{}, fmt.Errorf("sign-in link: %w", err)
	}
	return t, nil
}

// PutWebSession stores a signed-in browser under the hash of its cookie.
func (s *Store) PutWebSession(ctx context.Context, hash []byte, ws WebSession) error {
	ws.CreatedAt, ws.SeenAt, ws.Expires = ws.CreatedAt.UTC(), ws.SeenAt.UTC(), ws.Expires.UTC()
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDashboard)
		if err := putJSON(b, sessionKey(hash), ws); err != nil {
			return err
		}
		return pruneDashboardEntries(b, s.stamp())
	})
	if err != nil {
		return fmt.Errorf("storing a dashboard session: %w", err)
	}
	return nil
}

// WebSession returns the session with this hash; ErrNotFound if there is
// none or it expired before now.
func (s *Store) WebSession(ctx context.Context, hash []byte, now time.Time) (WebSession, error) {
	var ws WebSession
	err := s.read(ctx, func(tx *bbolt.Tx) error { return getJSON(tx.Bucket(bucketDashboard), sessionKey(hash), &ws) })
	if err == nil && !now.Before(ws.Expires) {
		err = ErrNotFound
	}
	if err != nil {
		return WebSession{}, fmt.Errorf("dashboard session: %w", err)
	}
	return ws, nil
}

// DeleteWebSession ends one session; ending one that is gone is no error.
func (s *Store) DeleteWebSession(ctx context.Context, hash []byte) error {
	if err := s.write(ctx, func(tx *bbolt.Tx) error { return tx.Bucket(bucketDashboard).Delete(sessionKey(hash)) }); err != nil {
		return fmt.Errorf("ending a dashboard session: %w", err)
	}
	return nil
}

// DeleteWebSessions ends every session of the contact, or with contactID 0
// every session of everyone, and the sign-in links not yet used with them.
// It returns how many sessions it ended.
func (s *Store) DeleteWebSessions(ctx context.Context, contactID uint64) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDashboard)
		var dead [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var owner struct {
				ContactID uint64 `json:"contact_id"`
			}
			if json.Unmarshal(v, &owner) != nil || contactID == 0 || owner.ContactID == contactID {
				dead = append(dead, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if bytes.HasPrefix(k, []byte("s:")) {
				n++
			}
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("ending dashboard sessions: %w", err)
	}
	return n, nil
}

// WebSessionCount returns how many sessions are live at now.
func (s *Store) WebSessionCount(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketDashboard).Cursor()
		for k, v := c.Seek([]byte("s:")); k != nil && bytes.HasPrefix(k, []byte("s:")); k, v = c.Next() {
			var ws WebSession
			if json.Unmarshal(v, &ws) == nil && now.Before(ws.Expires) {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("counting dashboard sessions: %w", err)
	}
	return n, nil
}

// pruneDashboardEntries deletes up to pruneDashboard expired links and sessions.
func pruneDashboardEntries(b *bbolt.Bucket, now time.Time) error {
	var dead [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil && len(dead) < pruneDashboard; k, v = c.Next() {
		var e struct {
			Expires time.Time `json:"expires"`
		}
		if json.Unmarshal(v, &e) != nil || !now.Before(e.Expires) {
			dead = append(dead, bytes.Clone(k))
		}
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// createVersion5 creates the bucket of schema version 5: the dashboard's
// sign-in links and sessions.
func createVersion5(tx *bbolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists([]byte("dashboard")); err != nil {
		return fmt.Errorf("creating bucket dashboard: %w", err)
	}
	return nil
}
