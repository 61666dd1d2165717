package chat

import (
	"strconv"
	"strings"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// outreach is core with what the conversations that write to many people
// share: the broadcast, the reminder, the poll and the warning of a fake
// all ask in whose name, about which campaign, what and to whom
// (messageSteps); show what the send would do (previewSend); and say what
// became of it (announceSubmitted). The broadcasts, reminders, polls and
// verification groups embed it.
type outreach struct{ *core }

// messageSteps are the steps a broadcast and a reminder share: in whose
// name (for someone who acts for an institution), campaign, text in both
// languages, audience. They go on to after.
func (ou *outreach) messageSteps(after string) map[string]engine.Step {
	steps := map[string]engine.Step{
		"campaign": {
			Kind: messages.ChoiceQuestion,
			Ask: func(t *engine.Turn) error {
				all, err := ou.co.Campaigns.Mine(t.Ctx(), ou.actor(t))
				if err != nil {
					return err
				}
				opts := []engine.Choice{{Label: t.Text(messages.BroadcastNoCampaign, nil), Value: "c:0"}}
				for i := range all {
					if !all[i].Closed {
						opts = append(opts, engine.Choice{Label: coalition.Title(&all[i], t.Lang()), Value: "c:" + strconv.FormatUint(all[i].ID, 10)})
					}
				}
				t.Ask(t.Text(messages.BroadcastCampaign, nil), opts)
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				id, ok := strings.CutPrefix(a.Value, "c:")
				if !a.Chosen || !ok {
					t.SayChoose(a)
					return "campaign", nil
				}
				t.SetData("campaign", strings.TrimPrefix(id, "0"))
				return t.NextOr("text_ar"), nil
			},
		},
		"text_ar": engine.TextStep(messages.BroadcastTextAR, "text_ar", coalition.MaxCall, false, true, needArabicText, "text_en"),
		"text_en": engine.TextStep(messages.BroadcastTextEN, "text_en", coalition.MaxCall, true, true, nil, "audience"),
		"audience": {
			Kind: messages.ChoiceQuestion,
			Ask: func(t *engine.Turn) error {
				if pollAudienceData(t) {
					// the people who gave a poll's answer: set where the conversation began
					return t.GoTo(after)
				}
				opts := []engine.Choice{
					{Label: t.Text(messages.AudienceEveryone, nil), Value: string(store.AudienceEveryone)},
					{Label: t.Text(messages.AudienceMembers, nil), Value: string(store.AudienceMembers)},
					{Label: t.Text(messages.AudienceGovernorate, nil), Value: string(store.AudienceGovernorate)},
					{Label: t.Text(messages.AudienceLang, nil), Value: string(store.AudienceLang)},
				}
				if inst := ou.dataOrg(t); inst != nil {
					opts = institutionAudiences(t, inst)
				}
				if c := ou.dataCampaign(t); c != nil {
					if c.Kind.HasPledge() {
						opts = append(opts,
							engine.Choice{Label: t.Text(messages.AudiencePledgers, nil), Value: string(store.AudiencePledgers)},
							engine.Choice{Label: t.Text(messages.AudienceNotPledged, nil), Value: string(store.AudienceNotPledged)})
					}
					if c.Kind.HasEvent() {
						opts = append(opts, engine.Choice{Label: t.Text(messages.AudienceSignups, nil), Value: string(store.AudienceSignups)})
					}
				}
				t.Ask(t.Text(messages.BroadcastAudience, nil), opts)
				return nil
			},
			Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
				if !a.Chosen {
					t.SayChoose(a)
					return "audience", nil
				}
				kind, wide := strings.CutPrefix(a.Value, "wide:")
				t.SetData("aud", kind)
				t.SetData("wide", map[bool]string{true: "1"}[wide])
				switch store.AudienceKind(kind) {
				case store.AudienceGovernorate:
					return "aud_gov", nil
				case store.AudienceLang:
					return "aud_lang", nil
				}
				t.SetData("editing", "")
				return after, nil
			},
		},
		"aud_gov": audienceDetailStep(messages.BroadcastChooseGovernorate, "aud_gov", messages.ChoiceQuestion, governorateChoices,
			func(t *engine.Turn, a engine.Answer) (string, bool) { return chosenGovernorate(t, a) }, after),
		"aud_lang": audienceDetailStep(messages.BroadcastChooseLang, "aud_lang", messages.LanguageQuestion, func(*engine.Turn) []engine.Choice { return languageChoices() },
			func(_ *engine.Turn, a engine.Answer) (string, bool) { return chosenLanguage(a) }, after),
	}
	steps["org"] = ou.organiserStep("campaign")
	return steps
}

