package chat

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

func (cs *campaigns) cmdNewCampaign(t *engine.Turn, _ string) error {
	t.Say(messages.NewCampaignIntro, nil)
	return t.StartFlow("newcampaign", "", nil)
}

// parseHours reads one to three numbers of hours (1 to 720), in any digits,
// as a comma-separated list.
func parseHours(s string) (string, bool) {
	fields := strings.FieldsFunc(messages.ToASCIIDigits(s), func(r rune) bool { return r == ' ' || r == ',' || r == '،' })
	if len(fields) == 0 || len(fields) > 3 {
		return "", false
	}
	var out []string
	for _, f := range fields {
		n, ok := messages.ParseNumber(f)
		if !ok || n < 1 || n > 720 {
			return "", false
		}
		out = append(out, strconv.Itoa(n))
	}
	return strings.Join(out, ","), true
}

func dataKind(t *engine.Turn) store.CampaignKind { return store.CampaignKind(t.Data("kind")) }

func (cs *campaigns) newCampaignFlow() *engine.Flow {
	afterEnd := func(t *engine.Turn) string {
		if dataKind(t).HasEvent() {
			return "event_at"
		}
		return "confirm"
	}
	steps := map[string]engine.Step{
		"title_ar": engine.TextStep(messages.NewCampaignTitleAR, "title_ar", coalition.MaxTitle, false, false, needArabicText, "title_en"),
		"title_en": engine.TextStep(messages.NewCampaignTitleEN, "title_en", coalition.MaxTitle, true, false, nil, "call_ar"),
		"call_ar":  engine.TextStep(messages.NewCampaignCallAR, "call_ar", coalition.MaxCall, false, true, nil, "call_en"),
		"call_en":  engine.TextStep(messages.NewCampaignCallEN, "call_en", coalition.MaxCall, true, true, nil, "code"),
		"code": engine.TextStep(messages.NewCampaignCode, "code", 30, false, false, func(t *engine.Turn, v string) bool {
			v = strings.ToLower(v)
			if !coalition.ValidCode(v) {
				t.Say(messages.NewCampaignBadCode, nil)
				return false
			}
			if _, err := cs.co.Campaigns.Find(t.Ctx(), v); err == nil {
				t.Say(messages.NewCampaignCodeTaken, map[string]any{"Code": messages.Isolate(v)})
				return false
			}
			return true
		}, "kind"),
		"kind": {
			Kind: messages.ChoiceQuestion,
			Ask: func(t *engine.Turn) error {
				t.Ask(t.Text(messages.NewCampaignKind, nil), []engine.Choice{
					{Label: t.Text(messages.KindPledge, nil), Value: string(store.KindPledge)},
					{Label: t.Text(messages.KindEvent, nil), Value: string(store.KindEvent)},
					{Label: t.Text(messages.KindBoth, nil), Value: string(store.KindBoth)},
				})
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				if !a.Chosen {
					t.SayChoose(a)
					return "kind", nil
				}
				t.SetData("kind", a.Value)
				if t.Data("editing") != "" && store.CampaignKind(a.Value).HasEvent() && t.Data("event_at") == "" {
					// an event needs its time and place before the summary
					t.SetData("editing", "")
					return "event_at", nil
				}
				if store.CampaignKind(a.Value).HasPledge() {
					return t.NextOr("target"), nil
				}
				return t.NextOr("start"), nil
			},
		},
		"target": {
			Kind:        messages.OptionalText,
			TakesNumber: true,
			Ask: func(t *engine.Turn) error {
				t.Ask(t.Text(messages.NewCampaignTarget, nil), []engine.Choice{{Label: t.Text(messages.CommonSkip, nil), Value: "skip"}})
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				if engine.IsSkip(a) {
					t.SetData("target", "")
					return t.NextOr("start"), nil
				}
				n, ok := messages.ParseNumber(a.Text)
				if a.Chosen || !ok || n < 1 || n > coalition.MaxTarget {
					t.Say(messages.NewCampaignBadTarget, map[string]any{"Max": messages.FormatNumber(t.Lang(), coalition.MaxTarget)})
					return "target", nil
				}
				t.SetData("target", strconv.Itoa(n))
				return t.NextOr("start"), nil
			},
		},
		"start": timeStep(messages.NewCampaignStart, "start", false, true, func(t *engine.Turn, at time.Time) bool {
			if at.Before(t.Now().Add(-24 * time.Hour)) {
				t.Say(messages.ErrDatePast, nil)
				return false
			}
			return true
		}, func(*engine.Turn) string { return "end" }),
		"end": timeStep(messages.NewCampaignEnd, "end", true, false, func(t *engine.Turn, at time.Time) bool {
			if !at.After(t.Now()) {
				t.Say(messages.ErrDatePast, nil)
				return false
			}
			if start := dataTime(t, "start"); !start.IsZero() && !at.After(start) {
				t.Say(messages.NewCampaignEndBeforeStart, nil)
				return false
			}
			return true
		}, afterEnd),
		"place": engine.TextStep(messages.NewCampaignPlace, "place", coalition.MaxPlace, false, false, nil, "reminders"),
		"reminders": {
			Kind:        messages.OptionalText,
			TakesNumber: true,
			Ask: func(t *engine.Turn) error {
				t.Ask(t.Text(messages.NewCampaignReminders, nil), []engine.Choice{{Label: t.Text(messages.CommonSkip, nil), Value: "skip"}})
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				if engine.IsSkip(a) {
					t.SetData("reminders", "")
					return "confirm", nil
				}
				hours, ok := parseHours(a.Text)
				if a.Chosen || !ok {
					t.Say(messages.NewCampaignBadReminders, nil)
					return "reminders", nil
				}
				t.SetData("reminders", hours)
				return "confirm", nil
			},
		},
		"confirm": engine.ConfirmStep(func(t *engine.Turn) (string, error) {
			return t.Text(messages.NewCampaignSummary, map[string]any{"Summary": cs.campaignSummary(t)}), nil
		}, messages.CommonCreate, true, cs.createCampaign, func(t *engine.Turn) error { return cmdCancel(t, "") }),
		"edit": engine.EditStep(func(t *engine.Turn) []engine.Choice {
			opts := []engine.Choice{
				{Label: t.Text(messages.NewCampaignFieldTitle, nil), Value: "title_ar"},
				{Label: t.Text(messages.NewCampaignFieldTitleEN, nil), Value: "title_en"},
				{Label: t.Text(messages.NewCampaignFieldCall, nil), Value: "call_ar"},
				{Label: t.Text(messages.NewCampaignFieldCallEN, nil), Value: "call_en"},
				{Label: t.Text(messages.NewCampaignFieldCode, nil), Value: "code"},
				{Label: t.Text(messages.NewCampaignFieldKind, nil), Value: "kind"},
			}
			if dataKind(t).HasPledge() {
				opts = append(opts, engine.Choice{Label: t.Text(messages.NewCampaignFieldTarget, nil), Value: "target"})
			}
			opts = append(opts,
				engine.Choice{Label: t.Text(messages.NewCampaignFieldStart, nil), Value: "start"},
				engine.Choice{Label: t.Text(messages.NewCampaignFieldEnd, nil), Value: "end"})
			if dataKind(t).HasEvent() {
				opts = append(opts,
					engine.Choice{Label: t.Text(messages.NewCampaignFieldEventAt, nil), Value: "event_at"},
					engine.Choice{Label: t.Text(messages.NewCampaignFieldPlace, nil), Value: "place"},
					engine.Choice{Label: t.Text(messages.NewCampaignFieldReminders, nil), Value: "reminders"})
			}
			return opts
		}),
	}
	for k, v := range cs.eventTimeSteps("event_at", "event_at", func(*engine.Turn) string { return "place" }) {
		steps[k] = v
	}
	steps["org"] = cs.organiserStep("title_ar")
	cs.askMediaFirst(steps, "confirm", nil, true)
	return &engine.Flow{First: "org", Role: store.RoleCoordinator, Title: messages.FlowNewCampaign, Steps: steps}
}

