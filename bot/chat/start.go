package chat

import (
	"strings"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
)

// startPayload is what a share link carries: a campaign code, the sharer's
// referral code, or both, written "<code>", "<code>-<ref>" or "-<ref>"; or
// a member institution's invitation, "i_<code>" (coalition.JoinPrefix).
type startPayload struct{ Campaign, Ref, Institution string }

// maxPayload is Telegram's limit for a start parameter.
const maxPayload = 64

func parseStartPayload(s string) (startPayload, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return startPayload{}, true
	}
	if len(s) > maxPayload {
		return startPayload{}, false
	}
	if inst, ok := strings.CutPrefix(strings.ToLower(s), coalition.JoinPrefix); ok {
		return startPayload{Institution: inst}, coalition.ValidCode(inst)
	}
	code, ref, _ := strings.Cut(s, "-")
	code, ref = strings.ToLower(code), strings.ToLower(ref)
	if (code != "" && !coalition.ValidCode(code)) || (ref != "" && !coalition.ValidCode(ref)) || strings.Contains(ref, "-") {
		return startPayload{}, false
	}
	return startPayload{Campaign: code, Ref: ref}, true
}

func (p startPayload) String() string {
	if p.Institution != "" {
		return coalition.JoinPrefix + p.Institution
	}
	if p.Ref == "" {
		return p.Campaign
	}
	return p.Campaign + "-" + p.Ref
}

func (h *home) cmdStart(t *engine.Turn, arg string) error {
	p, ok := parseStartPayload(messages.ToASCIIDigits(arg))
	if !ok {
		t.Say(messages.StartBadLink, nil)
		p = startPayload{}
	}
	by := h.actor(t)
	if p.Ref != "" && t.Created() {
		if err := h.co.People.Referred(t.Ctx(), by, p.Ref); err != nil {
			return err
		}
	}
	c := t.Contact()
	if p.Institution != "" {
		return h.institutions.startJoin(t, p.Institution)
	}
	if c.OnboardedAt.IsZero() {
		return t.StartFlow("start", "", map[string]string{"open": p.Campaign})
	}
	if !c.Consent {
		return t.StartFlow("start", "consent", map[string]string{"open": p.Campaign, "only": "consent"})
	}
	if c.Stopped && p.Campaign == "" {
		// only a plain /start resumes; a share link opens the campaign and no more
		c, err := h.co.People.Resume(t.Ctx(), by)
		if err != nil {
			return err
		}
		t.SetContact(c)
		t.Say(messages.StartResumed, nil)
	}
	if p.Campaign != "" {
		return h.cmdCampaign(t, p.Campaign)
	}
	return mainMenu(t, t.Text(messages.StartWelcomeBack, map[string]any{"Name": messages.Isolate(c.Name)}))
}

func languageChoices() []engine.Choice {
	// each language is named in itself, so anyone finds theirs
	return []engine.Choice{{Label: "العربية", Value: "ar"}, {Label: "English", Value: "en"}}
}

// chosenLanguage reads a language answer: a button, a number or a
// language's name, at a step of kind messages.LanguageQuestion.
func chosenLanguage(a engine.Answer) (string, bool) {
	if a.Chosen {
		return a.Value, a.Value == "ar" || a.Value == "en"
	}
	if a.Intent == messages.IntentLanguage {
		return a.Meaning.Lang, true
	}
	return "", false
}

