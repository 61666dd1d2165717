package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// PledgeResult is what AddPledge did.
type PledgeResult struct {
	// Counts are the campaign's totals after the pledge.
	Counts Counts
	// Campaign is the campaign after the pledge (TargetReachedAt set if this pledge reached it).
	Campaign Campaign
	// ReachedTarget is true for the one pledge that brought Pledges to the
	// campaign's Target: the time to tell everyone who pledged.
	ReachedTarget bool
}

// AddPledge records p, one per person per campaign, and raises the
// campaign's pledge counter in the same transaction. A zero p.At becomes
// now. The pledge that brings the count to the campaign's Target (or past a
// Target lowered below it) sets Campaign.TargetReachedAt and ReachedTarget,
// once per campaign. Errors: ErrAlreadyPledged (with the current Counts and
// Campaign in the result), ErrCampaignNotFound, ErrNotFound for an unknown
// contact.
//
// Many people pledge at once when a campaign is shared, so pledges share
// commits (writeBatch).
func (s *Store) AddPledge(ctx context.Context, p Pledge) (PledgeResult, error) {
	if p.CampaignID == 0 || !isContactID(p.ContactID) {
		return PledgeResult{}, fmt.Errorf("adding pledge: bad campaign %d or contact %d", p.CampaignID, p.ContactID)
	}
	now := s.stamp()
	if p.At.IsZero() {
		p.At = now
	}
	p.At = p.At.UTC()
	var (
		res     PledgeResult
		outcome error // the caller's error: returned from fn it would make the shared commit retry everyone
	)
	err := s.writeBatch(ctx, func(tx *bbolt.Tx) error {
		res, outcome = PledgeResult{}, nil
		campaigns := tx.Bucket(bucketCampaigns)
		ckey := itob(p.CampaignID)
		switch err := getJSON(campaigns, ckey, &res.Campaign); {
		case errors.Is(err, ErrNotFound):
			outcome = ErrCampaignNotFound
			return nil
		case err != nil:
			return err
		}
		if tx.Bucket(bucketContacts).Get(itob(p.ContactID)) == nil {
			outcome = fmt.Errorf("contact %d: %w", p.ContactID, ErrNotFound)
			return nil
		}
		pledges := tx.Bucket(bucketPledges)
		key := pairKey(p.CampaignID, p.ContactID)
		if pledges.Get(key) != nil {
			outcome = ErrAlreadyPledged
			var err error
			res.Counts, err = readCounts(tx, p.CampaignID)
			return err
		}
		if err := putPair(pledges, key, &p); err != nil {
			return err
		}
		if err := joinRelation(tx, segPledged, ckey, p.ContactID); err != nil {
			return err
		}
		var err error
		if res.Counts, err = addCounts(tx, p.CampaignID, 1, 0); err != nil {
			return err
		}
		c := &res.Campaign
		if c.Target > 0 && res.Counts.Pledges >= c.Target && c.TargetReachedAt.IsZero() {
			c.TargetReachedAt = now
			res.ReachedTarget = true
			return putJSON(campaigns, ckey, c)
		}
		return nil
	})
	if err == nil {
		err = outcome
	}
	if err != nil {
		return res, fmt.Errorf("pledge of contact %d to campaign %d: %w", p.ContactID, p.CampaignID, err)
	}
	return res, nil
}

// isContactID reports whether id can be a contact's: not zero and not an
// anonymous pledge's key.
func isContactID(id uint64) bool { return id != 0 && id&anonBit == 0 }

// Pledge returns the contact's pledge to the campaign, or ErrNotFound.
func (s *Store) Pledge(ctx context.Context, campaignID, contactID uint64) (*Pledge, error) {
	p := &Pledge{}
	if err := s.read(ctx, func(tx *bbolt.Tx) error {
		return getPair(tx.Bucket(bucketPledges), pairKey(campaignID, contactID), p)
	}); err != nil {
		return nil, fmt.Errorf("pledge of contact %d to campaign %d: %w", contactID, campaignID, err)
	}
	return p, nil
}

// Pledges calls fn for each pledge to the campaign, anonymous ones included,
// stopping at fn's first error, which it returns as it is. Like Contacts, fn
// runs outside any transaction.
func (s *Store) Pledges(ctx context.Context, campaignID uint64, fn func(*Pledge) error) error {
	return scanRecords(ctx, s, bucketPledges, itob(campaignID), decodePair[Pledge], func(_ []byte, p *Pledge) error { return fn(p) })
}

// ContactPledges returns the contact's pledges in campaign order.
func (s *Store) ContactPledges(ctx context.Context, contactID uint64) ([]Pledge, error) {
	out, err := contactPairs[Pledge](ctx, s, bucketPledges, contactID)
	if err != nil {
		return nil, fmt.Errorf("pledges of contact %d: %w", contactID, err)
	}
	return out, nil
}

