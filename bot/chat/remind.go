package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/bot/schedule"
	"mobilise/messages"
	"mobilise/store"
)

// reminders is the coordinators' messages sent later or again (/remind):
// the wizard with its schedule in words, the list and cancelling of
// reminders, and the admins' yes or no to one that needs a second person.
type reminders struct{ *outreach }

func (rs *reminders) commands() []engine.Command {
	return []engine.Command{
		{Name: "remind", Role: store.RoleCoordinator, Desc: messages.CmdRemind, Run: rs.cmdRemind},
		{Name: "approvereminder", Role: store.RoleAdmin, Run: rs.cmdApproveReminder},
		{Name: "rejectreminder", Role: store.RoleAdmin, Run: rs.cmdRejectReminder},
	}
}

func (rs *reminders) flows() map[string]*engine.Flow {
	return map[string]*engine.Flow{"remind": rs.remindFlow()}
}

func (rs *reminders) cmdRemind(t *engine.Turn, arg string) error {
	verb, rest, _ := strings.Cut(strings.TrimSpace(arg), " ")
	switch strings.ToLower(verb) {
	case "":
		t.Say(messages.RemindIntro, nil)
		return t.StartFlow("remind", "", nil)
	case "list":
		return rs.listReminders(t)
	case "cancel":
		return rs.cancelReminder(t, rest)
	}
	t.Say(messages.ErrUnknownCommand, map[string]any{"Command": messages.Isolate("/remind " + verb)})
	return rs.listReminders(t)
}

func (rs *reminders) remindFlow() *engine.Flow {
	steps := rs.messageSteps("when")
	steps["when"] = engine.Step{
		Kind: messages.ChoiceQuestion,
		Ask: func(t *engine.Turn) error {
			t.Ask(t.Text(messages.RemindWhen, nil), []engine.Choice{
				{Label: t.Text(messages.RemindOnce, nil), Value: "once"},
				{Label: t.Text(messages.RemindRepeat, nil), Value: "repeat"},
			})
			return nil
		},
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			switch a.Value {
			case "once":
				t.SetData("schedule", "")
				return "once_at", nil
			case "repeat":
				t.SetData("at", "")
				return "repeat", nil
			}
			t.SayChoose(a)
			return "when", nil
		},
	}
	steps["once_at"] = timeStep(messages.RemindOnceAt, "at", false, false, func(t *engine.Turn, at time.Time) bool {
		if !at.After(t.Now()) {
			t.Say(messages.ErrDatePast, nil)
			return false
		}
		return true
	}, func(*engine.Turn) string { return "confirm" })
	steps["repeat"] = engine.Step{
		Ask: func(t *engine.Turn) error {
			t.Ask(t.Text(messages.RemindRepeatSpec, nil), nil)
			return nil
		},
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			v, ok := t.FreeText(a, 200, false)
			if !ok {
				return "repeat", nil
			}
			s, err := schedule.Parse(v, t.Now(), t.Loc())
			if part := t.Data("partial"); part != "" {
				// "every 2 days", asked for the time, answered "9 am": the
				// answer completes the phrase before it
				t.SetData("partial", "")
				if ws, werr := schedule.Parse(part+" "+v, t.Now(), t.Loc()); err != nil && (werr == nil || errors.As(werr, new(*schedule.AmbiguousError))) {
					s, err = ws, werr
				}
			}
			var amb *schedule.AmbiguousError
			var pe *schedule.ParseError
			switch {
			case errors.As(err, &amb):
				// "at 5": the person says whether morning or evening
				for i, opt := range amb.Options {
					if err := setSchedule(t, "option"+strconv.Itoa(i), &opt); err != nil {
						return "", err
					}
				}
				t.SetData("clock", amb.Clock)
				return "ampm", nil
			case err != nil:
				if errors.As(err, &pe) && (pe.Reason == schedule.ReasonNoTime || pe.Reason == schedule.ReasonNoDays) {
					t.SetData("partial", v)
				}
				t.SayText(schedule.Explain(err, t.Catalog(), t.Lang()))
				return "repeat", nil
			}
			if s.FiresWithin(time.Hour, t.Now(), t.Loc()) {
				t.Say(messages.RemindTooOften, nil)
				return "repeat", nil
			}
			if err := setSchedule(t, "schedule", &s); err != nil {
				return "", err
			}
			return "confirm", nil
		},
	}
	steps["ampm"] = engine.Step{
		Kind: messages.ChoiceQuestion,
		Ask: func(t *engine.Turn) error {
			var opts []engine.Choice
			for i := range 2 {
				if s := dataSchedule(t, "option"+strconv.Itoa(i)); s != nil {
					opts = append(opts, engine.Choice{Label: s.Describe(t.Catalog(), t.Lang()), Value: strconv.Itoa(i)})
				}
			}
			t.Ask(t.Text(messages.RemindWhichTime, map[string]any{"Clock": messages.Isolate(t.Data("clock"))}), opts)
			return nil
		},
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			if !a.Chosen {
				// «مساءً», "pm": the clock typed with the period it lacked
				if am := dataSchedule(t, "option0"); am != nil {
					if c, err := schedule.ParseClock(fmt.Sprintf("%d:%02d %s", am.Hour, am.Minute, a.Text)); err == nil {
						for i := range 2 {
							if o := dataSchedule(t, "option"+strconv.Itoa(i)); o != nil && o.Hour == c.Hour && o.Minute == c.Minute {
								a.Value, a.Chosen = strconv.Itoa(i), true
							}
						}
					}
				}
			}
			s := dataSchedule(t, "option"+a.Value)
			if !a.Chosen || s == nil {
				t.SayChoose(a)
				return "ampm", nil
			}
			if s.FiresWithin(time.Hour, t.Now(), t.Loc()) {
				t.Say(messages.RemindTooOften, nil)
				return "repeat", nil
			}
			if err := setSchedule(t, "schedule", s); err != nil {
				return "", err
			}
			t.SetData("option0", "")
			t.SetData("option1", "")
			return "confirm", nil
		},
	}
	steps["confirm"] = engine.ConfirmStep(func(t *engine.Turn) (string, error) {
		d := rs.reminderDraft(t)
		next := rs.co.Reminders.Next(d, t.Now())
		var times []string
		if d.Schedule != nil {
			for _, at := range d.Schedule.NextN(t.Now(), t.Loc(), 3) {
				times = append(times, "• "+rs.sendingText(t, at))
			}
		} else {
			times = []string{"• " + rs.sendingText(t, next)}
		}
		repeat := t.Text(messages.RemindNoRepeat, nil)
		if d.Schedule != nil {
			repeat = d.Schedule.Describe(t.Catalog(), t.Lang())
		}
		return t.Text(messages.RemindSummary, map[string]any{
			"Text": coalition.InLang(t.Lang(), d.TextAR, d.TextEN), "Audience": rs.audienceText(t, d.Audience, rs.dataCampaign(t)),
			"Next": "\n" + strings.Join(times, "\n"), "Repeat": repeat,
		}), nil
	}, messages.CommonCreate, false, rs.createReminder, func(t *engine.Turn) error { return cmdCancel(t, "") })
	return &engine.Flow{First: "org", Role: store.RoleCoordinator, Title: messages.FlowRemind, Steps: steps}
}