// audienceDetailStep asks which governorate or language an audience means and
// stores the choice under key.
func audienceDetailStep(prompt messages.Key, key string, kind messages.StepKind, options func(*engine.Turn) []engine.Choice, pick func(*engine.Turn, engine.Answer) (string, bool), after string) engine.Step {
	return engine.Step{
		Kind: kind,
		Ask: func(t *engine.Turn) error {
			t.Ask(t.Text(prompt, nil), options(t))
			return nil
		},
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			v, ok := pick(t, a)
			if !ok {
				t.SayChoose(a)
				return key, nil
			}
			t.SetData(key, v)
			t.SetData("editing", "")
			return after, nil
		},
	}
}

// institutionAudiences are whom an institution's message can go to: its
// own supporters, all or some, or the whole coalition's audience with the
// coalition's approval.
func institutionAudiences(t *engine.Turn, inst *store.Institution) []engine.Choice {
	name := institutionName(t, inst)
	return []engine.Choice{
		{Label: t.Text(messages.OrgAudienceSupporters, map[string]any{"Name": name}), Value: string(store.AudienceEveryone)},
		{Label: t.Text(messages.OrgAudienceGovernorate, nil), Value: string(store.AudienceGovernorate)},
		{Label: t.Text(messages.OrgAudienceLang, nil), Value: string(store.AudienceLang)},
		{Label: t.Text(messages.OrgAudienceWide, nil), Value: "wide:" + string(store.AudienceEveryone)},
	}
}

// pollAudienceData reports whether a conversation's audience was set by a
// poll's follow-up, so the audience step is not asked.
func pollAudienceData(t *engine.Turn) bool {
	return t.Data("aud") == string(store.AudiencePollAnswer) && t.Data("aud_poll") != "" && t.Data("editing") == ""
}

func (ou *outreach) dataAudience(t *engine.Turn) store.Audience {
	aud := store.Audience{Kind: store.AudienceKind(t.Data("aud")), Governorate: t.Data("aud_gov"), Lang: t.Data("aud_lang")}
	if aud.Kind == store.AudiencePollAnswer {
		aud.PollID, _ = strconv.ParseUint(t.Data("aud_poll"), 10, 64)
		aud.Option, _ = strconv.Atoi(t.Data("aud_opt"))
	}
	if c := ou.dataCampaign(t); c != nil {
		aud.CampaignID = c.ID
	}
	if inst := ou.dataOrg(t); inst != nil && t.Data("wide") == "" {
		// an institution's send goes to its own supporters unless the whole coalition was chosen
		aud.Institution = inst.ID
	}
	return aud
}

