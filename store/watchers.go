package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// bucketWatchers holds who asked to be told when a scheduled campaign opens.
var bucketWatchers = []byte("campaign_watchers")

// Watch is a person's request to hear when a campaign opens.
type Watch struct {
	CampaignID uint64    `json:"campaign_id"`
	ContactID  uint64    `json:"contact_id"`
	At         time.Time `json:"at"`
}

// createVersion6 creates the bucket of schema version 6: the people waiting
// for a scheduled campaign to open.
func createVersion6(tx *bbolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketWatchers); err != nil {
		return fmt.Errorf("creating bucket %s: %w", bucketWatchers, err)
	}
	return nil
}

// AddWatch records that the contact wants to hear when the campaign opens;
// asking twice keeps the first request. It reports whether the request is new.
func (s *Store) AddWatch(ctx context.Context, campaignID, contactID uint64) (bool, error) {
	added := false
	err := s.writeBatch(ctx, func(tx *bbolt.Tx) error {
		added = false
		if tx.Bucket(bucketCampaigns).Get(itob(campaignID)) == nil {
			return ErrCampaignNotFound
		}
		if tx.Bucket(bucketContacts).Get(itob(contactID)) == nil {
			return fmt.Errorf("contact %d: %w", contactID, ErrNotFound)
		}
		b := tx.Bucket(bucketWatchers)
		key := pairKey(campaignID, contactID)
		if b.Get(key) != nil {
			return nil
		}
		added = true
		return putJSON(b, key, Watch{CampaignID: campaignID, ContactID: contactID, At: s.stamp()})
	})
	if err != nil {
		return false, fmt.Errorf("watch of contact %d on campaign %d: %w", contactID, campaignID, err)
	}
	return added, nil
}

// Watching reports whether the contact asked to hear when the campaign opens.
func (s *Store) Watching(ctx context.Context, campaignID, contactID uint64) (bool, error) {
	found := false
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		found = tx.Bucket(bucketWatchers).Get(pairKey(campaignID, contactID)) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("watch of contact %d on campaign %d: %w", contactID, campaignID, err)
	}
	return found, nil
}

// TakeWatchers removes and returns the people waiting for the campaign to
// open, in the transaction that tells them: each is told once.
func (s *Store) TakeWatchers(ctx context.Context, campaignID uint64) ([]Watch, error) {
	var out []Watch
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		out = nil
		b := tx.Bucket(bucketWatchers)
		prefix := itob(campaignID)
		var keys [][]byte
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && len(k) == 16 && btoi(k[:8]) == campaignID; k, v = c.Next() {
			var w Watch
			if err := json.Unmarshal(v, &w); err != nil {
				return fmt.Errorf("decoding watch %x: %w", k, err)
			}
			out = append(out, w)
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("watchers of campaign %d: %w", campaignID, err)
	}
	return out, nil
}

// forgetWatches deletes a forgotten contact's requests, inside tx.
func forgetWatches(tx *bbolt.Tx, contactID uint64) error {
	b := tx.Bucket(bucketWatchers)
	return forEachCampaignID(tx, func(cid uint64) error { return b.Delete(pairKey(cid, contactID)) })
}

// moveWatches gives mergeID's requests to keepID when their accounts merge, inside tx.
func moveWatches(tx *bbolt.Tx, keepID, mergeID uint64) error {
	b := tx.Bucket(bucketWatchers)
	return forEachCampaignID(tx, func(cid uint64) error {
		from := pairKey(cid, mergeID)
		var w Watch
		switch err := getJSON(b, from, &w); {
		case errors.Is(err, ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		if err := b.Delete(from); err != nil {
			return err
		}
		if to := pairKey(cid, keepID); b.Get(to) == nil {
			w.ContactID = keepID
			return putJSON(b, to, w)
		}
		return nil
	})
}