// setSchedule keeps a schedule in the conversation's data, as JSON.
func setSchedule(t *engine.Turn, key string, s *schedule.Schedule) error {
	buf, err := json.Marshal(s)
	if err != nil {
		return err
	}
	t.SetData(key, string(buf))
	return nil
}

// dataSchedule reads a schedule kept in the conversation's data.
func dataSchedule(t *engine.Turn, key string) *schedule.Schedule {
	raw := t.Data(key)
	if raw == "" {
		return nil
	}
	var s schedule.Schedule
	if json.Unmarshal([]byte(raw), &s) != nil || s.Validate() != nil {
		return nil
	}
	return &s
}

func (rs *reminders) reminderDraft(t *engine.Turn) coalition.ReminderDraft {
	aud := rs.dataAudience(t)
	return coalition.ReminderDraft{CampaignID: aud.CampaignID, TextAR: t.Data("text_ar"), TextEN: t.Data("text_en"), Audience: aud,
		At: dataTime(t, "at"), Schedule: dataSchedule(t, "schedule"), Organiser: dataOrganiser(t)}
}

func (rs *reminders) createReminder(t *engine.Turn) error {
	res, err := rs.co.Reminders.Create(t.Ctx(), rs.actor(t), rs.reminderDraft(t))
	switch {
	case errors.Is(err, coalition.ErrTooManyReminders):
		t.EndFlow()
		t.Say(messages.RemindTooMany, map[string]any{"Max": messages.FormatNumber(t.Lang(), rs.co.Reminders.MaxRecurring())})
		return mainMenu(t, "")
	case errors.Is(err, coalition.ErrTooOften):
		t.Say(messages.RemindTooOften, nil)
		return t.GoTo("repeat")
	case err != nil:
		return endWith(t, err)
	}
	t.EndFlow()
	rs.pausedNote(t, res.Paused)
	id := messages.FormatID(t.Lang(), res.Reminder.ID)
	if res.AwaitingApproval {
		return mainMenu(t, t.Text(messages.RemindAwaiting, map[string]any{
			"ID": id, "Total": t.Count(messages.PeopleCount, res.Recipients, nil), "Threshold": t.Count(messages.PeopleCount, rs.threshold(), nil),
		}))
	}
	return mainMenu(t, t.Text(messages.RemindCreated, map[string]any{"ID": id, "Next": rs.sendingText(t, res.Reminder.NextFireAt)}))
}

