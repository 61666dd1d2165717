package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mobilise/bot"
	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// Schema, migration 13:
//
//	signups            (campaign_id, contact_id) PK   one sign-up per person per campaign (signups_pkey), with the
//	                                                  details a pledge has; signups_contact_idx finds a person's
//	forgotten_pledges  id identity PK                 the pledge of a person ForgetContact erased: its time and the
//	                                                  institution credited, nothing of the person; listed after the
//	                                                  campaign's other pledges (forgotten_pledges_campaign_idx)
//
// The counters in campaign_counts move in the transaction of every pledge,
// withdrawal, sign-up and cancellation, the counter row's lock ordering
// those of one campaign.

// pairRow is the columns a pledge or a sign-up has.
type pairRow struct {
	campaignID, contactID   uint64
	at                      time.Time
	channel, governorate    string
	lang                    string
	referredBy, institution uint64
}

func (r *pairRow) dest() []any {
	return []any{&r.campaignID, &r.contactID, &r.at, &r.channel, &r.governorate, &r.lang, &r.referredBy, &r.institution}
}

func (r *pairRow) pledge() store.Pledge {
	return store.Pledge{CampaignID: r.campaignID, ContactID: r.contactID, At: r.at.UTC(), Channel: bot.ChannelName(r.channel),
		Governorate: r.governorate, Lang: r.lang, ReferredBy: r.referredBy, Institution: r.institution}
}

func (r *pairRow) signup() store.Signup {
	return store.Signup{CampaignID: r.campaignID, ContactID: r.contactID, At: r.at.UTC(), Channel: bot.ChannelName(r.channel),
		Governorate: r.governorate, Lang: r.lang, ReferredBy: r.referredBy, Institution: r.institution}
}

const pairColumns = `campaign_id, contact_id, at, channel, governorate, lang, referred_by, institution`

// pagePairs is how many rows Pledges and Signups read at a time.
const pagePairs = 500

// AddSignup records a sign-up for a campaign's event, one per person per
// campaign, and raises the sign-up counter in the same transaction, as
// store.Store.AddSignup does. A zero su.At becomes now. Errors:
// store.ErrAlreadySignedUp (with the current Counts),
// store.ErrCampaignNotFound, store.ErrNotFound for an unknown contact. The
// sign-up's primary key makes a second one of the same person wait for
// the first and then do nothing.
func (s *Store) AddSignup(ctx context.Context, su store.Signup) (store.Counts, error) {
	if su.CampaignID == 0 || su.ContactID == 0 || su.ContactID&(1<<63) != 0 {
		return store.Counts{}, fmt.Errorf("adding sign-up: bad campaign %d or contact %d", su.CampaignID, su.ContactID)
	}
	if su.At.IsZero() {
		su.At = s.stamp()
	}
	su.At = su.At.UTC()
	var (
		counts  store.Counts
		outcome error
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		counts, outcome = store.Counts{}, nil
		var campaign, contact bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1), EXISTS (SELECT 1 FROM contacts WHERE id = $2)`,
			su.CampaignID, su.ContactID).Scan(&campaign, &contact); err != nil {
			return err
		}
		switch {
		case !campaign:
			outcome = store.ErrCampaignNotFound
			return nil
		case !contact:
			outcome = fmt.Errorf("contact %d: %w", su.ContactID, store.ErrNotFound)
			return nil
		}
		tag, err := tx.Exec(ctx, `INSERT INTO signups (`+pairColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (campaign_id, contact_id) DO NOTHING`,
			su.CampaignID, su.ContactID, su.At, string(su.Channel), su.Governorate, su.Lang, su.ReferredBy, su.Institution)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			outcome = store.ErrAlreadySignedUp
			counts, err = readCounts(ctx, tx, su.CampaignID)
			return err
		}
		counts, err = addCounts(ctx, tx, su.CampaignID, 0, 1)
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

// addCounts moves the campaign's counters by the deltas, holding the
// counter row's lock to the commit, and returns the result.
func addCounts(ctx context.Context, tx pgx.Tx, campaignID uint64, dPledges, dSignups int) (store.Counts, error) {
	var c store.Counts
	err := tx.QueryRow(ctx, `INSERT INTO campaign_counts (campaign_id, pledges, signups) VALUES ($1, $2, $3)
		ON CONFLICT (campaign_id) DO UPDATE SET pledges = campaign_counts.pledges + EXCLUDED.pledges,
			signups = campaign_counts.signups + EXCLUDED.signups
		RETURNING pledges, signups`, campaignID, dPledges, dSignups).Scan(&c.Pledges, &c.Signups)
	if err != nil {
		return store.Counts{}, fmt.Errorf("moving the counters: %w", err)
	}
	return c, nil
}

