package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// AddWatch records that the contact wants to hear when the campaign opens,
// as store.Store.AddWatch does; asking twice keeps the first request (the
// primary key decides between two at once). It reports whether the request
// is new. store.ErrCampaignNotFound, or store.ErrNotFound for an unknown
// contact.
func (s *Store) AddWatch(ctx context.Context, campaignID, contactID uint64) (bool, error) {
	added := false
	now := s.stamp()
	err := s.write(ctx, func(tx pgx.Tx) error {
		added = false
		var campaign, contact bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1), EXISTS (SELECT 1 FROM contacts WHERE id = $2)`,
			campaignID, contactID).Scan(&campaign, &contact); err != nil {
			return err
		}
		switch {
		case !campaign:
			return store.ErrCampaignNotFound
		case !contact:
			return fmt.Errorf("contact %d: %w", contactID, store.ErrNotFound)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO watchers (campaign_id, contact_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			campaignID, contactID, now)
		added = err == nil && tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("watch of contact %d on campaign %d: %w", contactID, campaignID, err)
	}
	return added, nil
}

// Watching reports whether the contact asked to hear when the campaign opens.
func (s *Store) Watching(ctx context.Context, campaignID, contactID uint64) (bool, error) {
	var found bool
	err := s.q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM watchers WHERE campaign_id = $1 AND contact_id = $2)`,
		campaignID, contactID).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("watch of contact %d on campaign %d: %w", contactID, campaignID, err)
	}
	return found, nil
}

// TakeWatchers removes and returns the people waiting for the campaign to
// open, in contact order, in the transaction that tells them, as
// store.Store.TakeWatchers does: each is told once, however many
// instances take them at once.
func (s *Store) TakeWatchers(ctx context.Context, campaignID uint64) ([]store.Watch, error) {
	var out []store.Watch
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, `DELETE FROM watchers WHERE campaign_id = $1 RETURNING contact_id, at`, campaignID)
		if err != nil {
			return err
		}
		var (
			contact uint64
			at      time.Time
		)
		_, err = pgx.ForEachRow(rows, []any{&contact, &at}, func() error {
			out = append(out, store.Watch{CampaignID: campaignID, ContactID: contact, At: at.UTC()})
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("watchers of campaign %d: %w", campaignID, err)
	}
	slices.SortFunc(out, func(a, b store.Watch) int { return cmp.Compare(a.ContactID, b.ContactID) })
	return out, nil
}
