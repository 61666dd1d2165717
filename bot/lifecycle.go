package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"mobilise/messages"
	"mobilise/store"
)

// milestones are the shares of a target whose passing pledgers hear of; 100 % is the target itself.
func milestones() []int { return []int{25, 50, 75} }

// errClaimed means another pledge or tick already announced this.
var errClaimed = errors.New("already announced")

// milestoneNotices claims the highest milestone a pledge has just passed and
// addresses it to everyone who has pledged so far: a later pledger never
// hears of an old milestone, and each is announced once.
// The person whose pledge passed it is left out: their reply shows the progress.
func (s *Service) milestoneNotices(c *store.Campaign, n store.Counts, pledger uint64) ([]Notice, error) {
	if c.Target <= 0 || n.Pledges >= c.Target {
		return nil, nil
	}
	pct := n.Pledges * 100 / c.Target
	reached := 0
	for _, m := range milestones() {
		if pct >= m && !slices.Contains(c.MilestonesSent, m) {
			reached = m
		}
	}
	if reached == 0 {
		return nil, nil
	}
	_, err := s.store.UpdateCampaign(c.ID, func(c *store.Campaign) error {
		if slices.Contains(c.MilestonesSent, reached) {
			return errClaimed
		}
		for _, m := range milestones() {
			if m <= reached && !slices.Contains(c.MilestonesSent, m) {
				c.MilestonesSent = append(c.MilestonesSent, m)
			}
		}
		return nil
	})
	if errors.Is(err, errClaimed) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claiming milestone %d%% of campaign %d: %w", reached, c.ID, err)
	}
	notices, err := s.pledgerNotices(c, "milestone", func(lang string) string {
		return s.cat.Text(lang, messages.PledgeMilestone, map[string]any{
			"Title": title(c, lang), "Percent": messages.FormatNumber(lang, reached),
			"Count": messages.FormatNumber(lang, n.Pledges), "Target": messages.FormatNumber(lang, c.Target),
			"Code": c.Code,
		})
	})
	return slices.DeleteFunc(notices, func(n Notice) bool { return n.ContactID == pledger }), err
}

// pledgerNotices addresses a text to everyone who pledged to c and agreed to messages.
func (s *Service) pledgerNotices(c *store.Campaign, kind string, text func(lang string) string) ([]Notice, error) {
	var notices []Notice
	err := s.store.Pledges(c.ID, func(p *store.Pledge) error {
		if p.ContactID != 0 {
			notices = append(notices, Notice{ContactID: p.ContactID, Kind: kind, RequireConsent: true, Bulk: true,
				Render: func(lang string) (string, [][]Button) { return text(lang), nil }})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing pledgers of campaign %d: %w", c.ID, err)
	}
	return notices, nil
}

// RunLifecycle opens and closes campaigns whose start or end has come: the
// creator hears of both, and at the close pledgers hear honestly whether
// the target was reached. Each is claimed in the store first, so it happens once.
func (s *Service) RunLifecycle(ctx context.Context) error {
	all, err := s.store.Campaigns()
	if err != nil {
		return fmt.Errorf("listing campaigns: %w", err)
	}
	now := s.now()
	var notices []Notice
	var errs []error
	for i := range all {
		c := &all[i]
		if !c.Opened && !now.Before(c.StartAt) && !c.Closed {
			if claimed, err := s.claimCampaign(c.ID, func(c *store.Campaign) bool {
				if c.Opened {
					return false
				}
				c.Opened = true
				return true
			}); err != nil {
				errs = append(errs, err)
			} else if claimed {
				notices = append(notices, Notice{ContactID: c.CreatedBy, Kind: "campaign_opened", Render: func(lang string) (string, [][]Button) {
					return s.cat.Text(lang, messages.CampaignOpened, map[string]any{"Title": title(c, lang), "Link": messages.Isolate("/campaign " + c.Code)}), nil
				}})
			}
		}
		if c.Closed || c.EndAt.IsZero() || now.Before(c.EndAt) {
			continue
		}
		cn, err := s.closeCampaign(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		notices = append(notices, cn...)
	}
	if len(notices) > 0 {
		if err := s.notify(ctx, notices); err != nil {
			errs = append(errs, fmt.Errorf("announcing campaign changes: %w", err))
		}
	}
	return errors.Join(errs...)
}

// claimCampaign applies change if it says it applies, reporting whether it did.
func (s *Service) claimCampaign(id uint64, change func(c *store.Campaign) bool) (bool, error) {
	_, err := s.store.UpdateCampaign(id, func(c *store.Campaign) error {
		if !change(c) {
			return errClaimed
		}
		return nil
	})
	if errors.Is(err, errClaimed) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("updating campaign %d: %w", id, err)
	}
	return true, nil
}

// closeCampaign closes c, once: its event reminders are dropped, its creator
// hears of it, and its pledgers are told honestly whether the target was
// reached. It returns the notices to send; none if c was already closed.
func (s *Service) closeCampaign(c *store.Campaign) ([]Notice, error) {
	claimed, err := s.claimCampaign(c.ID, func(c *store.Campaign) bool {
		if c.Closed {
			return false
		}
		c.Closed = true
		return true
	})
	if err != nil || !claimed {
		return nil, err
	}
	s.log.Info("campaign closed", "campaign_id", c.ID)
	rs, err := s.store.Reminders()
	if err != nil {
		return nil, fmt.Errorf("listing reminders: %w", err)
	}
	for _, r := range rs {
		if r.CampaignID == c.ID && r.Kind == "event" {
			if err := s.store.DeleteReminder(r.ID); err != nil {
				return nil, fmt.Errorf("dropping the event reminders of campaign %d: %w", c.ID, err)
			}
		}
	}
	notices := []Notice{{ContactID: c.CreatedBy, Kind: "campaign_closed", Render: func(lang string) (string, [][]Button) {
		return s.cat.Text(lang, messages.CampaignEndedCreator, map[string]any{"Title": title(c, lang), "Code": c.Code}), nil
	}}}
	if c.Target <= 0 || !c.Kind.HasPledge() {
		return notices, nil
	}
	n, err := s.store.Counts(c.ID)
	if err != nil {
		return nil, fmt.Errorf("counting campaign %d: %w", c.ID, err)
	}
	key := messages.CampaignEndedMissed
	if n.Pledges >= c.Target {
		key = messages.CampaignEndedReached
	}
	pn, err := s.pledgerNotices(c, "campaign_ended", func(lang string) string {
		return s.cat.Text(lang, key, map[string]any{"Title": title(c, lang),
			"Count": messages.FormatNumber(lang, n.Pledges), "Target": messages.FormatNumber(lang, c.Target)})
	})
	if err != nil {
		return nil, err
	}
	return append(notices, pn...), nil
}
