package coalition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
)

// The limits of what a campaign may hold.
const (
	MaxTitle = 120
	MaxCall  = 1500
	MaxPlace = 200
	// MaxTarget keeps targets to a number a person can read at a glance.
	MaxTarget = 10_000_000
)

// Campaigns are the coalition's calls to action: pledges, events, or both.
type Campaigns struct{ *rules }

// Draft is a campaign as a coordinator describes it.
type Draft struct {
	Code                    string
	TitleAR, TitleEN        string
	CallAR, CallEN          string
	Kind                    store.CampaignKind
	Target                  int
	StartAt, EndAt, EventAt time.Time
	EventPlace              string
	ReminderOffsets         []time.Duration
	// Organiser is who runs it: none for the coalition.
	Organiser store.Organiser
}

// DefaultReminderOffsets are when people signed up for an event are
// reminded of it, before it starts.
func DefaultReminderOffsets() []time.Duration { return []time.Duration{24 * time.Hour, time.Hour} }

// ValidCode reports whether s can be a campaign or referral code: 3 to 30
// lower-case Latin letters and digits, so it fits links on every platform.
func ValidCode(s string) bool {
	if len(s) < 3 || len(s) > 30 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// Check returns the first problem with the draft, as an *InvalidError
// naming the field, or nil.
func (cs *Campaigns) Check(ctx context.Context, d Draft) error {
	now := cs.now()
	switch {
	case !ValidCode(strings.ToLower(d.Code)):
		return invalid("code", messages.NewCampaignBadCode)
	case strings.TrimSpace(d.TitleAR) == "" || !HasArabic(d.TitleAR):
		return invalid("title_ar", messages.ErrNeedArabic)
	case strings.TrimSpace(d.CallAR) == "":
		return invalid("call_ar", messages.ErrInputEmpty)
	case d.Kind != store.KindPledge && d.Kind != store.KindEvent && d.Kind != store.KindBoth:
		return invalid("kind", messages.ErrChooseOption)
	case d.Target < 0 || d.Target > MaxTarget:
		return invalid("target", messages.NewCampaignBadTarget)
	case !d.EndAt.IsZero() && !d.EndAt.After(d.StartAt):
		return invalid("end", messages.NewCampaignEndBeforeStart)
	case !d.EndAt.IsZero() && !d.EndAt.After(now):
		return invalid("end", messages.ErrDatePast)
	case d.Kind.HasEvent() && (d.EventAt.IsZero() || !d.EventAt.After(now)):
		return invalid("event_at", messages.ErrDatePast)
	case d.Kind.HasEvent() && strings.TrimSpace(d.EventPlace) == "":
		return invalid("place", messages.ErrInputEmpty)
	}
	if _, err := cs.st.CampaignByCode(ctx, strings.ToLower(d.Code)); err == nil {
		return invalid("code", messages.NewCampaignCodeTaken)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// Create creates a campaign. The coalition's coordinators and admins create
// the coalition's; an institution's representatives and coordinators
// create their institution's (organiserFor says who may name which
// organiser). The draft is checked again here whatever the form that
// gathered it checked.
func (cs *Campaigns) Create(ctx context.Context, by Actor, d Draft) (*store.Campaign, error) {
	if ok, err := cs.mayOrganise(ctx, by); err != nil || !ok {
		return nil, errors.Join(err, notAllowedUnless(ok))
	}
	org, err := cs.organiserFor(ctx, by, d.Organiser)
	if err != nil {
		return nil, err
	}
	d.Code = strings.ToLower(strings.TrimSpace(d.Code))
	d.TitleAR, d.TitleEN, d.CallAR, d.CallEN = messages.CleanText(d.TitleAR), messages.CleanText(d.TitleEN), messages.CleanText(d.CallAR), messages.CleanText(d.CallEN)
	d.EventPlace = messages.CleanText(d.EventPlace)
	if err := cs.Check(ctx, d); err != nil {
		return nil, err
	}
	c := &store.Campaign{
		Code: d.Code, TitleAR: d.TitleAR, TitleEN: d.TitleEN, CallAR: d.CallAR, CallEN: d.CallEN,
		Kind: d.Kind, StartAt: d.StartAt.UTC(), EndAt: d.EndAt.UTC(), CreatedBy: by.Person, CreatedAt: cs.now().UTC(),
		Organiser: org,
		// one that starts as it is created: its creator hears so now, not again at the next lifecycle run
		Opened: !d.StartAt.After(cs.now()),
	}
	if c.Kind.HasPledge() {
		c.Target = d.Target
	}
	if c.Kind.HasEvent() {
		c.EventAt, c.EventPlace, c.ReminderOffsets = d.EventAt.UTC(), d.EventPlace, d.ReminderOffsets
		if len(c.ReminderOffsets) == 0 {
			c.ReminderOffsets = DefaultReminderOffsets()
		}
	}
	err = cs.st.InTx(ctx, func(ctx context.Context) error {
		if err := cs.st.CreateCampaign(ctx, c); err != nil {
			if errors.Is(err, store.ErrCodeTaken) {
				return invalid("code", messages.NewCampaignCodeTaken)
			}
			return fmt.Errorf("creating campaign: %w", err)
		}
		if err := cs.scheduleEventReminders(ctx, c); err != nil {
			return err
		}
		cs.log.Info("campaign created", "campaign_id", c.ID, "by", by.Person)
		return cs.audit(ctx, by.Person, "campaign_created", map[string]string{"campaign_id": strconv.FormatUint(c.ID, 10), "code": c.Code,
			"organiser": joinIDs(c.Organiser.Institutions)})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// scheduleEventReminders arms the reminders that go to everyone signed up
// for a campaign's event, at each of its offsets before the event.
func (cs *Campaigns) scheduleEventReminders(ctx context.Context, c *store.Campaign) error {
	if !c.Kind.HasEvent() || c.EventAt.IsZero() {
		return nil
	}
	now := cs.now()
	for _, off := range c.ReminderOffsets {
		at := c.EventAt.Add(-off)
		if !at.After(now) {
			continue
		}
		// due inside quiet hours, it goes out before they start, never after the event
		fire := cs.quiet.DeliverBefore(at, c.EventAt, now, cs.loc)
		r := &store.Reminder{CampaignID: c.ID, Audience: store.Audience{Kind: store.AudienceSignups, CampaignID: c.ID},
			At: at.UTC(), NextFireAt: fire.UTC(), CreatedBy: c.CreatedBy, Kind: store.ReminderEvent, CreatedAt: now.UTC(), Organiser: c.Organiser}
		if err := cs.st.CreateReminder(ctx, r); err != nil {
			return fmt.Errorf("arming the event reminder of campaign %d: %w", c.ID, err)
		}
	}
	return nil
}

// Find returns the campaign people open by code.
func (cs *Campaigns) Find(ctx context.Context, code string) (*store.Campaign, error) {
	code = strings.ToLower(strings.TrimSpace(messages.ToASCIIDigits(code)))
	if code == "" {
		return nil, ErrNotFound
	}
	c, err := cs.st.CampaignByCode(ctx, code)
	return c, notFound(err)
}

// Get returns the campaign with the given ID.
func (cs *Campaigns) Get(ctx context.Context, id uint64) (*store.Campaign, error) {
	c, err := cs.st.Campaign(ctx, id)
	return c, notFound(err)
}

// All returns every campaign, oldest first.
func (cs *Campaigns) All(ctx context.Context) ([]store.Campaign, error) { return cs.st.Campaigns(ctx) }

// Open returns the campaigns people can act on now, with their counts.
func (cs *Campaigns) Open(ctx context.Context) ([]CampaignCounts, error) {
	all, err := cs.st.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	now := cs.now()
	var out []CampaignCounts
	for i := range all {
		if !all[i].Active(now) {
			continue
		}
		n, err := cs.st.Counts(ctx, all[i].ID)
		if err != nil {
			return nil, err
		}
		out = append(out, CampaignCounts{Campaign: &all[i], Counts: n})
	}
	return out, nil
}

// CampaignCounts is a campaign with its totals.
type CampaignCounts struct {
	Campaign *store.Campaign
	Counts   store.Counts
}

// Counts returns a campaign's totals.
func (cs *Campaigns) Counts(ctx context.Context, id uint64) (store.Counts, error) {
	return cs.st.Counts(ctx, id)
}

// Standing is where the acting person stands with a campaign.
type Standing struct {
	Pledged, SignedUp bool
}

// StandingOf says whether the acting person pledged to and signed up for c.
func (cs *Campaigns) StandingOf(ctx context.Context, by Actor, c *store.Campaign) (Standing, error) {
	var s Standing
	if _, err := cs.st.Pledge(ctx, c.ID, by.Person); err == nil {
		s.Pledged = true
	} else if !errors.Is(err, store.ErrNotFound) {
		return s, err
	}
	if _, err := cs.st.Signup(ctx, c.ID, by.Person); err == nil {
		s.SignedUp = true
	} else if !errors.Is(err, store.ErrNotFound) {
		return s, err
	}
	return s, nil
}

// Active reports whether people can act on c now.
func (cs *Campaigns) Active(c *store.Campaign) bool { return c.Active(cs.now()) }

// actionable finds the campaign and checks people can act on it now.
func (cs *Campaigns) actionable(ctx context.Context, code string) (*store.Campaign, error) {
	c, err := cs.Find(ctx, code)
	if err != nil {
		return nil, err
	}
	if !c.Active(cs.now()) {
		return c, ErrCampaignClosed
	}
	return c, nil
}

// Pledged is what a pledge did: the campaign and its totals after it.
type Pledged struct {
	Campaign *store.Campaign
	Counts   store.Counts
}

// Pledge records the acting person's pledge to the campaign with code,
// once. The pledgers hear when a milestone or the target is passed. A
// pledge to an institution's campaign is credited to one of its organisers
// (creditFor), and puts the person on that institution's list unless they
// left it.
func (cs *Campaigns) Pledge(ctx context.Context, by Actor, code string) (Pledged, error) {
	c, err := cs.actionable(ctx, code)
	if err != nil {
		return Pledged{Campaign: c}, err
	}
	if !c.Kind.HasPledge() {
		return Pledged{Campaign: c}, ErrNoPledges
	}
	me, err := cs.st.Contact(ctx, by.Person)
	if err != nil {
		return Pledged{}, notFound(err)
	}
	credit, err := cs.creditFor(ctx, c, me)
	if err != nil {
		return Pledged{Campaign: c}, err
	}
	var out Pledged
	err = cs.st.InTx(ctx, func(ctx context.Context) error {
		res, err := cs.st.AddPledge(ctx, store.Pledge{
			CampaignID: c.ID, ContactID: by.Person, At: cs.now().UTC(),
			Channel: by.From.Channel, Governorate: me.Governorate, Lang: by.Lang, ReferredBy: me.ReferredBy,
			Institution: credit,
		})
		switch {
		case errors.Is(err, store.ErrAlreadyPledged):
			return ErrAlreadyPledged
		case err != nil:
			return notFound(err)
		}
		if err := cs.support(ctx, credit, me, store.ViaPledge); err != nil {
			return err
		}
		out = Pledged{Campaign: &res.Campaign, Counts: res.Counts}
		cs.log.Info("pledge", "campaign_id", c.ID, "pledges", res.Counts.Pledges)
		if res.ReachedTarget {
			return cs.targetReached(ctx, &res.Campaign)
		}
		return cs.milestone(ctx, &res.Campaign, res.Counts, by.Person)
	})
	if err != nil && out.Campaign == nil {
		out.Campaign = c
	}
	return out, err
}

// SignUp records the acting person's sign-up for the campaign's event,
// once, credited and putting them on a list as Pledge does.
func (cs *Campaigns) SignUp(ctx context.Context, by Actor, code string) (*store.Campaign, error) {
	c, err := cs.actionable(ctx, code)
	if err != nil {
		return c, err
	}
	if !c.Kind.HasEvent() {
		return c, ErrNoEvent
	}
	if !c.EventAt.IsZero() && !c.EventAt.After(cs.now()) {
		return c, ErrEventPassed
	}
	me, err := cs.st.Contact(ctx, by.Person)
	if err != nil {
		return c, notFound(err)
	}
	credit, err := cs.creditFor(ctx, c, me)
	if err != nil {
		return c, err
	}
	err = cs.st.InTx(ctx, func(ctx context.Context) error {
		_, err := cs.st.AddSignup(ctx, store.Signup{
			CampaignID: c.ID, ContactID: by.Person, At: cs.now().UTC(),
			Channel: by.From.Channel, Governorate: me.Governorate, Lang: by.Lang, ReferredBy: me.ReferredBy,
			Institution: credit,
		})
		if errors.Is(err, store.ErrAlreadySignedUp) {
			return ErrAlreadySignedUp
		}
		if err != nil {
			return notFound(err)
		}
		return cs.support(ctx, credit, me, store.ViaSignup)
	})
	return c, err
}

// CancelSignup withdraws the acting person's sign-up.
func (cs *Campaigns) CancelSignup(ctx context.Context, by Actor, code string) (*store.Campaign, error) {
	c, err := cs.Find(ctx, code)
	if err != nil {
		return nil, err
	}
	if _, err := cs.st.CancelSignup(ctx, c.ID, by.Person); errors.Is(err, store.ErrNotFound) {
		return c, ErrNotSignedUp
	} else if err != nil {
		return c, err
	}
	return c, nil
}

// milestones are the shares of a target whose passing pledgers hear of; 100 % is the target itself.
func milestones() []int { return []int{25, 50, 75} }

// errClaimed means another pledge or tick already did this.
var errClaimed = errors.New("already claimed")

// milestone claims the highest milestone a pledge has just passed and
// tells everyone who has pledged so far: a later pledger never hears of an
// old milestone, and each is announced once. The person whose pledge
// passed it is left out: their reply shows the progress.
func (cs *Campaigns) milestone(ctx context.Context, c *store.Campaign, n store.Counts, pledger uint64) error {
	if c.Target <= 0 || n.Pledges >= c.Target {
		return nil
	}
	pct := n.Pledges * 100 / c.Target
	reached := 0
	for _, m := range milestones() {
		if pct >= m && !slices.Contains(c.MilestonesSent, m) {
			reached = m
		}
	}
	if reached == 0 {
		return nil
	}
	_, err := cs.st.UpdateCampaign(ctx, c.ID, func(c *store.Campaign) error {
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
		return nil
	}
	if err != nil {
		return fmt.Errorf("claiming milestone %d%% of campaign %d: %w", reached, c.ID, err)
	}
	return cs.tellPledgers(ctx, c, "milestone", pledger, func(lang string) string {
		return cs.cat.Text(lang, messages.PledgeMilestone, map[string]any{
			"Title": Title(c, lang), "Percent": messages.FormatNumber(lang, reached),
			"Count": messages.FormatNumber(lang, n.Pledges), "Target": messages.FormatNumber(lang, c.Target),
			"Code": c.Code,
		})
	})
}

// targetReached tells everyone who pledged that the campaign reached its target.
func (cs *Campaigns) targetReached(ctx context.Context, c *store.Campaign) error {
	return cs.tellPledgers(ctx, c, "target_reached", 0, func(lang string) string {
		return cs.cat.Text(lang, messages.PledgeTargetReached, map[string]any{
			"Title": Title(c, lang), "Target": messages.FormatNumber(lang, c.Target),
		})
	})
}

// tellPledgers addresses a text to everyone who pledged to c and agreed to
// messages, but except.
func (cs *Campaigns) tellPledgers(ctx context.Context, c *store.Campaign, kind store.MessageKind, except uint64, text func(lang string) string) error {
	var notices []outbox.Notice
	err := cs.st.Pledges(ctx, c.ID, func(p *store.Pledge) error {
		if p.ContactID != 0 && p.ContactID != except {
			notices = append(notices, outbox.Notice{ContactID: p.ContactID, Kind: kind, RequireConsent: true, Bulk: true,
				Render: func(lang string) (string, [][]bot.Button) { return text(lang), nil }})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing pledgers of campaign %d: %w", c.ID, err)
	}
	return cs.out.Notify(ctx, notices...)
}

// Close closes a campaign early. The coalition's coordinators and admins
// close any; an institution's people close those their institution leads.
func (cs *Campaigns) Close(ctx context.Context, by Actor, code string) (*store.Campaign, error) {
	c, err := cs.managed(ctx, by, code)
	if err != nil {
		return c, err
	}
	err = cs.st.InTx(ctx, func(ctx context.Context) error {
		if err := cs.close(ctx, c, by.Person); err != nil {
			return err
		}
		return cs.audit(ctx, by.Person, "campaign_closed", map[string]string{"campaign_id": strconv.FormatUint(c.ID, 10)})
	})
	return c, err
}

// claim applies change to the campaign if it says it applies, reporting whether it did.
func (cs *Campaigns) claim(ctx context.Context, id uint64, change func(c *store.Campaign) bool) (bool, error) {
	_, err := cs.st.UpdateCampaign(ctx, id, func(c *store.Campaign) error {
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

// close closes c, once: its creator hears of it, and its pledgers are told
// honestly whether the target was reached. Its event, if still ahead, and
// the event's reminders stay.
func (cs *Campaigns) close(ctx context.Context, c *store.Campaign, by uint64) error {
	claimed, err := cs.claim(ctx, c.ID, func(c *store.Campaign) bool {
		if c.Closed {
			return false
		}
		c.Closed = true
		return true
	})
	if err != nil || !claimed {
		return err
	}
	// an event still ahead keeps its reminders: the people signed up were promised them
	cs.log.Info("campaign closed", "campaign_id", c.ID)
	if creator, err := cs.st.Identity(ctx, c.CreatedBy); err != nil {
		return err
	} else if creator != by {
		// whoever closed it knows; its creator, if someone else, hears of it
		if err := cs.out.Notify(ctx, outbox.Notice{ContactID: creator, Kind: "campaign_closed", Render: func(lang string) (string, [][]bot.Button) {
			return cs.cat.Text(lang, messages.CampaignEndedCreator, map[string]any{"Title": Title(c, lang), "Code": c.Code}), nil
		}}); err != nil {
			return err
		}
	}
	if c.Target <= 0 || !c.Kind.HasPledge() {
		return nil
	}
	n, err := cs.st.Counts(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("counting campaign %d: %w", c.ID, err)
	}
	key := messages.CampaignEndedMissed
	if n.Pledges >= c.Target {
		key = messages.CampaignEndedReached
	}
	return cs.tellPledgers(ctx, c, "campaign_ended", 0, func(lang string) string {
		return cs.cat.Text(lang, key, map[string]any{"Title": Title(c, lang),
			"Count": messages.FormatNumber(lang, n.Pledges), "Target": messages.FormatNumber(lang, c.Target)})
	})
}

// RunLifecycle opens and closes campaigns whose start or end has come: the
// creator hears of both, and at the close pledgers hear honestly whether
// the target was reached. Each is claimed in the store first, so it
// happens once. The scheduler calls it every minute.
func (cs *Campaigns) RunLifecycle(ctx context.Context) error {
	all, err := cs.st.Campaigns(ctx)
	if err != nil {
		return fmt.Errorf("listing campaigns: %w", err)
	}
	now := cs.now()
	var errs []error
	for i := range all {
		c := &all[i]
		err := cs.st.InTx(ctx, func(ctx context.Context) error {
			if !c.Opened && !now.Before(c.StartAt) && !c.Closed {
				claimed, err := cs.claim(ctx, c.ID, func(c *store.Campaign) bool {
					if c.Opened {
						return false
					}
					c.Opened = true
					return true
				})
				if err != nil {
					return err
				}
				if claimed {
					if err := cs.tellWatchers(ctx, c); err != nil {
						return err
					}
					if err := cs.out.Notify(ctx, outbox.Notice{ContactID: c.CreatedBy, Kind: "campaign_opened", Render: func(lang string) (string, [][]bot.Button) {
						return cs.cat.Text(lang, messages.CampaignOpened, map[string]any{"Title": Title(c, lang), "Link": messages.Isolate("/campaign " + c.Code)}), nil
					}}); err != nil {
						return err
					}
				}
			}
			if c.Closed || c.EndAt.IsZero() || now.Before(c.EndAt) {
				return nil
			}
			return cs.close(ctx, c, 0)
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Stats break a campaign's totals down. The coalition's coordinators and
// admins see the whole of any campaign; each organising institution's
// people see their institution's share: the pledges and sign-ups credited
// to it.
func (cs *Campaigns) Stats(ctx context.Context, by Actor, c *store.Campaign) (store.Stats, error) {
	inst, ok, err := cs.partnerIn(ctx, by, c.Organiser)
	if err != nil {
		return store.Stats{}, err
	}
	if !ok {
		return store.Stats{}, ErrNotAllowed
	}
	if by.staff() {
		return cs.st.CampaignStats(ctx, c.ID)
	}
	return cs.st.CampaignShareStats(ctx, c.ID, inst)
}

// startLink is a link that opens the bot on channel with payload, or the
// command to type where the channel has no links.
func (r *rules) startLink(channel bot.ChannelName, payload string) string {
	if l, ok := r.linkers[channel]; ok {
		if link := l.ShareLink(payload); link != "" {
			return link
		}
	}
	if payload == "" {
		return "/start"
	}
	return "/start " + payload
}

// StartLink is a link that opens the bot on channel with payload.
func (cs *Campaigns) StartLink(channel bot.ChannelName, payload string) string {
	return cs.rules.startLink(channel, payload)
}
