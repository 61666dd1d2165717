package postgres

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// seenResolution is how stale SeenAt may get before EnsureContact writes
// it again, as in the bbolt store.
const seenResolution = time.Minute

// refAlphabet, refCodeLen and refCodeTries draw share codes as the bbolt
// store does: 7 characters without the ones people misread, one more after
// 8 collisions.
const (
	refAlphabet  = "abcdefghjkmnpqrstuvwxyz23456789"
	refCodeLen   = 7
	refCodeTries = 8
)

// EnsureContact returns the contact at addr, creating it if there is none,
// as store.Store.EnsureContact does: a new contact gets the next ID, a
// unique random RefCode, the given name and language, and CreatedAt and
// SeenAt set to now; an existing one gets SeenAt (to within a minute), a
// non-empty name, and lang if it had none. created reports a new contact.
// Two instances creating the same address at once make one contact: the
// address's primary key decides, and the loser reads the winner's.
func (s *Store) EnsureContact(ctx context.Context, addr bot.Address, name, lang string) (c *store.Contact, created bool, err error) {
	if !addr.Valid() {
		return nil, false, fmt.Errorf("address %q: want channel:id", addr)
	}
	now := s.stamp()
	found, err := s.ContactByAddress(ctx, addr)
	switch {
	case err == nil && !touch(found, name, lang, now):
		return found, false, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, false, err
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		c, created = nil, false
		for {
			old, err := lockContactAt(ctx, tx, addr)
			switch {
			case err == nil:
				if touch(old, name, lang, now) {
					if err := putContact(ctx, tx, old); err != nil {
						return err
					}
				}
				c = old
				return nil
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			c, err = insertContact(ctx, tx, addr, name, lang, now)
			if errors.Is(err, errAddressRace) {
				continue // created meanwhile: read it
			}
			created = err == nil
			return err
		}
	})
	if err != nil {
		return nil, false, fmt.Errorf("ensuring contact %s: %w", addr, err)
	}
	return c, created, nil
}

// errAddressRace means another transaction gave the address to a contact
// first.
var errAddressRace = errors.New("address created concurrently")

// insertContact creates a contact at addr in a savepoint, so that losing
// a race for the address or the share code rolls back only the attempt.
func insertContact(ctx context.Context, tx pgx.Tx, addr bot.Address, name, lang string, now time.Time) (*store.Contact, error) {
	n := refCodeLen
	for tries := 0; ; tries++ {
		if tries > 0 && tries%refCodeTries == 0 {
			n++
		}
		code, err := randomCode(n)
		if err != nil {
			return nil, err
		}
		c := &store.Contact{Addresses: []bot.Address{addr}, Name: name, Lang: lang, RefCode: code, CreatedAt: now, SeenAt: now}
		sp, err := tx.Begin(ctx)
		if err != nil {
			return nil, err
		}
		err = insertContactRow(ctx, sp, c)
		if err == nil {
			_, err = sp.Exec(ctx, `INSERT INTO addresses (address, contact_id) VALUES ($1, $2)`, addr.String(), c.ID)
		}
		if err == nil {
			if err := sp.Commit(ctx); err != nil {
				return nil, err
			}
			return c, nil
		}
		if rerr := sp.Rollback(ctx); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		switch {
		case isUnique(err, "addresses_pkey"):
			return nil, errAddressRace
		case isUnique(err, "contacts_ref_code_key"):
			continue
		}
		return nil, err
	}
}

