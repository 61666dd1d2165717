package bot

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"mobilise/messages"
	"mobilise/store"
)

// The limits of what a campaign may hold.
const (
	maxTitle = 120
	maxCall  = 1500
	maxPlace = 200
	// maxTarget keeps targets to a number a person can read at a glance.
	maxTarget = 10_000_000
)

func (t *turn) cmdNewCampaign(string) error {
	t.say(messages.NewCampaignIntro, nil)
	return t.startFlow("newcampaign", "", nil)
}

// timeStep asks for a date and time; optional steps accept "skip", and
// "now" where allowNow. check refuses times that do not fit.
func timeStep(prompt messages.Key, key string, optional, allowNow bool, check func(t *turn, at time.Time) bool, next func(t *turn) string) step {
	return step{
		ask: func(t *turn) error {
			var opts []option
			if allowNow {
				opts = append(opts, option{t.text(messages.CommonNow, nil), "now"})
			}
			if optional {
				opts = append(opts, option{t.text(messages.CommonSkip, nil), "skip"})
			}
			t.ask(t.text(prompt, map[string]any{"Example": messages.Isolate(t.s.now().In(t.s.loc).AddDate(0, 0, 7).Format("2006-01-02 15:04"))}), opts)
			return nil
		},
		answer: func(t *turn, a answer) (string, error) {
			switch {
			case optional && isSkip(a):
				t.setData(key, "")
				return t.nextOr(next(t)), nil
			case allowNow && (a.Value == "now" || !a.Chosen && messages.IsNow(a.Text)):
				t.setData(key, t.s.now().UTC().Format(time.RFC3339))
				return t.nextOr(next(t)), nil
			case a.Chosen:
				t.say(messages.ErrTypeAnswer, nil)
				return t.sess.Step, nil
			}
			at, ok := parseDateTime(a.Text, t.s.loc)
			if !ok {
				t.say(messages.ErrBadDate, map[string]any{"Example": messages.Isolate("2026-12-31 18:00")})
				return t.sess.Step, nil
			}
			if !check(t, at) {
				return t.sess.Step, nil
			}
			t.setData(key, at.UTC().Format(time.RFC3339))
			return t.nextOr(next(t)), nil
		},
	}
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

// parseDateTime reads the date formats people type: 2026-12-31 18:00,
// 31/12/2026 18:00, with or without the time, in any digits.
func parseDateTime(s string, loc *time.Location) (time.Time, bool) {
	s = strings.Join(strings.Fields(messages.ToASCIIDigits(s)), " ")
	s = strings.NewReplacer("\\", "/", ".", "/").Replace(s)
	for _, layout := range []string{
		"2006-01-02 15:04", "2006-01-02", "2006/01/02 15:04", "2006/01/02",
		"2/1/2006 15:04", "2/1/2006", "2-1-2006 15:04", "2-1-2006",
	} {
		if at, err := time.ParseInLocation(layout, s, loc); err == nil {
			return at, true
		}
	}
	return time.Time{}, false
}

func (t *turn) dataTime(key string) time.Time {
	at, err := time.Parse(time.RFC3339, t.data(key))
	if err != nil {
		return time.Time{}
	}
	return at
}

func (t *turn) dataKind() store.CampaignKind { return store.CampaignKind(t.data("kind")) }

func newCampaignFlow() flow {
	afterEnd := func(t *turn) string {
		if t.dataKind().HasEvent() {
			return "event_at"
		}
		return "confirm"
	}
	return flow{first: "title_ar", steps: map[string]step{
		"title_ar": textStep(messages.NewCampaignTitleAR, "title_ar", maxTitle, false, false, needArabic, "title_en"),
		"title_en": textStep(messages.NewCampaignTitleEN, "title_en", maxTitle, true, false, nil, "call_ar"),
		"call_ar":  textStep(messages.NewCampaignCallAR, "call_ar", maxCall, false, true, nil, "call_en"),
		"call_en":  textStep(messages.NewCampaignCallEN, "call_en", maxCall, true, true, nil, "code"),
		"code": textStep(messages.NewCampaignCode, "code", 30, false, false, func(t *turn, v string) bool {
			v = strings.ToLower(v)
			if !validCode(v) {
				t.say(messages.NewCampaignBadCode, nil)
				return false
			}
			if _, err := t.s.store.CampaignByCode(v); err == nil {
				t.say(messages.NewCampaignCodeTaken, map[string]any{"Code": messages.Isolate(v)})
				return false
			}
			return true
		}, "kind"),
		"kind": {
			ask: func(t *turn) error {
				t.ask(t.text(messages.NewCampaignKind, nil), []option{
					{t.text(messages.KindPledge, nil), string(store.KindPledge)},
					{t.text(messages.KindEvent, nil), string(store.KindEvent)},
					{t.text(messages.KindBoth, nil), string(store.KindBoth)},
				})
				return nil
			},
			answer: func(t *turn, a answer) (string, error) {
				if !a.Chosen {
					t.sayChoose(a)
					return "kind", nil
				}
				t.setData("kind", a.Value)
				if t.data("editing") != "" && store.CampaignKind(a.Value).HasEvent() && t.data("event_at") == "" {
					// an event needs its time and place before the summary
					t.setData("editing", "")
					return "event_at", nil
				}
				if store.CampaignKind(a.Value).HasPledge() {
					return t.nextOr("target"), nil
				}
				return t.nextOr("start"), nil
			},
		},
		"target": {
			ask: func(t *turn) error {
				t.ask(t.text(messages.NewCampaignTarget, nil), []option{{t.text(messages.CommonSkip, nil), "skip"}})
				return nil
			},
			answer: func(t *turn, a answer) (string, error) {
				if isSkip(a) {
					t.setData("target", "")
					return t.nextOr("start"), nil
				}
				n, ok := messages.ParseNumber(a.Text)
				if a.Chosen || !ok || n < 1 || n > maxTarget {
					t.say(messages.NewCampaignBadTarget, map[string]any{"Max": messages.FormatNumber(t.lang, maxTarget)})
					return "target", nil
				}
				t.setData("target", strconv.Itoa(n))
				return t.nextOr("start"), nil
			},
		},
		"start": timeStep(messages.NewCampaignStart, "start", false, true, func(t *turn, at time.Time) bool {
			if at.Before(t.s.now().Add(-24 * time.Hour)) {
				t.say(messages.ErrDatePast, nil)
				return false
			}
			return true
		}, func(*turn) string { return "end" }),
		"end": timeStep(messages.NewCampaignEnd, "end", true, false, func(t *turn, at time.Time) bool {
			if !at.After(t.s.now()) {
				t.say(messages.ErrDatePast, nil)
				return false
			}
			if start := t.dataTime("start"); !start.IsZero() && !at.After(start) {
				t.say(messages.NewCampaignEndBeforeStart, nil)
				return false
			}
			return true
		}, afterEnd),
		"event_at": timeStep(messages.NewCampaignEventAt, "event_at", false, false, func(t *turn, at time.Time) bool {
			if !at.After(t.s.now()) {
				t.say(messages.ErrDatePast, nil)
				return false
			}
			return true
		}, func(*turn) string { return "place" }),
		"place": textStep(messages.NewCampaignPlace, "place", maxPlace, false, false, nil, "reminders"),
		"reminders": {
			ask: func(t *turn) error {
				t.ask(t.text(messages.NewCampaignReminders, nil), []option{{t.text(messages.CommonSkip, nil), "skip"}})
				return nil
			},
			answer: func(t *turn, a answer) (string, error) {
				if isSkip(a) {
					t.setData("reminders", "")
					return "confirm", nil
				}
				hours, ok := parseHours(a.Text)
				if a.Chosen || !ok {
					t.say(messages.NewCampaignBadReminders, nil)
					return "reminders", nil
				}
				t.setData("reminders", hours)
				return "confirm", nil
			},
		},
		"confirm": confirmStep(func(t *turn) (string, error) {
			return t.text(messages.NewCampaignSummary, map[string]any{"Summary": t.campaignSummary()}), nil
		}, messages.CommonCreate, true, (*turn).createCampaign),
		"edit": editStep(func(t *turn) []option {
			opts := []option{
				{t.text(messages.NewCampaignFieldTitle, nil), "title_ar"},
				{t.text(messages.NewCampaignFieldTitleEN, nil), "title_en"},
				{t.text(messages.NewCampaignFieldCall, nil), "call_ar"},
				{t.text(messages.NewCampaignFieldCallEN, nil), "call_en"},
				{t.text(messages.NewCampaignFieldCode, nil), "code"},
				{t.text(messages.NewCampaignFieldKind, nil), "kind"},
			}
			if t.dataKind().HasPledge() {
				opts = append(opts, option{t.text(messages.NewCampaignFieldTarget, nil), "target"})
			}
			opts = append(opts,
				option{t.text(messages.NewCampaignFieldStart, nil), "start"},
				option{t.text(messages.NewCampaignFieldEnd, nil), "end"})
			if t.dataKind().HasEvent() {
				opts = append(opts,
					option{t.text(messages.NewCampaignFieldEventAt, nil), "event_at"},
					option{t.text(messages.NewCampaignFieldPlace, nil), "place"},
					option{t.text(messages.NewCampaignFieldReminders, nil), "reminders"})
			}
			return opts
		}),
	}}
}

// campaignFromData builds the campaign the wizard describes.
func (t *turn) campaignFromData() *store.Campaign {
	target, _ := strconv.Atoi(t.data("target"))
	c := &store.Campaign{
		Code:      strings.ToLower(t.data("code")),
		TitleAR:   t.data("title_ar"),
		TitleEN:   t.data("title_en"),
		CallAR:    t.data("call_ar"),
		CallEN:    t.data("call_en"),
		Kind:      t.dataKind(),
		StartAt:   t.dataTime("start"),
		EndAt:     t.dataTime("end"),
		CreatedBy: t.c.ID,
		CreatedAt: t.s.now().UTC(),
	}
	if c.Kind.HasPledge() {
		c.Target = target
	}
	if c.Kind.HasEvent() {
		c.EventAt = t.dataTime("event_at")
		c.EventPlace = t.data("place")
		c.ReminderOffsets = []time.Duration{24 * time.Hour, time.Hour}
		if hs := splitList(t.data("reminders")); len(hs) > 0 {
			c.ReminderOffsets = nil
			for _, h := range hs {
				n, _ := strconv.Atoi(h)
				c.ReminderOffsets = append(c.ReminderOffsets, time.Duration(n)*time.Hour)
			}
		}
	}
	return c
}

func (t *turn) campaignSummary() string {
	c := t.campaignFromData()
	none := t.text(messages.CommonNone, nil)
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
		return t.formatTime(at)
	}
	target := none
	if c.Target > 0 {
		target = messages.FormatNumber(t.lang, c.Target)
	}
	kindKey := map[store.CampaignKind]messages.Key{store.KindPledge: messages.KindPledge, store.KindEvent: messages.KindEvent, store.KindBoth: messages.KindBoth}[c.Kind]
	s := t.text(messages.NewCampaignSummaryFields, map[string]any{
		"TitleAR": c.TitleAR, "TitleEN": or(c.TitleEN), "CallAR": c.CallAR, "CallEN": or(c.CallEN),
		"Code": messages.Isolate(c.Code), "Kind": t.text(kindKey, nil), "Target": target,
		"Start": timeOr(c.StartAt), "End": timeOr(c.EndAt),
	})
	if c.Kind.HasEvent() {
		s += "\n" + t.text(messages.CampaignEvent, map[string]any{"When": timeOr(c.EventAt), "Place": or(c.EventPlace)})
		var hours []string
		for _, off := range c.ReminderOffsets {
			hours = append(hours, messages.FormatNumber(t.lang, int(off/time.Hour)))
		}
		s += "\n" + t.text(messages.NewCampaignRemindersLine, map[string]any{"Hours": strings.Join(hours, t.text(messages.CommonListSep, nil))})
	}
	return s
}