// AddSignup records a sign-up for a campaign's event, one per person per
// campaign, and raises the sign-up counter in the same transaction. A zero
// su.At becomes now. Errors: ErrAlreadySignedUp (with the current Counts),
// ErrCampaignNotFound, ErrNotFound for an unknown contact.
func (s *Store) AddSignup(ctx context.Context, su Signup) (Counts, error) {
	if su.CampaignID == 0 || !isContactID(su.ContactID) {
		return Counts{}, fmt.Errorf("adding sign-up: bad campaign %d or contact %d", su.CampaignID, su.ContactID)
	}
	if su.At.IsZero() {
		su.At = s.stamp()
	}
	su.At = su.At.UTC()
	var (
		counts  Counts
		outcome error
	)
	err := s.writeBatch(ctx, func(tx *bbolt.Tx) error {
		counts, outcome = Counts{}, nil
		if tx.Bucket(bucketCampaigns).Get(itob(su.CampaignID)) == nil {
			outcome = ErrCampaignNotFound
			return nil
		}
		if tx.Bucket(bucketContacts).Get(itob(su.ContactID)) == nil {
			outcome = fmt.Errorf("contact %d: %w", su.ContactID, ErrNotFound)
			return nil
		}
		signups := tx.Bucket(bucketSignups)
		key := pairKey(su.CampaignID, su.ContactID)
		var err error
		if signups.Get(key) != nil {
			outcome = ErrAlreadySignedUp
			counts, err = readCounts(tx, su.CampaignID)
			return err
		}
		if err := putPair(signups, key, &su); err != nil {
			return err
		}
		if err := joinRelation(tx, segSignedUp, itob(su.CampaignID), su.ContactID); err != nil {
			return err
		}
		counts, err = addCounts(tx, su.CampaignID, 0, 1)
		return err
	})
	if err == nil {
		err = outcome
	}
	if err != nil {
		return counts, fmt.Errorf("sign-up of contact %d for campaign %d: %w", su.ContactID, su.CampaignID, err)
	}
	return counts, nil
}

// CancelSignup deletes the contact's sign-up and lowers the counter in the
// same transaction; ErrNotFound if there is none.
func (s *Store) CancelSignup(ctx context.Context, campaignID, contactID uint64) (Counts, error) {
	var (
		counts  Counts
		outcome error
	)
	err := s.writeBatch(ctx, func(tx *bbolt.Tx) error {
		counts, outcome = Counts{}, nil
		signups := tx.Bucket(bucketSignups)
		key := pairKey(campaignID, contactID)
		if signups.Get(key) == nil {
			outcome = ErrNotFound
			return nil
		}
		if err := signups.Delete(key); err != nil {
			return err
		}
		if err := leaveRelation(tx, segSignedUp, itob(campaignID), contactID); err != nil {
			return err
		}
		var err error
		counts, err = addCounts(tx, campaignID, 0, -1)
		return err
	})
	if err == nil {
		err = outcome
	}
	if err != nil {
		return counts, fmt.Errorf("cancelling sign-up of contact %d for campaign %d: %w", contactID, campaignID, err)
	}
	return counts, nil
}

// WithdrawPledge deletes the contact's pledge and lowers the counter in
// the same transaction; ErrNotFound if there is none. A target once
// reached stays reached: its news has gone out.
func (s *Store) WithdrawPledge(ctx context.Context, campaignID, contactID uint64) (Counts, error) {
	var (
		counts  Counts
		outcome error
	)
	err := s.writeBatch(ctx, func(tx *bbolt.Tx) error {
		counts, outcome = Counts{}, nil
		pledges := tx.Bucket(bucketPledges)
		key := pairKey(campaignID, contactID)
		if pledges.Get(key) == nil {
			outcome = ErrNotFound
			return nil
		}
		if err := pledges.Delete(key); err != nil {
			return err
		}
		if err := leaveRelation(tx, segPledged, itob(campaignID), contactID); err != nil {
			return err
		}
		var err error
		counts, err = addCounts(tx, campaignID, -1, 0)
		return err
	})
	if err == nil {
		err = outcome
	}
	if err != nil {
		return counts, fmt.Errorf("withdrawing pledge of contact %d to campaign %d: %w", contactID, campaignID, err)
	}
	return counts, nil
}

// Signup returns the contact's sign-up for the campaign, or ErrNotFound.
func (s *Store) Signup(ctx context.Context, campaignID, contactID uint64) (*Signup, error) {
	su := &Signup{}
	if err := s.read(ctx, func(tx *bbolt.Tx) error {
		return getPair(tx.Bucket(bucketSignups), pairKey(campaignID, contactID), su)
	}); err != nil {
		return nil, fmt.Errorf("sign-up of contact %d for campaign %d: %w", contactID, campaignID, err)
	}
	return su, nil
}

// Signups calls fn for each sign-up for the campaign, stopping at fn's first
// error, which it returns as it is. Like Contacts, fn runs outside any
// transaction.
func (s *Store) Signups(ctx context.Context, campaignID uint64, fn func(*Signup) error) error {
	return scanRecords(ctx, s, bucketSignups, itob(campaignID), decodePair[Signup], func(_ []byte, su *Signup) error { return fn(su) })
}

