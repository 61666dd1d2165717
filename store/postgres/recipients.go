package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"mobilise/bot"
	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// recipientBatch is how many reachable contacts RecipientsPage reads per
// query while it fills a page.
const recipientBatch = 1000

// snapshot runs fn on the transaction ctx carries, or else in a read-only
// transaction of its own at REPEATABLE READ, so that the queries fn makes
// see one state of the database, as a bbolt read does.
func (s *Store) snapshot(ctx context.Context, fn func(q querier) error) (err error) {
	if a := s.joined(ctx); a != nil {
		return fn(a.tx)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("beginning a read: %w", err)
	}
	defer func() {
		if err != nil {
			// nothing was written: a failed rollback loses nothing
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Recipients returns the people aud reaches, one Recipient per person in
// contact ID order, as store.Store.Recipients does: people who consented,
// have not said /stop and have a usable address on a channel channelOK
// accepts (nil accepts all), at their preferred channel if it does.
func (s *Store) Recipients(ctx context.Context, aud store.Audience, channelOK func(channel bot.ChannelName) bool) ([]store.Recipient, error) {
	page, err := s.RecipientsPage(ctx, aud, channelOK, 0, 0)
	return page.Recipients, err
}

// RecipientsPage returns, as store.Store.RecipientsPage does, up to limit
// (0: all) of the people aud reaches with contact IDs above after, in ID
// order, from one snapshot. A full page ends at its last recipient
// (Through) with Last false; a page that runs out of people has Last set
// and Through the highest contact ID the audience's scan passed (after if
// none).
//
// Audiences of an institution's supporters and of a poll's answer give
// ErrUnsupported.
func (s *Store) RecipientsPage(ctx context.Context, aud store.Audience, channelOK func(channel bot.ChannelName) bool, after uint64, limit int) (store.RecipientPage, error) {
	if err := aud.Validate(); err != nil {
		return store.RecipientPage{}, fmt.Errorf("selecting recipients: %w", err)
	}
	var page store.RecipientPage
	err := s.snapshot(ctx, func(q querier) error {
		var err error
		page, err = recipientsPage(ctx, q, aud, channelOK, after, limit)
		return err
	})
	if err != nil {
		return store.RecipientPage{}, fmt.Errorf("selecting recipients for %s: %w", aud.Kind, err)
	}
	return page, nil
}

// audienceWhere is the condition on contacts (as "contacts") of the
// audience's kind, its arguments numbered from $3, and the scan the bbolt
// store makes for it: whether it passes every contact (else only the
// campaign's pledgers or sign-ups).
func audienceWhere(ctx context.Context, q querier, aud store.Audience) (where string, args []any, everyContact bool, err error) {
	where, args, everyContact, err = kindWhere(ctx, q, aud)
	if err != nil {
		return "", nil, false, err
	}
	where, args = onList(aud, where, args, 3)
	return where, args, everyContact && aud.Institution == 0, nil
}

// kindWhere is audienceWhere for the audience's kind alone, before the
// limit to an institution's list.
func kindWhere(ctx context.Context, q querier, aud store.Audience) (where string, args []any, everyContact bool, err error) {
	switch aud.Kind {
	case store.AudiencePollAnswer:
		where, args, err := pollAnswerAudience(ctx, q, aud, 3)
		return where, args, false, err
	case store.AudienceEveryone:
		return "", nil, true, nil
	case store.AudienceMembers:
		return ` AND member`, nil, true, nil
	case store.AudienceGovernorate:
		return ` AND governorate = $3`, []any{aud.Governorate}, true, nil
	case store.AudienceLang:
		return ` AND lang = $3`, []any{aud.Lang}, true, nil
	case store.AudiencePledgers, store.AudienceNotPledged, store.AudienceSignups:
		var found bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1)`, aud.CampaignID).Scan(&found); err != nil {
			return "", nil, false, err
		}
		if !found {
			return "", nil, false, store.ErrCampaignNotFound
		}
		if aud.Kind == store.AudienceNotPledged {
			return ` AND NOT EXISTS (SELECT 1 FROM pledges p WHERE p.campaign_id = $3 AND p.contact_id = contacts.id)`,
				[]any{aud.CampaignID}, true, nil
		}
		if aud.Kind == store.AudienceSignups {
			return ` AND EXISTS (SELECT 1 FROM signups su WHERE su.campaign_id = $3 AND su.contact_id = contacts.id)`,
				[]any{aud.CampaignID}, false, nil
		}
		return ` AND EXISTS (SELECT 1 FROM pledges p WHERE p.campaign_id = $3 AND p.contact_id = contacts.id)`,
			[]any{aud.CampaignID}, false, nil
	}
	return "", nil, false, fmt.Errorf("audience %s: %w", aud.Kind, ErrUnsupported)
}

func recipientsPage(ctx context.Context, q querier, aud store.Audience, channelOK func(channel bot.ChannelName) bool, after uint64, limit int) (store.RecipientPage, error) {
	where, extra, everyContact, err := audienceWhere(ctx, q, aud)
	if err != nil {
		return store.RecipientPage{}, err
	}
	page := store.RecipientPage{Through: after}
	if after >= 1<<63-1 {
		page.Last = true
		return page, nil
	}
	cursor := int64(after)
	for {
		args := append([]any{cursor, recipientBatch}, extra...)
		rows, err := q.Query(ctx, `SELECT id, record FROM contacts WHERE reachable AND id > $1`+where+` ORDER BY id LIMIT $2`, args...)
		if err != nil {
			return store.RecipientPage{}, err
		}
		var (
			id  int64
			rec []byte
			n   int
		)
		full := false
		_, err = pgx.ForEachRow(rows, []any{&id, &rec}, func() error {
			n++
			cursor = id
			if full {
				return nil
			}
			c, err := decodeContact(uint64(id), rec)
			if err != nil {
				return err
			}
			a, ok := c.ReachableAddress(channelOK)
			if !ok {
				return nil
			}
			page.Recipients = append(page.Recipients, store.Recipient{ContactID: c.ID, Address: a, Lang: langOf(c.Lang), Name: c.Name})
			if limit > 0 && len(page.Recipients) >= limit {
				full, page.Through = true, c.ID
			}
			return nil
		})
		if err != nil {
			return store.RecipientPage{}, err
		}
		if full {
			return page, nil
		}
		if n < recipientBatch {
			break
		}
	}
	// the audience ran out: Through is where the bbolt store's scan ended,
	// the last contact, or the last pledger or sign-up, above after
	sql := `SELECT max(id) FROM contacts WHERE id > $1`
	args := []any{int64(after)}
	listed := ""
	if aud.Institution != 0 {
		listed = ` AND EXISTS (SELECT 1 FROM supporters s WHERE s.institution_id = $3 AND s.contact_id = x.contact_id AND s.active)`
	}
	switch {
	case everyContact:
	case aud.Kind == store.AudiencePledgers || aud.Kind == store.AudienceSignups:
		table := "pledges"
		if aud.Kind == store.AudienceSignups {
			table = "signups"
		}
		sql = `SELECT max(x.contact_id) FROM ` + table + ` x WHERE x.campaign_id = $2 AND x.contact_id > $1` + listed
		args = append(args, aud.CampaignID)
	case aud.Kind == store.AudiencePollAnswer:
		// the option's answerers, in contact order, are what the bbolt store scans
		if listed != "" {
			listed = strings.Replace(listed, "$3", "$4", 1)
		}
		sql = `SELECT max(x.contact_id) FROM poll_answers x WHERE x.poll_id = $2 AND x.option = $3 AND x.contact_id > $1` +
			` AND EXISTS (SELECT 1 FROM contacts c WHERE c.id = x.contact_id)` + listed
		args = append(args, aud.PollID, aud.Option)
	default:
		// an institution's active supporters are what the bbolt store scans
		sql = `SELECT max(x.contact_id) FROM supporters x WHERE x.institution_id = $2 AND x.active AND x.contact_id > $1` +
			` AND EXISTS (SELECT 1 FROM contacts c WHERE c.id = x.contact_id)`
		args = append(args, aud.Institution)
		if aud.Kind == store.AudienceNotPledged {
			sql += ` AND NOT EXISTS (SELECT 1 FROM pledges p WHERE p.campaign_id = $3 AND p.contact_id = x.contact_id)`
			args = append(args, aud.CampaignID)
		}
	}
	if aud.Institution != 0 && (aud.Kind == store.AudiencePledgers || aud.Kind == store.AudienceSignups) {
		args = append(args, aud.Institution)
	}
	if aud.Institution != 0 && aud.Kind == store.AudiencePollAnswer {
		args = append(args, aud.Institution)
	}
	var last *int64
	if err := q.QueryRow(ctx, sql, args...).Scan(&last); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return store.RecipientPage{}, err
	}
	if last != nil {
		page.Through = uint64(*last)
	}
	page.Last = true
	return page, nil
}
