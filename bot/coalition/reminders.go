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
	"mobilise/bot/schedule"
	"mobilise/messages"
	"mobilise/store"
)

// minRepeat is the shortest interval between two firings of a recurring
// reminder: more often would be spam, whatever the audience.
const minRepeat = time.Hour

// Reminders are messages scheduled ahead: once, or on a schedule, to an
// audience; and the reminders of an event to those signed up for it.
type Reminders struct{ *rules }

// ReminderDraft is a reminder as its author describes it: At for a
// one-off, Schedule for one that repeats.
type ReminderDraft struct {
	CampaignID     uint64
	TextAR, TextEN string
	// Audience and Organiser are as a BroadcastDraft's.
	Audience  store.Audience
	At        time.Time
	Schedule  *schedule.Schedule
	Organiser store.Organiser
}

// ScheduleOf returns how a stored reminder repeats, nil for a one-off.
func ScheduleOf(r *store.Reminder) *schedule.Schedule {
	switch {
	case r.Schedule != nil:
		return r.Schedule
	case r.Spec != "":
		return &schedule.Schedule{Cron: r.Spec}
	}
	return nil
}

// Next returns the reminder's first time after after: its At for a one-off,
// or its schedule's next slot; zero when it never fires again.
func (rm *Reminders) Next(d ReminderDraft, after time.Time) time.Time {
	if d.Schedule == nil {
		return d.At
	}
	return d.Schedule.Next(after, rm.loc)
}

// GoesOutAt returns when a reminder due at at reaches people: at itself, or
// the end of the quiet hours at falls in, which the reminder's messages
// wait out.
func (rm *Reminders) GoesOutAt(at time.Time) time.Time {
	if until := rm.quiet.HoldUntil(at, rm.loc); until.After(at) {
		return until
	}
	return at
}

// Created is what Create did.
type Created struct {
	Reminder *store.Reminder
	// Recipients is how many people the audience reaches now.
	Recipients int
	// AwaitingApproval: it will not fire until an admin other than its author approves.
	AwaitingApproval bool
	// Paused is set when an admin has paused all sending: it fires, but waits.
	Paused *store.Pause
}

// Create schedules a reminder. Whoever may send a broadcast schedules one,
// in the same name and to the same people (Broadcasts.Preview); a
// recurring one may not fire more than once an hour, and an author has at
// most a few recurring reminders at a time. Its audience is counted now:
// over the threshold (with the author's unapproved sends of the last day),
// it waits for a second person's approval before it first fires, and each
// firing is checked again.
func (rm *Reminders) Create(ctx context.Context, by Actor, d ReminderDraft) (Created, error) {
	bd := BroadcastDraft{CampaignID: d.CampaignID, TextAR: d.TextAR, TextEN: d.TextEN, Audience: d.Audience, Organiser: d.Organiser}
	org, _, err := rm.co.Broadcasts.checkDraft(ctx, by, &bd)
	if err != nil {
		return Created{}, err
	}
	d.TextAR, d.TextEN = messages.CleanText(d.TextAR), messages.CleanText(d.TextEN)
	switch {
	case strings.TrimSpace(d.TextAR) == "":
		return Created{}, invalid("text_ar", messages.ErrInputEmpty)
	case !HasArabic(d.TextAR):
		return Created{}, invalid("text_ar", messages.ErrNeedArabic)
	}
	d.Audience.CampaignID = d.CampaignID
	if err := d.Audience.Validate(); err != nil {
		return Created{}, invalid("audience", messages.ErrChooseOption)
	}
	now := rm.now()
	next := rm.Next(d, now)
	switch {
	case next.IsZero() || !next.After(now):
		return Created{}, invalid("when", messages.ErrDatePast)
	case d.Schedule != nil && d.Schedule.FiresWithin(minRepeat, now, rm.loc):
		return Created{}, ErrTooOften
	}
	if d.Schedule != nil {
		live, err := rm.liveRecurring(ctx, by.Person)
		if err != nil {
			return Created{}, err
		}
		if rm.maxRecurring > 0 && live >= rm.maxRecurring {
			return Created{}, ErrTooManyReminders
		}
	}
	n, err := rm.count(ctx, d.Audience)
	if err != nil {
		return Created{}, err
	}
	needs, _, err := rm.needsApproval(ctx, by.Person, d.Audience, n.Total, sendRef{})
	if err != nil {
		return Created{}, err
	}
	r := &store.Reminder{
		CampaignID: d.CampaignID, TextAR: d.TextAR, TextEN: d.TextEN, Audience: d.Audience, Schedule: d.Schedule,
		NextFireAt: next.UTC(), CreatedBy: by.Person, Kind: store.ReminderCustom, CreatedAt: now.UTC(),
		AwaitingApproval: needs, Recipients: n.Total, Organiser: org,
	}
	if d.Schedule == nil {
		r.At = d.At.UTC()
	}
	err = rm.st.InTx(ctx, func(ctx context.Context) error {
		if err := rm.st.CreateReminder(ctx, r); err != nil {
			return fmt.Errorf("storing reminder: %w", err)
		}
		if err := rm.audit(ctx, by.Person, "reminder_created", map[string]string{
			"reminder_id": strconv.FormatUint(r.ID, 10), "schedule": rm.describe(r, "en"), "audience": string(d.Audience.Kind),
			"recipients": strconv.Itoa(n.Total), "text_ar": d.TextAR, "text_en": d.TextEN, "needs_approval": strconv.FormatBool(needs),
			"organiser": joinIDs(org.Institutions), "institution": idDetail(d.Audience.Institution),
		}); err != nil {
			return err
		}
		if needs {
			return rm.requestApproval(ctx, r, n.Total, false)
		}
		return nil
	})
	if err != nil {
		return Created{}, err
	}
	paused, err := rm.pauseState(ctx)
	return Created{Reminder: r, Recipients: n.Total, AwaitingApproval: needs, Paused: paused}, err
}