// ContactSignups returns the contact's sign-ups in campaign order.
func (s *Store) ContactSignups(ctx context.Context, contactID uint64) ([]Signup, error) {
	out, err := contactPairs[Signup](ctx, s, bucketSignups, contactID)
	if err != nil {
		return nil, fmt.Errorf("sign-ups of contact %d: %w", contactID, err)
	}
	return out, nil
}

// contactPairs looks up the contact's record of every campaign in bucket.
func contactPairs[T any, P pairRecord[T]](ctx context.Context, s *Store, bucket []byte, contactID uint64) ([]T, error) {
	var out []T
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		return forEachCampaignID(tx, func(cid uint64) error {
			var rec T
			switch err := getPair[T, P](b, pairKey(cid, contactID), &rec); {
			case errors.Is(err, ErrNotFound):
				return nil
			case err != nil:
				return err
			}
			out = append(out, rec)
			return nil
		})
	})
	return out, err
}

// Counts returns the campaign's totals; zero if it has none (or does not exist).
func (s *Store) Counts(ctx context.Context, campaignID uint64) (Counts, error) {
	var c Counts
	if err := s.read(ctx, func(tx *bbolt.Tx) error {
		var err error
		c, err = readCounts(tx, campaignID)
		return err
	}); err != nil {
		return Counts{}, fmt.Errorf("counts of campaign %d: %w", campaignID, err)
	}
	return c, nil
}

func readCounts(tx *bbolt.Tx, campaignID uint64) (Counts, error) {
	var c Counts
	if err := getJSON(tx.Bucket(bucketCounters), itob(campaignID), &c); err != nil && !errors.Is(err, ErrNotFound) {
		return Counts{}, err
	}
	return c, nil
}

// addCounts changes the campaign's counters by the deltas and returns the result.
func addCounts(tx *bbolt.Tx, campaignID uint64, dPledges, dSignups int) (Counts, error) {
	c, err := readCounts(tx, campaignID)
	if err != nil {
		return Counts{}, err
	}
	c.Pledges += dPledges
	c.Signups += dSignups
	return c, putJSON(tx.Bucket(bucketCounters), itob(campaignID), &c)
}

// CampaignStats counts the campaign's pledges and sign-ups by governorate,
// language and channel, scanning them in one read transaction. Every map is
// non-nil; "" counts records where the detail is unknown (anonymous pledges
// among them). A campaign with no records, or none at all, gives zeros.
func (s *Store) CampaignStats(ctx context.Context, campaignID uint64) (Stats, error) {
	return s.campaignStats(ctx, campaignID, func(uint64) bool { return true })
}

// CampaignShareStats is CampaignStats of the pledges and sign-ups credited
// to one organising institution (0: the coalition): its share of a joint
// campaign.
func (s *Store) CampaignShareStats(ctx context.Context, campaignID, institutionID uint64) (Stats, error) {
	return s.campaignStats(ctx, campaignID, func(credited uint64) bool { return credited == institutionID })
}

// campaignStats counts the records whose credited institution keep accepts.
func (s *Store) campaignStats(ctx context.Context, campaignID uint64, keep func(institution uint64) bool) (Stats, error) {
	st := Stats{
		PledgesByGovernorate: map[string]int{}, PledgesByLang: map[string]int{}, PledgesByChannel: map[string]int{},
		SignupsByGovernorate: map[string]int{}, SignupsByLang: map[string]int{}, SignupsByChannel: map[string]int{},
	}
	prefix := itob(campaignID)
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		if err := forEachPrefix(tx.Bucket(bucketPledges), prefix, func(p *Pledge) {
			if !keep(p.Institution) {
				return
			}
			st.Pledges++
			st.PledgesByGovernorate[p.Governorate]++
			st.PledgesByLang[p.Lang]++
			st.PledgesByChannel[string(p.Channel)]++
			if p.ReferredBy != 0 {
				st.Referred++
			}
		}); err != nil {
			return err
		}
		return forEachPrefix(tx.Bucket(bucketSignups), prefix, func(su *Signup) {
			if !keep(su.Institution) {
				return
			}
			st.Signups++
			st.SignupsByGovernorate[su.Governorate]++
			st.SignupsByLang[su.Lang]++
			st.SignupsByChannel[string(su.Channel)]++
			if su.ReferredBy != 0 {
				st.Referred++
			}
		})
	})
	if err != nil {
		return Stats{}, fmt.Errorf("stats of campaign %d: %w", campaignID, err)
	}
	return st, nil
}

// forEachPrefix decodes each record of b under prefix, inside the caller's transaction.
func forEachPrefix[T any](b *bbolt.Bucket, prefix []byte, fn func(*T)) error {
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var rec T
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decoding record %x: %w", k, err)
		}
		fn(&rec)
	}
	return nil
}