// insertContactRow inserts c, setting its ID.
func insertContactRow(ctx context.Context, tx pgx.Tx, c *store.Contact) error {
	d := derive(c)
	err := tx.QueryRow(ctx, `INSERT INTO contacts (ref_code, record, reachable, preferred_channel, reach_channels, governorate, lang, member, created_at)
		VALUES ($1, '{}', $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		c.RefCode, d.reachable, d.preferred, d.channels, c.Governorate, d.lang, d.member, c.CreatedAt).Scan(&c.ID)
	if err != nil {
		return err
	}
	rec, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encoding contact: %w", err)
	}
	_, err = tx.Exec(ctx, `UPDATE contacts SET record = $2 WHERE id = $1`, c.ID, rec)
	return err
}

// putContact writes c's record and the columns derived from it.
func putContact(ctx context.Context, tx pgx.Tx, c *store.Contact) error {
	rec, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encoding contact %d: %w", c.ID, err)
	}
	d := derive(c)
	_, err = tx.Exec(ctx, `UPDATE contacts SET ref_code = $2, record = $3, reachable = $4, preferred_channel = $5,
		reach_channels = $6, governorate = $7, lang = $8, member = $9 WHERE id = $1`,
		c.ID, c.RefCode, rec, d.reachable, d.preferred, d.channels, c.Governorate, d.lang, d.member)
	return err
}

// derived are a contact's columns that audiences read.
type derived struct {
	reachable bool
	preferred string
	channels  []string
	lang      string
	member    bool
}

// derive works out the audience columns of c, as the bbolt store's
// audience counters read a contact: reachable when consented, not stopped
// and with a usable address; the channels of the usable addresses in
// order, each once.
func derive(c *store.Contact) derived {
	d := derived{preferred: string(c.PreferredChannel), channels: []string{}, lang: langOf(c.Lang), member: c.InstitutionID != 0}
	for _, a := range c.Addresses {
		if a.Channel == "" || a.ID == "" {
			continue
		}
		if _, gone := c.Unreachable[a]; gone {
			continue
		}
		if !slices.Contains(d.channels, string(a.Channel)) {
			d.channels = append(d.channels, string(a.Channel))
		}
	}
	d.reachable = c.Consent && !c.Stopped && len(d.channels) > 0
	return d
}

// langOf reads a stored language as messages.NormalizeLang does: English
// or Arabic, the default.
func langOf(lang string) string {
	l := strings.ToLower(strings.TrimSpace(lang))
	if l == "en" || l == "eng" || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_") {
		return "en"
	}
	return "ar"
}

// touch applies what a new message tells about a contact and reports
// whether anything changed, as the bbolt store does.
func touch(c *store.Contact, name, lang string, now time.Time) bool {
	changed := false
	if name != "" && name != c.Name {
		c.Name, changed = name, true
	}
	if lang != "" && c.Lang == "" {
		c.Lang, changed = lang, true
	}
	if now.Sub(c.SeenAt) >= seenResolution || now.Before(c.SeenAt) {
		c.SeenAt, changed = now, true
	}
	return changed
}

// randomCode returns n characters of refAlphabet from crypto/rand, drawn
// without modulo bias.
func randomCode(n int) (string, error) {
	const limit = 256 - 256%len(refAlphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("drawing a share code: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, refAlphabet[int(b)%len(refAlphabet)])
			}
		}
	}
	return string(out), nil
}

// normCode is the stored form of share and campaign codes.
func normCode(code string) string { return strings.ToLower(strings.TrimSpace(code)) }

// decodeContact reads a contact's record.
func decodeContact(id uint64, rec []byte) (*store.Contact, error) {
	c := &store.Contact{}
	if err := json.Unmarshal(rec, c); err != nil {
		return nil, fmt.Errorf("decoding contact %d: %w", id, err)
	}
	c.ID = id
	return c, nil
}

// scanContact reads one row of (id, record), or ErrNotFound.
func scanContact(row pgx.Row) (*store.Contact, error) {
	var (
		id  uint64
		rec []byte
	)
	if err := row.Scan(&id, &rec); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, err
	}
	return decodeContact(id, rec)
}

// lockContactAt reads the contact at addr and locks its row until the
// transaction ends.
func lockContactAt(ctx context.Context, tx pgx.Tx, addr bot.Address) (*store.Contact, error) {
	return scanContact(tx.QueryRow(ctx, `SELECT c.id, c.record FROM addresses a JOIN contacts c ON c.id = a.contact_id
		WHERE a.address = $1 FOR UPDATE OF c`, addr.String()))
}

// Contact returns the contact with the given ID, or ErrNotFound.
func (s *Store) Contact(ctx context.Context, id uint64) (*store.Contact, error) {
	c, err := scanContact(s.q(ctx).QueryRow(ctx, `SELECT id, record FROM contacts WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("contact %d: %w", id, err)
	}
	return c, nil
}

// ContactByAddress returns the contact reachable at addr, or ErrNotFound.
func (s *Store) ContactByAddress(ctx context.Context, addr bot.Address) (*store.Contact, error) {
	c, err := scanContact(s.q(ctx).QueryRow(ctx, `SELECT c.id, c.record FROM addresses a JOIN contacts c ON c.id = a.contact_id
		WHERE a.address = $1`, addr.String()))
	if err != nil {
		return nil, fmt.Errorf("contact at %s: %w", addr, err)
	}
	return c, nil
}

