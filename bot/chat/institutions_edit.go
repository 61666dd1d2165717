package chat

import (
	"errors"
	"strconv"
	"strings"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// An institution's representatives change its details one at a time: each
// answer is saved at once (a new name waits for the admins), and the
// conversation asks what else to change until they are done.

func (ip *institutionPanel) cmdEditInstitution(t *engine.Turn, code string) error {
	inst, err := ip.myInstitution(t, code, commandWith("/editinstitution"))
	if inst == nil {
		return err
	}
	return t.StartFlow("editinstitution", "", map[string]string{"inst": strconv.FormatUint(inst.ID, 10)})
}

// editedInstitution is the institution the conversation changes, as
// stored now (also when suspended: the operation then says so).
func (ip *institutionPanel) editedInstitution(t *engine.Turn) *store.Institution {
	id, _ := strconv.ParseUint(t.Data("inst"), 10, 64)
	mine, err := ip.co.Institutions.Mine(t.Ctx(), ip.actor(t))
	if err == nil {
		for _, m := range mine {
			if m.Institution.ID == id {
				return m.Institution
			}
		}
	}
	if inst, err := ip.co.Institutions.Member(t.Ctx(), id); err == nil {
		return inst
	}
	return nil
}

func (ip *institutionPanel) editInstitutionFlow() *engine.Flow {
	yes := func(a engine.Answer) (bool, bool) { return engine.YesNo(a) }
	steps := map[string]engine.Step{
		"what": {
			Kind: messages.ChoiceQuestion,
			Ask: func(t *engine.Turn) error {
				inst := ip.editedInstitution(t)
				if inst == nil {
					t.EndFlow()
					return mainMenu(t, "")
				}
				t.Ask(t.Text(messages.OrgEditWhat, map[string]any{"Summary": ip.institutionSummary(t, inst)}), []engine.Choice{
					{Label: t.Text(messages.RegisterFieldNameAR, nil), Value: "name_ar"},
					{Label: t.Text(messages.RegisterFieldNameEN, nil), Value: "name_en"},
					{Label: t.Text(messages.RegisterFieldField, nil), Value: "area"},
					{Label: t.Text(messages.RegisterFieldGovernorates, nil), Value: "govs"},
					{Label: t.Text(messages.RegisterFieldPerson, nil), Value: "person"},
					{Label: t.Text(messages.OrgFieldPhone, nil), Value: "phone"},
					{Label: t.Text(messages.OrgFieldEmail, nil), Value: "email"},
					{Label: t.Text(messages.OrgFieldCode, nil), Value: "code"},
					{Label: t.Text(messages.OrgFieldListing, nil), Value: "listed"},
					{Label: t.Text(messages.CommonDone, nil), Value: "done"},
				})
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				if a.Chosen && a.Value == "done" || !a.Chosen && messages.IsDone(a.Text) {
					inst := ip.editedInstitution(t)
					t.EndFlow()
					if inst == nil {
						return "", mainMenu(t, "")
					}
					return "", ip.cmdMyInstitution(t, inst.Code)
				}
				if !a.Chosen {
					t.SayChoose(a)
					return "what", nil
				}
				return a.Value, nil
			},
		},
		"name_ar": ip.instTextStep(messages.RegisterNameAR, coalition.MaxName, false, func(v string) coalition.InstitutionChange {
			return coalition.InstitutionChange{NameAR: &v}
		}),
		"name_en": ip.instTextStep(messages.RegisterNameEN, coalition.MaxName, true, func(v string) coalition.InstitutionChange {
			return coalition.InstitutionChange{NameEN: &v}
		}),
		"person": ip.instTextStep(messages.RegisterPerson, coalition.MaxName, false, func(v string) coalition.InstitutionChange {
			return coalition.InstitutionChange{ContactPerson: &v}
		}),
		"phone": ip.instTextStep(messages.OrgEditPhone, 30, true, func(v string) coalition.InstitutionChange {
			return coalition.InstitutionChange{Phone: &v}
		}),
		"email": ip.instTextStep(messages.OrgEditEmail, coalition.MaxEmail, true, func(v string) coalition.InstitutionChange {
			return coalition.InstitutionChange{Email: &v}
		}),
		"code": ip.instTextStep(messages.OrgEditCode, 30, false, func(v string) coalition.InstitutionChange {
			return coalition.InstitutionChange{Code: &v}
		}),
		"area": {
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
					return "area", nil
				}
				return ip.saveInstitution(t, coalition.InstitutionChange{Field: &f})
			},
		},
		"govs": {
			// the governorates typed together, or one chosen: no list built up, so no "done"
			Kind: messages.ChoiceQuestion,
			Ask: func(t *engine.Turn) error {
				t.Ask(t.Text(messages.OrgEditGovernorates, nil), governorateChoices(t))
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				govs, ok := pickGovernorates(t, a)
				if !ok {
					t.SayChoose(a)
					return "govs", nil
				}
				return ip.saveInstitution(t, coalition.InstitutionChange{Governorates: &govs})
			},
		},
		"listed":        ip.listingStep(messages.OrgEditListed, yes, "publish_phone", func(l *store.Listing, v bool) { l.Listed = v }),
		"publish_phone": ip.listingStep(messages.OrgEditPublishPhone, yes, "publish_email", func(l *store.Listing, v bool) { l.Phone = v }),
		"publish_email": ip.listingStep(messages.OrgEditPublishEmail, yes, "about_ar", func(l *store.Listing, v bool) { l.Email = v }),
	}
	steps["about_ar"] = ip.aboutStep(messages.OrgEditAboutAR, "about_en", func(l *store.Listing, v string) { l.AboutAR = v })
	steps["about_en"] = ip.aboutStep(messages.OrgEditAboutEN, "what", func(l *store.Listing, v string) { l.AboutEN = v })
	return &engine.Flow{First: "what", Role: store.RoleCoordinator, Steps: steps}
}

