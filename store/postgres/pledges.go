package postgres

import (
	"context"
	"errors"
	"fmt"

	"mobilise/bot"
	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// AddPledge records p, one per person per campaign, and raises the
// campaign's pledge counter in the same transaction, as
// store.Store.AddPledge does. A zero p.At becomes now. The pledge that
// brings the count to the campaign's Target (or past a Target lowered
// below it) sets Campaign.TargetReachedAt and ReachedTarget, once per
// campaign. Errors: store.ErrAlreadyPledged (with the current Counts and
// Campaign in the result), store.ErrCampaignNotFound, store.ErrNotFound for
// an unknown contact.
//
// The pledge's primary key makes a second pledge of the same person wait
// for the first and then do nothing; the counter's row lock, taken last
// and held to the commit, orders the pledges of one campaign, so each sees
// the exact count it made and one of them reaches the target.
func (s *Store) AddPledge(ctx context.Context, p store.Pledge) (store.PledgeResult, error) {
	if p.CampaignID == 0 || p.ContactID == 0 || p.ContactID&(1<<63) != 0 {
		return store.PledgeResult{}, fmt.Errorf("adding pledge: bad campaign %d or contact %d", p.CampaignID, p.ContactID)
	}
	now := s.stamp()
	if p.At.IsZero() {
		p.At = now
	}
	p.At = p.At.UTC()
	var (
		res     store.PledgeResult
		outcome error // the caller's error, after which the transaction still commits nothing
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		res, outcome = store.PledgeResult{}, nil
		c, err := scanCampaign(tx.QueryRow(ctx, `SELECT id, record FROM campaigns WHERE id = $1`, p.CampaignID))
		switch {
		case errors.Is(err, store.ErrNotFound):
			outcome = store.ErrCampaignNotFound
			return nil
		case err != nil:
			return err
		}
		res.Campaign = *c
		var known bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM contacts WHERE id = $1)`, p.ContactID).Scan(&known); err != nil {
			return err
		}
		if !known {
			outcome = fmt.Errorf("contact %d: %w", p.ContactID, store.ErrNotFound)
			return nil
		}
		tag, err := tx.Exec(ctx, `INSERT INTO pledges (campaign_id, contact_id, at, channel, governorate, lang, referred_by, institution)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (campaign_id, contact_id) DO NOTHING`,
			p.CampaignID, p.ContactID, p.At, string(p.Channel), p.Governorate, p.Lang, p.ReferredBy, p.Institution)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			outcome = store.ErrAlreadyPledged
			res.Counts, err = readCounts(ctx, tx, p.CampaignID)
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE campaign_counts SET pledges = pledges + 1 WHERE campaign_id = $1 RETURNING pledges, signups`,
			p.CampaignID).Scan(&res.Counts.Pledges, &res.Counts.Signups); err != nil {
			return fmt.Errorf("raising the counter: %w", err)
		}
		if c.Target <= 0 || res.Counts.Pledges < c.Target || !c.TargetReachedAt.IsZero() {
			return nil
		}
		// read again under the campaign's lock: an edit may have landed since
		c, err = scanCampaign(tx.QueryRow(ctx, `SELECT id, record FROM campaigns WHERE id = $1 FOR UPDATE`, p.CampaignID))
		if err != nil {
			return err
		}
		res.Campaign = *c
		if c.Target > 0 && res.Counts.Pledges >= c.Target && c.TargetReachedAt.IsZero() {
			res.Campaign.TargetReachedAt = now
			res.ReachedTarget = true
			return putCampaign(ctx, tx, &res.Campaign)
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

// Pledge returns the contact's pledge to the campaign, or ErrNotFound.
func (s *Store) Pledge(ctx context.Context, campaignID, contactID uint64) (*store.Pledge, error) {
	p := &store.Pledge{CampaignID: campaignID, ContactID: contactID}
	var channel string
	err := s.q(ctx).QueryRow(ctx, `SELECT at, channel, governorate, lang, referred_by, institution FROM pledges
		WHERE campaign_id = $1 AND contact_id = $2`, campaignID, contactID).
		Scan(&p.At, &channel, &p.Governorate, &p.Lang, &p.ReferredBy, &p.Institution)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("pledge of contact %d to campaign %d: %w", contactID, campaignID, err)
	}
	p.At = p.At.UTC()
	p.Channel = bot.ChannelName(channel)
	return p, nil
}

// Counts returns the campaign's totals; zero if it has none (or does not exist).
func (s *Store) Counts(ctx context.Context, campaignID uint64) (store.Counts, error) {
	c, err := readCounts(ctx, s.q(ctx), campaignID)
	if err != nil {
		return store.Counts{}, fmt.Errorf("counts of campaign %d: %w", campaignID, err)
	}
	return c, nil
}

func readCounts(ctx context.Context, q querier, campaignID uint64) (store.Counts, error) {
	var c store.Counts
	err := q.QueryRow(ctx, `SELECT pledges, signups FROM campaign_counts WHERE campaign_id = $1`, campaignID).Scan(&c.Pledges, &c.Signups)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return store.Counts{}, err
	}
	return c, nil
}
