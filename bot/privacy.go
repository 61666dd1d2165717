package bot

import (
	"fmt"
	"strings"

	"mobilise/messages"
	"mobilise/store"
)

// cmdMyData shows everything the bot keeps about the person.
func (t *turn) cmdMyData(string) error {
	c := t.c
	none := t.text(messages.CommonNone, nil)
	or := func(s string) string {
		if s == "" {
			return none
		}
		return s
	}
	yes, no := t.text(messages.CommonYes, nil), t.text(messages.CommonNo, nil)
	yn := func(b bool) string {
		if b {
			return yes
		}
		return no
	}
	var addrs []string
	for _, a := range c.Addresses {
		addrs = append(addrs, messages.Isolate(a))
	}
	gov := none
	if c.Governorate != "" {
		gov = t.text(messages.GovernorateKey(c.Governorate), nil)
	}
	consent := yn(c.Consent)
	if c.Consent && !c.ConsentAt.IsZero() {
		consent += " (" + t.formatTime(c.ConsentAt) + ")"
	}
	var b strings.Builder
	b.WriteString(t.text(messages.MyDataIntro, nil))
	b.WriteString("\n\n" + t.text(messages.MyDataFields, map[string]any{
		"Addresses":   strings.Join(addrs, "، "),
		"Name":        or(messages.Isolate(c.Name)),
		"Lang":        t.text(messages.LangKey(t.lang), nil),
		"Consent":     consent,
		"Stopped":     yn(c.Stopped),
		"Governorate": gov,
		"Role":        t.text(messages.RoleKey(string(t.role)), nil),
		"RefCode":     messages.Isolate(c.RefCode),
		"Referrals":   messages.FormatNumber(t.lang, c.Referrals),
		"Since":       t.formatTime(c.CreatedAt),
	}))
	if c.InstitutionID != 0 {
		if inst, err := t.s.store.Institution(c.InstitutionID); err == nil {
			b.WriteString("\n" + t.text(messages.MyDataInstitution, map[string]any{"Name": institutionName(inst, t.lang)}))
		}
	}
	pledges, err := t.s.store.ContactPledges(c.ID)
	if err != nil {
		return fmt.Errorf("listing pledges of contact %d: %w", c.ID, err)
	}
	signups, err := t.s.store.ContactSignups(c.ID)
	if err != nil {
		return fmt.Errorf("listing sign-ups of contact %d: %w", c.ID, err)
	}
	b.WriteString("\n\n" + t.count(messages.MyDataPledges, len(pledges), nil))
	for _, p := range pledges {
		b.WriteString("\n• " + t.campaignTitle(p.CampaignID) + " — " + t.formatTime(p.At))
	}
	b.WriteString("\n" + t.count(messages.MyDataSignups, len(signups), nil))
	for _, su := range signups {
		b.WriteString("\n• " + t.campaignTitle(su.CampaignID) + " — " + t.formatTime(su.At))
	}
	b.WriteString("\n\n" + t.text(messages.MyDataForgetHint, nil))
	return t.mainMenu(b.String())
}

func (t *turn) campaignTitle(id uint64) string {
	c, err := t.s.store.Campaign(id)
	if err != nil {
		return "#" + fmt.Sprint(id)
	}
	return title(c, t.lang)
}

func (t *turn) cmdForget(string) error { return t.startFlow("forget", "", nil) }

func forgetFlow() flow {
	return flow{first: "confirm", steps: map[string]step{
		"confirm": {
			ask: func(t *turn) error {
				t.ask(t.text(messages.ForgetConfirm, nil), []option{
					{t.text(messages.ForgetYes, nil), "yes"},
					{t.text(messages.ForgetNo, nil), "no"},
				})
				return nil
			},
			answer: func(t *turn, a answer) (string, error) {
				yes, ok := yesNo(a)
				if !ok {
					t.say(messages.ErrYesNo, nil)
					return "confirm", nil
				}
				t.endFlow()
				if !yes {
					return "", t.mainMenu(t.text(messages.ForgetKept, nil))
				}
				if err := t.s.forgetApplications(t.c.ID); err != nil {
					return "", err
				}
				if err := t.s.store.ForgetContact(t.c.ID); err != nil {
					return "", fmt.Errorf("forgetting contact %d: %w", t.c.ID, err)
				}
				t.s.log.Info("contact forgotten", "contact_id", t.c.ID)
				t.forgotten = true
				t.say(messages.ForgetDone, nil)
				t.flush(nil)
				return "", nil
			},
		},
	}}
}

// forgetApplications removes what a person's membership applications say
// about them: a pending application goes entirely; a decided one is the
// coalition's record of a member institution and stays, no longer tied to them.
func (s *Service) forgetApplications(contactID uint64) error {
	insts, err := s.store.Institutions("")
	if err != nil {
		return fmt.Errorf("listing institutions: %w", err)
	}
	for _, inst := range insts {
		if inst.ApplicantID != contactID {
			continue
		}
		if inst.Status == store.InstitutionPending {
			err = s.store.DeleteInstitution(inst.ID)
		} else {
			_, err = s.store.UpdateInstitution(inst.ID, func(i *store.Institution) error { i.ApplicantID = 0; return nil })
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func institutionName(inst *store.Institution, lang string) string {
	return inLang(lang, inst.NameAR, inst.NameEN)
}
