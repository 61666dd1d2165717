package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// CreateCampaign stores a new campaign, setting c.ID and lower-casing
// c.Code; a zero CreatedAt becomes now. store.ErrCodeTaken if another
// campaign has the code (the constraint campaigns_code_key decides between
// concurrent creators). Its counters start at zero in the same transaction.
func (s *Store) CreateCampaign(ctx context.Context, c *store.Campaign) error {
	rec := *c
	rec.Code = normCode(rec.Code)
	if rec.Code == "" {
		return errors.New("creating campaign: a campaign needs a code")
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.stamp()
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		// checked first so that, in a caller's transaction, a taken code
		// does not abort it; the constraint still decides a race
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM campaigns WHERE code = $1)`, rec.Code).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("%q: %w", rec.Code, store.ErrCodeTaken)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO campaigns (code, record) VALUES ($1, '{}') RETURNING id`, rec.Code).Scan(&rec.ID); err != nil {
			if isUnique(err, "campaigns_code_key") {
				return fmt.Errorf("%q: %w", rec.Code, store.ErrCodeTaken)
			}
			return err
		}
		if err := putCampaign(ctx, tx, &rec); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO campaign_counts (campaign_id) VALUES ($1)`, rec.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("creating campaign: %w", err)
	}
	*c = rec
	return nil
}

// putCampaign writes c's record.
func putCampaign(ctx context.Context, tx pgx.Tx, c *store.Campaign) error {
	rec, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encoding campaign %d: %w", c.ID, err)
	}
	_, err = tx.Exec(ctx, `UPDATE campaigns SET record = $2 WHERE id = $1`, c.ID, rec)
	return err
}

// scanCampaign reads one row of (id, record), or ErrNotFound.
func scanCampaign(row pgx.Row) (*store.Campaign, error) {
	return scanRecord(row, "campaign", func(c *store.Campaign, id uint64) { c.ID = id })
}

// scanRecord reads one row of (id, record) of a table that keeps each
// record as JSON beside its ID, or store.ErrNotFound; setID puts the
// row's ID in the record.
func scanRecord[T any](row pgx.Row, what string, setID func(*T, uint64)) (*T, error) {
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
	v := new(T)
	if err := json.Unmarshal(rec, v); err != nil {
		return nil, fmt.Errorf("decoding %s %d: %w", what, id, err)
	}
	setID(v, id)
	return v, nil
}

// Campaign returns the campaign with the given ID, or ErrNotFound.
func (s *Store) Campaign(ctx context.Context, id uint64) (*store.Campaign, error) {
	c, err := scanCampaign(s.q(ctx).QueryRow(ctx, `SELECT id, record FROM campaigns WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("campaign %d: %w", id, err)
	}
	return c, nil
}

// CampaignByCode returns the campaign with the code, in any case, or ErrNotFound.
func (s *Store) CampaignByCode(ctx context.Context, code string) (*store.Campaign, error) {
	c, err := scanCampaign(s.q(ctx).QueryRow(ctx, `SELECT id, record FROM campaigns WHERE code = $1`, normCode(code)))
	if err != nil {
		return nil, fmt.Errorf("campaign %q: %w", code, err)
	}
	return c, nil
}
