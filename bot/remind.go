package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"mobilise/messages"
	"mobilise/store"
)

// WithReminderGrace sets how late a one-off reminder may still go out after
// the bot was down; later ones are recorded as missed and the creator told.
func WithReminderGrace(d time.Duration) Option { return func(s *Service) { s.reminderGrace = d } }

func (t *turn) cmdRemind(arg string) error {
	verb, rest, _ := strings.Cut(strings.TrimSpace(arg), " ")
	switch strings.ToLower(verb) {
	case "":
		t.say(messages.RemindIntro, nil)
		return t.startFlow("remind", "", nil)
	case "list":
		return t.listReminders()
	case "cancel":
		return t.cancelReminder(rest)
	}
	t.say(messages.ErrUnknownCommand, map[string]any{"Command": messages.Isolate("/remind " + verb)})
	return t.listReminders()
}

func remindFlow() flow {
	steps := messageSteps("when")
	steps["when"] = step{
		ask: func(t *turn) error {
			t.ask(t.text(messages.RemindWhen, nil), []option{
				{t.text(messages.RemindOnce, nil), "once"},
				{t.text(messages.RemindRepeat, nil), "repeat"},
			})
			return nil
		},
		answer: func(t *turn, a answer) (string, error) {
			switch a.Value {
			case "once":
				t.setData("spec", "")
				return "once_at", nil
			case "repeat":
				t.setData("at", "")
				return "repeat", nil
			}
			t.sayChoose(a)
			return "when", nil
		},
	}
	steps["once_at"] = timeStep(messages.RemindOnceAt, "at", false, false, func(t *turn, at time.Time) bool {
		if !at.After(t.s.now()) {
			t.say(messages.ErrDatePast, nil)
			return false
		}
		return true
	}, func(*turn) string { return "confirm" })
	steps["repeat"] = step{
		ask: func(t *turn) error {
			t.ask(t.text(messages.RemindRepeatSpec, nil), nil)
			return nil
		},
		answer: func(t *turn, a answer) (string, error) {
			v, ok := t.freeText(a, 100, false)
			if !ok {
				return "repeat", nil
			}
			spec, err := parseSchedule(v)
			if err != nil {
				t.say(messages.RemindBadSpec, nil)
				return "repeat", nil
			}
			if tooOften(spec, t.s.now(), t.s.loc) {
				t.say(messages.RemindTooOften, nil)
				return "repeat", nil
			}
			t.setData("spec", spec)
			return "confirm", nil
		},
	}
	steps["confirm"] = confirmStep(func(t *turn) (string, error) {
		r, err := t.reminderFromData()
		if err != nil {
			return "", err
		}
		return t.text(messages.RemindSummary, map[string]any{
			"Text": r.TextAR, "Audience": t.s.audienceText(r.Audience, t.lang),
			"Next": t.formatTime(r.NextFireAt), "Repeat": t.repeatText(r.Spec),
		}), nil
	}, messages.CommonCreate, false, (*turn).createReminder)
	return flow{first: "campaign", steps: steps}
}

func (t *turn) repeatText(spec string) string {
	if spec == "" {
		return t.text(messages.RemindNoRepeat, nil)
	}
	return messages.Isolate(spec)
}

func (t *turn) reminderFromData() (*store.Reminder, error) {
	r := &store.Reminder{
		TextAR: t.data("text_ar"), TextEN: t.data("text_en"), Audience: t.dataAudience(),
		Spec: t.data("spec"), CreatedBy: t.c.ID, Kind: "custom", CreatedAt: t.s.now().UTC(),
	}
	r.CampaignID = r.Audience.CampaignID
	if r.Spec == "" {
		r.At = t.dataTime("at")
		r.NextFireAt = r.At
		return r, nil
	}
	next, err := nextFire(r.Spec, t.s.now(), t.s.loc)
	if err != nil {
		return nil, err
	}
	r.NextFireAt = next
	return r, nil
}

