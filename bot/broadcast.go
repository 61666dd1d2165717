package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"mobilise/messages"
	"mobilise/store"
)

// SendPlan is what the engine knows of how sending is paced, for previews and the quiet-hours gate.
type SendPlan struct {
	// Estimate says how long sending n messages on channel takes.
	Estimate func(channel string, n int) time.Duration
	// Wake tells the dispatcher that new messages are queued.
	Wake func()
	// Resume restarts channels that stopped because they were down.
	Resume func()
}

// WithSendPlan connects the engine to the outbox dispatcher.
func WithSendPlan(p SendPlan) Option { return func(s *Service) { s.plan = p } }

// WithApprovalThreshold sets how many recipients a broadcast may reach before
// a second person, an admin, must approve it.
func WithApprovalThreshold(n int) Option { return func(s *Service) { s.approvalThreshold = n } }

// WithQuietHours sets when broadcasts and reminders wait.
func WithQuietHours(q QuietHours) Option { return func(s *Service) { s.quiet = q } }

func (t *turn) cmdBroadcast(arg string) error {
	verb, rest, _ := strings.Cut(strings.TrimSpace(arg), " ")
	switch strings.ToLower(verb) {
	case "":
		t.say(messages.BroadcastIntro, nil)
		return t.startFlow("broadcast", "", nil)
	case "cancel":
		return t.cancelBroadcast(rest)
	case "list", "status":
		return t.listBroadcasts()
	}
	t.say(messages.ErrUnknownCommand, map[string]any{"Command": messages.Isolate("/broadcast " + verb)})
	return t.mainMenu("")
}

// messageSteps are the steps a broadcast and a reminder share: campaign,
// text in both languages, audience. They go on to after.
func messageSteps(after string) map[string]step {
	return map[string]step{
		"campaign": {
			ask: func(t *turn) error {
				all, err := t.s.store.Campaigns()
				if err != nil {
					return fmt.Errorf("listing campaigns: %w", err)
				}
				opts := []option{{t.text(messages.BroadcastNoCampaign, nil), "c:0"}}
				for i := range all {
					if !all[i].Closed {
						opts = append(opts, option{title(&all[i], t.lang), "c:" + strconv.FormatUint(all[i].ID, 10)})
					}
				}
				t.ask(t.text(messages.BroadcastCampaign, nil), opts)
				return nil
			},
			answer: func(t *turn, a answer) (string, error) {
				id, ok := strings.CutPrefix(a.Value, "c:")
				if !a.Chosen || !ok {
					t.sayChoose(a)
					return "campaign", nil
				}
				t.setData("campaign", strings.TrimPrefix(id, "0"))
				return t.nextOr("text_ar"), nil
			},
		},
		"text_ar": textStep(messages.BroadcastTextAR, "text_ar", maxCall, false, true, nil, "text_en"),
		"text_en": textStep(messages.BroadcastTextEN, "text_en", maxCall, true, true, nil, "audience"),
		"audience": {
			ask: func(t *turn) error {
				opts := []option{
					{t.text(messages.AudienceEveryone, nil), string(store.AudienceEveryone)},
					{t.text(messages.AudienceMembers, nil), string(store.AudienceMembers)},
					{t.text(messages.AudienceGovernorate, nil), string(store.AudienceGovernorate)},
					{t.text(messages.AudienceLang, nil), string(store.AudienceLang)},
				}
				if c := t.dataCampaign(); c != nil {
					if c.Kind.HasPledge() {
						opts = append(opts,
							option{t.text(messages.AudiencePledgers, nil), string(store.AudiencePledgers)},
							option{t.text(messages.AudienceNotPledged, nil), string(store.AudienceNotPledged)})
					}
					if c.Kind.HasEvent() {
						opts = append(opts, option{t.text(messages.AudienceSignups, nil), string(store.AudienceSignups)})
					}
				}
				t.ask(t.text(messages.BroadcastAudience, nil), opts)
				return nil
			},
			answer: func(t *turn, a answer) (string, error) {
				if !a.Chosen {
					t.sayChoose(a)
					return "audience", nil
				}
				t.setData("aud", a.Value)
				switch store.AudienceKind(a.Value) {
				case store.AudienceGovernorate:
					return "aud_gov", nil
				case store.AudienceLang:
					return "aud_lang", nil
				}
				t.setData("editing", "")
				return after, nil
			},
		},
		"aud_gov":  audienceDetailStep(messages.BroadcastChooseGovernorate, "aud_gov", (*turn).governorateOptions, (*turn).chosenGovernorate, after),
		"aud_lang": audienceDetailStep(messages.BroadcastChooseLang, "aud_lang", (*turn).languageOptions, func(_ *turn, a answer) (string, bool) { return chosenLanguage(a) }, after),
	}
}

