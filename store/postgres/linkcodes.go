package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// Schema, migration 15:
//
//	link_codes        contact_id PK, code UNIQUE   a person's one live /link code, until expires
//	pending_links     token PK                     record is the PendingLink as JSON
//	link_failures     mark PK                      times: unix seconds of the wrong codes typed from the address
//	                                               marked, the last hour's
//	referral_credits  mark PK                      a referral was credited for the address marked, ever
//
// The key of address marks is the meta row "address_key".

// pruneLinkCodes bounds how many expired codes one PutLinkCode removes.
const pruneLinkCodes = 16

// keyAddress is the meta row of the random key that marks addresses.
const keyAddress = "address_key"

// PutLinkCode records that code, until expires, stands for contactID, as
// store.Store.PutLinkCode does. The person's previous code, if any, stops
// working (one row per person), and so does the code if another person
// had it. Expired codes are pruned, a few on each call.
func (s *Store) PutLinkCode(ctx context.Context, code string, contactID uint64, expires time.Time) error {
	now := s.stamp()
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM link_codes WHERE code = $1 AND contact_id <> $2`, code, int64(contactID)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO link_codes (contact_id, code, expires) VALUES ($1, $2, $3)
			ON CONFLICT (contact_id) DO UPDATE SET code = EXCLUDED.code, expires = EXCLUDED.expires`,
			int64(contactID), code, expires.UTC()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM link_codes WHERE contact_id IN (
			SELECT contact_id FROM link_codes WHERE expires <= $1 ORDER BY expires LIMIT $2 FOR UPDATE SKIP LOCKED)`,
			now, pruneLinkCodes)
		return err
	})
	if err != nil {
		return fmt.Errorf("storing link code: %w", err)
	}
	return nil
}

// TakeLinkCode returns the contact a code stands for and deletes the code,
// so it works once, whoever of several instances takes it. An unknown or
// expired code is ErrNotFound (an expired one is deleted all the same).
func (s *Store) TakeLinkCode(ctx context.Context, code string, now time.Time) (uint64, error) {
	var (
		contactID uint64
		expires   time.Time
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `DELETE FROM link_codes WHERE code = $1 RETURNING contact_id, expires`, code).Scan(&contactID, &expires)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	if err == nil && !now.Before(expires) {
		err = store.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("link code: %w", err)
	}
	return contactID, nil
}

// ForgetLinkCodes deletes the codes and pending links of a contact, for
// /forget.
func (s *Store) ForgetLinkCodes(ctx context.Context, contactID uint64) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM link_codes WHERE contact_id = $1`, int64(contactID)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM pending_links WHERE (record->>'owner')::bigint = $1 OR (record->>'requester')::bigint = $1`,
			int64(contactID))
		return err
	})
	if err != nil {
		return fmt.Errorf("forgetting the link codes of contact %d: %w", contactID, err)
	}
	return nil
}

// PutPendingLink keeps a link waiting for confirmation under token.
func (s *Store) PutPendingLink(ctx context.Context, token string, pl store.PendingLink) error {
	pl.Expires = pl.Expires.UTC()
	buf, err := json.Marshal(pl)
	if err != nil {
		return fmt.Errorf("storing a pending link: %w", err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO pending_links (token, record) VALUES ($1, $2)
			ON CONFLICT (token) DO UPDATE SET record = EXCLUDED.record`, token, buf)
		return err
	})
	if err != nil {
		return fmt.Errorf("storing a pending link: %w", err)
	}
	return nil
}

// TakePendingLink returns the link waiting under token and deletes it, so
// it is confirmed once; an unknown or expired one is ErrNotFound.
func (s *Store) TakePendingLink(ctx context.Context, token string, now time.Time) (store.PendingLink, error) {
	var pl store.PendingLink
	err := s.write(ctx, func(tx pgx.Tx) error {
		var buf []byte
		err := tx.QueryRow(ctx, `DELETE FROM pending_links WHERE token = $1 RETURNING record`, token).Scan(&buf)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(buf, &pl)
	})
	if err == nil && !now.Before(pl.Expires) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.PendingLink{}, fmt.Errorf("pending link: %w", err)
	}
	return pl, nil
}

// AddressMark returns a keyed hash of an address, as store.Store.AddressMark
// does: the same address always gives the same mark, but the mark tells
// nothing of the address. The key is drawn on first use; of instances
// drawing it at once, the first to insert it wins.
func (s *Store) AddressMark(ctx context.Context, addr bot.Address) ([]byte, error) {
	var key []byte
	found, err := getMeta(ctx, s.q(ctx), keyAddress, &key)
	if err != nil {
		return nil, fmt.Errorf("reading the address key: %w", err)
	}
	if !found {
		fresh := make([]byte, 32)
		_, _ = rand.Read(fresh) // crypto/rand.Read never returns an error
		buf, err := json.Marshal(fresh)
		if err != nil {
			return nil, fmt.Errorf("creating the address key: %w", err)
		}
		err = s.write(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING`, keyAddress, buf); err != nil {
				return err
			}
			key = nil
			found, err := getMeta(ctx, tx, keyAddress, &key)
			if err == nil && !found {
				err = errors.New("the address key is missing")
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("creating the address key: %w", err)
		}
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(addr.String()))
	return m.Sum(nil)[:16], nil
}

// linkWindow is how long wrong link codes count against an address.
const linkWindow = time.Hour

// LinkFailures returns the times wrong link codes were typed from the
// address marked mark within the hour before now.
func (s *Store) LinkFailures(ctx context.Context, mark []byte, now time.Time) ([]time.Time, error) {
	var raw []int64
	err := s.q(ctx).QueryRow(ctx, `SELECT times FROM link_failures WHERE mark = $1`, mark).Scan(&raw)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("reading link failures: %w", err)
	}
	var out []time.Time
	for _, u := range raw {
		if at := time.Unix(u, 0); now.Sub(at) < linkWindow {
			out = append(out, at)
		}
	}
	return out, nil
}

// AddLinkFailure records a wrong link code typed at now from the address
// marked mark, keeping the last hour's, in one statement, so failures
// recorded at once by several instances all count.
func (s *Store) AddLinkFailure(ctx context.Context, mark []byte, now time.Time) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO link_failures (mark, times) VALUES ($1, ARRAY[$2::bigint])
			ON CONFLICT (mark) DO UPDATE SET times = ARRAY(
				SELECT t FROM unnest(link_failures.times) WITH ORDINALITY AS u(t, n) WHERE t > $3 ORDER BY n) || $2::bigint`,
			mark, now.Unix(), now.Add(-linkWindow).Unix())
		return err
	})
	if err != nil {
		return fmt.Errorf("recording a link failure: %w", err)
	}
	return nil
}

// CreditReferralOnce reports whether a referral from the address marked
// mark is credited for the first time, and remembers it for good; of two
// at once, one is first.
func (s *Store) CreditReferralOnce(ctx context.Context, mark []byte) (bool, error) {
	first := false
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO referral_credits (mark) VALUES ($1) ON CONFLICT DO NOTHING`, mark)
		first = err == nil && tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("crediting a referral: %w", err)
	}
	return first, nil
}