func (t *turn) createReminder() error {
	if !t.authorize(store.RoleCoordinator) {
		t.endFlow()
		return t.mainMenu("")
	}
	r, err := t.reminderFromData()
	if err != nil {
		return err
	}
	// a reminder is a broadcast that repeats: a large audience takes an admin, as a broadcast does
	if rs, err := t.s.recipients(r.Audience); err != nil {
		return err
	} else if t.s.approvalThreshold > 0 && len(rs) > t.s.approvalThreshold && t.role != store.RoleAdmin {
		t.endFlow()
		return t.mainMenu(t.text(messages.RemindNeedsAdmin, map[string]any{"Threshold": messages.FormatNumber(t.lang, t.s.approvalThreshold)}))
	}
	if err := t.s.store.CreateReminder(r); err != nil {
		return fmt.Errorf("storing reminder: %w", err)
	}
	t.endFlow()
	if err := t.audit("reminder_created", map[string]string{"reminder_id": strconv.FormatUint(r.ID, 10), "spec": r.Spec, "audience": string(r.Audience.Kind)}); err != nil {
		return err
	}
	return t.mainMenu(t.text(messages.RemindCreated, map[string]any{"ID": messages.Isolate(strconv.FormatUint(r.ID, 10)), "Next": t.formatTime(r.NextFireAt)}))
}

func (t *turn) listReminders() error {
	all, err := t.s.store.Reminders()
	if err != nil {
		return fmt.Errorf("listing reminders: %w", err)
	}
	var b strings.Builder
	var opts []option
	for _, r := range all {
		if r.Missed || r.NextFireAt.IsZero() {
			continue
		}
		text := inLang(t.lang, r.TextAR, r.TextEN)
		if r.Kind == "event" {
			text = t.campaignTitle(r.CampaignID)
		}
		if len([]rune(text)) > 60 {
			text = string([]rune(text)[:60]) + "…"
		}
		id := strconv.FormatUint(r.ID, 10)
		b.WriteString("\n• " + t.text(messages.RemindLine, map[string]any{
			"ID": messages.Isolate(id), "Next": t.formatTime(r.NextFireAt), "Repeat": t.repeatText(r.Spec), "Text": text,
		}))
		opts = append(opts, option{t.text(messages.RemindCancelButton, map[string]any{"ID": id}), "/remind cancel " + id})
	}
	head := t.text(messages.RemindList, nil) + b.String()
	if len(opts) == 0 {
		head = t.text(messages.RemindNone, nil)
	}
	opts = append(opts, option{t.text(messages.RemindNew, nil), "/remind"}, option{t.text(messages.CommonBack, nil), "/menu"})
	t.ask(head, opts)
	return nil
}

func (t *turn) cancelReminder(arg string) error {
	n, ok := messages.ParseNumber(strings.TrimPrefix(strings.TrimSpace(arg), "#"))
	id := uint64(n)
	if ok && n > 0 {
		if r, err := t.s.store.Reminder(id); err == nil && (r.CreatedBy == t.c.ID || t.role == store.RoleAdmin) {
			if err := t.s.store.DeleteReminder(id); err != nil {
				return fmt.Errorf("deleting reminder %d: %w", id, err)
			}
			if err := t.audit("reminder_cancelled", map[string]string{"reminder_id": strconv.FormatUint(id, 10)}); err != nil {
				return err
			}
			return t.mainMenu(t.text(messages.RemindCancelled, map[string]any{"ID": messages.Isolate(strconv.FormatUint(id, 10))}))
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("loading reminder %d: %w", id, err)
		}
	}
	t.say(messages.RemindNotFound, map[string]any{"ID": messages.Isolate(strings.TrimSpace(arg))})
	return t.listReminders()
}

// scheduleEventReminders arms the reminders that go to everyone signed up
// for a campaign's event, at each of its offsets before the event.
func (s *Service) scheduleEventReminders(c *store.Campaign) error {
	if !c.Kind.HasEvent() || c.EventAt.IsZero() {
		return nil
	}
	for _, off := range c.ReminderOffsets {
		at := c.EventAt.Add(-off)
		if !at.After(s.now()) {
			continue
		}
		r := &store.Reminder{CampaignID: c.ID, Audience: store.Audience{Kind: store.AudienceSignups, CampaignID: c.ID},
			At: at.UTC(), NextFireAt: at.UTC(), CreatedBy: c.CreatedBy, Kind: "event", CreatedAt: s.now().UTC()}
		if err := s.store.CreateReminder(r); err != nil {
			return fmt.Errorf("arming the event reminder of campaign %d: %w", c.ID, err)
		}
	}
	return nil
}