// sendingText writes when a reminder due at at is sent, and, when at falls
// in quiet hours, when its messages go out.
func (rs *reminders) sendingText(t *engine.Turn, at time.Time) string {
	out := rs.co.Reminders.GoesOutAt(at)
	if out.Equal(at) {
		return rs.timeText(t, at)
	}
	return t.Text(messages.RemindQuietTime, map[string]any{"At": rs.timeText(t, at), "Until": rs.timeText(t, out)})
}

func (rs *reminders) listReminders(t *engine.Turn) error {
	all, err := rs.co.Reminders.Upcoming(t.Ctx(), rs.actor(t))
	if err != nil {
		return fail(t, err)
	}
	var sb strings.Builder
	var opts []engine.Choice
	for _, r := range all {
		text := coalition.InLang(t.Lang(), r.TextAR, r.TextEN)
		if r.Kind == store.ReminderEvent {
			if c, err := rs.co.Campaigns.Get(t.Ctx(), r.CampaignID); err == nil {
				text = coalition.Title(c, t.Lang())
			}
		}
		if len([]rune(text)) > 60 {
			text = string([]rune(text)[:60]) + "…"
		}
		id := strconv.FormatUint(r.ID, 10)
		next := rs.timeText(t, r.NextFireAt)
		if r.Kind != store.ReminderEvent {
			next = rs.sendingText(t, r.NextFireAt)
		}
		if s := coalition.ScheduleOf(&r); s != nil {
			// the next three times, so the schedule can be checked against the calendar
			var times []string
			for _, at := range s.NextN(r.NextFireAt.Add(-time.Second), t.Loc(), 3) {
				times = append(times, rs.sendingText(t, at))
			}
			next = strings.Join(times, t.Text(messages.CommonListSep, nil))
		}
		sb.WriteString("\n• " + t.Text(messages.RemindLine, map[string]any{
			"ID": messages.FormatID(t.Lang(), r.ID), "Next": next, "Repeat": rs.co.Reminders.Describe(&r, t.Lang()), "Text": text,
		}))
		// a reminder that does not fire as listed says why
		switch {
		case r.Suspended:
			sb.WriteString(" — " + t.Text(messages.BroadcastStatusSuspended, nil))
		case r.AwaitingApproval:
			sb.WriteString(" — " + t.Text(messages.BroadcastStatusAwaiting, nil))
		}
		opts = append(opts, engine.Choice{Label: t.Text(messages.RemindCancelButton, map[string]any{"ID": messages.FormatID(t.Lang(), r.ID)}), Value: "/remind cancel " + id})
	}
	head := t.Text(messages.RemindList, nil) + sb.String()
	if len(opts) == 0 {
		head = t.Text(messages.RemindNone, nil)
	}
	opts = append(opts, engine.Choice{Label: t.Text(messages.RemindNew, nil), Value: "/remind"}, engine.Choice{Label: t.Text(messages.CommonBack, nil), Value: "/menu"})
	t.Ask(head, opts)
	return nil
}

func (rs *reminders) cancelReminder(t *engine.Turn, arg string) error {
	id, ok := broadcastArg(arg)
	if !ok {
		t.Say(messages.RemindNeedNumber, nil)
		return rs.listReminders(t)
	}
	_, err := rs.co.Reminders.Cancel(t.Ctx(), rs.actor(t), id)
	switch {
	case errors.Is(err, coalition.ErrNotFound), errors.Is(err, coalition.ErrNotAllowed):
		t.Say(messages.RemindNotFound, map[string]any{"ID": messages.FormatID(t.Lang(), id)})
		return rs.listReminders(t)
	case err != nil:
		return err
	}
	return mainMenu(t, t.Text(messages.RemindCancelled, map[string]any{"ID": messages.FormatID(t.Lang(), id)}))
}

func (rs *reminders) cmdApproveReminder(t *engine.Turn, arg string) error {
	return rs.decideReminder(t, arg, true)
}

func (rs *reminders) cmdRejectReminder(t *engine.Turn, arg string) error {
	return rs.decideReminder(t, arg, false)
}

func (rs *reminders) decideReminder(t *engine.Turn, arg string, approve bool) error {
	id, ok := broadcastArg(arg)
	if !ok {
		t.Say(messages.RemindNeedNumber, nil)
		return mainMenu(t, "")
	}
	by := rs.actor(t)
	var err error
	if approve {
		_, err = rs.co.Reminders.Approve(t.Ctx(), by, id)
	} else {
		_, err = rs.co.Reminders.Reject(t.Ctx(), by, id)
	}
	n := messages.FormatID(t.Lang(), id)
	switch {
	case errors.Is(err, coalition.ErrNotFound), errors.Is(err, coalition.ErrDecided):
		t.Say(messages.RemindNotWaiting, map[string]any{"ID": n})
		return mainMenu(t, "")
	case err != nil:
		if explain(t, err) {
			return mainMenu(t, "")
		}
		return err
	}
	key := messages.RemindApproved
	if !approve {
		key = messages.RemindRejected
	}
	return mainMenu(t, t.Text(key, map[string]any{"ID": n}))
}
