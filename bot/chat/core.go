package chat

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// core is what every group of conversations shares: the coalition whose
// operations they call, the catalog and the words that render results,
// and the few lookups many commands begin with — the person of the turn,
// a person or a campaign named (core_campaign.go), the question of a file
// (media.go). The groups embed it. What needs only the turn (explain,
// fail, endWith, mainMenu, cmdCancel, timeStep, the governorate questions)
// is plain functions below.
type core struct {
	co    *coalition.Coalition
	cat   *messages.Catalog
	words coalition.Words
	log   *slog.Logger
}

// actor is the person of the turn, with their role of this moment.
func (cr *core) actor(t *engine.Turn) coalition.Actor {
	a := cr.co.Members.ActorOf(t.Contact(), t.In().From)
	a.Lang = t.Lang()
	return a
}

// timeText shows a time in the coalition's zone for the turn's reader.
func (cr *core) timeText(t *engine.Turn, at time.Time) string { return cr.words.Time(t.Lang(), at) }

// person finds the person an admin command names, telling the admin when
// there is none; command is the command typed, for the example.
func (cr *core) person(t *engine.Turn, arg, command string) (*store.Contact, error) {
	arg = strings.TrimSpace(arg)
	if arg == "" {
		t.Say(messages.AdminNeedPerson, map[string]any{
			"Example": messages.Isolate(command + " 12"), "Address": messages.Isolate(command + " telegram:123456")})
		return nil, mainMenu(t, "")
	}
	c, err := cr.co.Members.FindPerson(t.Ctx(), arg)
	if errors.Is(err, coalition.ErrNotFound) {
		t.Say(messages.AdminNoPerson, map[string]any{"Who": messages.Isolate(arg)})
		return nil, mainMenu(t, "")
	}
	return c, err
}

// fail tells the person why an operation refused, in their language, and
// asks the current question again (or shows the main menu). An error that is
// not a rule's is returned: the turn fails and nothing of it is kept.
func fail(t *engine.Turn, err error) error {
	if !explain(t, err) {
		return err
	}
	return t.Reask()
}

// explain says why an operation refused and reports whether it knew the error.
func explain(t *engine.Turn, err error) bool {
	var inv *coalition.InvalidError
	switch {
	case errors.As(err, &inv):
		t.Say(inv.Reason, map[string]any{"Max": messages.FormatNumber(t.Lang(), engine.MaxInput)})
	case errors.Is(err, coalition.ErrNotAllowed):
		t.Say(messages.ErrNotAllowed, nil)
	case errors.Is(err, coalition.ErrNotFound):
		t.Say(messages.ErrNotFoundGeneric, nil)
	case errors.Is(err, coalition.ErrCampaignClosed):
		t.Say(messages.CampaignClosed, nil)
	case errors.Is(err, coalition.ErrNoPledges):
		t.Say(messages.CampaignNoPledges, nil)
	case errors.Is(err, coalition.ErrNoEvent):
		t.Say(messages.CampaignNoEvent, nil)
	case errors.Is(err, coalition.ErrEventPassed):
		t.Say(messages.SignupEventPassed, nil)
	case errors.Is(err, coalition.ErrNobody):
		t.Say(messages.BroadcastNobody, nil)
	case errors.Is(err, coalition.ErrOwnApproval):
		t.Say(messages.BroadcastOwnApproval, nil)
	case errors.Is(err, coalition.ErrAudienceGrew):
		t.Say(messages.BroadcastAudienceGrew, nil)
	case errors.Is(err, coalition.ErrAlreadyPaused):
		t.Say(messages.PauseAlready, nil)
	case errors.Is(err, coalition.ErrTooOften):
		t.Say(messages.RemindTooOften, nil)
	case errors.Is(err, coalition.ErrYourself):
		t.Say(messages.AdminNotYourself, nil)
	case errors.Is(err, coalition.ErrConfiguredAdmin):
		t.Say(messages.AdminCannotDismissAdmin, nil)
	case errors.Is(err, coalition.ErrAlreadyAdmin):
		t.Say(messages.AdminAlreadyAdmin, nil)
	case errors.Is(err, coalition.ErrBadCode):
		t.Say(messages.LinkBadCode, nil)
	case errors.Is(err, coalition.ErrSameAccount):
		t.Say(messages.LinkSame, nil)
	case errors.Is(err, coalition.ErrSameChannel):
		t.Say(messages.LinkSameChannel, nil)
	case errors.Is(err, coalition.ErrTooManyTries):
		t.Say(messages.LinkTooMany, nil)
	case errors.Is(err, coalition.ErrNotMember):
		t.Say(messages.OrgNotActive, nil)
	case errors.Is(err, coalition.ErrOutsideScope):
		t.Say(messages.OrgOutsideScope, nil)
	case errors.Is(err, coalition.ErrLastRepresentative):
		t.Say(messages.OrgLastRepresentative, nil)
	case errors.Is(err, coalition.ErrNotInInstitution):
		t.Say(messages.OrgNotInInstitution, nil)
	case errors.Is(err, coalition.ErrAlreadyPartner):
		t.Say(messages.OrgAlreadyInvited, nil)
	case errors.Is(err, coalition.ErrNotInvited):
		t.Say(messages.OrgNoInvitation, nil)
	case errors.Is(err, coalition.ErrNoRename):
		t.Say(messages.OrgNoRenameWaiting, nil)
	default:
		return false
	}
	return true
}