// audienceDetailStep asks which governorate or language an audience means and
// stores the choice under key.
func audienceDetailStep(prompt messages.Key, key string, options func(*turn) []option, pick func(*turn, answer) (string, bool), after string) step {
	return step{
		ask: func(t *turn) error {
			t.ask(t.text(prompt, nil), options(t))
			return nil
		},
		answer: func(t *turn, a answer) (string, error) {
			v, ok := pick(t, a)
			if !ok {
				t.sayChoose(a)
				return key, nil
			}
			t.setData(key, v)
			t.setData("editing", "")
			return after, nil
		},
	}
}

func broadcastFlow() flow {
	steps := messageSteps("confirm")
	steps["confirm"] = step{
		ask: func(t *turn) error { return t.broadcastPreview() },
		// not a confirmStep: with two ways to send and a test, a typed yes would
		// be ambiguous, so only a typed no is read
		answer: func(t *turn, a answer) (string, error) {
			switch {
			case a.Value == "send" || a.Value == "urgent":
				return "", t.submitBroadcast(a.Value == "urgent")
			case a.Value == "test":
				t.sendTest()
				return "confirm", nil
			case a.Value == "edit":
				return "edit", nil
			case a.Value == "cancel" || !a.Chosen && messages.IsNo(a.Text):
				return "", t.cmdCancel("")
			}
			t.sayChoose(a)
			return "confirm", nil
		},
	}
	steps["edit"] = editStep(func(t *turn) []option {
		return []option{
			{t.text(messages.NewCampaignFieldCall, nil), "text_ar"},
			{t.text(messages.NewCampaignFieldCallEN, nil), "text_en"},
			{t.text(messages.BroadcastAudience, nil), "audience"},
		}
	})
	return flow{first: "campaign", steps: steps}
}

func (t *turn) dataCampaign() *store.Campaign {
	id, err := strconv.ParseUint(t.data("campaign"), 10, 64)
	if err != nil || id == 0 {
		return nil
	}
	c, err := t.s.store.Campaign(id)
	if err != nil {
		return nil
	}
	return c
}

func (t *turn) dataAudience() store.Audience {
	aud := store.Audience{Kind: store.AudienceKind(t.data("aud")), Governorate: t.data("aud_gov"), Lang: t.data("aud_lang")}
	if c := t.dataCampaign(); c != nil {
		aud.CampaignID = c.ID
	}
	return aud
}

// audienceText describes an audience in lang.
func (s *Service) audienceText(aud store.Audience, lang string) string {
	switch aud.Kind {
	case store.AudienceMembers:
		return s.cat.Text(lang, messages.AudienceMembers, nil)
	case store.AudienceGovernorate:
		return s.cat.Text(lang, messages.AudienceGovernorate, nil) + ": " + s.cat.Text(lang, messages.GovernorateKey(aud.Governorate), nil)
	case store.AudienceLang:
		return s.cat.Text(lang, messages.AudienceLang, nil) + ": " + s.cat.Text(lang, messages.LangKey(aud.Lang), nil)
	case store.AudiencePledgers:
		return s.cat.Text(lang, messages.AudiencePledgers, nil) + s.campaignSuffix(aud.CampaignID, lang)
	case store.AudienceSignups:
		return s.cat.Text(lang, messages.AudienceSignups, nil) + s.campaignSuffix(aud.CampaignID, lang)
	case store.AudienceNotPledged:
		return s.cat.Text(lang, messages.AudienceNotPledged, nil) + s.campaignSuffix(aud.CampaignID, lang)
	}
	return s.cat.Text(lang, messages.AudienceEveryone, nil)
}

func (s *Service) campaignSuffix(id uint64, lang string) string {
	c, err := s.store.Campaign(id)
	if err != nil {
		return ""
	}
	return " «" + title(c, lang) + "»"
}

