package bot

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"

	"mobilise/messages"
	"mobilise/store"
)

// The limits of what an institution's application may hold.
const (
	maxName  = 150
	maxEmail = 254
)

func (t *turn) cmdRegister(string) error {
	pending, err := t.s.store.Institutions(store.InstitutionPending)
	if err != nil {
		return fmt.Errorf("listing pending institutions: %w", err)
	}
	for _, inst := range pending {
		if inst.ApplicantID == t.c.ID {
			t.say(messages.RegisterAlreadyPending, map[string]any{"Name": institutionName(&inst, t.lang)})
			return t.mainMenu("")
		}
	}
	t.say(messages.RegisterIntro, nil)
	return t.startFlow("register", "", nil)
}

func hasArabic(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Arabic, r) }) >= 0
}

// needArabic refuses a text meant to be Arabic that has no Arabic letter in it.
func needArabic(t *turn, v string) bool {
	if !hasArabic(v) {
		t.say(messages.RegisterNeedArabic, nil)
		return false
	}
	return true
}

func registerFlow() flow {
	return flow{first: "name_ar", steps: map[string]step{
		"name_ar": textStep(messages.RegisterNameAR, "name_ar", maxName, false, false, needArabic, "name_en"),
		"name_en": textStep(messages.RegisterNameEN, "name_en", maxName, true, false, nil, "field"),
		"field": {
			ask: func(t *turn) error {
				var opts []option
				for _, f := range messages.Fields() {
					opts = append(opts, option{t.text(messages.FieldKey(f), nil), "field:" + f})
				}
				t.ask(t.text(messages.RegisterField, nil), opts)
				return nil
			},
			answer: func(t *turn, a answer) (string, error) {
				f, ok := strings.CutPrefix(a.Value, "field:")
				if !a.Chosen || !ok {
					t.sayChoose(a)
					return "field", nil
				}
				t.setData("field", f)
				return t.nextOr("govs"), nil
			},
		},
		"govs": {
			ask: func(t *turn) error {
				opts := t.governorateOptions()
				opts = append(opts, option{t.text(messages.CommonDone, nil), "done"})
				chosen := t.governorateNames(t.data("govs"))
				if chosen == "" {
					chosen = t.text(messages.CommonNone, nil)
				}
				t.ask(t.text(messages.RegisterGovernorates, map[string]any{"Chosen": chosen}), opts)
				return nil
			},
			answer: func(t *turn, a answer) (string, error) {
				govs := splitList(t.data("govs"))
				if a.Chosen && a.Value == "done" || !a.Chosen && messages.IsDone(a.Text) {
					if len(govs) == 0 {
						t.say(messages.RegisterNeedGovernorate, nil)
						return "govs", nil
					}
					return t.nextOr("person"), nil
				}
				picked, ok := t.pickGovernorates(a)
				if !ok {
					t.sayChoose(a)
					return "govs", nil
				}
				for _, g := range picked {
					// choosing a chosen governorate again takes it off the list
					if i := slices.Index(govs, g); i >= 0 {
						govs = slices.Delete(govs, i, i+1)
					} else {
						govs = append(govs, g)
					}
				}
				t.setData("govs", strings.Join(govs, ","))
				return "govs", nil
			},
		},
		"person": textStep(messages.RegisterPerson, "person", maxName, false, false, nil, "contact"),
		"contact": {
			ask: func(t *turn) error {
				t.ask(t.text(messages.RegisterContact, nil), nil)
				return nil
			},
			answer: func(t *turn, a answer) (string, error) {
				v, ok := t.freeText(a, maxEmail, false)
				if !ok {
					return "contact", nil
				}
				if phone, ok := parsePhone(v); ok {
					t.setData("phone", phone)
					t.setData("email", "")
					return "confirm", nil
				}
				if email, ok := parseEmail(v); ok {
					t.setData("email", email)
					t.setData("phone", "")
					return "confirm", nil
				}
				t.say(messages.RegisterBadContact, nil)
				return "contact", nil
			},
		},
		"confirm": confirmStep(func(t *turn) (string, error) {
			return t.text(messages.RegisterSummary, map[string]any{"Summary": t.applicationSummary()}), nil
		}, messages.CommonSubmit, true, (*turn).submitApplication),
		"edit": editStep(func(t *turn) []option {
			return []option{
				{t.text(messages.RegisterFieldNameAR, nil), "name_ar"},
				{t.text(messages.RegisterFieldNameEN, nil), "name_en"},
				{t.text(messages.RegisterFieldField, nil), "field"},
				{t.text(messages.RegisterFieldGovernorates, nil), "govs"},
				{t.text(messages.RegisterFieldPerson, nil), "person"},
				{t.text(messages.RegisterFieldContact, nil), "contact"},
			}
		}),
	}}
}

