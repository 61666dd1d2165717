package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"mobilise/bot"

	"go.etcd.io/bbolt"
)

// seenResolution is how stale SeenAt may get before EnsureContact writes it
// again, so a conversation's messages are not each a write.
const seenResolution = time.Minute

// refAlphabet has lower-case letters and digits without the ones people
// misread for each other (i l 1, o 0).
const refAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// refCodeLen is the length of a new share code: 31^7 ≈ 2.7e10 codes, so a
// random one is almost always free; after refCodeTries collisions the code
// grows by one character.
const (
	refCodeLen   = 7
	refCodeTries = 8
)

// anonBit marks the contact half of an anonymous pledge's key. Contact IDs
// come from a sequence and never reach it.
const anonBit = uint64(1) << 63

// EnsureContact returns the contact at addr, creating it if there is none.
// A new contact gets the next ID, a unique random RefCode, the given name and
// language, and CreatedAt and SeenAt set to now. An existing contact gets
// SeenAt (to within a minute), a non-empty name, and lang if it had none:
// a language the person chose is kept. created reports a new contact.
func (s *Store) EnsureContact(ctx context.Context, addr bot.Address, name, lang string) (c *Contact, created bool, err error) {
	if err := checkAddress(addr); err != nil {
		return nil, false, err
	}
	now := s.stamp()
	// most messages come from people seen a moment ago: answer from a read
	found, err := s.ContactByAddress(ctx, addr)
	switch {
	case err == nil && !touch(found, name, lang, now):
		return found, false, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return nil, false, err
	}
	// an upsert: safe for a shared commit to run again, as c and created are reset
	err = s.writeBatch(ctx, func(tx *bbolt.Tx) error {
		c, created = nil, false
		contacts := tx.Bucket(bucketContacts)
		if id := tx.Bucket(bucketAddresses).Get(addrKey(addr)); id != nil {
			old := contacts.Get(id)
			c = &Contact{}
			if err := getContact(contacts, id, c); err != nil {
				return fmt.Errorf("contact %d of %s: %w", btoi(id), addr, err)
			}
			touch(c, name, lang, now)
			return putContact(tx, c, old)
		}
		id, err := contacts.NextSequence()
		if err != nil {
			return err
		}
		code, err := newRefCode(tx.Bucket(bucketRefCodes), refCodeLen)
		if err != nil {
			return err
		}
		c = &Contact{ID: id, Addresses: []bot.Address{addr}, Name: name, Lang: lang, RefCode: code, CreatedAt: now, SeenAt: now}
		if err := putContact(tx, c, nil); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAddresses).Put(addrKey(addr), itob(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketRefCodes).Put([]byte(code), itob(id)); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("ensuring contact %s: %w", addr, err)
	}
	return c, created, nil
}

// putContact stores c and moves its audience counters from old, its stored
// form before (nil for none), inside tx.
func putContact(tx *bbolt.Tx, c *Contact, old []byte) error {
	v := encodeContact(c)
	if err := reindex(tx, c.ID, old, v); err != nil {
		return err
	}
	return tx.Bucket(bucketContacts).Put(itob(c.ID), v)
}

// touch applies what a new message tells about a contact and reports
// whether anything changed.
func touch(c *Contact, name, lang string, now time.Time) bool {
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

// checkAddress accepts an address with both a channel and an ID.
func checkAddress(addr bot.Address) error {
	if !addr.Valid() {
		return fmt.Errorf("address %q: want channel:id", addr)
	}
	return nil
}

// addrKey is an address's key in the addresses index: its "channel:id" form.
func addrKey(a bot.Address) []byte { return []byte(a.String()) }

// newRefCode draws share codes of n characters, then longer ones, until
// one is not in refcodes.
func newRefCode(refcodes *bbolt.Bucket, n int) (string, error) {
	for ; ; n++ {
		for range refCodeTries {
			code, err := randomCode(n)
			if err != nil {
				return "", err
			}
			if refcodes.Get([]byte(code)) == nil {
				return code, nil
			}
		}
	}
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

// Contact returns the contact with the given ID, or ErrNotFound.
func (s *Store) Contact(ctx context.Context, id uint64) (*Contact, error) {
	c := &Contact{}
	if err := s.read(ctx, func(tx *bbolt.Tx) error { return getContact(tx.Bucket(bucketContacts), itob(id), c) }); err != nil {
		return nil, fmt.Errorf("contact %d: %w", id, err)
	}
	return c, nil
}

// ContactByAddress returns the contact reachable at addr, or ErrNotFound.
func (s *Store) ContactByAddress(ctx context.Context, addr bot.Address) (*Contact, error) {
	c, err := s.contactByIndex(ctx, bucketAddresses, addr.String())
	if err != nil {
		return nil, fmt.Errorf("contact at %s: %w", addr, err)
	}
	return c, nil
}

// ContactByRefCode returns the contact whose share code is code, in any
// case, or ErrNotFound. The code of a contact merged into another finds the
// one it was merged into.
func (s *Store) ContactByRefCode(ctx context.Context, code string) (*Contact, error) {
	c, err := s.contactByIndex(ctx, bucketRefCodes, normCode(code))
	if err != nil {
		return nil, fmt.Errorf("contact with share code %q: %w", code, err)
	}
	return c, nil
}

func (s *Store) contactByIndex(ctx context.Context, index []byte, key string) (*Contact, error) {
	if key == "" {
		return nil, ErrNotFound
	}
	c := &Contact{}
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		id := tx.Bucket(index).Get([]byte(key))
		if id == nil {
			return ErrNotFound
		}
		return getContact(tx.Bucket(bucketContacts), id, c)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateContact reads the contact, lets fn change it and writes it back, in
// one transaction. If fn returns an error nothing is written and the error is
// returned wrapped. fn cannot change the ID. Changes to Addresses and
// RefCode update their indexes; an address of another contact gives
// ErrAddressTaken and a share code of another contact ErrCodeTaken.
func (s *Store) UpdateContact(ctx context.Context, id uint64, fn func(*Contact) error) (*Contact, error) {
	var out *Contact
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		old := tx.Bucket(bucketContacts).Get(itob(id))
		c := &Contact{}
		if err := getContact(tx.Bucket(bucketContacts), itob(id), c); err != nil {
			return err
		}
		oldAddrs, oldCode := slices.Clone(c.Addresses), c.RefCode
		if err := fn(c); err != nil {
			return err
		}
		c.ID = id
		if err := syncAddresses(tx, c, oldAddrs); err != nil {
			return err
		}
		if err := syncRefCode(tx, c, oldCode); err != nil {
			return err
		}
		if err := putContact(tx, c, old); err != nil {
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

// syncAddresses de-duplicates c.Addresses and makes the addresses index match
// the change from old.
func syncAddresses(tx *bbolt.Tx, c *Contact, old []bot.Address) error {
	idx := tx.Bucket(bucketAddresses)
	id := itob(c.ID)
	var addrs []bot.Address
	for _, a := range c.Addresses {
		if slices.Contains(addrs, a) {
			continue
		}
		if err := checkAddress(a); err != nil {
			return err
		}
		addrs = append(addrs, a)
	}
	c.Addresses = addrs
	for _, a := range old {
		if !slices.Contains(addrs, a) && bytes.Equal(idx.Get(addrKey(a)), id) {
			if err := idx.Delete(addrKey(a)); err != nil {
				return err
			}
		}
	}
	for _, a := range addrs {
		switch owner := idx.Get(addrKey(a)); {
		case owner == nil:
			if err := idx.Put(addrKey(a), id); err != nil {
				return err
			}
		case !bytes.Equal(owner, id):
			return fmt.Errorf("%s: %w %d", a, ErrAddressTaken, btoi(owner))
		}
	}
	return nil
}

// syncRefCode normalises c.RefCode and moves its index entry from old.
func syncRefCode(tx *bbolt.Tx, c *Contact, old string) error {
	c.RefCode = normCode(c.RefCode)
	if c.RefCode == old {
		return nil
	}
	if c.RefCode == "" {
		return errors.New("a contact needs a share code")
	}
	idx := tx.Bucket(bucketRefCodes)
	id := itob(c.ID)
	if owner := idx.Get([]byte(c.RefCode)); owner != nil && !bytes.Equal(owner, id) {
		return fmt.Errorf("share code %q: %w", c.RefCode, ErrCodeTaken)
	}
	if bytes.Equal(idx.Get([]byte(old)), id) {
		if err := idx.Delete([]byte(old)); err != nil {
			return err
		}
	}
	return idx.Put([]byte(c.RefCode), id)
}

// Contacts calls fn for every contact in ID order, stopping at fn's first
// error, which it returns as it is. fn runs outside any transaction (the
// scan reads a page at a time), so it may call other Store methods; contacts
// changed during the scan may be seen either way.
func (s *Store) Contacts(ctx context.Context, fn func(*Contact) error) error {
	return scanRecords(ctx, s, bucketContacts, nil, func(k, v []byte, c *Contact) error { return decodeContact(btoi(k), v, c) },
		func(_ []byte, c *Contact) error { return fn(c) })
}

// SetReferrer records that the contact came through refCode's owner, if the
// contact has no referrer yet, the code exists and is not their own; the
// owner's Referrals grows by one in the same transaction. It reports whether
// the referrer was set; ErrNotFound if there is no such contact.
func (s *Store) SetReferrer(ctx context.Context, contactID uint64, refCode string) (bool, error) {
	set := false
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		contacts := tx.Bucket(bucketContacts)
		c := &Contact{}
		if err := getContact(contacts, itob(contactID), c); err != nil {
			return err
		}
		code := normCode(refCode)
		if c.ReferredBy != 0 || code == "" {
			return nil
		}
		refID := btoi(tx.Bucket(bucketRefCodes).Get([]byte(code)))
		if refID == 0 || refID == contactID {
			return nil
		}
		ref := &Contact{}
		if err := getContact(contacts, itob(refID), ref); err != nil {
			return fmt.Errorf("referrer %d: %w", refID, err)
		}
		c.ReferredBy = refID
		ref.Referrals++
		// neither change moves an audience counter, so no reindex
		if err := contacts.Put(itob(contactID), encodeContact(c)); err != nil {
			return err
		}
		set = true
		return contacts.Put(itob(refID), encodeContact(ref))
	})
	if err != nil {
		return false, fmt.Errorf("setting referrer of contact %d: %w", contactID, err)
	}
	return set, nil
}

// ForgetContact erases a person in one transaction: the contact, its address
// and share-code index entries (those of the accounts merged into it too),
// its session and its requests to hear of a campaign are deleted; its poll
// answers stay as anonymous answers (the option, the time and the
// institution credited) and the marks that it was asked go; its pledges
// stay as anonymous pledges (no contact ID, channel, governorate, language
// or referrer, under a key unrelated to the contact) so totals stay exact;
// its sign-ups are deleted and the sign-up counters lowered; their roles in
// member institutions, their places on institutions' lists and the
// messages still queued for them go. Other contacts' ReferredBy keep the
// number. ErrNotFound if there is no such contact.
//
// bbolt does not overwrite freed pages at once: until they are reused, the
// erased bytes may remain in the file's free space and in backups of it.
func (s *Store) ForgetContact(ctx context.Context, id uint64) error {
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		contacts := tx.Bucket(bucketContacts)
		c := &Contact{}
		if err := getContact(contacts, itob(id), c); err != nil {
			return err
		}
		// out of every audience first, while its pledges and sign-ups still name it
		if err := reindex(tx, id, contacts.Get(itob(id)), nil); err != nil {
			return err
		}
		addrs := tx.Bucket(bucketAddresses)
		for _, a := range c.Addresses {
			if bytes.Equal(addrs.Get(addrKey(a)), itob(id)) {
				if err := addrs.Delete(addrKey(a)); err != nil {
					return err
				}
			}
		}
		if err := deleteWhereValue(tx.Bucket(bucketRefCodes), itob(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSessions).Delete(itob(id)); err != nil {
			return err
		}
		if err := forgetWatches(tx, id); err != nil {
			return err
		}
		if err := forgetPollAnswers(tx, id); err != nil {
			return err
		}
		if err := forgetInstitutionLinks(tx, c); err != nil {
			return err
		}
		// messages still queued for them would reach them after they asked to be forgotten
		if _, err := s.forgetOutbox(tx, id, c.Addresses); err != nil {
			return err
		}
		pledges, signups := tx.Bucket(bucketPledges), tx.Bucket(bucketSignups)
		err := forEachCampaignID(tx, func(cid uint64) error {
			key := pairKey(cid, id)
			if pledges.Get(key) != nil {
				var p Pledge
				if err := getPair(pledges, key, &p); err != nil {
					return err
				}
				n, err := pledges.NextSequence()
				if err != nil {
					return err
				}
				// the institution credited stays: it is no one's personal data, and keeps shares exact
				if err := putPair(pledges, pairKey(cid, anonBit|n), &Pledge{At: p.At, Institution: p.Institution}); err != nil {
					return err
				}
				if err := pledges.Delete(key); err != nil {
					return err
				}
			}
			if signups.Get(key) != nil {
				if err := signups.Delete(key); err != nil {
					return err
				}
				if _, err := addCounts(tx, cid, 0, -1); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return contacts.Delete(itob(id))
	})
	if err != nil {
		return fmt.Errorf("forgetting contact %d: %w", id, err)
	}
	return nil
}

// LinkAddresses merges contact mergeID into keepID, in one transaction, when
// one person reached the bot on two channels: addresses, share codes,
// pledges and sign-ups move to keepID (a campaign both pledged to or signed
// up for keeps keepID's and its counter drops by one); Consent and Stopped
// are set if either was; empty fields of keepID take mergeID's; Referrals
// add up and the higher role wins, in the coalition and in each member
// institution; places on institutions' lists join. mergeID's contact and session are
// deleted. Who wrote, approved, applied for or decided a broadcast,
// reminder, campaign or institution is moved to keepID too, and mergeID
// becomes an alias of keepID (see Identity), so one person stays one person
// in every rule and in the audit log. It returns the merged contact.
func (s *Store) LinkAddresses(ctx context.Context, keepID, mergeID uint64) (*Contact, error) {
	if keepID == mergeID {
		return nil, fmt.Errorf("linking contact %d to itself", keepID)
	}
	var out *Contact
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		contacts := tx.Bucket(bucketContacts)
		keep, merge := &Contact{}, &Contact{}
		if err := getContact(contacts, itob(keepID), keep); err != nil {
			return fmt.Errorf("contact %d: %w", keepID, err)
		}
		if err := getContact(contacts, itob(mergeID), merge); err != nil {
			return fmt.Errorf("contact %d: %w", mergeID, err)
		}
		// both leave every audience as they are, and the merged person joins
		// again once their pledges and sign-ups have moved
		for _, id := range []uint64{keepID, mergeID} {
			if err := reindex(tx, id, contacts.Get(itob(id)), nil); err != nil {
				return err
			}
		}
		addrs := tx.Bucket(bucketAddresses)
		for _, a := range merge.Addresses {
			if !slices.Contains(keep.Addresses, a) {
				keep.Addresses = append(keep.Addresses, a)
			}
			if err := addrs.Put(addrKey(a), itob(keepID)); err != nil {
				return err
			}
		}
		if err := repointWhereValue(tx.Bucket(bucketRefCodes), itob(mergeID), itob(keepID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSessions).Delete(itob(mergeID)); err != nil {
			return err
		}
		if err := moveWatches(tx, keepID, mergeID); err != nil {
			return err
		}
		if err := moveBulkSends(tx, keepID, mergeID); err != nil {
			return fmt.Errorf("moving the bulk sends of contact %d: %w", mergeID, err)
		}
		if err := movePollAnswers(tx, keepID, mergeID); err != nil {
			return err
		}
		err := forEachCampaignID(tx, func(cid uint64) error {
			if err := movePair[Pledge](tx, bucketPledges, cid, keepID, mergeID, -1, 0); err != nil {
				return err
			}
			return movePair[Signup](tx, bucketSignups, cid, keepID, mergeID, 0, -1)
		})
		if err != nil {
			return err
		}
		if err := moveInstitutionLinks(tx, keep, merge); err != nil {
			return err
		}
		keep.Absorb(merge)
		if err := putContact(tx, keep, nil); err != nil {
			return err
		}
		if err := recordAlias(tx, mergeID, keepID); err != nil {
			return err
		}
		out = keep
		return contacts.Delete(itob(mergeID))
	})
	if err != nil {
		return nil, fmt.Errorf("linking contact %d into %d: %w", mergeID, keepID, err)
	}
	return out, nil
}

// movePair moves mergeID's record of one campaign in bucket to keepID; when
// keepID has one already, mergeID's is dropped and the counter lowered by
// dPledges/dSignups.
func movePair[T any, P pairRecord[T]](tx *bbolt.Tx, bucket []byte, cid, keepID, mergeID uint64, dPledges, dSignups int) error {
	b := tx.Bucket(bucket)
	from, to := pairKey(cid, mergeID), pairKey(cid, keepID)
	if b.Get(from) == nil {
		return nil
	}
	if b.Get(to) != nil {
		if _, err := addCounts(tx, cid, dPledges, dSignups); err != nil {
			return err
		}
		return b.Delete(from)
	}
	var rec T
	if err := getPair[T, P](b, from, &rec); err != nil {
		return err
	}
	if err := putPair[T, P](b, to, &rec); err != nil {
		return err
	}
	return b.Delete(from)
}

// Absorb folds merge's details into keep, the person kept when two
// contacts become one (LinkAddresses). Every store merges by this rule.
func (keep *Contact) Absorb(merge *Contact) {
	if !keep.Consent && merge.Consent {
		keep.Consent, keep.ConsentAt = true, merge.ConsentAt
	}
	keep.Stopped = keep.Stopped || merge.Stopped
	// a language the person chose wins over one only guessed before onboarding
	if keep.OnboardedAt.IsZero() && !merge.OnboardedAt.IsZero() {
		keep.OnboardedAt = merge.OnboardedAt
		if merge.Lang != "" {
			keep.Lang = merge.Lang
		}
	}
	fillEmpty(&keep.Name, merge.Name)
	fillEmpty(&keep.Lang, merge.Lang)
	fillEmpty(&keep.Governorate, merge.Governorate)
	fillEmpty(&keep.PreferredChannel, merge.PreferredChannel)
	if merge.Role.Rank() > keep.Role.Rank() {
		keep.Role = merge.Role
	}
	if keep.InstitutionID == 0 {
		keep.InstitutionID = merge.InstitutionID
	}
	keep.Referrals += merge.Referrals
	// one person cannot have brought themself
	if keep.ReferredBy == merge.ID {
		keep.ReferredBy = 0
		keep.Referrals--
	}
	if merge.ReferredBy == keep.ID {
		merge.ReferredBy = 0
		keep.Referrals--
	}
	if keep.ReferredBy == 0 {
		keep.ReferredBy = merge.ReferredBy
	}
	for a, at := range merge.Unreachable {
		if keep.Unreachable == nil {
			keep.Unreachable = map[bot.Address]time.Time{}
		}
		keep.Unreachable[a] = at
	}
	if !merge.CreatedAt.IsZero() && (keep.CreatedAt.IsZero() || merge.CreatedAt.Before(keep.CreatedAt)) {
		keep.CreatedAt = merge.CreatedAt
	}
	if merge.SeenAt.After(keep.SeenAt) {
		keep.SeenAt = merge.SeenAt
	}
}

func fillEmpty[T ~string](dst *T, src T) {
	if *dst == "" {
		*dst = src
	}
}

// forEachCampaignID calls fn with every campaign's ID, inside tx.
func forEachCampaignID(tx *bbolt.Tx, fn func(id uint64) error) error {
	return tx.Bucket(bucketCampaigns).ForEach(func(k, _ []byte) error { return fn(btoi(k)) })
}

// deleteWhereValue deletes the entries of an index bucket that point to value.
func deleteWhereValue(b *bbolt.Bucket, value []byte) error {
	var keys [][]byte
	if err := b.ForEach(func(k, v []byte) error {
		if bytes.Equal(v, value) {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// repointWhereValue points the entries of an index bucket that point to
// from at to instead.
func repointWhereValue(b *bbolt.Bucket, from, to []byte) error {
	var keys [][]byte
	if err := b.ForEach(func(k, v []byte) error {
		if bytes.Equal(v, from) {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Put(k, to); err != nil {
			return err
		}
	}
	return nil
}

// recordAlias makes mergeID an alias of keepID, inside tx: aliases that
// pointed at mergeID point at keepID, and the records that name mergeID as
// their author, approver, applicant or decider name keepID.
func recordAlias(tx *bbolt.Tx, mergeID, keepID uint64) error {
	aliases := tx.Bucket(bucketAliases)
	if err := repointWhereValue(aliases, itob(mergeID), itob(keepID)); err != nil {
		return err
	}
	if err := aliases.Put(itob(mergeID), itob(keepID)); err != nil {
		return err
	}
	move := func(id *uint64) bool {
		if *id != mergeID {
			return false
		}
		*id = keepID
		return true
	}
	if err := rewriteJSON(tx, bucketBroadcasts, func(b *Broadcast) bool {
		return move(&b.CreatedBy) || move(&b.ApprovedBy)
	}); err != nil {
		return err
	}
	if err := rewriteJSON(tx, bucketReminders, func(r *Reminder) bool {
		return move(&r.CreatedBy) || move(&r.ApprovedBy)
	}); err != nil {
		return err
	}
	if err := rewriteJSON(tx, bucketCampaigns, func(c *Campaign) bool { return move(&c.CreatedBy) }); err != nil {
		return err
	}
	if err := rewriteJSON(tx, bucketPolls, func(p *Poll) bool { return move(&p.CreatedBy) || move(&p.ClosedBy) }); err != nil {
		return err
	}
	return rewriteJSON(tx, bucketInstitutions, func(i *Institution) bool {
		return move(&i.ApplicantID) || move(&i.DecidedBy)
	})
}

// rewriteJSON applies fix to every record of bucket and writes back those it changed.
func rewriteJSON[T any](tx *bbolt.Tx, bucket []byte, fix func(*T) bool) error {
	b := tx.Bucket(bucket)
	var keys [][]byte
	var recs []*T
	err := b.ForEach(func(k, v []byte) error {
		rec := new(T)
		if err := json.Unmarshal(v, rec); err != nil {
			return fmt.Errorf("decoding %s %x: %w", bucket, k, err)
		}
		// both sides of an or are wanted: a record may name the person twice
		changed := false
		for fix(rec) {
			changed = true
		}
		if changed {
			keys, recs = append(keys, bytes.Clone(k)), append(recs, rec)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := range keys {
		if err := putJSON(b, keys[i], recs[i]); err != nil {
			return err
		}
	}
	return nil
}

// Identity returns the contact ID that id stands for now: id itself, or, if
// id was merged into another contact by LinkAddresses, that contact's ID.
// Records written before a merge (the audit log) name the old ID; Identity
// tells that it is the same person.
func (s *Store) Identity(ctx context.Context, id uint64) (uint64, error) {
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketAliases).Get(itob(id)); v != nil {
			id = btoi(v)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("identity of contact %d: %w", id, err)
	}
	return id, nil
}