func (h *home) onboardingFlow() *engine.Flow {
	return &engine.Flow{First: "lang", Steps: map[string]engine.Step{
		"lang": {
			Kind: messages.LanguageQuestion,
			Ask: func(t *engine.Turn) error {
				t.Ask(t.Catalog().Text("ar", messages.StartGreeting, nil)+"\n\n"+t.Catalog().Text("en", messages.StartGreeting, nil), languageChoices())
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				lang, ok := chosenLanguage(a)
				if !ok {
					t.SayChoose(a)
					return "lang", nil
				}
				c, err := h.co.People.SetLanguage(t.Ctx(), h.actor(t), lang)
				if err != nil {
					return "", err
				}
				t.SetContact(c)
				return "consent", nil
			},
		},
		"consent": {
			Kind: messages.YesNoQuestion,
			Ask: func(t *engine.Turn) error {
				if inst := h.institutions.dataInstitution(t); inst != nil {
					// who will write to them, said plainly: the coalition and this institution
					t.Ask(t.Text(messages.OrgConsent, map[string]any{"Name": institutionName(t, inst)}), t.YesNoChoices())
					return nil
				}
				t.Ask(t.Text(messages.StartConsent, nil), t.YesNoChoices())
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				yes, ok := engine.YesNo(a)
				if !ok {
					t.Say(messages.ErrYesNo, nil)
					return "consent", nil
				}
				c, err := h.co.People.Consent(t.Ctx(), h.actor(t), yes)
				if err != nil {
					return "", err
				}
				t.SetContact(c)
				if yes {
					t.Say(messages.StartConsentYes, nil)
				} else {
					t.Say(messages.StartConsentNo, nil)
				}
				if t.Data("only") == "consent" || c.Governorate != "" {
					return "", h.finishOnboarding(t)
				}
				return "gov", nil
			},
		},
		"gov": {
			Kind:       messages.OptionalText,
			TakesPlace: true,
			Ask: func(t *engine.Turn) error {
				opts := governorateChoices(t)
				opts = append(opts, engine.Choice{Label: t.Text(messages.CommonSkip, nil), Value: "skip"})
				t.Ask(t.Text(messages.StartGovernorate, nil), opts)
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				if a.Place != nil {
					return h.suggestGovernorate(t, a.Place, "gov", "gov_confirm"), nil
				}
				gov, ok := chosenGovernorate(t, a)
				if !ok && !engine.IsSkip(a) {
					t.SayChoose(a)
					return "gov", nil
				}
				if ok {
					c, err := h.co.People.SetGovernorate(t.Ctx(), h.actor(t), gov)
					if err != nil {
						return "", err
					}
					t.SetContact(c)
				}
				return "", h.finishOnboarding(t)
			},
		},
		"gov_confirm": {
			Kind: messages.YesNoQuestion,
			Ask:  h.askSuggestedGovernorate,
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				yes, ok := engine.YesNo(a)
				if !ok {
					t.Say(messages.ErrYesNo, nil)
					return "gov_confirm", nil
				}
				gov := t.Data("suggested")
				t.SetData("suggested", "")
				if !yes || !messages.IsGovernorate(gov) {
					return "gov", nil
				}
				c, err := h.co.People.SetGovernorate(t.Ctx(), h.actor(t), gov)
				if err != nil {
					return "", err
				}
				t.SetContact(c)
				return "", h.finishOnboarding(t)
			},
		},
	}}
}

// suggestGovernorate reads a shared location at a governorate question:
// near a governorate, it keeps that one to suggest and moves on to confirm;
// far from all of them, it says so and stays.
func (h *home) suggestGovernorate(t *engine.Turn, p *bot.Point, here, confirm string) string {
	gov, km := messages.NearestGovernorate(p.Lat, p.Lon)
	if gov == "" || km > messages.NearGovernorateKm {
		t.Say(messages.GovFar, nil)
		return here
	}
	t.SetData("suggested", gov)
	return confirm
}

// askSuggestedGovernorate asks whether the governorate suggested from a
// location is the person's.
func (h *home) askSuggestedGovernorate(t *engine.Turn) error {
	t.Ask(t.Text(messages.GovSuggest, map[string]any{"Governorate": t.Text(messages.GovernorateKey(t.Data("suggested")), nil)}), t.YesNoChoices())
	return nil
}