// recipients lists who an audience reaches now, on the channels this bot runs.
func (s *Service) recipients(aud store.Audience) ([]store.Recipient, error) {
	rs, err := s.store.Recipients(aud, s.hasSender)
	if err != nil {
		return nil, fmt.Errorf("selecting the audience: %w", err)
	}
	return rs, nil
}

// duration says how long something takes, in whole minutes or hours.
func (s *Service) duration(lang string, d time.Duration) string {
	if d < time.Minute {
		return s.cat.Text(lang, messages.LessThanMinute, nil)
	}
	if d < 2*time.Hour {
		return s.cat.Count(lang, messages.Minutes, int((d+time.Minute-1)/time.Minute), nil)
	}
	return s.cat.Count(lang, messages.Hours, int((d+time.Hour-1)/time.Hour), nil)
}

func (s *Service) estimate(channel string, n int) time.Duration {
	if s.plan.Estimate != nil {
		return s.plan.Estimate(channel, n)
	}
	return time.Duration(n) * time.Second / 30
}

func (t *turn) broadcastPreview() error {
	aud := t.dataAudience()
	rs, err := t.s.recipients(aud)
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		t.say(messages.BroadcastNobody, nil)
		return t.goTo("audience")
	}
	perChannel := map[string]int{}
	var order []string
	for _, r := range rs {
		ch, _, _ := strings.Cut(r.Address, ":")
		if perChannel[ch] == 0 {
			order = append(order, ch)
		}
		perChannel[ch]++
	}
	var lines []string
	var longest time.Duration
	for _, ch := range order {
		d := t.s.estimate(ch, perChannel[ch])
		longest = max(longest, d)
		lines = append(lines, t.text(messages.BroadcastPreviewChannel, map[string]any{
			"Channel": messages.Isolate(ch), "Count": messages.FormatNumber(t.lang, perChannel[ch]), "Duration": t.s.duration(t.lang, d),
		}))
	}
	t.say(messages.BroadcastPreview, map[string]any{
		"Text": inLang(t.lang, t.data("text_ar"), t.data("text_en")), "Audience": t.s.audienceText(aud, t.lang),
		"Total": messages.FormatNumber(t.lang, len(rs)), "Channels": strings.Join(lines, "\n"),
		"Duration": t.s.duration(t.lang, longest),
	})
	if until := t.s.quiet.HoldUntil(t.s.now(), t.s.loc); !until.IsZero() {
		t.say(messages.BroadcastQuietNote, map[string]any{"Until": t.formatTime(until)})
	}
	t.ask(t.text(messages.MenuChoose, nil), []option{
		{t.text(messages.BroadcastSend, nil), "send"},
		{t.text(messages.BroadcastSendUrgent, nil), "urgent"},
		{t.text(messages.BroadcastTest, nil), "test"},
		{t.text(messages.CommonEdit, nil), "edit"},
		{t.text(messages.CommonCancel, nil), "cancel"},
	})
	return nil
}

// sendTest shows the coordinator the message as a recipient would get it.
func (t *turn) sendTest() {
	text, buttons := t.s.broadcastText(t.data("text_ar"), t.data("text_en"), t.dataCampaign(), t.lang, t.in.From.Channel, t.c.Name)
	t.sayText(text)
	t.flush(buttons)
	t.say(messages.BroadcastTestSent, nil)
}

// broadcastText renders one recipient's copy: their language, and on
// WhatsApp their name, so no two messages are the same text.
func (s *Service) broadcastText(textAR, textEN string, c *store.Campaign, lang, channel, name string) (string, [][]Button) {
	text := inLang(lang, textAR, textEN)
	if channel == "whatsapp" && name != "" {
		text = s.cat.Text(lang, messages.BroadcastGreeting, map[string]any{"Name": name}) + "\n\n" + text
	}
	if c == nil {
		return text, nil
	}
	return text, [][]Button{{{Text: s.cat.Text(lang, messages.BroadcastOpenCampaign, nil), Payload: "/campaign " + c.Code}}}
}

