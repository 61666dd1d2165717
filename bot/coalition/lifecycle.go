package coalition

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
)

// Errors of a campaign's lifecycle.
var (
	// ErrNotClosed: only a closed campaign can be reopened.
	ErrNotClosed = errors.New("campaign not closed")
	// ErrNotPledged: there is no pledge to withdraw.
	ErrNotPledged = errors.New("not pledged")
	// ErrNotScheduled: the campaign is open or closed already, nothing to wait for.
	ErrNotScheduled = errors.New("campaign not scheduled")
)

// CampaignState is where a campaign stands for the people it calls on.
type CampaignState int

// The states a person can read.
const (
	// StateScheduled: it opens at its start; people can ask to be told then.
	StateScheduled CampaignState = iota
	// StateOpen: people pledge and sign up.
	StateOpen
	// StateClosed: closed early or ended; its numbers are final until it is reopened.
	StateClosed
)

// State says whether c is scheduled, open or closed now.
func (cs *Campaigns) State(c *store.Campaign) CampaignState {
	now := cs.now()
	switch {
	case c.Closed || !c.EndAt.IsZero() && !now.Before(c.EndAt):
		return StateClosed
	case now.Before(c.StartAt):
		return StateScheduled
	default:
		return StateOpen
	}
}

// Withdraw takes back the acting person's pledge to an open campaign.
func (cs *Campaigns) Withdraw(ctx context.Context, by Actor, code string) (Pledged, error) {
	c, err := cs.actionable(ctx, code)
	if err != nil {
		return Pledged{Campaign: c}, err
	}
	n, err := cs.st.WithdrawPledge(ctx, c.ID, by.Person)
	if errors.Is(err, store.ErrNotFound) {
		return Pledged{Campaign: c}, ErrNotPledged
	}
	if err != nil {
		return Pledged{Campaign: c}, err
	}
	cs.log.Info("pledge withdrawn", "campaign_id", c.ID, "pledges", n.Pledges)
	return Pledged{Campaign: c, Counts: n}, nil
}

// Watch records that the acting person wants to hear when a scheduled
// campaign opens. It reports whether they had asked before.
func (cs *Campaigns) Watch(ctx context.Context, by Actor, code string) (c *store.Campaign, already bool, err error) {
	c, err = cs.Find(ctx, code)
	if err != nil {
		return nil, false, err
	}
	if cs.State(c) != StateScheduled {
		return c, false, ErrNotScheduled
	}
	added, err := cs.st.AddWatch(ctx, c.ID, by.Person)
	if err != nil {
		return c, false, notFound(err)
	}
	return c, !added, nil
}

// Watching reports whether the acting person asked to hear when c opens.
func (cs *Campaigns) Watching(ctx context.Context, by Actor, c *store.Campaign) (bool, error) {
	return cs.st.Watching(ctx, c.ID, by.Person)
}

// tellWatchers tells the people waiting for c that it is open, once each.
func (cs *Campaigns) tellWatchers(ctx context.Context, c *store.Campaign) error {
	ws, err := cs.st.TakeWatchers(ctx, c.ID)
	if err != nil {
		return err
	}
	key := messages.CampaignOpenNow
	switch {
	case !c.Kind.HasEvent():
		key = messages.CampaignOpenNowPledge
	case !c.Kind.HasPledge():
		key = messages.CampaignOpenNowEvent
	}
	notices := make([]outbox.Notice, 0, len(ws))
	for _, w := range ws {
		notices = append(notices, outbox.Notice{ContactID: w.ContactID, Kind: "campaign_open_watch", Bulk: true, UnlessStopped: true,
			Render: func(lang string) (string, [][]bot.Button) {
				return cs.cat.Text(lang, key, map[string]any{"Title": Title(c, lang)}),
					[][]bot.Button{{{Text: cs.cat.Text(lang, messages.CampaignOpenButton, nil), Payload: "/campaign " + c.Code}}}
			}})
	}
	return cs.out.Notify(ctx, notices...)
}

// Closing is what closing a campaign would do, for the person to confirm.
type Closing struct {
	Campaign *store.Campaign
	// Pledgers are the people told how it went (those who agreed to messages).
	Pledgers int
	// Counts are the campaign's totals now.
	Counts store.Counts
	// TargetReached says which of two notices the pledgers get.
	TargetReached bool
	// EventAhead: its event is still to come; the event and its reminders stay.
	EventAhead bool
}