// endWith ends the conversation after an operation refused it, saying why;
// an error that is no rule's fails the turn.
func endWith(t *engine.Turn, err error) error {
	if !explain(t, err) {
		return err
	}
	t.EndFlow()
	return mainMenu(t, "")
}

// mainMenu shows what the person can do, starting with intro if given.
func mainMenu(t *engine.Turn, intro string) error {
	c := t.Contact()
	var opts []engine.Choice
	if what := t.Draft(); what != "" {
		opts = append(opts, engine.Choice{Label: t.Text(messages.MenuContinue, map[string]any{"What": t.Text(what, nil)}), Value: "/continue"})
	}
	opts = append(opts, []engine.Choice{
		{Label: t.Text(messages.MenuCampaigns, nil), Value: "/campaigns"},
		{Label: t.Text(messages.MenuShare, nil), Value: "/share"},
		{Label: t.Text(messages.MenuMyData, nil), Value: "/mydata"},
		{Label: t.Text(messages.MenuLanguage, nil), Value: "/language"},
	}...)
	if c.Stopped || !c.Consent {
		opts = append(opts, engine.Choice{Label: t.Text(messages.MenuResume, nil), Value: "/start"})
	} else {
		opts = append(opts, engine.Choice{Label: t.Text(messages.MenuStop, nil), Value: "/stop"})
	}
	role := t.Role()
	if role == store.RoleCitizen || role == store.RoleMember {
		opts = append(opts, engine.Choice{Label: t.Text(messages.MenuRegister, nil), Value: "/register"})
	}
	if len(c.Affiliations) > 0 {
		opts = append(opts, engine.Choice{Label: t.Text(messages.OrgMenuButton, nil), Value: "/myinstitution"})
	}
	if role.AtLeast(store.RoleCoordinator) {
		opts = append(opts,
			engine.Choice{Label: t.Text(messages.MenuNewCampaign, nil), Value: "/newcampaign"},
			engine.Choice{Label: t.Text(messages.MenuBroadcast, nil), Value: "/broadcast"},
			engine.Choice{Label: t.Text(messages.MenuReminders, nil), Value: "/remind list"},
			engine.Choice{Label: t.Text(messages.MenuStats, nil), Value: "/stats"})
	}
	if role.AtLeast(store.RoleAdmin) {
		opts = append(opts,
			engine.Choice{Label: t.Text(messages.MenuPending, nil), Value: "/pending"},
			engine.Choice{Label: t.Text(messages.MenuMembers, nil), Value: "/members"})
	}
	opts = append(opts, engine.Choice{Label: t.Text(messages.MenuHelp, nil), Value: "/help"})
	if intro == "" {
		intro = t.Text(messages.MenuTitle, nil)
	}
	t.AskMain(intro, opts)
	return nil
}