func (t *turn) submitBroadcast(urgent bool) error {
	if !t.authorize(store.RoleCoordinator) {
		t.endFlow()
		return t.mainMenu("")
	}
	aud := t.dataAudience()
	rs, err := t.s.recipients(aud)
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		t.say(messages.BroadcastNobody, nil)
		return t.goTo("audience")
	}
	b := &store.Broadcast{
		CampaignID: aud.CampaignID, TextAR: t.data("text_ar"), TextEN: t.data("text_en"), Audience: aud,
		Urgent: urgent, CreatedBy: t.c.ID, CreatedAt: t.s.now().UTC(), Status: store.BroadcastAwaitingApproval,
	}
	// an admin's account can be stolen too: a large broadcast always takes a second person
	needsApproval := t.s.approvalThreshold > 0 && len(rs) > t.s.approvalThreshold
	if err := t.s.store.CreateBroadcast(b); err != nil {
		return fmt.Errorf("storing broadcast: %w", err)
	}
	t.endFlow()
	if err := t.audit("broadcast_created", map[string]string{
		"broadcast_id": strconv.FormatUint(b.ID, 10), "audience": string(aud.Kind), "recipients": strconv.Itoa(len(rs)),
		"governorate": aud.Governorate, "lang": aud.Lang, "campaign_id": strconv.FormatUint(aud.CampaignID, 10),
		"urgent": strconv.FormatBool(urgent), "text": b.TextAR,
	}); err != nil {
		return err
	}
	if needsApproval {
		notices, err := t.s.adminNotices("broadcast_approval", func(lang string) (string, [][]Button) {
			id := strconv.FormatUint(b.ID, 10)
			return t.s.cat.Text(lang, messages.BroadcastApprovalRequest, map[string]any{
					"ID": messages.Isolate(id), "Who": t.personLabel(t.c), "Audience": t.s.audienceText(aud, lang),
					"Total": messages.FormatNumber(lang, len(rs)), "Text": inLang(lang, b.TextAR, b.TextEN),
				}), [][]Button{{
					{Text: t.s.cat.Text(lang, messages.BroadcastApproveButton, nil), Payload: "/approvebroadcast " + id},
					{Text: t.s.cat.Text(lang, messages.BroadcastRejectButton, nil), Payload: "/rejectbroadcast " + id},
				}}
		})
		if err != nil {
			return err
		}
		t.notify(notices...)
		return t.mainMenu(t.text(messages.BroadcastAwaiting, map[string]any{
			"Total": messages.FormatNumber(t.lang, len(rs)), "Threshold": messages.FormatNumber(t.lang, t.s.approvalThreshold),
		}))
	}
	n, err := t.s.queueBroadcast(b.ID, 0)
	if err != nil {
		return err
	}
	return t.mainMenu(t.text(messages.BroadcastQueued, map[string]any{"ID": messages.Isolate(strconv.FormatUint(b.ID, 10)), "Total": messages.FormatNumber(t.lang, n)}))
}