// CloseImpact says what closing the campaign with code would do, without
// doing it. Whoever may close it (Close) may ask.
func (cs *Campaigns) CloseImpact(ctx context.Context, by Actor, code string) (Closing, error) {
	c, err := cs.managed(ctx, by, code)
	if err != nil {
		return Closing{}, err
	}
	if cs.State(c) == StateClosed {
		return Closing{Campaign: c}, ErrCampaignClosed
	}
	n, err := cs.st.Counts(ctx, c.ID)
	if err != nil {
		return Closing{}, err
	}
	out := Closing{Campaign: c, Counts: n, TargetReached: c.Target > 0 && n.Pledges >= c.Target,
		EventAhead: c.Kind.HasEvent() && c.EventAt.After(cs.now())}
	if c.Target > 0 && c.Kind.HasPledge() {
		if err := cs.st.Pledges(ctx, c.ID, func(p *store.Pledge) error {
			if p.ContactID == 0 {
				return nil
			}
			who, err := cs.st.Contact(ctx, p.ContactID)
			if err != nil {
				return notFound(err)
			}
			if who.Consent && !who.Stopped {
				out.Pledgers++
			}
			return nil
		}); err != nil && !errors.Is(err, ErrNotFound) {
			return Closing{}, err
		}
	}
	return out, nil
}

