package chat

import (
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

// The conversations of a campaign's life after its creation: withdrawing a
// pledge, waiting for the start, closing with a look at what it does,
// reopening, editing, and the file and the poster people see and print
// with it. Every rule is the coalition's.

func (cs *campaigns) cmdWithdraw(t *engine.Turn, code string) error {
	c, err := cs.findCampaign(t, code)
	if c == nil {
		return err
	}
	_, err = cs.co.Campaigns.Withdraw(t.Ctx(), cs.actor(t), c.Code)
	switch {
	case errors.Is(err, coalition.ErrNotPledged):
		return cs.showCampaign(t, c, t.Text(messages.PledgeNone, nil))
	case errors.Is(err, coalition.ErrCampaignClosed):
		return cs.showCampaign(t, c, "")
	case err != nil:
		return err
	}
	return cs.showCampaign(t, c, t.Text(messages.PledgeWithdrawn, nil))
}

func (cs *campaigns) cmdWatch(t *engine.Turn, code string) error {
	c, err := cs.findCampaign(t, code)
	if c == nil {
		return err
	}
	_, _, err = cs.co.Campaigns.Watch(t.Ctx(), cs.actor(t), c.Code)
	switch {
	case errors.Is(err, coalition.ErrNotScheduled):
		return cs.showCampaign(t, c, "")
	case err != nil:
		return err
	}
	return cs.showCampaign(t, c, t.Text(messages.CampaignWatchDone, map[string]any{
		"Title": coalition.Title(c, t.Lang()), "When": cs.timeText(t, c.StartAt)}))
}

// cmdCloseCampaign shows what closing would do and asks before doing it.
func (cs *campaigns) cmdCloseCampaign(t *engine.Turn, code string) error {
	c, err := cs.findCampaign(t, code)
	if c == nil {
		return err
	}
	if _, err := cs.co.Campaigns.CloseImpact(t.Ctx(), cs.actor(t), c.Code); err != nil {
		if explain(t, err) {
			return cs.showCampaign(t, c, "")
		}
		return err
	}
	return t.StartFlow("closecampaign", "", map[string]string{"code": c.Code})
}

func (cs *campaigns) closeCampaignFlow() *engine.Flow {
	return &engine.Flow{First: "confirm", Role: store.RoleCoordinator, Steps: map[string]engine.Step{
		"confirm": engine.ConfirmStep(func(t *engine.Turn) (string, error) {
			im, err := cs.co.Campaigns.CloseImpact(t.Ctx(), cs.actor(t), t.Data("code"))
			if err != nil {
				return "", err
			}
			return cs.closingText(t, im), nil
		}, messages.CampaignCloseButton, false, func(t *engine.Turn) error {
			c, err := cs.co.Campaigns.Close(t.Ctx(), cs.actor(t), t.Data("code"))
			if err != nil {
				return endWith(t, err)
			}
			t.EndFlow()
			return mainMenu(t, t.Text(messages.CampaignClosedDone, map[string]any{"Title": coalition.Title(c, t.Lang())}))
		}, func(t *engine.Turn) error {
			t.EndFlow()
			return mainMenu(t, t.Text(messages.CampaignCloseKept, nil))
		}),
	}}
}

// closingText says what a close does: who hears what, and what of the event stays.
func (cs *campaigns) closingText(t *engine.Turn, im coalition.Closing) string {
	c := im.Campaign
	lines := []string{t.Text(messages.CampaignCloseAsk, map[string]any{"Title": coalition.Title(c, t.Lang())})}
	switch {
	case im.Pledgers == 0:
		lines = append(lines, t.Text(messages.CampaignCloseNobodyTold, nil))
	case im.TargetReached:
		lines = append(lines, t.Count(messages.CampaignCloseTellReached, im.Pledgers, nil))
	default:
		lines = append(lines, t.Count(messages.CampaignCloseTellMissed, im.Pledgers, map[string]any{
			"Pledges": messages.FormatNumber(t.Lang(), im.Counts.Pledges), "Target": messages.FormatNumber(t.Lang(), c.Target)}))
	}
	if im.EventAhead {
		lines = append(lines, t.Count(messages.CampaignCloseEventStays, im.Counts.Signups, map[string]any{"When": cs.timeText(t, c.EventAt)}))
	}
	return strings.Join(lines, "\n")
}

func (cs *campaigns) cmdReopenCampaign(t *engine.Turn, code string) error {
	c, err := cs.findCampaign(t, code)
	if c == nil {
		return err
	}
	ok, err := cs.co.Campaigns.Manages(t.Ctx(), cs.actor(t), c)
	if err != nil {
		return err
	}
	if !ok || !t.Role().AtLeast(store.RoleCoordinator) {
		t.Say(messages.ErrNotAllowed, nil)
		return mainMenu(t, "")
	}
	if cs.co.Campaigns.State(c) != coalition.StateClosed {
		return cs.showCampaign(t, c, t.Text(messages.CampaignNotClosed, map[string]any{"Title": coalition.Title(c, t.Lang())}))
	}
	return t.StartFlow("reopencampaign", "", map[string]string{"code": c.Code})
}

func (cs *campaigns) reopenCampaignFlow() *engine.Flow {
	return &engine.Flow{First: "end", Role: store.RoleCoordinator, Steps: map[string]engine.Step{
		"end": timeStep(messages.CampaignReopenEnd, "end", true, false, func(t *engine.Turn, at time.Time) bool {
			if !at.After(t.Now()) {
				t.Say(messages.ErrDatePast, nil)
				return false
			}
			return true
		}, func(*engine.Turn) string { return "reopen" }),
		"reopen": {
			Ask: func(t *engine.Turn) error {
				c, err := cs.co.Campaigns.Reopen(t.Ctx(), cs.actor(t), t.Data("code"), dataTime(t, "end"))
				var inv *coalition.InvalidError
				if errors.As(err, &inv) {
					t.Say(inv.Reason, nil)
					return t.GoTo("end")
				}
				if err != nil {
					return endWith(t, err)
				}
				t.EndFlow()
				return cs.showCampaign(t, c, t.Text(messages.CampaignReopened, map[string]any{"Title": coalition.Title(c, t.Lang())}))
			},
		},
	}}
}

func (cs *campaigns) cmdEditCampaign(t *engine.Turn, code string) error {
	c, err := cs.findCampaign(t, code)
	if c == nil {
		return err
	}
	ok, err := cs.co.Campaigns.Manages(t.Ctx(), cs.actor(t), c)
	if err != nil {
		return err
	}
	if !ok || !t.Role().AtLeast(store.RoleCoordinator) {
		t.Say(messages.ErrNotAllowed, nil)
		return mainMenu(t, "")
	}
	if cs.co.Campaigns.State(c) == coalition.StateClosed {
		return cs.showCampaign(t, c, t.Text(messages.CampaignEditClosed, map[string]any{"Code": messages.Isolate("/reopencampaign " + c.Code)}))
	}
	return t.StartFlow("editcampaign", "", map[string]string{"code": c.Code})
}

// editFields are the fields of a live campaign that can change, with the
// steps that ask their new value.
func editFields(t *engine.Turn, c *store.Campaign) []engine.Choice {
	opts := []engine.Choice{
		{Label: t.Text(messages.NewCampaignFieldTitle, nil), Value: "title_ar"},
		{Label: t.Text(messages.NewCampaignFieldTitleEN, nil), Value: "title_en"},
		{Label: t.Text(messages.NewCampaignFieldCall, nil), Value: "call_ar"},
		{Label: t.Text(messages.NewCampaignFieldCallEN, nil), Value: "call_en"},
	}
	if c.Kind.HasPledge() {
		opts = append(opts, engine.Choice{Label: t.Text(messages.NewCampaignFieldTarget, nil), Value: "target"})
	}
	opts = append(opts, engine.Choice{Label: t.Text(messages.NewCampaignFieldEnd, nil), Value: "end"})
	if c.Kind.HasEvent() {
		opts = append(opts,
			engine.Choice{Label: t.Text(messages.NewCampaignFieldEventAt, nil), Value: "event_at"},
			engine.Choice{Label: t.Text(messages.NewCampaignFieldPlace, nil), Value: "place"})
	}
	return opts
}

func (cs *campaigns) editCampaignFlow() *engine.Flow {
	campaign := func(t *engine.Turn) (*store.Campaign, error) { return cs.co.Campaigns.Find(t.Ctx(), t.Data("code")) }
	save := func(next string) string { return next }
	steps := map[string]engine.Step{
		"field": {
			Ask: func(t *engine.Turn) error {
				c, err := campaign(t)
				if err != nil {
					return endWith(t, err)
				}
				t.Ask(t.Text(messages.CampaignEditChoose, map[string]any{"Title": coalition.Title(c, t.Lang())}), editFields(t, c))
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				c, err := campaign(t)
				if err != nil {
					return "", endWith(t, err)
				}
				for _, o := range editFields(t, c) {
					if a.Chosen && a.Value == o.Value {
						t.SetData("field", o.Value)
						return o.Value, nil
					}
				}
				t.SayChoose(a)
				return "field", nil
			},
		},
		"title_ar": engine.TextStep(messages.NewCampaignTitleAR, "v", coalition.MaxTitle, false, false, needArabicText, save("confirm")),
		"title_en": engine.TextStep(messages.NewCampaignTitleEN, "v", coalition.MaxTitle, false, false, nil, save("confirm")),
		"call_ar":  engine.TextStep(messages.NewCampaignCallAR, "v", coalition.MaxCall, false, true, nil, save("confirm")),
		"call_en":  engine.TextStep(messages.NewCampaignCallEN, "v", coalition.MaxCall, false, true, nil, save("confirm")),
		"place":    engine.TextStep(messages.NewCampaignPlace, "v", coalition.MaxPlace, false, false, nil, save("confirm")),
		"target": {
			Ask: func(t *engine.Turn) error {
				t.Ask(t.Text(messages.CampaignEditTarget, nil), nil)
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				n, ok := messages.ParseNumber(a.Text)
				if a.Chosen || !ok || n < 0 || n > coalition.MaxTarget {
					t.Say(messages.NewCampaignBadTarget, map[string]any{"Max": messages.FormatNumber(t.Lang(), coalition.MaxTarget)})
					return "target", nil
				}
				t.SetData("v", strconv.Itoa(n))
				return "confirm", nil
			},
		},
		"end": timeStep(messages.NewCampaignEnd, "v", true, false, func(t *engine.Turn, at time.Time) bool {
			if !at.After(t.Now()) {
				t.Say(messages.ErrDatePast, nil)
				return false
			}
			return true
		}, func(*engine.Turn) string { return "confirm" }),
		"confirm": engine.ConfirmStep(func(t *engine.Turn) (string, error) {
			c, err := campaign(t)
			if err != nil {
				return "", err
			}
			text := t.Text(messages.CampaignEditAsk, map[string]any{"Field": cs.fieldLabel(t, c, t.Data("field")), "Value": cs.editValue(t)})
			if f := t.Data("field"); f == "event_at" || f == "place" {
				n, err := cs.co.Campaigns.Counts(t.Ctx(), c.ID)
				if err != nil {
					return "", err
				}
				if n.Signups > 0 {
					text += "\n" + t.Count(messages.CampaignEditWillTell, n.Signups, nil)
				}
			}
			return text, nil
		}, messages.CommonSave, false, cs.saveCampaignEdit, func(t *engine.Turn) error { return cmdCancel(t, "") }),
	}
	for k, v := range cs.eventTimeSteps("event_at", "v", func(*engine.Turn) string { return "confirm" }) {
		steps[k] = v
	}
	return &engine.Flow{First: "field", Role: store.RoleCoordinator, Steps: steps}
}

// fieldLabel names a campaign field in the reader's language.
func (cs *campaigns) fieldLabel(t *engine.Turn, c *store.Campaign, field string) string {
	for _, o := range editFields(t, c) {
		if o.Value == field {
			return o.Label
		}
	}
	return field
}

// editValue shows the new value the person gave.
func (cs *campaigns) editValue(t *engine.Turn) string {
	v := t.Data("v")
	switch t.Data("field") {
	case "end", "event_at":
		at := dataTime(t, "v")
		if at.IsZero() {
			return t.Text(messages.CampaignNoEnd, nil)
		}
		return cs.timeText(t, at)
	case "target":
		n, _ := strconv.Atoi(v)
		if n == 0 {
			return t.Text(messages.CommonNone, nil)
		}
		return messages.FormatNumber(t.Lang(), n)
	}
	return v
}

func (cs *campaigns) saveCampaignEdit(t *engine.Turn) error {
	var ch coalition.Change
	v := t.Data("v")
	field := t.Data("field")
	switch field {
	case "title_ar":
		ch.TitleAR = &v
	case "title_en":
		ch.TitleEN = &v
	case "call_ar":
		ch.CallAR = &v
	case "call_en":
		ch.CallEN = &v
	case "place":
		ch.EventPlace = &v
	case "target":
		n, _ := strconv.Atoi(v)
		ch.Target = &n
	case "end":
		at := dataTime(t, "v")
		ch.EndAt = &at
	case "event_at":
		at := dataTime(t, "v")
		ch.EventAt = &at
	}
	res, err := cs.co.Campaigns.Edit(t.Ctx(), cs.actor(t), t.Data("code"), ch)
	var inv *coalition.InvalidError
	if errors.As(err, &inv) {
		t.Say(inv.Reason, map[string]any{"Max": messages.FormatNumber(t.Lang(), coalition.MaxTarget)})
		return t.GoTo(field)
	}
	if err != nil {
		return endWith(t, err)
	}
	t.EndFlow()
	intro := []string{t.Text(messages.CampaignEditSaved, nil)}
	if len(res.Fields) == 0 {
		intro = []string{t.Text(messages.CampaignEditNothing, nil)}
	}
	if res.Told > 0 {
		intro = append(intro, t.Count(messages.CampaignEditTold, res.Told, nil))
	}
	if res.EndsBeforeEvent {
		intro = append(intro, t.Text(messages.CampaignEndsBeforeEvent, nil))
	}
	return cs.showCampaign(t, res.Campaign, strings.Join(intro, "\n"))
}

// eventTimeSteps ask for an event's date and time, stored under key: a
// date typed without its time is asked its time, rather than taken as
// midnight (its reminders would fall in the night).
func (cs *campaigns) eventTimeSteps(step, key string, next func(*engine.Turn) string) map[string]engine.Step {
	clockStep, ampmStep := step+"_clock", step+"_ampm"
	check := func(t *engine.Turn, at time.Time) bool {
		if !at.After(t.Now()) {
			t.Say(messages.ErrDatePast, nil)
			return false
		}
		return true
	}
	dateStep := timeStep(messages.NewCampaignEventAt, key, false, false, check, next)
	answer := dateStep.Answer
	dateStep.Answer = func(t *engine.Turn, a engine.Answer) (string, error) {
		if !a.Chosen && !hasClock(a.Text) {
			if day, ok := parseDateTime(a.Text, t.Loc()); ok {
				t.SetData(key+"_day", day.Format(time.DateOnly))
				return clockStep, nil
			}
		}
		return answer(t, a)
	}
	set := func(t *engine.Turn, c schedule.Clock) (string, error) {
		day, err := time.ParseInLocation(time.DateOnly, t.Data(key+"_day"), t.Loc())
		if err != nil {
			return step, nil
		}
		at := c.On(day, t.Loc())
		if !check(t, at) {
			return step, nil
		}
		t.SetData(key, at.UTC().Format(time.RFC3339))
		return t.NextOr(next(t)), nil
	}
	return map[string]engine.Step{
		step: dateStep,
		clockStep: {
			Ask: func(t *engine.Turn) error {
				day, _ := time.ParseInLocation(time.DateOnly, t.Data(key+"_day"), t.Loc())
				t.Ask(t.Text(messages.CampaignEventClock, map[string]any{"Date": cs.words.Date(t.Lang(), day)}), nil)
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				c, err := schedule.ParseClock(a.Text)
				var amb *schedule.AmbiguousError
				switch {
				case errors.As(err, &amb):
					t.SetData(key+"_am", strconv.Itoa(amb.Options[0].Hour*60+amb.Options[0].Minute))
					t.SetData(key+"_pm", strconv.Itoa(amb.Options[1].Hour*60+amb.Options[1].Minute))
					return ampmStep, nil
				case err != nil:
					t.Say(messages.CampaignEventClockBad, nil)
					return clockStep, nil
				}
				return set(t, c)
			},
		},
		ampmStep: {
			Ask: func(t *engine.Turn) error {
				day, _ := time.ParseInLocation(time.DateOnly, t.Data(key+"_day"), t.Loc())
				var opts []engine.Choice
				for _, k := range []string{"_am", "_pm"} {
					m, _ := strconv.Atoi(t.Data(key + k))
					at := schedule.Clock{Hour: m / 60, Minute: m % 60}.On(day, t.Loc())
					opts = append(opts, engine.Choice{Label: messages.FormatClock(t.Lang(), at), Value: k})
				}
				t.Ask(t.Text(messages.CampaignEventMorningOrEvening, nil), opts)
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				if !a.Chosen {
					// «مساءً», "pm", "in the evening": the hour with the words typed
					m, _ := strconv.Atoi(t.Data(key + "_am"))
					if c, err := schedule.ParseClock(fmt.Sprintf("%d:%02d %s", m/60, m%60, a.Text)); err == nil {
						return set(t, c)
					}
				}
				if !a.Chosen || (a.Value != "_am" && a.Value != "_pm") {
					t.SayChoose(a)
					return ampmStep, nil
				}
				m, _ := strconv.Atoi(t.Data(key + a.Value))
				return set(t, schedule.Clock{Hour: m / 60, Minute: m % 60})
			},
		},
	}
}

// hasClock reports whether a typed date carries a time of day too.
func hasClock(s string) bool {
	s = messages.ToASCIIDigits(strings.TrimSpace(s))
	fields := strings.Fields(s)
	return len(fields) > 1 || strings.ContainsAny(s, ":")
}

// cmdAttach is /attach CODE: the poster, PDF or video people see with a
// campaign, sent in answer to the question; "none" removes it.
func (cs *campaigns) cmdAttach(t *engine.Turn, arg string) error {
	code := strings.TrimSpace(arg)
	if code == "" {
		t.Say(messages.MediaAttachUsage, map[string]any{"Command": messages.Isolate("/attach")})
		return mainMenu(t, "")
	}
	c, err := cs.co.Campaigns.Find(t.Ctx(), code)
	if err != nil {
		return endWith(t, err)
	}
	ok, err := cs.co.Campaigns.Manages(t.Ctx(), cs.actor(t), c)
	if err != nil {
		return err
	}
	if !ok {
		t.Say(messages.ErrNotAllowed, nil)
		return mainMenu(t, "")
	}
	return t.StartFlow("attach", "", map[string]string{"campaign": strconv.FormatUint(c.ID, 10)})
}

func (cs *campaigns) attachFlow() *engine.Flow {
	done := func(t *engine.Turn) error {
		c := cs.dataCampaign(t)
		if c == nil {
			t.EndFlow()
			return mainMenu(t, "")
		}
		m := dataMedia(t)
		c, err := cs.co.Campaigns.SetMedia(t.Ctx(), cs.actor(t), c.ID, m)
		if err != nil {
			return endWith(t, err)
		}
		t.EndFlow()
		title := coalition.Title(c, t.Lang())
		if m == nil {
			return mainMenu(t, t.Text(messages.MediaRemoved, map[string]any{"Title": title}))
		}
		return mainMenu(t, t.Text(messages.MediaAttached, map[string]any{"Title": title, "File": cs.words.MediaLine(t.Lang(), m)}))
	}
	steps := map[string]engine.Step{
		"done": {Ask: done, Answer: func(t *engine.Turn, _ engine.Answer) (string, error) { return "", done(t) }},
	}
	steps["file"] = cs.fileStep("done", nil, true)
	// fileStep asks again at "media" after a text or a refused file
	steps["media"] = steps["file"]
	return &engine.Flow{First: "file", Role: store.RoleCoordinator, Title: messages.FlowAttach, Steps: steps}
}

// cmdPoster is /poster CODE: the campaign's printable poster, written on
// the server; the person is told where once it is drawn.
func (cs *campaigns) cmdPoster(t *engine.Turn, code string) error {
	if strings.TrimSpace(code) == "" {
		return mainMenu(t, t.Text(messages.ChatPosterUsage, nil))
	}
	c, err := cs.co.Posters.Request(t.Ctx(), cs.actor(t), code)
	switch {
	case errors.Is(err, coalition.ErrNotFound):
		t.Say(messages.CampaignNotFound, map[string]any{"Code": messages.Isolate(strings.TrimSpace(code))})
		return mainMenu(t, "")
	case errors.Is(err, coalition.ErrNoPosters):
		return mainMenu(t, t.Text(messages.ChatPosterOff, nil))
	case errors.Is(err, coalition.ErrBusy):
		return mainMenu(t, t.Text(messages.ChatPosterBusy, nil))
	case err != nil:
		return fail(t, err)
	}
	return mainMenu(t, t.Text(messages.ChatPosterPreparing, map[string]any{"Title": coalition.Title(c, t.Lang())}))
}