// FireDueReminders queues every reminder whose time has come. A one-off
// reminder more than the grace period late (the bot was down) is recorded as
// missed and its creator told; a recurring one fires once for its latest
// slot and moves on. Claiming happens in the store, in the same transaction
// that queues the messages, so no slot fires twice, even across a restart.
func (s *Service) FireDueReminders(ctx context.Context) error {
	now := s.now()
	due, err := s.store.DueReminders(now)
	if err != nil {
		return fmt.Errorf("listing due reminders: %w", err)
	}
	var errs []error
	queued := false
	for i := range due {
		r := &due[i]
		slot := r.NextFireAt
		var next time.Time
		if r.Spec != "" {
			if next, err = nextFire(r.Spec, now, s.loc); err != nil {
				errs = append(errs, fmt.Errorf("reminder %d: %w", r.ID, err))
				continue
			}
		}
		if now.Sub(slot) > s.reminderGrace {
			// too late to send; a recurring reminder moves on to its next slot and stays scheduled
			var err error
			if r.Spec != "" {
				_, err = s.store.ClaimReminder(r.ID, slot, next, nil)
			} else {
				err = s.store.MarkReminderMissed(r.ID, slot, next)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("marking reminder %d missed: %w", r.ID, err))
				continue
			}
			s.log.Warn("reminder missed", "reminder_id", r.ID, "late", now.Sub(slot).Round(time.Minute))
			if err := s.notify(ctx, []Notice{s.missedNotice(r, slot)}); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		entries, err := s.reminderEntries(r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		claimed, err := s.store.ClaimReminder(r.ID, slot, next, entries)
		if err != nil {
			errs = append(errs, fmt.Errorf("firing reminder %d: %w", r.ID, err))
			continue
		}
		if claimed {
			queued = queued || len(entries) > 0
			s.log.Info("reminder fired", "reminder_id", r.ID, "recipients", len(entries))
		}
	}
	if queued && s.plan.Wake != nil {
		s.plan.Wake()
	}
	return errors.Join(errs...)
}

func (s *Service) missedNotice(r *store.Reminder, slot time.Time) Notice {
	return Notice{ContactID: r.CreatedBy, Kind: "reminder_missed", Render: func(lang string) (string, [][]Button) {
		return s.cat.Text(lang, messages.RemindMissed, map[string]any{
			"ID": messages.Isolate(strconv.FormatUint(r.ID, 10)), "At": messages.Isolate(slot.In(s.loc).Format("2006-01-02 15:04")),
			"Text": inLang(lang, r.TextAR, r.TextEN),
		}), nil
	}}
}

// reminderEntries renders a reminder for each person its audience reaches now.
func (s *Service) reminderEntries(r *store.Reminder) ([]store.OutboxEntry, error) {
	var c *store.Campaign
	if r.CampaignID != 0 {
		var err error
		if c, err = s.store.Campaign(r.CampaignID); errors.Is(err, store.ErrNotFound) {
			return nil, nil
		} else if err != nil {
			return nil, fmt.Errorf("loading campaign of reminder %d: %w", r.ID, err)
		}
	}
	rs, err := s.recipients(r.Audience)
	if err != nil {
		return nil, err
	}
	entries := make([]store.OutboxEntry, 0, len(rs))
	for _, rc := range rs {
		ch, _, _ := strings.Cut(rc.Address, ":")
		lang := messages.NormalizeLang(rc.Lang)
		var text string
		var buttons [][]Button
		if r.Kind == "event" && c != nil {
			text = s.cat.Text(lang, messages.RemindEvent, map[string]any{
				"Title": title(c, lang), "When": messages.Isolate(c.EventAt.In(s.loc).Format("2006-01-02 15:04")),
				"Place": c.EventPlace, "Code": c.Code,
			})
		} else {
			text, buttons = s.broadcastText(r.TextAR, r.TextEN, c, lang, ch, rc.Name)
		}
		entries = append(entries, store.OutboxEntry{Channel: ch, To: rc.Address, ContactID: rc.ContactID, Text: text,
			Buttons: OutboxButtons(buttons), Lang: lang, Kind: "reminder"})
	}
	return entries, nil
}