// draftFromData is the campaign the wizard describes.
func draftFromData(t *engine.Turn) coalition.Draft {
	target, _ := strconv.Atoi(t.Data("target"))
	d := coalition.Draft{
		Code: strings.ToLower(t.Data("code")), TitleAR: t.Data("title_ar"), TitleEN: t.Data("title_en"),
		CallAR: t.Data("call_ar"), CallEN: t.Data("call_en"), Kind: dataKind(t),
		StartAt: dataTime(t, "start"), EndAt: dataTime(t, "end"), Organiser: dataOrganiser(t),
	}
	if d.Kind.HasPledge() {
		d.Target = target
	}
	if d.Kind.HasEvent() {
		d.EventAt, d.EventPlace = dataTime(t, "event_at"), t.Data("place")
		d.ReminderOffsets = coalition.DefaultReminderOffsets()
		if hs := splitList(t.Data("reminders")); len(hs) > 0 {
			d.ReminderOffsets = nil
			for _, h := range hs {
				n, _ := strconv.Atoi(h)
				d.ReminderOffsets = append(d.ReminderOffsets, time.Duration(n)*time.Hour)
			}
		}
	}
	return d
}

func (cs *campaigns) campaignSummary(t *engine.Turn) string {
	d := draftFromData(t)
	none := t.Text(messages.CommonNone, nil)
	or := func(s string) string {
		if s == "" {
			return none
		}
		return s
	}
	timeOr := func(at time.Time) string {
		if at.IsZero() {
			return none
		}
		return cs.timeText(t, at)
	}
	target := none
	if d.Target > 0 {
		target = messages.FormatNumber(t.Lang(), d.Target)
	}
	kindKey := map[store.CampaignKind]messages.Key{store.KindPledge: messages.KindPledge, store.KindEvent: messages.KindEvent, store.KindBoth: messages.KindBoth}[d.Kind]
	s := t.Text(messages.NewCampaignSummaryFields, map[string]any{
		"TitleAR": d.TitleAR, "TitleEN": or(d.TitleEN), "CallAR": d.CallAR, "CallEN": or(d.CallEN),
		"Code": messages.Isolate(d.Code), "Kind": t.Text(kindKey, nil), "Target": target,
		"Start": timeOr(d.StartAt), "End": timeOr(d.EndAt),
	})
	if inst := cs.dataOrg(t); inst != nil {
		s += "\n" + t.Text(messages.OrgOrganisedBy, map[string]any{"Organiser": institutionName(t, inst)})
	}
	if d.Kind.HasEvent() {
		s += "\n" + t.Text(messages.CampaignEvent, map[string]any{"When": timeOr(d.EventAt), "Place": or(d.EventPlace)})
		var hours []string
		for _, off := range d.ReminderOffsets {
			hours = append(hours, t.Count(messages.Hours, int(off/time.Hour), nil))
		}
		s += "\n" + t.Text(messages.NewCampaignRemindersLine, map[string]any{"Hours": strings.Join(hours, t.Text(messages.CommonListSep, nil))})
		if !d.EndAt.IsZero() && d.EndAt.Before(d.EventAt) {
			s += "\n\n" + t.Text(messages.CampaignEndsBeforeEvent, nil)
		}
	}
	return s
}