// cmdCancel is /cancel, and the «Cancel» of every wizard's summary: it
// leaves the conversation (or drops the draft left) for the main menu.
func cmdCancel(t *engine.Turn, _ string) error {
	if t.Flow() == "start" && t.Contact().OnboardedAt.IsZero() {
		// a newcomer leaving the welcome: the main menu would only bring
		// the welcome back, so none is shown; before the language is
		// chosen the words are in both, as the welcome's are
		text := t.Text(messages.CancelWelcome, nil)
		if t.Step() == "lang" {
			text = t.Catalog().Text("ar", messages.CancelWelcome, nil) + "\n\n" + t.Catalog().Text("en", messages.CancelWelcome, nil)
		}
		t.EndFlow()
		t.SayText(text)
		return nil
	}
	if t.Flow() == "" {
		if t.Draft() != "" {
			// /cancel after leaving a draft drops it
			t.DropDraft()
			t.Say(messages.CancelDone, nil)
			return mainMenu(t, "")
		}
		t.Say(messages.CancelNothing, nil)
		return mainMenu(t, "")
	}
	t.EndFlow()
	t.Say(messages.CancelDone, nil)
	return mainMenu(t, "")
}

// timeStep asks for a date and time; optional steps accept "skip", and
// "now" where allowNow. check refuses times that do not fit, saying why.
func timeStep(prompt messages.Key, key string, optional, allowNow bool, check func(t *engine.Turn, at time.Time) bool, next func(t *engine.Turn) string) engine.Step {
	return engine.Step{
		Kind: messages.TimeQuestion,
		Ask: func(t *engine.Turn) error {
			var opts []engine.Choice
			if allowNow {
				opts = append(opts, engine.Choice{Label: t.Text(messages.CommonNow, nil), Value: "now"})
			}
			if optional {
				opts = append(opts, engine.Choice{Label: t.Text(messages.CommonSkip, nil), Value: "skip"})
			}
			t.Ask(t.Text(prompt, map[string]any{"Example": messages.Isolate(t.Now().In(t.Loc()).AddDate(0, 0, 7).Format("2006-01-02 15:04"))}), opts)
			return nil
		},
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			switch {
			case optional && engine.IsSkip(a):
				t.SetData(key, "")
				return t.NextOr(next(t)), nil
			case allowNow && (a.Value == "now" || a.Intent == messages.IntentNow):
				t.SetData(key, t.Now().UTC().Format(time.RFC3339))
				return t.NextOr(next(t)), nil
			case a.Chosen:
				t.Say(messages.ErrTypeAnswer, nil)
				return t.Step(), nil
			}
			at, ok := parseDateTime(a.Text, t.Loc())
			if !ok {
				t.Say(messages.ErrBadDate, map[string]any{"Example": messages.Isolate("2026-12-31 18:00")})
				return t.Step(), nil
			}
			if !check(t, at) {
				return t.Step(), nil
			}
			t.SetData(key, at.UTC().Format(time.RFC3339))
			return t.NextOr(next(t)), nil
		},
	}
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

// dataTime is the time a wizard keeps under key, zero for none.
func dataTime(t *engine.Turn, key string) time.Time {
	at, err := time.Parse(time.RFC3339, t.Data(key))
	if err != nil {
		return time.Time{}
	}
	return at
}

// needArabic refuses a text meant to be Arabic that has no Arabic letter in it.
func needArabic(t *engine.Turn, v string) bool {
	if !coalition.HasArabic(v) {
		t.Say(messages.RegisterNeedArabic, nil)
		return false
	}
	return true
}

// needArabicText is needArabic for a text that is not a name: a title, a
// question, a message.
func needArabicText(t *engine.Turn, v string) bool {
	if !coalition.HasArabic(v) {
		t.Say(messages.ErrNeedArabic, nil)
		return false
	}
	return true
}

