package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// CreateCampaign stores a new campaign, setting c.ID and lower-casing c.Code;
// a zero CreatedAt becomes now. ErrCodeTaken if another campaign has the code.
func (s *Store) CreateCampaign(ctx context.Context, c *Campaign) error {
	rec := *c
	rec.Code = normCode(rec.Code)
	if rec.Code == "" {
		return errors.New("creating campaign: a campaign needs a code")
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.stamp()
	}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		codes := tx.Bucket(bucketCampaignCodes)
		if codes.Get([]byte(rec.Code)) != nil {
			return fmt.Errorf("%q: %w", rec.Code, ErrCodeTaken)
		}
		b := tx.Bucket(bucketCampaigns)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		rec.ID = id
		if err := putJSON(b, itob(id), &rec); err != nil {
			return err
		}
		return codes.Put([]byte(rec.Code), itob(id))
	})
	if err != nil {
		return fmt.Errorf("creating campaign: %w", err)
	}
	*c = rec
	return nil
}

// Campaign returns the campaign with the given ID, or ErrNotFound.
func (s *Store) Campaign(ctx context.Context, id uint64) (*Campaign, error) {
	c := &Campaign{}
	if err := s.read(ctx, func(tx *bbolt.Tx) error { return getJSON(tx.Bucket(bucketCampaigns), itob(id), c) }); err != nil {
		return nil, fmt.Errorf("campaign %d: %w", id, err)
	}
	return c, nil
}

// CampaignByCode returns the campaign with the code, in any case, or ErrNotFound.
func (s *Store) CampaignByCode(ctx context.Context, code string) (*Campaign, error) {
	c := &Campaign{}
	err := s.read(ctx, func(tx *bbolt.Tx) error {
		id := tx.Bucket(bucketCampaignCodes).Get([]byte(normCode(code)))
		if id == nil {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bucketCampaigns), id, c)
	})
	if err != nil {
		return nil, fmt.Errorf("campaign %q: %w", code, err)
	}
	return c, nil
}

// Campaigns returns all campaigns in ID order.
func (s *Store) Campaigns(ctx context.Context) ([]Campaign, error) {
	var out []Campaign
	err := scanJSON(ctx, s, bucketCampaigns, nil, func(_ []byte, c *Campaign) error {
		out = append(out, *c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing campaigns: %w", err)
	}
	return out, nil
}

// UpdateCampaign reads the campaign, lets fn change it and writes it back, in
// one transaction; if fn returns an error nothing is written. fn cannot
// change the ID; a changed Code is lower-cased and re-indexed (ErrCodeTaken
// if another campaign has it).
func (s *Store) UpdateCampaign(ctx context.Context, id uint64, fn func(*Campaign) error) (*Campaign, error) {
	c := &Campaign{}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCampaigns)
		if err := getJSON(b, itob(id), c); err != nil {
			return err
		}
		oldCode := c.Code
		if err := fn(c); err != nil {
			return err
		}
		c.ID = id
		c.Code = normCode(c.Code)
		if c.Code != oldCode {
			if c.Code == "" {
				return errors.New("a campaign needs a code")
			}
			codes := tx.Bucket(bucketCampaignCodes)
			if owner := codes.Get([]byte(c.Code)); owner != nil && !bytes.Equal(owner, itob(id)) {
				return fmt.Errorf("%q: %w", c.Code, ErrCodeTaken)
			}
			if oldCode != "" {
				if err := codes.Delete([]byte(oldCode)); err != nil {
					return err
				}
			}
			if err := codes.Put([]byte(c.Code), itob(id)); err != nil {
				return err
			}
		}
		return putJSON(b, itob(id), c)
	})
	if err != nil {
		return nil, fmt.Errorf("updating campaign %d: %w", id, err)
	}
	return c, nil
}