// liveRecurring counts the author's recurring reminders that still fire.
func (rm *Reminders) liveRecurring(ctx context.Context, author uint64) (int, error) {
	all, err := rm.st.Reminders(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range all {
		if r.CreatedBy == author && r.Kind == store.ReminderCustom && ScheduleOf(&r) != nil && !r.NextFireAt.IsZero() {
			n++
		}
	}
	return n, nil
}

// describe says in words when a reminder fires.
func (rm *Reminders) describe(r *store.Reminder, lang string) string {
	if s := ScheduleOf(r); s != nil {
		return s.Describe(rm.cat, lang)
	}
	return rm.cat.Text(lang, messages.RemindNoRepeat, nil)
}

// Describe says in words, in lang, how a reminder repeats.
func (rm *Reminders) Describe(r *store.Reminder, lang string) string { return rm.describe(r, lang) }

// requestApproval asks every admin but the reminder's author to approve
// it, showing everything it will send; grown is set when a firing of an
// approved reminder waits because its audience grew. The author hears it
// waits too.
func (rm *Reminders) requestApproval(ctx context.Context, r *store.Reminder, total int, grown bool) error {
	c, err := rm.co.Broadcasts.campaignOf(ctx, r.CampaignID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	author, err := rm.st.Contact(ctx, r.CreatedBy)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	audience, err := rm.DescribeAudience(ctx, r.Audience, c)
	if err != nil {
		return err
	}
	from, err := rm.from(ctx, r.Organiser)
	if err != nil {
		return err
	}
	w := rm.words()
	id := strconv.FormatUint(r.ID, 10)
	key := messages.RemindApprovalRequest
	if grown {
		key = messages.RemindApprovalGrown
	}
	if err := rm.notifyAdmins(ctx, r.CreatedBy, "reminder_approval", func(lang string) (string, [][]bot.Button) {
		return rm.cat.Text(lang, key, map[string]any{
				"ID": messages.FormatID(lang, r.ID), "Who": w.Person(author, lang), "Audience": audience(lang),
				"Total": messages.FormatNumber(lang, total), "Covers": messages.FormatNumber(lang, total*(100+approvalSlack)/100),
				"When": rm.describe(r, lang), "Next": w.Time(lang, r.NextFireAt),
				"Content": w.Content(from, r.TextAR, r.TextEN, false, c, lang),
			}), [][]bot.Button{{
				{Text: rm.cat.Text(lang, messages.BroadcastApproveButton, nil), Payload: "/approvereminder " + id},
				{Text: rm.cat.Text(lang, messages.BroadcastRejectButton, nil), Payload: "/rejectreminder " + id},
			}}
	}); err != nil {
		return err
	}
	if !grown {
		return nil
	}
	return rm.out.Notify(ctx, outbox.Notice{ContactID: r.CreatedBy, Kind: "reminder_waits", Render: func(lang string) (string, [][]bot.Button) {
		return rm.cat.Text(lang, messages.RemindWaits, map[string]any{"ID": messages.FormatID(lang, r.ID), "Total": messages.FormatNumber(lang, total)}), nil
	}})
}

// Approve is a second person's yes: the reminder fires from now on for up
// to a tenth more people than it reaches now.
func (rm *Reminders) Approve(ctx context.Context, by Actor, id uint64) (*store.Reminder, error) {
	return rm.decide(ctx, by, id, true)
}

// Reject is a second person's no: the reminder is cancelled and its author told.
func (rm *Reminders) Reject(ctx context.Context, by Actor, id uint64) (*store.Reminder, error) {
	return rm.decide(ctx, by, id, false)
}

func (rm *Reminders) decide(ctx context.Context, by Actor, id uint64, approve bool) (*store.Reminder, error) {
	if !by.can(store.RoleAdmin) {
		return nil, ErrNotAllowed
	}
	r, err := rm.st.Reminder(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if !r.AwaitingApproval {
		return r, ErrDecided
	}
	author, err := rm.st.Identity(ctx, r.CreatedBy)
	if err != nil {
		return nil, err
	}
	if author == by.Person {
		return r, ErrOwnApproval
	}
	err = rm.st.InTx(ctx, func(ctx context.Context) error {
		action, key := "reminder_rejected", messages.RemindRejected
		if approve {
			action, key = "reminder_approved", messages.RemindApproved
			r, err = rm.st.UpdateReminder(ctx, id, func(r *store.Reminder) error {
				if !r.AwaitingApproval {
					return errClaimed
				}
				r.AwaitingApproval, r.ApprovedBy, r.ApprovedFor = false, by.Person, r.Recipients
				return nil
			})
		} else {
			err = rm.st.DeleteReminder(ctx, id)
		}
		if errors.Is(err, errClaimed) {
			return ErrDecided
		}
		if err != nil {
			return notFound(err)
		}
		if err := rm.audit(ctx, by.Person, action, map[string]string{"reminder_id": strconv.FormatUint(id, 10), "author": strconv.FormatUint(author, 10)}); err != nil {
			return err
		}
		return rm.out.Notify(ctx, outbox.Notice{ContactID: author, Kind: "reminder_decided", Render: func(lang string) (string, [][]bot.Button) {
			return rm.cat.Text(lang, key, map[string]any{"ID": messages.FormatID(lang, id)}), nil
		}})
	})
	return r, err
}

// Cancel deletes a reminder: a coordinator their own, an institution's
// representative its reminders, an admin anyone's.
func (rm *Reminders) Cancel(ctx context.Context, by Actor, id uint64) (*store.Reminder, error) {
	if ok, err := rm.mayOrganise(ctx, by); err != nil || !ok {
		return nil, errors.Join(err, notAllowedUnless(ok))
	}
	r, err := rm.st.Reminder(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	author, err := rm.st.Identity(ctx, r.CreatedBy)
	if err != nil {
		return nil, err
	}
	if author != by.Person && !by.can(store.RoleAdmin) {
		rep, err := rm.represents(ctx, by, r.Organiser.Lead())
		if err != nil {
			return r, err
		}
		if !rep || r.Organiser.IsCoalition() {
			return r, ErrNotAllowed
		}
	}
	err = rm.st.InTx(ctx, func(ctx context.Context) error {
		if err := rm.st.DeleteReminder(ctx, id); err != nil {
			return notFound(err)
		}
		return rm.audit(ctx, by.Person, "reminder_cancelled", map[string]string{"reminder_id": strconv.FormatUint(id, 10)})
	})
	return r, err
}

// Upcoming lists the reminders still to fire, in ID order: all of them
// for the coalition's staff, an institution's for its people.
func (rm *Reminders) Upcoming(ctx context.Context, by Actor) ([]store.Reminder, error) {
	if ok, err := rm.mayOrganise(ctx, by); err != nil || !ok {
		return nil, errors.Join(err, notAllowedUnless(ok))
	}
	all, err := rm.st.Reminders(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Reminder
	for _, r := range all {
		if r.Missed || r.NextFireAt.IsZero() {
			continue
		}
		if ok, err := rm.mayRun(ctx, by, r.Organiser); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// FireDue queues every reminder whose time has come. A reminder held for
// approval or suspended waits. A one-off reminder more than the grace period
// late (the bot was down) is recorded as missed and its author told; a
// recurring one fires once for its latest slot and moves on. Each firing is
// checked again: a reminder whose audience has grown past the threshold
// and past what was approved waits for approval, and its author and the
// admins are told. Claiming happens in the store, in the transaction that
// queues the messages, so no slot fires twice, even across a restart.
func (rm *Reminders) FireDue(ctx context.Context) error {
	now := rm.now()
	due, err := rm.st.DueReminders(ctx, now)
	if err != nil {
		return fmt.Errorf("listing due reminders: %w", err)
	}
	var errs []error
	for i := range due {
		r := &due[i]
		if r.Suspended || r.AwaitingApproval {
			continue
		}
		if err := rm.st.InTx(ctx, func(ctx context.Context) error { return rm.fire(ctx, r, now) }); err != nil {
			errs = append(errs, fmt.Errorf("firing reminder %d: %w", r.ID, err))
		}
	}
	return errors.Join(errs...)
}

// fire fires one due reminder.
func (rm *Reminders) fire(ctx context.Context, r *store.Reminder, now time.Time) error {
	slot := r.NextFireAt
	var next time.Time
	if s := ScheduleOf(r); s != nil {
		next = s.Next(now, rm.loc)
	}
	if now.Sub(slot) > rm.grace {
		// too late to send; a recurring reminder moves on to its next slot and stays scheduled
		var err error
		if ScheduleOf(r) != nil {
			_, err = rm.st.ClaimReminder(ctx, r.ID, slot, next, nil)
		} else {
			err = rm.st.MarkReminderMissed(ctx, r.ID, slot, next)
		}
		if err != nil {
			return fmt.Errorf("marking missed: %w", err)
		}
		rm.log.Warn("reminder missed", "reminder_id", r.ID, "late", now.Sub(slot).Round(time.Minute))
		return rm.out.Notify(ctx, rm.missedNotice(r, slot))
	}
	c, total, err := rm.audience(ctx, r)
	if err != nil {
		return err
	}
	// a reminder whose campaign is gone reaches nobody: there is nothing to approve
	approved := (r.CampaignID != 0 && c == nil) || covered(r.ApprovedFor, total)
	if r.Kind != store.ReminderEvent && !approved {
		needs, _, err := rm.needsApproval(ctx, r.CreatedBy, r.Audience, total, sendRef{kind: "reminder", id: r.ID})
		if err != nil {
			return err
		}
		if needs {
			// this firing waits for a second person; the slot stays due
			held, err := rm.st.UpdateReminder(ctx, r.ID, func(x *store.Reminder) error {
				x.AwaitingApproval, x.Recipients = true, total
				return nil
			})
			if err != nil {
				return err
			}
			rm.log.Warn("reminder held for approval", "reminder_id", r.ID, "recipients", total)
			return rm.requestApproval(ctx, held, total, true)
		}
	}
	code, err := rm.newCallCode()
	if err != nil {
		return err
	}
	entries, call, err := rm.entries(ctx, r, c, code)
	if err != nil {
		return err
	}
	claimed, err := rm.st.ClaimReminder(ctx, r.ID, slot, next, entries)
	if err != nil || !claimed {
		return err
	}
	if len(entries) > 0 {
		// the firing's code, recorded in the unit of work that queues its copies
		if err := rm.st.PutCall(ctx, call); err != nil {
			return err
		}
		store.AfterCommit(ctx, rm.out.Wake)
		if r.Kind != store.ReminderEvent {
			if err := rm.st.RecordBulkSend(ctx, store.BulkSend{Author: r.CreatedBy, Kind: "reminder", ID: r.ID, Recipients: len(entries), Approved: approved}); err != nil {
				return err
			}
		}
	}
	rm.log.Info("reminder fired", "reminder_id", r.ID, "recipients", len(entries))
	return nil
}

func (rm *Reminders) missedNotice(r *store.Reminder, slot time.Time) outbox.Notice {
	w := rm.words()
	return outbox.Notice{ContactID: r.CreatedBy, Kind: "reminder_missed", Render: func(lang string) (string, [][]bot.Button) {
		return rm.cat.Text(lang, messages.RemindMissed, map[string]any{
			"ID": messages.FormatID(lang, r.ID), "At": w.Time(lang, slot),
			"Text": InLang(lang, r.TextAR, r.TextEN),
		}), nil
	}}
}

// audience loads a reminder's campaign, if it has one, and counts the
// people its audience reaches now: none when its campaign is gone.
func (rm *Reminders) audience(ctx context.Context, r *store.Reminder) (*store.Campaign, int, error) {
	if r.CampaignID == 0 {
		n, err := rm.count(ctx, r.Audience)
		return nil, n.Total, err
	}
	c, err := rm.st.Campaign(ctx, r.CampaignID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("loading campaign of reminder %d: %w", r.ID, err)
	}
	n, err := rm.count(ctx, r.Audience)
	return c, n.Total, err
}

// entries renders the reminder, of campaign c, for each person its
// audience reaches now, each ending with whom it is from and the firing's
// code, and says what the call is; none when its campaign is gone.
func (rm *Reminders) entries(ctx context.Context, r *store.Reminder, c *store.Campaign, code string) ([]store.OutboxEntry, *store.Call, error) {
	if r.CampaignID != 0 && c == nil {
		return nil, nil, nil
	}
	rs, err := rm.recipients(ctx, r.Audience)
	if err != nil {
		return nil, nil, err
	}
	from, err := rm.from(ctx, r.Organiser)
	if err != nil {
		return nil, nil, err
	}
	w := rm.words()
	event := func(lang string) string {
		return w.Attributed(from, rm.cat.Text(lang, messages.RemindEvent, map[string]any{
			"Title": Title(c, lang), "When": w.Time(lang, c.EventAt), "Place": c.EventPlace, "Code": c.Code,
		}), lang)
	}
	call := &store.Call{Code: code, Kind: "reminder", RefID: r.ID, CampaignID: r.CampaignID, At: rm.now().UTC(),
		TextAR: w.Attributed(from, r.TextAR, messages.Arabic), TextEN: w.Attributed(from, r.TextEN, messages.English)}
	if r.Kind == store.ReminderEvent && c != nil {
		call.TextAR, call.TextEN = event(messages.Arabic), event(messages.English)
	}
	entries := make([]store.OutboxEntry, 0, len(rs))
	for _, rc := range rs {
		lang := messages.NormalizeLang(rc.Lang)
		var text string
		var buttons [][]bot.Button
		if r.Kind == store.ReminderEvent && c != nil {
			text = w.Signed(event(lang), code, lang)
		} else {
			text, buttons = w.Message(from, r.TextAR, r.TextEN, c, lang, rc.Address.Channel, rc.Name, code)
		}
		e := store.OutboxEntry{To: rc.Address, ContactID: rc.ContactID, Text: text,
			Buttons: buttons, Lang: lang, Kind: store.KindReminder}
		if r.Kind == store.ReminderEvent && c != nil {
			e.Before = c.EventAt
		}
		entries = append(entries, e)
	}
	return entries, call, nil
}

// MaxRecurring is how many recurring reminders one author may have at a time.
func (rm *Reminders) MaxRecurring() int { return rm.maxRecurring }