// fieldSteps maps the fields an operation can refuse to the steps that ask them.
var fieldSteps = map[string]string{
	"code": "code", "title_ar": "title_ar", "call_ar": "call_ar", "kind": "kind", "target": "target",
	"start": "start", "end": "end", "event_at": "event_at", "place": "place",
}

func (cs *campaigns) createCampaign(t *engine.Turn) error {
	c, err := cs.co.Campaigns.Create(t.Ctx(), cs.actor(t), draftFromData(t))
	var inv *coalition.InvalidError
	if errors.As(err, &inv) && fieldSteps[inv.Field] != "" {
		// fields corrected one by one, or time passing on the summary, can leave them at odds
		t.Say(inv.Reason, map[string]any{"Code": messages.Isolate(t.Data("code")), "Max": messages.FormatNumber(t.Lang(), coalition.MaxTarget)})
		t.SetData("editing", "1")
		return t.GoTo(fieldSteps[inv.Field])
	}
	if err == nil {
		c, err = cs.attachCreated(t, c)
	}
	if err != nil {
		return endWith(t, err)
	}
	t.EndFlow()
	link := cs.co.Campaigns.StartLink(t.In().From.Channel, c.Code)
	return cs.showCampaign(t, c, t.Text(messages.NewCampaignCreated, map[string]any{"Link": messages.Isolate(link)}))
}

// attachCreated gives a campaign just created the file its wizard holds.
func (cs *campaigns) attachCreated(t *engine.Turn, c *store.Campaign) (*store.Campaign, error) {
	m := dataMedia(t)
	if m == nil {
		return c, nil
	}
	return cs.co.Campaigns.SetMedia(t.Ctx(), cs.actor(t), c.ID, m)
}

func (cs *campaigns) cmdStats(t *engine.Turn, code string) error {
	if strings.TrimSpace(code) != "" {
		c, err := cs.findCampaign(t, code)
		if c == nil {
			return err
		}
		return cs.campaignStats(t, c)
	}
	all, err := cs.co.Campaigns.Mine(t.Ctx(), cs.actor(t))
	if err != nil {
		return err
	}
	if len(all) == 0 {
		t.Say(messages.CampaignsNone, nil)
		return mainMenu(t, "")
	}
	var sb strings.Builder
	sb.WriteString(t.Text(messages.StatsTitle, nil))
	var opts []engine.Choice
	for i := range all {
		c := &all[i]
		n, err := cs.co.Campaigns.Counts(t.Ctx(), c.ID)
		if err != nil {
			return err
		}
		sb.WriteString("\n\n• " + coalition.Title(c, t.Lang()) + " (" + messages.Isolate(c.Code) + ")\n  " + strings.ReplaceAll(cs.words.Progress(c, n, t.Lang()), "\n", "\n  "))
		opts = append(opts, engine.Choice{Label: coalition.Title(c, t.Lang()), Value: "/stats " + c.Code})
	}
	opts = append(opts, engine.Choice{Label: t.Text(messages.CommonBack, nil), Value: "/menu"})
	t.Ask(sb.String(), opts)
	return nil
}