// Reopen opens a closed campaign again, until end (zero: until it is
// closed). Its pledges and sign-ups are kept; an event still ahead gets its
// reminders back if it had lost them. Whoever may close it (Close) reopens it.
func (cs *Campaigns) Reopen(ctx context.Context, by Actor, code string, end time.Time) (*store.Campaign, error) {
	c, err := cs.managed(ctx, by, code)
	if err != nil {
		return c, err
	}
	if cs.State(c) != StateClosed {
		return c, ErrNotClosed
	}
	if !end.IsZero() && !end.After(cs.now()) {
		return c, invalid("end", messages.ErrDatePast)
	}
	var out *store.Campaign
	err = cs.st.InTx(ctx, func(ctx context.Context) error {
		out, err = cs.st.UpdateCampaign(ctx, c.ID, func(c *store.Campaign) error {
			c.Closed, c.EndAt = false, end.UTC()
			if end.IsZero() {
				c.EndAt = time.Time{}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reopening campaign %d: %w", c.ID, err)
		}
		if err := cs.ensureEventReminders(ctx, out); err != nil {
			return err
		}
		cs.log.Info("campaign reopened", "campaign_id", c.ID, "by", by.Person)
		return cs.audit(ctx, by.Person, "campaign_reopened", map[string]string{
			"campaign_id": strconv.FormatUint(c.ID, 10), "end": timeDetail(end)})
	})
	return out, err
}

// Change is an edit of a live campaign: the fields that are set change.
// EndAt set to the zero time means no end.
type Change struct {
	TitleAR, TitleEN, CallAR, CallEN *string
	Target                           *int
	EndAt, EventAt                   *time.Time
	EventPlace                       *string
}

// Edited is what Edit did.
type Edited struct {
	Campaign *store.Campaign
	// Fields names what changed.
	Fields []string
	// Told is how many people signed up for the event were told it moved.
	Told int
	// EndsBeforeEvent warns that the campaign closes before its event (the
	// event and its reminders stay).
	EndsBeforeEvent bool
}

// Edit changes a campaign that is not closed: its texts, target, end, or
// its event's time and place. The change is checked as the campaign was
// when created; a target may not fall below the pledges already made. When
// the event's time or place changes its reminders follow, and the people
// signed up are told. Whoever may close it (Close) edits it.
func (cs *Campaigns) Edit(ctx context.Context, by Actor, code string, ch Change) (Edited, error) {
	c, err := cs.managed(ctx, by, code)
	if err != nil {
		return Edited{}, err
	}
	if cs.State(c) == StateClosed {
		return Edited{Campaign: c}, ErrCampaignClosed
	}
	n, err := cs.st.Counts(ctx, c.ID)
	if err != nil {
		return Edited{}, err
	}
	now := cs.now()
	next := *c
	var fields []string
	details := map[string]string{"campaign_id": strconv.FormatUint(c.ID, 10)}
	set := func(field string, changed bool, detail string) {
		if changed {
			fields = append(fields, field)
			details[field] = detail
		}
	}
	text := func(p *string, dst *string, field string, max int, required, arabic bool) error {
		if p == nil {
			return nil
		}
		v := messages.CleanText(*p)
		switch {
		case required && v == "":
			return invalid(field, messages.ErrInputEmpty)
		case arabic && !HasArabic(v):
			return invalid(field, messages.ErrNeedArabic)
		case len([]rune(v)) > max:
			return invalid(field, messages.ErrInputTooLong)
		}
		set(field, v != *dst, v)
		*dst = v
		return nil
	}
	for _, f := range []func() error{
		func() error { return text(ch.TitleAR, &next.TitleAR, "title_ar", MaxTitle, true, true) },
		func() error { return text(ch.TitleEN, &next.TitleEN, "title_en", MaxTitle, false, false) },
		func() error { return text(ch.CallAR, &next.CallAR, "call_ar", MaxCall, true, false) },
		func() error { return text(ch.CallEN, &next.CallEN, "call_en", MaxCall, false, false) },
	} {
		if err := f(); err != nil {
			return Edited{Campaign: c}, err
		}
	}
	if ch.Target != nil && *ch.Target != c.Target {
		switch t := *ch.Target; {
		case !c.Kind.HasPledge():
			return Edited{Campaign: c}, invalid("target", messages.CampaignNoPledges)
		case t < 0 || t > MaxTarget:
			return Edited{Campaign: c}, invalid("target", messages.NewCampaignBadTarget)
		case t > 0 && t < n.Pledges:
			return Edited{Campaign: c}, invalid("target", messages.CampaignTargetBelowPledges)
		}
		set("target", *ch.Target != c.Target, strconv.Itoa(*ch.Target))
		next.Target = *ch.Target
	}
	if ch.EndAt != nil && !ch.EndAt.Equal(c.EndAt) {
		end := ch.EndAt.UTC()
		switch {
		case !end.IsZero() && !end.After(next.StartAt):
			return Edited{Campaign: c}, invalid("end", messages.NewCampaignEndBeforeStart)
		case !end.IsZero() && !end.After(now):
			return Edited{Campaign: c}, invalid("end", messages.ErrDatePast)
		}
		set("end", !end.Equal(c.EndAt), timeDetail(end))
		next.EndAt = end
	}
	if ch.EventAt != nil && !ch.EventAt.Equal(c.EventAt) || ch.EventPlace != nil && *ch.EventPlace != c.EventPlace {
		if !c.Kind.HasEvent() {
			return Edited{Campaign: c}, ErrNoEvent
		}
	}
	if ch.EventAt != nil && !ch.EventAt.Equal(c.EventAt) {
		at := ch.EventAt.UTC()
		if at.IsZero() || !at.After(now) {
			return Edited{Campaign: c}, invalid("event_at", messages.ErrDatePast)
		}
		set("event_at", !at.Equal(c.EventAt), timeDetail(at))
		next.EventAt = at
	}
	if ch.EventPlace != nil {
		v := messages.CleanText(*ch.EventPlace)
		switch {
		case v == "":
			return Edited{Campaign: c}, invalid("place", messages.ErrInputEmpty)
		case len([]rune(v)) > MaxPlace:
			return Edited{Campaign: c}, invalid("place", messages.ErrInputTooLong)
		}
		set("place", v != c.EventPlace, v)
		next.EventPlace = v
	}
	out := Edited{Campaign: c, Fields: fields,
		EndsBeforeEvent: next.Kind.HasEvent() && !next.EndAt.IsZero() && next.EndAt.Before(next.EventAt)}
	if len(fields) == 0 {
		return out, nil
	}
	moved := !next.EventAt.Equal(c.EventAt)
	relocated := next.EventPlace != c.EventPlace
	err = cs.st.InTx(ctx, func(ctx context.Context) error {
		saved, err := cs.st.UpdateCampaign(ctx, c.ID, func(x *store.Campaign) error {
			x.TitleAR, x.TitleEN, x.CallAR, x.CallEN = next.TitleAR, next.TitleEN, next.CallAR, next.CallEN
			x.Target, x.EndAt, x.EventAt, x.EventPlace = next.Target, next.EndAt, next.EventAt, next.EventPlace
			return nil
		})
		if err != nil {
			return fmt.Errorf("editing campaign %d: %w", c.ID, err)
		}
		out.Campaign = saved
		if saved.Target > 0 && n.Pledges >= saved.Target && saved.TargetReachedAt.IsZero() && saved.Kind.HasPledge() {
			// a target lowered to what is pledged already is reached now, and said so once
			if saved, err = cs.st.UpdateCampaign(ctx, c.ID, func(x *store.Campaign) error {
				x.TargetReachedAt = cs.now().UTC()
				return nil
			}); err != nil {
				return fmt.Errorf("marking the target of campaign %d reached: %w", c.ID, err)
			}
			out.Campaign = saved
			if err := cs.targetReached(ctx, saved); err != nil {
				return err
			}
		}
		if moved {
			if err := cs.dropEventReminders(ctx, saved.ID); err != nil {
				return err
			}
			if err := cs.scheduleEventReminders(ctx, saved); err != nil {
				return err
			}
		}
		if moved || relocated {
			if out.Told, err = cs.tellSignups(ctx, saved); err != nil {
				return err
			}
		}
		details["fields"] = strings.Join(fields, ",")
		cs.log.Info("campaign edited", "campaign_id", c.ID, "fields", details["fields"], "by", by.Person)
		return cs.audit(ctx, by.Person, "campaign_edited", details)
	})
	if err != nil {
		return Edited{Campaign: c}, err
	}
	return out, nil
}

// tellSignups tells everyone signed up for c's event its new time and place.
func (cs *Campaigns) tellSignups(ctx context.Context, c *store.Campaign) (int, error) {
	w := cs.words()
	var notices []outbox.Notice
	err := cs.st.Signups(ctx, c.ID, func(su *store.Signup) error {
		notices = append(notices, outbox.Notice{ContactID: su.ContactID, Kind: "event_changed", Bulk: true, Before: c.EventAt,
			Render: func(lang string) (string, [][]bot.Button) {
				return cs.cat.Text(lang, messages.CampaignEventChanged, map[string]any{
					"Title": Title(c, lang), "When": w.Time(lang, c.EventAt), "Place": c.EventPlace,
				}), [][]bot.Button{{{Text: cs.cat.Text(lang, messages.CampaignOpenButton, nil), Payload: "/campaign " + c.Code}}}
			}})
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("listing the sign-ups of campaign %d: %w", c.ID, err)
	}
	return len(notices), cs.out.Notify(ctx, notices...)
}

// dropEventReminders deletes the event reminders of a campaign still to fire.
func (cs *Campaigns) dropEventReminders(ctx context.Context, campaignID uint64) error {
	rs, err := cs.st.Reminders(ctx)
	if err != nil {
		return fmt.Errorf("listing reminders: %w", err)
	}
	for _, r := range rs {
		if r.CampaignID == campaignID && r.Kind == store.ReminderEvent && !r.NextFireAt.IsZero() {
			if err := cs.st.DeleteReminder(ctx, r.ID); err != nil {
				return fmt.Errorf("dropping reminder %d: %w", r.ID, err)
			}
		}
	}
	return nil
}

// ensureEventReminders arms a campaign's event reminders if none is left
// to fire (a campaign closed by an older version of the bot lost them).
func (cs *Campaigns) ensureEventReminders(ctx context.Context, c *store.Campaign) error {
	if !c.Kind.HasEvent() || !c.EventAt.After(cs.now()) {
		return nil
	}
	rs, err := cs.st.Reminders(ctx)
	if err != nil {
		return fmt.Errorf("listing reminders: %w", err)
	}
	for _, r := range rs {
		if r.CampaignID == c.ID && r.Kind == store.ReminderEvent && !r.NextFireAt.IsZero() {
			return nil
		}
	}
	return cs.scheduleEventReminders(ctx, c)
}

// timeDetail writes a time for the audit log.
func timeDetail(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
