package bot

import (
	"fmt"
	"strings"
	"time"

	"mobilise/messages"
	"mobilise/store"
)

// startPayload is what a share link carries: a campaign code, the sharer's
// referral code, or both, written "<code>", "<code>-<ref>" or "-<ref>".
type startPayload struct{ Campaign, Ref string }

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
	code, ref, _ := strings.Cut(s, "-")
	code, ref = strings.ToLower(code), strings.ToLower(ref)
	if (code != "" && !validCode(code)) || (ref != "" && !validCode(ref)) || strings.Contains(ref, "-") {
		return startPayload{}, false
	}
	return startPayload{Campaign: code, Ref: ref}, true
}

func (p startPayload) String() string {
	if p.Ref == "" {
		return p.Campaign
	}
	return p.Campaign + "-" + p.Ref
}

// validCode reports whether s can be a campaign or referral code: 3 to 30
// lower-case Latin letters and digits, so it fits links on every platform.
func validCode(s string) bool {
	if len(s) < 3 || len(s) > 30 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// startLink is a link that opens the bot on channel with payload, or the
// command to type where the channel has no links.
func (s *Service) startLink(channel, payload string) string {
	if l, ok := s.senders[channel].(Linker); ok {
		return l.ShareLink(payload)
	}
	if payload == "" {
		return "/start"
	}
	return "/start " + payload
}

func (t *turn) cmdStart(arg string) error {
	p, ok := parseStartPayload(messages.ToASCIIDigits(arg))
	if !ok {
		t.say(messages.StartBadLink, nil)
		p = startPayload{}
	}
	if p.Ref != "" && t.created {
		if _, err := t.s.store.SetReferrer(t.c.ID, p.Ref); err != nil {
			return fmt.Errorf("recording referral of contact %d: %w", t.c.ID, err)
		}
	}
	if t.c.OnboardedAt.IsZero() {
		return t.startFlow("start", "", map[string]string{"open": p.Campaign})
	}
	if !t.c.Consent {
		return t.startFlow("start", "consent", map[string]string{"open": p.Campaign, "only": "consent"})
	}
	if t.c.Stopped && p.Campaign == "" {
		// only a plain /start resumes; a share link opens the campaign and no more
		if err := t.updateContact(func(c *store.Contact) { c.Stopped = false }); err != nil {
			return err
		}
		t.say(messages.StartResumed, nil)
	}
	if p.Campaign != "" {
		return t.cmdCampaign(p.Campaign)
	}
	return t.mainMenu(t.text(messages.StartWelcomeBack, map[string]any{"Name": messages.Isolate(t.c.Name)}))
}

// updateContact changes the contact in the store and keeps the turn's copy current.
func (t *turn) updateContact(fn func(c *store.Contact)) error {
	c, err := t.s.store.UpdateContact(t.c.ID, func(c *store.Contact) error { fn(c); return nil })
	if err != nil {
		return fmt.Errorf("updating contact %d: %w", t.c.ID, err)
	}
	t.c = c
	t.lang = messages.NormalizeLang(c.Lang)
	return nil
}

func (t *turn) languageOptions() []option {
	// each language is named in itself, so anyone finds theirs
	return []option{{"العربية", "ar"}, {"English", "en"}}
}

// chosenLanguage reads a language answer: a button, a number or a language's name.
func chosenLanguage(a answer) (string, bool) {
	if a.Chosen {
		return a.Value, a.Value == "ar" || a.Value == "en"
	}
	return messages.ParseLanguage(a.Text)
}

func onboardingFlow() flow {
	return flow{first: "lang", steps: map[string]step{
		"lang": {
			ask: func(t *turn) error {
				t.ask(t.s.cat.Text("ar", messages.StartGreeting, nil)+"\n\n"+t.s.cat.Text("en", messages.StartGreeting, nil), t.languageOptions())
				return nil
			},
			answer: func(t *turn, a answer) (string, error) {
				lang, ok := chosenLanguage(a)
				if !ok {
					t.sayChoose(a)
					return "lang", nil
				}
				if err := t.updateContact(func(c *store.Contact) { c.Lang = lang }); err != nil {
					return "", err
				}
				return "consent", nil
			},
		},
		"consent": {
			ask: func(t *turn) error {
				t.ask(t.text(messages.StartConsent, nil), t.yesNoOptions())
				return nil
			},
			answer: func(t *turn, a answer) (string, error) {
				yes, ok := yesNo(a)
				if !ok {
					t.say(messages.ErrYesNo, nil)
					return "consent", nil
				}
				now := t.s.now().UTC()
				if err := t.updateContact(func(c *store.Contact) {
					c.Consent, c.Stopped = yes, false
					c.ConsentAt = time.Time{}
					if yes {
						c.ConsentAt = now
					}
				}); err != nil {
					return "", err
				}
				if yes {
					t.say(messages.StartConsentYes, nil)
				} else {
					t.say(messages.StartConsentNo, nil)
				}
				if t.data("only") == "consent" || t.c.Governorate != "" {
					return "", t.finishOnboarding()
				}
				return "gov", nil
			},
		},
		"gov": {
			ask: func(t *turn) error {
				opts := t.governorateOptions()
				opts = append(opts, option{t.text(messages.CommonSkip, nil), "skip"})
				t.ask(t.text(messages.StartGovernorate, nil), opts)
				return nil
			},
			answer: func(t *turn, a answer) (string, error) {
				gov, ok := t.chosenGovernorate(a)
				if !ok && !(a.Chosen && a.Value == "skip") && !messages.IsSkip(a.Text) {
					t.sayChoose(a)
					return "gov", nil
				}
				if ok {
					if err := t.updateContact(func(c *store.Contact) { c.Governorate = gov }); err != nil {
						return "", err
					}
				}
				return "", t.finishOnboarding()
			},
		},
	}}
}

func (t *turn) finishOnboarding() error {
	open := t.data("open")
	t.endFlow()
	if t.c.OnboardedAt.IsZero() {
		if err := t.updateContact(func(c *store.Contact) { c.OnboardedAt = t.s.now().UTC() }); err != nil {
			return err
		}
	}
	if open != "" {
		return t.cmdCampaign(open)
	}
	return t.mainMenu(t.text(messages.StartReady, nil))
}

func (t *turn) governorateOptions() []option {
	var opts []option
	for _, g := range messages.Governorates() {
		opts = append(opts, option{t.text(messages.GovernorateKey(g), nil), "gov:" + g})
	}
	return opts
}

func (t *turn) chosenGovernorate(a answer) (string, bool) {
	if a.Chosen {
		g, ok := strings.CutPrefix(a.Value, "gov:")
		return g, ok
	}
	return t.s.cat.MatchGovernorate(a.Text)
}

func (t *turn) cmdLanguage(string) error { return t.startFlow("language", "", nil) }

func languageFlow() flow {
	return flow{first: "choose", steps: map[string]step{
		"choose": {
			ask: func(t *turn) error {
				t.ask(t.text(messages.LanguageChoose, nil), t.languageOptions())
				return nil
			},
			answer: func(t *turn, a answer) (string, error) {
				lang, ok := chosenLanguage(a)
				if !ok {
					t.sayChoose(a)
					return "choose", nil
				}
				t.endFlow()
				if err := t.updateContact(func(c *store.Contact) { c.Lang = lang }); err != nil {
					return "", err
				}
				t.say(messages.LanguageSet, nil)
				return "", t.mainMenu("")
			},
		},
	}}
}

func (t *turn) cmdStop(string) error {
	if err := t.updateContact(func(c *store.Contact) { c.Stopped = true }); err != nil {
		return err
	}
	// broadcasts already queued for them must not arrive after they said stop
	if _, err := t.s.store.OutboxWithdrawBulk(t.c.ID, t.c.Addresses); err != nil {
		return err
	}
	t.say(messages.StopDone, nil)
	t.flush(nil)
	t.sess.Menu = nil
	return nil
}