// splitList reads a comma-separated list a wizard keeps; "" is none.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// governorateChoices are the governorates as buttons, in their order.
func governorateChoices(t *engine.Turn) []engine.Choice {
	var opts []engine.Choice
	for _, g := range messages.Governorates() {
		opts = append(opts, engine.Choice{Label: t.Text(messages.GovernorateKey(g), nil), Value: "gov:" + g})
	}
	return opts
}

// chosenGovernorate reads a governorate answer: a button, or its name typed.
func chosenGovernorate(t *engine.Turn, a engine.Answer) (string, bool) {
	if a.Chosen {
		g, ok := strings.CutPrefix(a.Value, "gov:")
		return g, ok
	}
	return t.Catalog().MatchGovernorate(a.Text)
}

// pickGovernorates reads one or more governorates: a button, numbers such as
// "1 3" or "١،٣", or names separated by commas.
func pickGovernorates(t *engine.Turn, a engine.Answer) ([]string, bool) {
	if a.Chosen {
		g, ok := strings.CutPrefix(a.Value, "gov:")
		return []string{g}, ok
	}
	all := messages.Governorates()
	fields := strings.FieldsFunc(messages.ToASCIIDigits(a.Text), func(r rune) bool { return r == ',' || r == '،' || r == '؛' || r == ';' })
	if len(fields) == 1 {
		fields = strings.Fields(fields[0])
		if _, isNum := messages.ParseNumber(fields[0]); !isNum {
			fields = []string{a.Text}
		}
	}
	var out []string
	for _, f := range fields {
		if n, ok := messages.ParseNumber(f); ok {
			if n < 1 || n > len(all) {
				return nil, false
			}
			out = append(out, all[n-1])
			continue
		}
		g, ok := t.Catalog().MatchGovernorate(f)
		if !ok {
			return nil, false
		}
		out = append(out, g)
	}
	return out, len(out) > 0
}

// governorateNames names a comma-separated list of governorates for the reader.
func governorateNames(t *engine.Turn, list string) string {
	var names []string
	for _, g := range splitList(list) {
		names = append(names, t.Text(messages.GovernorateKey(g), nil))
	}
	return strings.Join(names, t.Text(messages.CommonListSep, nil))
}

// institutionName is an institution's name for the turn's reader.
func institutionName(t *engine.Turn, inst *store.Institution) string {
	return coalition.InstitutionName(inst, t.Lang())
}

// institutionData is an institution's line as the admins and its
// representatives read it (messages.AdminInstitutionLine).
func institutionData(t *engine.Turn, inst *store.Institution) map[string]any {
	contact := inst.Phone
	if contact == "" {
		contact = inst.Email
	}
	name := inst.NameAR
	if inst.NameEN != "" {
		name += " / " + messages.Isolate(inst.NameEN)
	}
	person := inst.ContactPerson
	if person == "" {
		person = t.Text(messages.CommonNone, nil)
	}
	return map[string]any{
		"ID":           messages.FormatID(t.Lang(), inst.ID),
		"Name":         name,
		"Field":        t.Text(messages.FieldKey(inst.Field), nil),
		"Governorates": governorateNames(t, strings.Join(inst.Governorates, ",")),
		"Person":       person,
		"Contact":      messages.Isolate(contact),
	}
}

// dataOrganiser is the organiser the conversation chose: the coalition
// when none.
func dataOrganiser(t *engine.Turn) store.Organiser {
	id, err := strconv.ParseUint(t.Data("org"), 10, 64)
	if err != nil {
		return store.CoalitionOrganiser()
	}
	return store.OrganisedBy(id)
}

// broadcastArg reads the number of a broadcast, reminder, poll or
// institution that a command names, with or without its "#".
func broadcastArg(arg string) (uint64, bool) {
	n, ok := messages.ParseNumber(strings.TrimPrefix(strings.TrimSpace(arg), "#"))
	return uint64(n), ok && n > 0
}