func (t *turn) createCampaign() error {
	// the role is checked again: it may have been taken away while the wizard ran
	if !t.authorize(store.RoleCoordinator) {
		t.endFlow()
		return t.mainMenu("")
	}
	c := t.campaignFromData()
	// fields corrected one by one, or time passing on the summary, can leave them at odds
	now := t.s.now()
	switch {
	case !c.EndAt.IsZero() && !c.EndAt.After(c.StartAt):
		t.say(messages.NewCampaignEndBeforeStart, nil)
		t.setData("editing", "1")
		return t.goTo("end")
	case !c.EndAt.IsZero() && !c.EndAt.After(now):
		t.say(messages.ErrDatePast, nil)
		t.setData("editing", "1")
		return t.goTo("end")
	case c.Kind.HasEvent() && (c.EventAt.IsZero() || !c.EventAt.After(now)):
		t.say(messages.ErrDatePast, nil)
		t.setData("editing", "1")
		return t.goTo("event_at")
	}
	err := t.s.store.CreateCampaign(c)
	if errors.Is(err, store.ErrCodeTaken) {
		t.say(messages.NewCampaignCodeTaken, map[string]any{"Code": messages.Isolate(c.Code)})
		t.setData("editing", "1")
		return t.goTo("code")
	}
	if err != nil {
		return fmt.Errorf("creating campaign: %w", err)
	}
	t.endFlow()
	if err := t.s.scheduleEventReminders(c); err != nil {
		return err
	}
	if err := t.audit("campaign_created", map[string]string{"campaign_id": strconv.FormatUint(c.ID, 10), "code": c.Code}); err != nil {
		return err
	}
	t.s.log.Info("campaign created", "campaign_id", c.ID, "by", t.c.ID)
	link := t.s.startLink(t.in.From.Channel, c.Code)
	return t.showCampaign(c, t.text(messages.NewCampaignCreated, map[string]any{"Link": messages.Isolate(link)}))
}