// institutionSummary shows an institution's details and what it publishes.
func (ip *institutionPanel) institutionSummary(t *engine.Turn, inst *store.Institution) string {
	data := institutionData(t, inst)
	yes, no := t.Text(messages.CommonYes, nil), t.Text(messages.CommonNo, nil)
	yn := func(v bool) string {
		if v {
			return yes
		}
		return no
	}
	s := t.Text(messages.AdminInstitutionLine, data)
	s += "\n" + t.Text(messages.OrgListingLine, map[string]any{
		"Code": messages.Isolate(inst.Code), "Listed": yn(inst.Listing.Listed), "Phone": yn(inst.Listing.Phone), "Email": yn(inst.Listing.Email),
	})
	if about := coalition.InLang(t.Lang(), inst.Listing.AboutAR, inst.Listing.AboutEN); about != "" {
		s += "\n" + about
	}
	return s
}

// instTextStep asks for one text detail and saves it; an optional one may
// be cleared with skip.
func (ip *institutionPanel) instTextStep(prompt messages.Key, max int, optional bool, change func(v string) coalition.InstitutionChange) engine.Step {
	kind := messages.FreeText
	if optional {
		kind = messages.OptionalText
	}
	return engine.Step{
		Kind: kind,
		Ask: func(t *engine.Turn) error {
			var opts []engine.Choice
			if optional {
				opts = append(opts, engine.Choice{Label: t.Text(messages.CommonSkip, nil), Value: "skip"})
			}
			t.Ask(t.Text(prompt, nil), opts)
			return nil
		},
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			if optional && engine.IsSkip(a) {
				return ip.saveInstitution(t, change(""))
			}
			v, ok := t.FreeText(a, max, false)
			if !ok {
				return t.Step(), nil
			}
			return ip.saveInstitution(t, change(v))
		},
	}
}

// listingStep asks a yes or no about what the institution publishes,
// saves it and goes on to next.
func (ip *institutionPanel) listingStep(prompt messages.Key, yesNo func(engine.Answer) (bool, bool), next string, set func(*store.Listing, bool)) engine.Step {
	return engine.Step{
		Kind: messages.YesNoQuestion,
		Ask: func(t *engine.Turn) error {
			t.Ask(t.Text(prompt, nil), t.YesNoChoices())
			return nil
		},
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			v, ok := yesNo(a)
			if !ok {
				t.Say(messages.ErrYesNo, nil)
				return t.Step(), nil
			}
			inst := ip.editedInstitution(t)
			if inst == nil {
				t.EndFlow()
				return "", mainMenu(t, "")
			}
			l := inst.Listing
			set(&l, v)
			if step, err := ip.saveInstitution(t, coalition.InstitutionChange{Listing: &l}); err != nil || step != "what" {
				return step, err
			}
			return next, nil
		},
	}
}

// aboutStep asks for the few public words about the institution in one
// language (skip clears them), saves them and goes on to next.
func (ip *institutionPanel) aboutStep(prompt messages.Key, next string, set func(*store.Listing, string)) engine.Step {
	return engine.Step{
		Kind: messages.OptionalText,
		Ask: func(t *engine.Turn) error {
			t.Ask(t.Text(prompt, nil), []engine.Choice{{Label: t.Text(messages.CommonSkip, nil), Value: "skip"}})
			return nil
		},
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			v := ""
			if !engine.IsSkip(a) {
				var ok bool
				if v, ok = t.FreeText(a, coalition.MaxAbout, true); !ok {
					return t.Step(), nil
				}
			}
			inst := ip.editedInstitution(t)
			if inst == nil {
				t.EndFlow()
				return "", mainMenu(t, "")
			}
			l := inst.Listing
			set(&l, v)
			if step, err := ip.saveInstitution(t, coalition.InstitutionChange{Listing: &l}); err != nil || step != "what" {
				return step, err
			}
			return next, nil
		},
	}
}

// saveInstitution applies one change and returns to the list of what to
// change; a refused value is asked again, saying why.
func (ip *institutionPanel) saveInstitution(t *engine.Turn, ch coalition.InstitutionChange) (string, error) {
	inst := ip.editedInstitution(t)
	if inst == nil {
		t.EndFlow()
		return "", mainMenu(t, "")
	}
	res, err := ip.co.Institutions.Update(t.Ctx(), ip.actor(t), inst.ID, ch)
	var inv *coalition.InvalidError
	switch {
	case errors.As(err, &inv):
		t.Say(inv.Reason, map[string]any{"Max": messages.FormatNumber(t.Lang(), coalition.MaxAbout)})
		return t.Step(), nil
	case err != nil:
		return "", endWith(t, err)
	case res.RenamePending:
		t.Say(messages.OrgRenameSent, nil)
	case len(res.Fields) > 0:
		t.Say(messages.OrgSaved, nil)
	default:
		t.Say(messages.OrgNothingChanged, nil)
	}
	return "what", nil
}
