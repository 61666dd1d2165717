package postgres

import (
	"context"
	"fmt"

	"mobilise/bot"
	"mobilise/store"

	"github.com/jackc/pgx/v5"
)

// CountAudience counts the people aud reaches, per channel, as
// store.Store.CountAudience does: people who consented, have not said
// /stop and have a usable address, each counted once, on the channel a
// message to them would take (their preferred one if channelOK accepts it,
// else their first usable address's that it accepts; nil accepts all).
//
// The database groups the audience by reach signature (preferred channel
// and usable channels), and the signatures, a handful, are resolved to
// channels here. It reads the rows of the audience's people, through the
// partial indexes on reachable contacts, so it sees the caller's
// transaction exactly; it is not a few counter reads as in the bbolt store.
//
// Every audience kind is counted. An audience limited to an institution's
// supporters (Audience.Institution) keeps the people on its list now
// (onList); a poll's answer is read from the answers' rows
// (pollAnswerAudience).
func (s *Store) CountAudience(ctx context.Context, aud store.Audience, channelOK func(channel bot.ChannelName) bool) (store.AudienceCount, error) {
	if err := aud.Validate(); err != nil {
		return store.AudienceCount{}, fmt.Errorf("counting recipients: %w", err)
	}
	out := store.AudienceCount{PerChannel: map[bot.ChannelName]int{}}
	err := s.countAudience(ctx, aud, func(preferred string, channels []string, n int) {
		c := store.Contact{PreferredChannel: bot.ChannelName(preferred)}
		for _, ch := range channels {
			c.Addresses = append(c.Addresses, bot.Address{Channel: bot.ChannelName(ch), ID: "x"})
		}
		if a, ok := c.ReachableAddress(channelOK); ok {
			out.PerChannel[a.Channel] += n
			out.Total += n
		}
	})
	if err != nil {
		return store.AudienceCount{}, fmt.Errorf("counting recipients for %s: %w", aud.Kind, err)
	}
	return out, nil
}

// countAudience calls fn with each reach signature of aud's people and how
// many have it.
func (s *Store) countAudience(ctx context.Context, aud store.Audience, fn func(preferred string, channels []string, n int)) error {
	q := s.q(ctx)
	where, args := "", []any{}
	switch aud.Kind {
	case store.AudienceEveryone:
	case store.AudienceMembers:
		where = ` AND member`
	case store.AudienceGovernorate:
		where, args = ` AND governorate = $1`, []any{aud.Governorate}
	case store.AudienceLang:
		where, args = ` AND lang = $1`, []any{aud.Lang}
	case store.AudiencePledgers, store.AudienceNotPledged, store.AudienceSignups:
		var found bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1)`, aud.CampaignID).Scan(&found); err != nil {
			return err
		}
		if !found {
			return store.ErrCampaignNotFound
		}
		where = ` AND EXISTS (SELECT 1 FROM pledges p WHERE p.campaign_id = $1 AND p.contact_id = contacts.id)`
		switch aud.Kind {
		case store.AudienceNotPledged:
			where = ` AND NOT EXISTS (SELECT 1 FROM pledges p WHERE p.campaign_id = $1 AND p.contact_id = contacts.id)`
		case store.AudienceSignups:
			where = ` AND EXISTS (SELECT 1 FROM signups su WHERE su.campaign_id = $1 AND su.contact_id = contacts.id)`
		}
		args = []any{aud.CampaignID}
	case store.AudiencePollAnswer:
		var err error
		if where, args, err = pollAnswerAudience(ctx, q, aud, 1); err != nil {
			return err
		}
	default:
		return fmt.Errorf("audience %s: %w", aud.Kind, ErrUnsupported)
	}
	where, args = onList(aud, where, args, 1)
	rows, err := q.Query(ctx, `SELECT preferred_channel, reach_channels, count(*) FROM contacts WHERE reachable`+where+`
		GROUP BY preferred_channel, reach_channels`, args...)
	if err != nil {
		return err
	}
	var (
		preferred string
		channels  []string
		n         int
	)
	_, err = pgx.ForEachRow(rows, []any{&preferred, &channels, &n}, func() error {
		fn(preferred, channels, n)
		return nil
	})
	return err
}