// queueBroadcast writes one outbox entry per recipient, selected now, and
// wakes the dispatcher. approver is recorded when an admin approved it.
func (s *Service) queueBroadcast(id, approver uint64) (int, error) {
	// marked queued before the first entry is written, so a crash in between is resumed at start-up
	b, err := s.store.UpdateBroadcast(id, func(b *store.Broadcast) error {
		if b.Status != store.BroadcastAwaitingApproval {
			return errClaimed
		}
		b.ApprovedBy, b.Status = approver, store.BroadcastQueued
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("claiming broadcast %d: %w", id, err)
	}
	return s.fillBroadcast(b)
}

// ResumeBroadcasts finishes queueing the broadcasts a stop interrupted; the
// store skips the recipients already queued.
func (s *Service) ResumeBroadcasts() error {
	all, err := s.store.Broadcasts()
	if err != nil {
		return fmt.Errorf("listing broadcasts: %w", err)
	}
	var errs []error
	for i := range all {
		b := &all[i]
		if b.AllQueued || (b.Status != store.BroadcastQueued && b.Status != store.BroadcastSending) {
			continue
		}
		n, err := s.fillBroadcast(b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.log.Info("broadcast queueing resumed", "broadcast_id", b.ID, "recipients", n)
	}
	return errors.Join(errs...)
}

// fillBroadcast writes one outbox entry per recipient, selected now, and
// wakes the dispatcher.
func (s *Service) fillBroadcast(b *store.Broadcast) (int, error) {
	id := b.ID
	var c *store.Campaign
	var err error
	if b.CampaignID != 0 {
		if c, err = s.store.Campaign(b.CampaignID); err != nil {
			return 0, fmt.Errorf("loading campaign of broadcast %d: %w", id, err)
		}
	}
	rs, err := s.recipients(b.Audience)
	if err != nil {
		return 0, err
	}
	entries := make([]store.OutboxEntry, 0, len(rs))
	for _, r := range rs {
		ch, _, _ := strings.Cut(r.Address, ":")
		lang := messages.NormalizeLang(r.Lang)
		text, buttons := s.broadcastText(b.TextAR, b.TextEN, c, lang, ch, r.Name)
		entries = append(entries, store.OutboxEntry{
			Channel: ch, To: r.Address, ContactID: r.ContactID, Text: text, Buttons: OutboxButtons(buttons),
			Lang: lang, BroadcastID: b.ID, Kind: "broadcast", Urgent: b.Urgent,
		})
	}
	if err := s.store.QueueBroadcast(b.ID, entries); err != nil {
		return 0, fmt.Errorf("queueing broadcast %d: %w", id, err)
	}
	s.log.Info("broadcast queued", "broadcast_id", b.ID, "recipients", len(entries), "urgent", b.Urgent)
	if s.plan.Wake != nil {
		s.plan.Wake()
	}
	return len(entries), nil
}

// OutboxButtons converts a menu for storage in the outbox.
func OutboxButtons(rows [][]Button) [][]store.OutboxButton {
	if rows == nil {
		return nil
	}
	out := make([][]store.OutboxButton, len(rows))
	for i, row := range rows {
		out[i] = make([]store.OutboxButton, len(row))
		for j, b := range row {
			out[i][j] = store.OutboxButton{Text: b.Text, Payload: b.Payload}
		}
	}
	return out
}

func (t *turn) broadcastArg(arg string) (uint64, bool) {
	n, ok := messages.ParseNumber(strings.TrimPrefix(strings.TrimSpace(arg), "#"))
	return uint64(n), ok && n > 0
}

func (t *turn) cmdApproveBroadcast(arg string) error { return t.decideBroadcast(arg, true) }
func (t *turn) cmdRejectBroadcast(arg string) error  { return t.decideBroadcast(arg, false) }

// decideBroadcast is the second person's yes or no to a large broadcast.
func (t *turn) decideBroadcast(arg string, approve bool) error {
	id, ok := t.broadcastArg(arg)
	var b *store.Broadcast
	var err error
	if ok {
		b, err = t.s.store.Broadcast(id)
	}
	if !ok || errors.Is(err, store.ErrNotFound) || (b != nil && b.Status != store.BroadcastAwaitingApproval) {
		t.say(messages.BroadcastNotFound, map[string]any{"ID": messages.Isolate(strings.TrimSpace(arg))})
		return t.mainMenu("")
	}
	if err != nil {
		return fmt.Errorf("loading broadcast %d: %w", id, err)
	}
	if b.CreatedBy == t.c.ID {
		t.say(messages.BroadcastOwnApproval, nil)
		return t.mainMenu("")
	}
	key, status := messages.BroadcastRejected, store.BroadcastCancelled
	if approve {
		key, status = messages.BroadcastApproved, store.BroadcastQueued
		if _, err := t.s.queueBroadcast(id, t.c.ID); errors.Is(err, errClaimed) {
			t.say(messages.BroadcastNotFound, map[string]any{"ID": messages.Isolate(strconv.FormatUint(id, 10))})
			return t.mainMenu("")
		} else if err != nil {
			return err
		}
	} else {
		_, err := t.s.store.UpdateBroadcast(id, func(b *store.Broadcast) error {
			if b.Status != store.BroadcastAwaitingApproval {
				return errClaimed
			}
			b.Status = store.BroadcastCancelled
			return nil
		})
		if errors.Is(err, errClaimed) {
			// another admin decided first
			t.say(messages.BroadcastNotFound, map[string]any{"ID": messages.Isolate(strconv.FormatUint(id, 10))})
			return t.mainMenu("")
		}
		if err != nil {
			return fmt.Errorf("rejecting broadcast %d: %w", id, err)
		}
	}
	if err := t.audit("broadcast_"+map[bool]string{true: "approved", false: "rejected"}[approve], map[string]string{"broadcast_id": strconv.FormatUint(id, 10)}); err != nil {
		return err
	}
	t.notify(Notice{ContactID: b.CreatedBy, Kind: "broadcast_decided", Render: func(lang string) (string, [][]Button) {
		return t.s.cat.Text(lang, key, map[string]any{"ID": messages.Isolate(strconv.FormatUint(id, 10))}), nil
	}})
	return t.mainMenu(t.text(messages.BroadcastDecided, map[string]any{"ID": messages.Isolate(strconv.FormatUint(id, 10)), "Status": t.broadcastStatus(status)}))
}

func (t *turn) broadcastStatus(st store.BroadcastStatus) string {
	return t.text(map[store.BroadcastStatus]messages.Key{
		store.BroadcastAwaitingApproval: messages.BroadcastStatusAwaiting,
		store.BroadcastQueued:           messages.BroadcastStatusQueued,
		store.BroadcastSending:          messages.BroadcastStatusSending,
		store.BroadcastDone:             messages.BroadcastStatusDone,
		store.BroadcastCancelled:        messages.BroadcastStatusCancelled,
	}[st], nil)
}

// cancelBroadcast stops a broadcast: the given one, else the person's latest still running.
func (t *turn) cancelBroadcast(arg string) error {
	all, err := t.s.store.Broadcasts()
	if err != nil {
		return fmt.Errorf("listing broadcasts: %w", err)
	}
	want, named := t.broadcastArg(arg)
	var target *store.Broadcast
	for i := len(all) - 1; i >= 0; i-- {
		b := &all[i]
		if b.Closed() || (named && b.ID != want) || (!named && b.CreatedBy != t.c.ID) {
			continue
		}
		target = b
		break
	}
	// a coordinator stops their own broadcasts; an admin stops anyone's
	if target == nil || (target.CreatedBy != t.c.ID && t.role != store.RoleAdmin) {
		t.say(messages.BroadcastNothingToCancel, nil)
		return t.mainMenu("")
	}
	removed, err := t.s.store.CancelBroadcast(target.ID)
	if err != nil {
		return fmt.Errorf("cancelling broadcast %d: %w", target.ID, err)
	}
	if err := t.audit("broadcast_cancelled", map[string]string{"broadcast_id": strconv.FormatUint(target.ID, 10), "removed": strconv.Itoa(removed)}); err != nil {
		return err
	}
	return t.mainMenu(t.text(messages.BroadcastCancelled, map[string]any{"ID": messages.Isolate(strconv.FormatUint(target.ID, 10)), "Removed": messages.FormatNumber(t.lang, removed)}))
}

func (t *turn) listBroadcasts() error {
	all, err := t.s.store.Broadcasts()
	if err != nil {
		return fmt.Errorf("listing broadcasts: %w", err)
	}
	var b strings.Builder
	b.WriteString(t.text(messages.BroadcastList, nil))
	for i := len(all) - 1; i >= 0 && i >= len(all)-10; i-- {
		x := &all[i]
		b.WriteString("\n• " + t.text(messages.BroadcastLine, map[string]any{
			"ID": messages.Isolate(strconv.FormatUint(x.ID, 10)), "Status": t.broadcastStatus(x.Status),
			"Sent": messages.FormatNumber(t.lang, x.Sent), "Total": messages.FormatNumber(t.lang, x.Total),
		}))
	}
	return t.mainMenu(b.String())
}

// BroadcastProgress shows a broadcast's creator how it is going: one status
// message, edited in place where the channel can, and a final report.
func (s *Service) BroadcastProgress(ctx context.Context, id uint64) error {
	b, err := s.store.Broadcast(id)
	if err != nil {
		return fmt.Errorf("loading broadcast %d: %w", id, err)
	}
	if b.Reported {
		return nil
	}
	if b.Status == store.BroadcastDone {
		// the final report goes out once, and its counts into the audit log
		b, err = s.store.UpdateBroadcast(id, func(b *store.Broadcast) error {
			if b.Reported {
				return errClaimed
			}
			b.Reported = true
			return nil
		})
		if errors.Is(err, errClaimed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("claiming the report of broadcast %d: %w", id, err)
		}
		if err := s.store.AppendAudit(store.AuditEntry{At: s.now().UTC(), ActorID: b.CreatedBy, Action: "broadcast_finished", Details: map[string]string{
			"broadcast_id": strconv.FormatUint(id, 10), "total": strconv.Itoa(b.Total), "sent": strconv.Itoa(b.Sent),
			"failed": strconv.Itoa(b.Failed), "blocked": strconv.Itoa(b.Blocked), "cancelled": strconv.Itoa(b.Cancelled),
		}}); err != nil {
			return fmt.Errorf("recording broadcast %d in the audit log: %w", id, err)
		}
	}
	c, err := s.store.Contact(b.CreatedBy)
	if err != nil {
		return fmt.Errorf("loading the creator of broadcast %d: %w", id, err)
	}
	to, ok := reachableAddress(c, s.hasSender)
	if !ok {
		return nil
	}
	lang := messages.NormalizeLang(c.Lang)
	data := map[string]any{
		"ID": messages.Isolate(strconv.FormatUint(b.ID, 10)), "Sent": messages.FormatNumber(lang, b.Sent),
		"Failed": messages.FormatNumber(lang, b.Failed), "Blocked": messages.FormatNumber(lang, b.Blocked),
		"Left": messages.FormatNumber(lang, b.Left()),
	}
	msg := Outgoing{To: to, Lang: lang}
	if b.Status == store.BroadcastDone {
		msg.Text = s.cat.Text(lang, messages.BroadcastDone, data)
	} else {
		msg.Text = s.cat.Text(lang, messages.BroadcastProgress, data)
		done := b.Sent + b.Failed + b.Blocked
		if elapsed := s.now().Sub(b.QueuedAt); done > 0 && elapsed > 0 && !b.QueuedAt.IsZero() {
			perMinute := float64(done) / elapsed.Minutes()
			left := time.Duration(float64(b.Left()) / perMinute * float64(time.Minute))
			msg.Text += "\n" + s.cat.Text(lang, messages.BroadcastRate, map[string]any{
				"Rate": messages.FormatNumber(lang, int(perMinute+0.5)), "Left": s.duration(lang, left),
			})
		}
		msg.Buttons = [][]Button{{{Text: s.cat.Text(lang, messages.BroadcastCancelButton, nil), Payload: "/broadcast cancel " + strconv.FormatUint(b.ID, 10)}}}
	}
	if ed, ok := s.senders[to.Channel].(Editor); ok && b.StatusMessage[to.String()] != "" {
		if err := ed.Edit(ctx, b.StatusMessage[to.String()], msg); err == nil {
			return nil
		}
	} else if !ok && b.Status != store.BroadcastDone {
		// without editing, only the final report is sent: no stream of messages
		return nil
	}
	snd, ok := s.senders[to.Channel]
	if !ok {
		return nil
	}
	msgID, err := snd.Send(ctx, msg)
	if err != nil {
		return fmt.Errorf("reporting broadcast %d: %w", id, err)
	}
	_, err = s.store.UpdateBroadcast(id, func(b *store.Broadcast) error {
		if b.StatusMessage == nil {
			b.StatusMessage = map[string]string{}
		}
		b.StatusMessage[to.String()] = msgID
		return nil
	})
	return err
}

// Hold is the outbox's gate: when an entry may go out. Everything waits while
// an admin has paused sending; bulk messages that are not urgent wait out
// quiet hours.
func (s *Service) Hold(now time.Time, urgent, bulk bool) time.Time {
	// when the switch cannot be read, hold rather than risk sending through a pause
	if p, err := s.store.Pause(); err != nil || p.Paused {
		return now.Add(30 * time.Second)
	}
	if !bulk || urgent {
		return time.Time{}
	}
	return s.quiet.HoldUntil(now, s.loc)
}

func (t *turn) cmdPause(string) error {
	if err := t.s.store.SetPause(store.Pause{Paused: true, By: t.c.ID, At: t.s.now().UTC()}); err != nil {
		return err
	}
	if err := t.audit("sending_paused", nil); err != nil {
		return err
	}
	t.s.log.Warn("all sending paused", "by", t.c.ID)
	return t.mainMenu(t.text(messages.PauseDone, nil))
}

func (t *turn) cmdResume(string) error {
	if err := t.s.store.SetPause(store.Pause{}); err != nil {
		return err
	}
	if err := t.audit("sending_resumed", nil); err != nil {
		return err
	}
	t.s.log.Warn("sending resumed", "by", t.c.ID)
	if t.s.plan.Resume != nil {
		t.s.plan.Resume()
	}
	if t.s.plan.Wake != nil {
		t.s.plan.Wake()
	}
	return t.mainMenu(t.text(messages.ResumeDone, nil))
}
