package chat

import (
	"errors"
	"slices"
	"strings"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
)

func (ins *institutions) cmdRegister(t *engine.Turn, _ string) error {
	d, err := ins.co.People.MyData(t.Ctx(), ins.actor(t))
	if err != nil {
		return err
	}
	if len(d.Applications) > 0 {
		t.Say(messages.RegisterAlreadyPending, map[string]any{"Name": coalition.InstitutionName(&d.Applications[0], t.Lang())})
		return mainMenu(t, "")
	}
	t.Say(messages.RegisterIntro, nil)
	return t.StartFlow("register", "", nil)
}

func (ins *institutions) registerFlow() *engine.Flow {
	return &engine.Flow{First: "name_ar", Title: messages.FlowRegister, Steps: map[string]engine.Step{
		"name_ar": engine.TextStep(messages.RegisterNameAR, "name_ar", coalition.MaxName, false, false, needArabic, "name_en"),
		"name_en": engine.TextStep(messages.RegisterNameEN, "name_en", coalition.MaxName, true, false, nil, "field"),
		"field": {
			Kind: messages.ChoiceQuestion,
			Ask: func(t *engine.Turn) error {
				var opts []engine.Choice
				for _, f := range messages.Fields() {
					opts = append(opts, engine.Choice{Label: t.Text(messages.FieldKey(f), nil), Value: "field:" + f})
				}
				t.Ask(t.Text(messages.RegisterField, nil), opts)
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				f, ok := strings.CutPrefix(a.Value, "field:")
				if !a.Chosen || !ok {
					t.SayChoose(a)
					return "field", nil
				}
				t.SetData("field", f)
				return t.NextOr("govs"), nil
			},
		},
		"govs": {
			Kind: messages.SeveralChoices,
			Ask: func(t *engine.Turn) error {
				opts := governorateChoices(t)
				opts = append(opts, engine.Choice{Label: t.Text(messages.CommonDone, nil), Value: "done"})
				chosen := governorateNames(t, t.Data("govs"))
				if chosen == "" {
					chosen = t.Text(messages.CommonNone, nil)
				}
				t.Ask(t.Text(messages.RegisterGovernorates, map[string]any{"Chosen": chosen}), opts)
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				govs := splitList(t.Data("govs"))
				if a.Chosen && a.Value == "done" || a.Intent == messages.IntentDone {
					if len(govs) == 0 {
						t.Say(messages.RegisterNeedGovernorate, nil)
						return "govs", nil
					}
					return t.NextOr("person"), nil
				}
				picked, ok := pickGovernorates(t, a)
				if !ok {
					t.SayChoose(a)
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
				t.SetData("govs", strings.Join(govs, ","))
				return "govs", nil
			},
		},
		"person": engine.TextStep(messages.RegisterPerson, "person", coalition.MaxName, false, false, nil, "contact"),
		"contact": {
			TakesPhone: true,
			Ask: func(t *engine.Turn) error {
				t.AskPhone(t.Text(messages.RegisterContact, nil), t.Text(messages.RegisterSharePhone, nil))
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				if a.SharedPhone != "" {
					a.Text = a.SharedPhone
				}
				v, ok := t.FreeText(a, coalition.MaxEmail, false)
				if !ok {
					return "contact", nil
				}
				if phone, ok := coalition.ParsePhone(v); ok {
					t.SetData("phone", phone)
					t.SetData("email", "")
					return "confirm", nil
				}
				if email, ok := coalition.ParseEmail(v); ok {
					t.SetData("email", email)
					t.SetData("phone", "")
					return "confirm", nil
				}
				t.Say(messages.RegisterBadContact, nil)
				return "contact", nil
			},
		},
		"confirm": engine.ConfirmStep(func(t *engine.Turn) (string, error) {
			return t.Text(messages.RegisterSummary, map[string]any{"Summary": ins.applicationSummary(t)}), nil
		}, messages.CommonSubmit, true, ins.submitApplication, func(t *engine.Turn) error { return cmdCancel(t, "") }),
		"edit": engine.EditStep(func(t *engine.Turn) []engine.Choice {
			return []engine.Choice{
				{Label: t.Text(messages.RegisterFieldNameAR, nil), Value: "name_ar"},
				{Label: t.Text(messages.RegisterFieldNameEN, nil), Value: "name_en"},
				{Label: t.Text(messages.RegisterFieldField, nil), Value: "field"},
				{Label: t.Text(messages.RegisterFieldGovernorates, nil), Value: "govs"},
				{Label: t.Text(messages.RegisterFieldPerson, nil), Value: "person"},
				{Label: t.Text(messages.RegisterFieldContact, nil), Value: "contact"},
			}
		}),
	}}
}

func (ins *institutions) applicationSummary(t *engine.Turn) string {
	none := t.Text(messages.CommonNone, nil)
	or := func(s string) string {
		if s == "" {
			return none
		}
		return messages.Isolate(s)
	}
	contact := t.Data("phone")
	if contact == "" {
		contact = t.Data("email")
	}
	return t.Text(messages.RegisterSummaryFields, map[string]any{
		"NameAR":       t.Data("name_ar"),
		"NameEN":       or(t.Data("name_en")),
		"Field":        t.Text(messages.FieldKey(t.Data("field")), nil),
		"Governorates": governorateNames(t, t.Data("govs")),
		"Person":       t.Data("person"),
		"Contact":      messages.Isolate(contact),
	})
}

// submitApplication hands the application to the coalition, which asks the admins.
func (ins *institutions) submitApplication(t *engine.Turn) error {
	_, err := ins.co.Institutions.Register(t.Ctx(), ins.actor(t), coalition.Application{
		NameAR: t.Data("name_ar"), NameEN: t.Data("name_en"), Field: t.Data("field"),
		Governorates: splitList(t.Data("govs")), ContactPerson: t.Data("person"),
		Phone: t.Data("phone"), Email: t.Data("email"),
	})
	if errors.Is(err, coalition.ErrPending) {
		t.EndFlow()
		return mainMenu(t, "")
	}
	if err != nil {
		return endWith(t, err)
	}
	t.EndFlow()
	return mainMenu(t, t.Text(messages.RegisterSubmitted, nil))
}