// previewSend says what a bulk send would do: its text, who it reaches on
// which channel and how long it takes, whether a second person must
// approve it, when it would start, and whether sending is paused.
func (ou *outreach) previewSend(t *engine.Turn, text string, aud store.Audience, p coalition.Preview) {
	lang := t.Lang()
	var lines []string
	for _, pc := range p.PerChannel {
		lines = append(lines, t.Text(messages.BroadcastPreviewChannel, map[string]any{
			"Channel": ou.words.Channel(lang, pc.Channel), "Count": messages.FormatNumber(lang, pc.Count), "Duration": ou.words.Duration(lang, pc.Duration),
		}))
	}
	t.Say(messages.BroadcastPreview, map[string]any{
		"Text": text, "Audience": ou.audienceText(t, aud, p.Campaign),
		"Total": t.Count(messages.PeopleCount, p.Total, nil), "Channels": strings.Join(lines, "\n"),
		"Duration": ou.words.Duration(lang, p.Longest),
	})
	switch {
	case p.OutsideScope:
		t.Say(messages.OrgWillNeedApproval, nil)
	case p.NeedsApproval:
		t.Say(messages.BroadcastWillNeedApproval, nil)
	}
	if !p.StartsAt.IsZero() {
		t.Say(messages.BroadcastQuietNote, map[string]any{"Until": ou.timeText(t, p.StartsAt)})
	}
	ou.pausedNote(t, p.Paused)
}

// audienceText describes an audience to the turn's reader, naming the
// answer of a poll's answerers.
func (ou *outreach) audienceText(t *engine.Turn, aud store.Audience, c *store.Campaign) string {
	describe, err := ou.co.Polls.DescribeAudience(t.Ctx(), aud, c)
	if err != nil {
		ou.log.Warn("describing an audience", "error", err)
		return ou.words.Audience(aud, c, t.Lang())
	}
	return describe(t.Lang())
}

// pausedNote tells whoever sends while all sending is paused.
func (ou *outreach) pausedNote(t *engine.Turn, p *store.Pause) {
	if p == nil {
		return
	}
	who, err := ou.co.Members.FindPerson(t.Ctx(), "#"+strconv.FormatUint(p.By, 10))
	name := messages.Isolate("#" + strconv.FormatUint(p.By, 10))
	if err == nil {
		name = ou.words.Person(who, t.Lang())
	}
	t.Say(messages.PausedNote, map[string]any{"Who": name, "Since": ou.timeText(t, p.At)})
}

// announceSubmitted tells the author of a bulk send what became of it:
// queued, or waiting for a second person; more, if given, follows.
func (ou *outreach) announceSubmitted(t *engine.Turn, res coalition.Submitted, urgent bool, more string) error {
	t.EndFlow()
	lang := t.Lang()
	id := messages.FormatID(t.Lang(), res.Broadcast.ID)
	if res.AwaitingApproval && res.Preview.OutsideScope {
		intro := t.Text(messages.OrgAwaitingCoalition, map[string]any{"ID": id, "Total": t.Count(messages.PeopleCount, res.Preview.Total, nil)})
		if more != "" {
			intro += "\n\n" + more
		}
		return mainMenu(t, intro)
	}
	if res.AwaitingApproval {
		intro := t.Text(messages.BroadcastAwaiting, map[string]any{
			"ID": id, "Total": t.Count(messages.PeopleCount, res.Preview.Total, nil), "Threshold": t.Count(messages.PeopleCount, ou.threshold(), nil),
		})
		if more != "" {
			intro += "\n\n" + more
		}
		return mainMenu(t, intro)
	}
	intro := t.Text(messages.BroadcastQueued, map[string]any{"ID": id, "Total": t.Count(messages.PeopleCount, res.Preview.Total, nil)})
	if !res.Preview.StartsAt.IsZero() && !urgent {
		// it is sent: marking it urgent is no longer a choice
		intro += "\n" + t.Text(messages.BroadcastQuietWaits, map[string]any{"Until": ou.words.Time(lang, res.Preview.StartsAt)})
	}
	if more != "" {
		intro += "\n\n" + more
	}
	if res.Preview.Paused != nil {
		ou.pausedNote(t, res.Preview.Paused)
	}
	return mainMenu(t, intro)
}

// threshold is the size above which a send needs a second person.
func (ou *outreach) threshold() int { return ou.co.Broadcasts.Threshold() }