// ContactByRefCode returns the contact whose share code is code, in any
// case, or ErrNotFound; the code of a contact merged away (ref_aliases)
// leads to the one it was merged into.
func (s *Store) ContactByRefCode(ctx context.Context, code string) (*store.Contact, error) {
	c, err := scanContact(s.q(ctx).QueryRow(ctx, `SELECT id, record FROM contacts WHERE ref_code = $1
		UNION ALL SELECT c.id, c.record FROM ref_aliases r JOIN contacts c ON c.id = r.contact_id WHERE r.code = $1
		LIMIT 1`, normCode(code)))
	if err != nil {
		return nil, fmt.Errorf("contact with share code %q: %w", code, err)
	}
	return c, nil
}

// UpdateContact reads the contact, lets fn change it and writes it back,
// in one transaction, holding the contact's row lock throughout, as
// store.Store.UpdateContact does. If fn returns an error nothing is
// written and the error is returned wrapped. fn cannot change the ID.
// Changes to Addresses and RefCode update the addresses and the share
// code; an address of another contact gives store.ErrAddressTaken and a
// share code of another contact store.ErrCodeTaken. Setting consent, /stop,
// the governorate or the language moves the person between audiences in
// the same transaction.
func (s *Store) UpdateContact(ctx context.Context, id uint64, fn func(*store.Contact) error) (*store.Contact, error) {
	var out *store.Contact
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = nil
		c, err := scanContact(tx.QueryRow(ctx, `SELECT id, record FROM contacts WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		oldAddrs, oldCode := slices.Clone(c.Addresses), c.RefCode
		if err := fn(c); err != nil {
			return err
		}
		c.ID = id
		if err := syncAddresses(ctx, tx, c, oldAddrs); err != nil {
			return err
		}
		c.RefCode = normCode(c.RefCode)
		if c.RefCode != oldCode {
			if c.RefCode == "" {
				return errors.New("a contact needs a share code")
			}
			var owner uint64
			switch err := tx.QueryRow(ctx, `SELECT id FROM contacts WHERE ref_code = $1`, c.RefCode).Scan(&owner); {
			case err == nil && owner != id:
				return fmt.Errorf("share code %q: %w", c.RefCode, store.ErrCodeTaken)
			case err != nil && !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		}
		if err := putContact(ctx, tx, c); err != nil {
			if isUnique(err, "contacts_ref_code_key") {
				return fmt.Errorf("share code %q: %w", c.RefCode, store.ErrCodeTaken)
			}
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("updating contact %d: %w", id, err)
	}
	return out, nil
}

// syncAddresses de-duplicates c.Addresses and makes the addresses table
// match the change from old.
func syncAddresses(ctx context.Context, tx pgx.Tx, c *store.Contact, old []bot.Address) error {
	var addrs []bot.Address
	for _, a := range c.Addresses {
		if slices.Contains(addrs, a) {
			continue
		}
		if !a.Valid() {
			return fmt.Errorf("address %q: want channel:id", a)
		}
		addrs = append(addrs, a)
	}
	c.Addresses = addrs
	var gone []string
	for _, a := range old {
		if !slices.Contains(addrs, a) {
			gone = append(gone, a.String())
		}
	}
	if len(gone) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM addresses WHERE address = ANY($1) AND contact_id = $2`, gone, c.ID); err != nil {
			return err
		}
	}
	for _, a := range addrs {
		if slices.Contains(old, a) {
			continue
		}
		var owner uint64
		err := tx.QueryRow(ctx, `INSERT INTO addresses (address, contact_id) VALUES ($1, $2)
			ON CONFLICT (address) DO UPDATE SET contact_id = addresses.contact_id RETURNING contact_id`, a.String(), c.ID).Scan(&owner)
		if err != nil {
			return err
		}
		if owner != c.ID {
			return fmt.Errorf("%s: %w %d", a, store.ErrAddressTaken, owner)
		}
	}
	return nil
}

// stamp returns the store's clock reading in UTC.
func (s *Store) stamp() time.Time { return s.now().UTC() }