// removePair deletes the contact's pledge or sign-up (table) and lowers
// its counter in the same transaction, as CancelSignup and WithdrawPledge
// do; ErrNotFound if there is none.
func (s *Store) removePair(ctx context.Context, table string, campaignID, contactID uint64) (store.Counts, error) {
	var (
		counts  store.Counts
		outcome error
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		counts, outcome = store.Counts{}, nil
		tag, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE campaign_id = $1 AND contact_id = $2`, campaignID, contactID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			outcome = store.ErrNotFound
			return nil
		}
		if table == "pledges" {
			counts, err = addCounts(ctx, tx, campaignID, -1, 0)
		} else {
			counts, err = addCounts(ctx, tx, campaignID, 0, -1)
		}
		return err
	})
	if err == nil {
		err = outcome
	}
	return counts, err
}

// CancelSignup deletes the contact's sign-up and lowers the counter in the
// same transaction; ErrNotFound if there is none.
func (s *Store) CancelSignup(ctx context.Context, campaignID, contactID uint64) (store.Counts, error) {
	counts, err := s.removePair(ctx, "signups", campaignID, contactID)
	if err != nil {
		return counts, fmt.Errorf("cancelling sign-up of contact %d for campaign %d: %w", contactID, campaignID, err)
	}
	return counts, nil
}

// WithdrawPledge deletes the contact's pledge and lowers the counter in
// the same transaction; ErrNotFound if there is none. A target once
// reached stays reached.
func (s *Store) WithdrawPledge(ctx context.Context, campaignID, contactID uint64) (store.Counts, error) {
	counts, err := s.removePair(ctx, "pledges", campaignID, contactID)
	if err != nil {
		return counts, fmt.Errorf("withdrawing pledge of contact %d to campaign %d: %w", contactID, campaignID, err)
	}
	return counts, nil
}

// Signup returns the contact's sign-up for the campaign, or ErrNotFound.
func (s *Store) Signup(ctx context.Context, campaignID, contactID uint64) (*store.Signup, error) {
	var r pairRow
	err := s.q(ctx).QueryRow(ctx, `SELECT `+pairColumns+` FROM signups WHERE campaign_id = $1 AND contact_id = $2`,
		campaignID, contactID).Scan(r.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sign-up of contact %d for campaign %d: %w", contactID, campaignID, err)
	}
	su := r.signup()
	return &su, nil
}

// scanPairs calls fn for each row of table for the campaign in contact
// order, a page at a time, outside any transaction; fn's error is returned
// as it is. It returns the last contact ID read and whether fn stopped it.
func (s *Store) scanPairs(ctx context.Context, table string, campaignID uint64, fn func(*pairRow) error) (stopped bool, err error) {
	var after uint64
	for {
		rows, err := s.q(ctx).Query(ctx, `SELECT `+pairColumns+` FROM `+table+`
			WHERE campaign_id = $1 AND contact_id > $2 ORDER BY contact_id LIMIT $3`, campaignID, after, pagePairs)
		if err != nil {
			return false, err
		}
		var page []pairRow
		var r pairRow
		if _, err := pgx.ForEachRow(rows, r.dest(), func() error {
			page = append(page, r)
			return nil
		}); err != nil {
			return false, err
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return true, err
			}
		}
		if len(page) < pagePairs {
			return false, nil
		}
		after = page[len(page)-1].contactID
	}
}

// Pledges calls fn for each pledge to the campaign, as store.Store.Pledges
// does: by contact, then the anonymous pledges of people forgotten (no
// contact, channel, governorate, language or referrer), stopping at fn's
// first error, which it returns as it is. fn runs outside any transaction.
func (s *Store) Pledges(ctx context.Context, campaignID uint64, fn func(*store.Pledge) error) error {
	stopped, err := s.scanPairs(ctx, "pledges", campaignID, func(r *pairRow) error {
		p := r.pledge()
		return fn(&p)
	})
	if stopped {
		return err
	}
	if err != nil {
		return fmt.Errorf("pledges to campaign %d: %w", campaignID, err)
	}
	var after int64
	for {
		rows, err := s.q(ctx).Query(ctx, `SELECT id, at, institution FROM forgotten_pledges
			WHERE campaign_id = $1 AND id > $2 ORDER BY id LIMIT $3`, campaignID, after, pagePairs)
		if err != nil {
			return fmt.Errorf("pledges to campaign %d: %w", campaignID, err)
		}
		var page []store.Pledge
		var (
			id          int64
			at          time.Time
			institution uint64
		)
		if _, err := pgx.ForEachRow(rows, []any{&id, &at, &institution}, func() error {
			page = append(page, store.Pledge{CampaignID: campaignID, At: at.UTC(), Institution: institution})
			after = id
			return nil
		}); err != nil {
			return fmt.Errorf("pledges to campaign %d: %w", campaignID, err)
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < pagePairs {
			return nil
		}
	}
}

// Signups calls fn for each sign-up for the campaign in contact order,
// stopping at fn's first error, which it returns as it is. fn runs outside
// any transaction.
func (s *Store) Signups(ctx context.Context, campaignID uint64, fn func(*store.Signup) error) error {
	stopped, err := s.scanPairs(ctx, "signups", campaignID, func(r *pairRow) error {
		su := r.signup()
		return fn(&su)
	})
	if err != nil && !stopped {
		return fmt.Errorf("sign-ups for campaign %d: %w", campaignID, err)
	}
	return err
}

// contactPairs reads the contact's rows of table in campaign order.
func (s *Store) contactPairs(ctx context.Context, table string, contactID uint64) ([]pairRow, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+pairColumns+` FROM `+table+` WHERE contact_id = $1 ORDER BY campaign_id`, contactID)
	if err != nil {
		return nil, err
	}
	var (
		out []pairRow
		r   pairRow
	)
	_, err = pgx.ForEachRow(rows, r.dest(), func() error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// ContactPledges returns the contact's pledges in campaign order.
func (s *Store) ContactPledges(ctx context.Context, contactID uint64) ([]store.Pledge, error) {
	rows, err := s.contactPairs(ctx, "pledges", contactID)
	if err != nil {
		return nil, fmt.Errorf("pledges of contact %d: %w", contactID, err)
	}
	var out []store.Pledge
	for i := range rows {
		out = append(out, rows[i].pledge())
	}
	return out, nil
}

// ContactSignups returns the contact's sign-ups in campaign order.
func (s *Store) ContactSignups(ctx context.Context, contactID uint64) ([]store.Signup, error) {
	rows, err := s.contactPairs(ctx, "signups", contactID)
	if err != nil {
		return nil, fmt.Errorf("sign-ups of contact %d: %w", contactID, err)
	}
	var out []store.Signup
	for i := range rows {
		out = append(out, rows[i].signup())
	}
	return out, nil
}

// CampaignStats counts the campaign's pledges and sign-ups by governorate,
// language and channel, from one snapshot, as store.Store.CampaignStats
// does. Every map is non-nil; "" counts records where the detail is
// unknown (forgotten pledges among them). A campaign with no records, or
// none at all, gives zeros.
func (s *Store) CampaignStats(ctx context.Context, campaignID uint64) (store.Stats, error) {
	return s.campaignStats(ctx, campaignID, false, 0)
}

// CampaignShareStats is CampaignStats of the pledges and sign-ups credited
// to one organising institution (0: the coalition).
func (s *Store) CampaignShareStats(ctx context.Context, campaignID, institutionID uint64) (store.Stats, error) {
	return s.campaignStats(ctx, campaignID, true, institutionID)
}

func (s *Store) campaignStats(ctx context.Context, campaignID uint64, share bool, institution uint64) (store.Stats, error) {
	st := store.Stats{
		PledgesByGovernorate: map[string]int{}, PledgesByLang: map[string]int{}, PledgesByChannel: map[string]int{},
		SignupsByGovernorate: map[string]int{}, SignupsByLang: map[string]int{}, SignupsByChannel: map[string]int{},
	}
	err := s.snapshot(ctx, func(q querier) error {
		rows, err := q.Query(ctx, `
			SELECT 'pledge', governorate, lang, channel, referred_by <> 0, count(*) FROM pledges
				WHERE campaign_id = $1 AND (NOT $2 OR institution = $3) GROUP BY 2, 3, 4, 5
			UNION ALL SELECT 'pledge', '', '', '', false, count(*) FROM forgotten_pledges
				WHERE campaign_id = $1 AND (NOT $2 OR institution = $3) HAVING count(*) > 0
			UNION ALL SELECT 'signup', governorate, lang, channel, referred_by <> 0, count(*) FROM signups
				WHERE campaign_id = $1 AND (NOT $2 OR institution = $3) GROUP BY 2, 3, 4, 5`, campaignID, share, institution)
		if err != nil {
			return err
		}
		var (
			kind, gov, lang, channel string
			referred                 bool
			n                        int
		)
		_, err = pgx.ForEachRow(rows, []any{&kind, &gov, &lang, &channel, &referred, &n}, func() error {
			if referred {
				st.Referred += n
			}
			if kind == "pledge" {
				st.Pledges += n
				st.PledgesByGovernorate[gov] += n
				st.PledgesByLang[lang] += n
				st.PledgesByChannel[channel] += n
				return nil
			}
			st.Signups += n
			st.SignupsByGovernorate[gov] += n
			st.SignupsByLang[lang] += n
			st.SignupsByChannel[channel] += n
			return nil
		})
		return err
	})
	if err != nil {
		return store.Stats{}, fmt.Errorf("stats of campaign %d: %w", campaignID, err)
	}
	return st, nil
}