func (cs *campaigns) campaignStats(t *engine.Turn, c *store.Campaign) error {
	st, err := cs.co.Campaigns.Stats(t.Ctx(), cs.actor(t), c)
	if err != nil {
		return fail(t, err)
	}
	total, err := cs.co.Campaigns.Counts(t.Ctx(), c.ID)
	if err != nil {
		return err
	}
	var sb strings.Builder
	sb.WriteString("📊 " + coalition.Title(c, t.Lang()) + "\n" + cs.words.Progress(c, total, t.Lang()))
	if shares, err := cs.sharesText(t, c); err != nil {
		return err
	} else if shares != "" {
		sb.WriteString("\n\n" + shares)
	}
	if note, err := cs.shareNote(t, c); err != nil {
		return err
	} else if note != "" {
		sb.WriteString("\n\n" + note)
	}
	sb.WriteString("\n" + t.Count(messages.StatsReferred, st.Referred, nil))
	section := func(head messages.Key, m map[string]int, name func(string) string) {
		if len(m) == 0 {
			return
		}
		sb.WriteString("\n\n" + t.Text(head, nil))
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
		for _, k := range keys {
			label := t.Text(messages.CommonUnknown, nil)
			if k != "" {
				label = name(k)
			}
			sb.WriteString("\n• " + label + ": " + messages.FormatNumber(t.Lang(), m[k]))
		}
	}
	gov := func(k string) string { return t.Text(messages.GovernorateKey(k), nil) }
	lang := func(k string) string { return t.Text(messages.LangKey(k), nil) }
	channel := func(k string) string { return t.Text(messages.ChannelKey(k), nil) }
	if c.Kind.HasPledge() {
		section(messages.StatsPledgesByGovernorate, st.PledgesByGovernorate, gov)
		section(messages.StatsPledgesByLang, st.PledgesByLang, lang)
		section(messages.StatsPledgesByChannel, st.PledgesByChannel, channel)
	}
	if c.Kind.HasEvent() {
		section(messages.StatsSignupsByGovernorate, st.SignupsByGovernorate, gov)
		section(messages.StatsSignupsByLang, st.SignupsByLang, lang)
		section(messages.StatsSignupsByChannel, st.SignupsByChannel, channel)
	}
	if err := cs.attendance.attendanceStats(t, c, &sb); err != nil {
		return err
	}
	return mainMenu(t, sb.String())
}

// shareNote says whose share the figures of a campaign's stats are, for
// the people of a co-organiser (the coalition's staff see the whole).
func (cs *campaigns) shareNote(t *engine.Turn, c *store.Campaign) (string, error) {
	if c.Organiser.IsCoalition() || cs.actor(t).Role.AtLeast(store.RoleCoordinator) {
		return "", nil
	}
	mine, err := cs.co.Institutions.Mine(t.Ctx(), cs.actor(t))
	if err != nil {
		return "", err
	}
	for _, id := range c.Organiser.Institutions {
		for _, m := range mine {
			if m.Institution.ID == id {
				return t.Text(messages.OrgShareBelow, map[string]any{"Name": institutionName(t, m.Institution)}), nil
			}
		}
	}
	return "", nil
}

// sharesText shows each organiser's share of a joint campaign to those who may see it.
func (cs *campaigns) sharesText(t *engine.Turn, c *store.Campaign) (string, error) {
	if !c.Organiser.Joint() {
		return "", nil
	}
	shares, err := cs.co.Campaigns.Shares(t.Ctx(), cs.actor(t), c)
	if errors.Is(err, coalition.ErrNotAllowed) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.WriteString(t.Text(messages.OrgSharesTitle, nil))
	for _, sh := range shares {
		parts := []string{t.Count(messages.OrgPledgesLine, sh.Counts.Pledges, nil)}
		if c.Kind.HasEvent() {
			parts = append(parts, t.Count(messages.OrgSignupsLine, sh.Counts.Signups, nil))
		}
		sb.WriteString("\n• " + institutionName(t, sh.Institution) + ": " + cs.words.List(parts, t.Lang()))
	}
	return sb.String(), nil
}