func (h *home) finishOnboarding(t *engine.Turn) error {
	open := t.Data("open")
	inst, newcomer := h.institutions.dataInstitution(t), t.Data("newcomer") != ""
	t.EndFlow()
	c, err := h.co.People.Onboarded(t.Ctx(), h.actor(t))
	if err != nil {
		return err
	}
	t.SetContact(c)
	if inst != nil && c.Consent {
		return h.institutions.join(t, inst, newcomer)
	}
	if inst != nil {
		return h.institutions.showInstitution(t, inst, t.Text(messages.StartReady, nil))
	}
	if open != "" {
		return h.cmdCampaign(t, open)
	}
	return mainMenu(t, t.Text(messages.StartReady, nil))
}

// cmdLanguage asks for a language, or with one named ("/language en",
// «عربي» typed at the main menu) switches to it.
func (h *home) cmdLanguage(t *engine.Turn, arg string) error {
	if lang, ok := chosenLanguage(engine.Answer{Intent: messages.Understand(arg).At(messages.LanguageQuestion), Meaning: messages.Understand(arg)}); ok && arg != "" {
		return h.setLanguage(t, lang)
	}
	return t.StartFlow("language", "", nil)
}

func (h *home) setLanguage(t *engine.Turn, lang string) error {
	t.EndFlow()
	c, err := h.co.People.SetLanguage(t.Ctx(), h.actor(t), lang)
	if err != nil {
		return err
	}
	t.SetContact(c)
	t.Say(messages.LanguageSet, nil)
	return mainMenu(t, "")
}

func (h *home) languageFlow() *engine.Flow {
	return &engine.Flow{First: "choose", Steps: map[string]engine.Step{
		"choose": {
			Kind: messages.LanguageQuestion,
			Ask: func(t *engine.Turn) error {
				t.Ask(t.Text(messages.LanguageChoose, nil), languageChoices())
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				lang, ok := chosenLanguage(a)
				if !ok {
					t.SayChoose(a)
					return "choose", nil
				}
				return "", h.setLanguage(t, lang)
			},
		},
	}}
}

func (h *home) cmdStop(t *engine.Turn, _ string) error {
	c, err := h.co.People.Stop(t.Ctx(), h.actor(t))
	if err != nil {
		return err
	}
	t.SetContact(c)
	t.Say(messages.StopDone, nil)
	t.Flush(nil)
	t.ClearMenu()
	return nil
}

// newcomer answers the first message of someone not yet welcomed
// (Bot.Newcomer): whatever it is, it starts the welcome; a campaign code or
// share link they typed opens that campaign once they are through.
func (h *home) newcomer(t *engine.Turn) error {
	open := ""
	if p, ok := parseStartPayload(messages.ToASCIIDigits(t.In().Text)); ok && p.Campaign != "" {
		if _, err := h.co.Campaigns.Find(t.Ctx(), p.Campaign); err == nil {
			open = p.Campaign
		}
	}
	return t.StartFlow("start", "", map[string]string{"open": open})
}

// askStop answers a «إلغاء» at the main menu (Bot.AskStop): it asks
// whether to stop all messages, where there are any to stop.
func (h *home) askStop(t *engine.Turn) error {
	c := t.Contact()
	if c.Stopped || !c.Consent {
		t.Say(messages.CancelNothing, nil)
		return mainMenu(t, "")
	}
	return t.StartFlow("stopask", "", nil)
}

// stopAskFlow asks whether to stop all messages, and stops them on yes.
func (h *home) stopAskFlow() *engine.Flow {
	return &engine.Flow{First: "confirm", Steps: map[string]engine.Step{
		"confirm": {
			Kind: messages.YesNoQuestion,
			Ask: func(t *engine.Turn) error {
				t.Ask(t.Text(messages.StopAsk, nil), []engine.Choice{
					{Label: t.Text(messages.StopAskYes, nil), Value: "yes"},
					{Label: t.Text(messages.StopAskNo, nil), Value: "no"},
				})
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				yes, ok := engine.YesNo(a)
				if !ok {
					t.Say(messages.ErrYesNo, nil)
					return "confirm", nil
				}
				t.EndFlow()
				if yes {
					return "", h.cmdStop(t, "")
				}
				return "", mainMenu(t, t.Text(messages.StopKept, nil))
			},
		},
	}}
}
