package postgres

import (
	"context"
	"errors"
	"fmt"

	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// Campaigns returns all campaigns in ID order.
func (s *Store) Campaigns(ctx context.Context) ([]store.Campaign, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT id, record FROM campaigns ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("listing campaigns: %w", err)
	}
	var out []store.Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing campaigns: %w", err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing campaigns: %w", err)
	}
	return out, nil
}

// UpdateCampaign reads the campaign, lets fn change it and writes it back,
// in one transaction holding its row lock, as store.Store.UpdateCampaign
// does; if fn returns an error nothing is written. fn cannot change the
// ID; a changed Code is lower-cased (store.ErrCodeTaken if another
// campaign has it, the constraint deciding a race).
func (s *Store) UpdateCampaign(ctx context.Context, id uint64, fn func(*store.Campaign) error) (*store.Campaign, error) {
	var out *store.Campaign
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = nil
		c, err := scanCampaign(tx.QueryRow(ctx, `SELECT id, record FROM campaigns WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
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
			var owner uint64
			switch err := tx.QueryRow(ctx, `SELECT id FROM campaigns WHERE code = $1`, c.Code).Scan(&owner); {
			case err == nil && owner != id:
				return fmt.Errorf("%q: %w", c.Code, store.ErrCodeTaken)
			case err != nil && !errors.Is(err, pgx.ErrNoRows):
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE campaigns SET code = $2 WHERE id = $1`, id, c.Code); err != nil {
				if isUnique(err, "campaigns_code_key") {
					return fmt.Errorf("%q: %w", c.Code, store.ErrCodeTaken)
				}
				return err
			}
		}
		if err := putCampaign(ctx, tx, c); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("updating campaign %d: %w", id, err)
	}
	return out, nil
}