// pickGovernorates reads one or more governorates: a button, numbers such as
// "1 3" or "١،٣", or names separated by commas.
func (t *turn) pickGovernorates(a answer) ([]string, bool) {
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
		g, ok := t.s.cat.MatchGovernorate(f)
		if !ok {
			return nil, false
		}
		out = append(out, g)
	}
	return out, len(out) > 0
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (t *turn) governorateNames(list string) string {
	var names []string
	for _, g := range splitList(list) {
		names = append(names, t.text(messages.GovernorateKey(g), nil))
	}
	return strings.Join(names, t.text(messages.CommonListSep, nil))
}

func (t *turn) applicationSummary() string {
	none := t.text(messages.CommonNone, nil)
	or := func(s string) string {
		if s == "" {
			return none
		}
		return messages.Isolate(s)
	}
	contact := t.data("phone")
	if contact == "" {
		contact = t.data("email")
	}
	return t.text(messages.RegisterSummaryFields, map[string]any{
		"NameAR":       t.data("name_ar"),
		"NameEN":       or(t.data("name_en")),
		"Field":        t.text(messages.FieldKey(t.data("field")), nil),
		"Governorates": t.governorateNames(t.data("govs")),
		"Person":       t.data("person"),
		"Contact":      messages.Isolate(contact),
	})
}

// submitApplication stores the application in one write and asks the admins to decide.
func (t *turn) submitApplication() error {
	inst := &store.Institution{
		NameAR:        t.data("name_ar"),
		NameEN:        t.data("name_en"),
		Field:         t.data("field"),
		Governorates:  splitList(t.data("govs")),
		ContactPerson: t.data("person"),
		Phone:         t.data("phone"),
		Email:         t.data("email"),
		Status:        store.InstitutionPending,
		ApplicantID:   t.c.ID,
		CreatedAt:     t.s.now().UTC(),
	}
	if err := t.s.store.CreateInstitution(inst); err != nil {
		return fmt.Errorf("storing institution application: %w", err)
	}
	t.endFlow()
	t.s.log.Info("institution application", "institution_id", inst.ID, "contact_id", t.c.ID)
	notices, err := t.s.adminNotices("institution_pending", func(lang string) (string, [][]Button) {
		return t.s.cat.Text(lang, messages.AdminNewApplication, map[string]any{
				"ID":   messages.Isolate(fmt.Sprint(inst.ID)),
				"Name": institutionName(inst, lang),
			}), [][]Button{{
				{Text: t.s.cat.Text(lang, messages.AdminApproveButton, nil), Payload: fmt.Sprintf("/approve %d", inst.ID)},
				{Text: t.s.cat.Text(lang, messages.AdminRejectButton, nil), Payload: fmt.Sprintf("/reject %d", inst.ID)},
			}}
	})
	if err != nil {
		return err
	}
	t.notify(notices...)
	return t.mainMenu(t.text(messages.RegisterSubmitted, nil))
}

// parsePhone accepts an international or local phone number, returning its digits with a leading + kept.
func parsePhone(s string) (string, bool) {
	s = messages.ToASCIIDigits(s)
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return "", false
		}
	}
	digits := strings.TrimPrefix(b.String(), "+")
	if len(digits) < 7 || len(digits) > 15 {
		return "", false
	}
	return b.String(), true
}

func parseEmail(s string) (string, bool) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || !strings.Contains(a.Address, ".") {
		return "", false
	}
	return a.Address, true
}