func (t *turn) cmdCloseCampaign(code string) error {
	c, err := t.findCampaign(code)
	if c == nil {
		return err
	}
	notices, err := t.s.closeCampaign(c)
	if err != nil {
		return err
	}
	t.notify(notices...)
	if err := t.audit("campaign_closed", map[string]string{"campaign_id": strconv.FormatUint(c.ID, 10)}); err != nil {
		return err
	}
	return t.mainMenu(t.text(messages.CampaignClosedDone, map[string]any{"Title": title(c, t.lang)}))
}

func (t *turn) cmdStats(code string) error {
	if strings.TrimSpace(code) != "" {
		c, err := t.findCampaign(code)
		if c == nil {
			return err
		}
		return t.campaignStats(c)
	}
	all, err := t.s.store.Campaigns()
	if err != nil {
		return fmt.Errorf("listing campaigns: %w", err)
	}
	if len(all) == 0 {
		t.say(messages.CampaignsNone, nil)
		return t.mainMenu("")
	}
	var b strings.Builder
	b.WriteString(t.text(messages.StatsTitle, nil))
	var opts []option
	for i := range all {
		c := &all[i]
		n, err := t.s.store.Counts(c.ID)
		if err != nil {
			return fmt.Errorf("counting campaign %d: %w", c.ID, err)
		}
		b.WriteString("\n\n• " + title(c, t.lang) + " (" + messages.Isolate(c.Code) + ")\n  " + strings.ReplaceAll(t.progress(c, n), "\n", "\n  "))
		opts = append(opts, option{title(c, t.lang), "/stats " + c.Code})
	}
	opts = append(opts, option{t.text(messages.CommonBack, nil), "/menu"})
	t.ask(b.String(), opts)
	return nil
}

func (t *turn) campaignStats(c *store.Campaign) error {
	st, err := t.s.store.CampaignStats(c.ID)
	if err != nil {
		return fmt.Errorf("campaign %d statistics: %w", c.ID, err)
	}
	var b strings.Builder
	b.WriteString("📊 " + title(c, t.lang) + "\n" + t.progress(c, st.Counts))
	b.WriteString("\n" + t.count(messages.StatsReferred, st.Referred, nil))
	section := func(head messages.Key, m map[string]int, name func(string) string) {
		if len(m) == 0 {
			return
		}
		b.WriteString("\n\n" + t.text(head, nil))
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
		for _, k := range keys {
			label := t.text(messages.CommonUnknown, nil)
			if k != "" {
				label = name(k)
			}
			b.WriteString("\n• " + label + ": " + messages.FormatNumber(t.lang, m[k]))
		}
	}
	gov := func(k string) string { return t.text(messages.GovernorateKey(k), nil) }
	lang := func(k string) string { return t.text(messages.LangKey(k), nil) }
	channel := func(k string) string { return messages.Isolate(k) }
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
	return t.mainMenu(b.String())
}
