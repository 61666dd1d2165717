package chat

import (
	"encoding/json"
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// polls is the coordinators' questions to many people (/poll): the
// wizard, results, closing and following up an answer; everyone's answer
// (/vote, or the words of an option typed after the poll came); and the
// question after an event of whether the people signed up came (/followup).
type polls struct{ *outreach }

func (ps *polls) commands() []engine.Command {
	return []engine.Command{
		{Name: "vote", Role: store.RoleCitizen, Run: ps.cmdVote},
		{Name: "followup", Role: store.RoleCoordinator, Run: ps.cmdFollowUp},
		{Name: "poll", Role: store.RoleCoordinator, Desc: messages.CmdPoll, Run: ps.cmdPoll},
	}
}

func (ps *polls) flows() map[string]*engine.Flow {
	return map[string]*engine.Flow{"poll": ps.pollFlow()}
}

// cmdPoll is /poll: with nothing, a new poll; "list"; a number, that
// poll's results; "N close"; "N follow K", a message to those who chose K.
func (ps *polls) cmdPoll(t *engine.Turn, arg string) error {
	verb, rest, _ := strings.Cut(strings.TrimSpace(arg), " ")
	switch strings.ToLower(verb) {
	case "", "new":
		t.Say(messages.PollIntro, nil)
		return t.StartFlow("poll", "", nil)
	case "list":
		return ps.listPolls(t)
	}
	id, ok := broadcastArg(verb)
	if !ok {
		t.Say(messages.ErrUnknownCommand, map[string]any{"Command": messages.Isolate("/poll " + verb)})
		return ps.listPolls(t)
	}
	sub, more, _ := strings.Cut(strings.TrimSpace(rest), " ")
	switch strings.ToLower(sub) {
	case "", "results":
		return ps.pollResults(t, id)
	case "close":
		return ps.closePoll(t, id)
	case "follow", "message", "remind":
		n, ok := messages.ParseNumber(strings.TrimSpace(more))
		if !ok {
			return ps.pollResults(t, id)
		}
		return ps.followPoll(t, id, n-1, strings.ToLower(sub))
	}
	t.Say(messages.ErrUnknownCommand, map[string]any{"Command": messages.Isolate("/poll " + arg)})
	return ps.pollResults(t, id)
}

// listPolls shows the newest polls, each a button to its results.
func (ps *polls) listPolls(t *engine.Turn) error {
	recent, err := ps.co.Polls.Recent(t.Ctx(), ps.actor(t), 10)
	if err != nil {
		return fail(t, err)
	}
	if len(recent) == 0 {
		return mainMenu(t, t.Text(messages.PollNone, nil))
	}
	var sb strings.Builder
	sb.WriteString(t.Text(messages.PollList, nil))
	var opts []engine.Choice
	for i := range recent {
		p := &recent[i]
		n, err := ps.co.Polls.Counts(t.Ctx(), p.ID)
		if err != nil {
			return err
		}
		state := t.Text(messages.PollStateOpen, nil)
		if !p.Open(t.Now()) {
			state = t.Text(messages.PollStateClosed, nil)
		}
		id, shown := strconv.FormatUint(p.ID, 10), messages.FormatID(t.Lang(), p.ID)
		sb.WriteString("\n• " + t.Text(messages.PollListLine, map[string]any{
			"ID": shown, "Question": coalition.PollQuestion(p, t.Lang()), "State": state,
			"Answers": t.Count(messages.PollAnswers, n.Answered(), nil),
		}))
		opts = append(opts, engine.Choice{Label: t.Text(messages.PollResultsButton, map[string]any{"ID": shown}), Value: "/poll " + id})
	}
	opts = append(opts, engine.Choice{Label: t.Text(messages.CommonBack, nil), Value: "/menu"})
	t.Ask(sb.String(), opts)
	return nil
}

// pollResults shows a poll's results with ways to follow up.
func (ps *polls) pollResults(t *engine.Turn, id uint64) error {
	r, err := ps.co.Polls.Results(t.Ctx(), ps.actor(t), id)
	if errors.Is(err, coalition.ErrNotFound) {
		return mainMenu(t, t.Text(messages.PollNotFound, map[string]any{"ID": messages.FormatID(t.Lang(), id)}))
	}
	if err != nil {
		return fail(t, err)
	}
	sid := strconv.FormatUint(id, 10)
	var opts []engine.Choice
	for i, n := range r.Counts.Options {
		if n > 0 {
			opts = append(opts, engine.Choice{Label: t.Text(messages.PollFollowButton, map[string]any{"Option": coalition.PollOption(r.Poll, i, t.Lang())}),
				Value: "/poll " + sid + " follow " + strconv.Itoa(i+1)})
		}
	}
	if r.Poll.Open(t.Now()) {
		opts = append(opts, engine.Choice{Label: t.Text(messages.PollCloseButton, nil), Value: "/poll " + sid + " close"})
	}
	opts = append(opts,
		engine.Choice{Label: t.Text(messages.PollRefreshButton, nil), Value: "/poll " + sid},
		engine.Choice{Label: t.Text(messages.CommonBack, nil), Value: "/menu"})
	t.Ask(ps.resultsText(t, r), opts)
	return nil
}

// resultsText is a poll's results: each option's count and share, how many
// answered of those asked, until when, and the same by governorate,
// language, channel and campaign.
func (ps *polls) resultsText(t *engine.Turn, r coalition.PollResults) string {
	lang := t.Lang()
	p := r.Poll
	var sb strings.Builder
	sb.WriteString(t.Text(messages.PollResultsTitle, map[string]any{"ID": messages.FormatID(lang, p.ID), "Question": coalition.PollQuestion(p, lang)}))
	sb.WriteString("\n" + ps.optionLines(t, p, r.Counts.Options))
	sb.WriteString("\n\n" + t.Count(messages.PollAnswered, r.Counts.Answered(), map[string]any{"Asked": messages.FormatNumber(lang, r.Counts.Asked)}))
	switch {
	case p.Closed:
		sb.WriteString("\n" + t.Text(messages.PollClosedOn, map[string]any{"When": ps.timeText(t, p.ClosedAt)}))
	case !p.ClosesAt.IsZero() && !t.Now().Before(p.ClosesAt):
		sb.WriteString("\n" + t.Text(messages.PollClosedOn, map[string]any{"When": ps.timeText(t, p.ClosesAt)}))
	case !p.ClosesAt.IsZero():
		sb.WriteString("\n" + t.Text(messages.PollOpenUntil, map[string]any{"Until": ps.timeText(t, p.ClosesAt)}))
	default:
		sb.WriteString("\n" + t.Text(messages.PollOpenUntilClosed, nil))
	}
	if r.Counts.Answered() == 0 {
		return sb.String()
	}
	section := func(head messages.Key, tally store.Tally, name func(string) string) {
		if len(tally) == 0 {
			return
		}
		sb.WriteString("\n\n" + t.Text(head, nil))
		sum := func(k string) int {
			n := 0
			for _, v := range tally[k] {
				n += v
			}
			return n
		}
		keys := make([]string, 0, len(tally))
		for k := range tally {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, b := keys[i], keys[j]
			if (a == "") != (b == "") {
				return b == "" // unknown last
			}
			return sum(a) > sum(b) || sum(a) == sum(b) && a < b
		})
		for _, k := range keys {
			label := t.Text(messages.CommonUnknown, nil)
			if k != "" {
				label = name(k)
			}
			var parts []string
			for o, n := range tally[k] {
				if n == 0 {
					continue
				}
				parts = append(parts, t.Text(messages.PollTallyPart, map[string]any{
					"N": messages.FormatID(lang, uint64(o+1)), "Count": messages.FormatNumber(lang, n), "Percent": messages.FormatNumber(lang, coalition.Percent(tally[k], o)),
				}))
			}
			sb.WriteString("\n• " + label + " — " + strings.Join(parts, " · "))
		}
	}
	section(messages.PollByGovernorate, r.ByGovernorate, func(k string) string { return t.Text(messages.GovernorateKey(k), nil) })
	section(messages.PollByLang, r.ByLang, func(k string) string { return t.Text(messages.LangKey(k), nil) })
	section(messages.PollByChannel, r.ByChannel, func(k string) string { return t.Text(messages.ChannelKey(k), nil) })
	campaigns := store.Tally{}
	for k, v := range r.ByCampaign {
		if k != "" {
			campaigns[k] = v
		}
	}
	section(messages.PollByCampaign, campaigns, func(k string) string {
		id, _ := strconv.ParseUint(k, 10, 64)
		if c := r.Campaigns[id]; c != nil {
			return coalition.Title(c, lang)
		}
		return messages.Isolate("#" + messages.FormatID(lang, id))
	})
	return sb.String()
}

// optionLines lists a poll's options with their counts and shares.
func (ps *polls) optionLines(t *engine.Turn, p *store.Poll, counts []int) string {
	lang := t.Lang()
	lines := make([]string, 0, len(p.Options))
	for i := range p.Options {
		n := 0
		if i < len(counts) {
			n = counts[i]
		}
		lines = append(lines, t.Text(messages.PollResultsLine, map[string]any{
			"N": messages.FormatID(lang, uint64(i+1)), "Option": coalition.PollOption(p, i, lang),
			"Count": messages.FormatNumber(lang, n), "Percent": messages.FormatNumber(lang, coalition.Percent(counts, i)),
		}))
	}
	return strings.Join(lines, "\n")
}

func (ps *polls) closePoll(t *engine.Turn, id uint64) error {
	_, err := ps.co.Polls.Close(t.Ctx(), ps.actor(t), id)
	switch {
	case errors.Is(err, coalition.ErrNotFound):
		return mainMenu(t, t.Text(messages.PollNotFound, map[string]any{"ID": messages.FormatID(t.Lang(), id)}))
	case errors.Is(err, coalition.ErrDecided):
		t.Say(messages.PollClosedNote, nil)
		return ps.pollResults(t, id)
	case err != nil:
		return fail(t, err)
	}
	t.Say(messages.PollClosedDone, map[string]any{"ID": messages.FormatID(t.Lang(), id)})
	return ps.pollResults(t, id)
}

// followPoll offers a message now or a reminder to the people whose answer
// to poll id is option; with how already "message" or "remind", it starts
// that conversation with its audience set.
func (ps *polls) followPoll(t *engine.Turn, id uint64, option int, how string) error {
	r, err := ps.co.Polls.Results(t.Ctx(), ps.actor(t), id)
	if errors.Is(err, coalition.ErrNotFound) {
		return mainMenu(t, t.Text(messages.PollNotFound, map[string]any{"ID": messages.FormatID(t.Lang(), id)}))
	}
	if err != nil {
		return fail(t, err)
	}
	if option < 0 || option >= len(r.Poll.Options) {
		t.Say(messages.ErrChooseOption, nil)
		return ps.pollResults(t, id)
	}
	aud := coalition.AnswerAudience(r.Poll, option)
	data := map[string]string{
		"aud": string(aud.Kind), "aud_poll": strconv.FormatUint(aud.PollID, 10), "aud_opt": strconv.Itoa(aud.Option),
	}
	if aud.CampaignID != 0 {
		data["campaign"] = strconv.FormatUint(aud.CampaignID, 10)
	}
	if lead := r.Poll.Organiser.Lead(); lead != 0 && ps.actor(t).RoleIn(lead) != "" {
		// its people follow up an institution's poll in its name; the coalition's staff in the coalition's
		data["org"] = strconv.FormatUint(lead, 10)
	}
	switch how {
	case "message":
		t.Say(messages.BroadcastIntro, nil)
		return t.StartFlow("broadcast", "text_ar", data)
	case "remind":
		t.Say(messages.RemindIntro, nil)
		return t.StartFlow("remind", "text_ar", data)
	}
	sid, n := strconv.FormatUint(id, 10), strconv.Itoa(option+1)
	t.Ask(t.Text(messages.PollFollowHow, map[string]any{
		"People": t.Count(messages.PeopleCount, r.Counts.Options[option], nil), "Option": coalition.PollOption(r.Poll, option, t.Lang()),
	}), []engine.Choice{
		{Label: t.Text(messages.PollFollowNow, nil), Value: "/poll " + sid + " message " + n},
		{Label: t.Text(messages.PollFollowRemind, nil), Value: "/poll " + sid + " remind " + n},
		{Label: t.Text(messages.CommonBack, nil), Value: "/poll " + sid},
	})
	return nil
}

// cmdVote is /vote N K, what a poll's buttons send: the answer K to poll N.
func (ps *polls) cmdVote(t *engine.Turn, arg string) error {
	idText, optText, _ := strings.Cut(strings.TrimSpace(arg), " ")
	id, ok := broadcastArg(idText)
	n, ok2 := messages.ParseNumber(strings.TrimSpace(optText))
	if !ok || !ok2 {
		t.Say(messages.PollVoteUsage, nil)
		return mainMenu(t, "")
	}
	return ps.vote(t, id, n-1)
}

// vote records an answer and thanks for it, offering the options again so
// that a typed number changes it.
func (ps *polls) vote(t *engine.Turn, id uint64, option int) error {
	res, err := ps.co.Polls.Answer(t.Ctx(), ps.actor(t), id, option)
	var inv *coalition.InvalidError
	switch {
	case errors.Is(err, coalition.ErrNotFound):
		return mainMenu(t, t.Text(messages.PollNotFound, map[string]any{"ID": messages.FormatID(t.Lang(), id)}))
	case errors.Is(err, coalition.ErrPollClosed):
		return mainMenu(t, t.Text(messages.PollClosedNote, nil))
	case errors.Is(err, coalition.ErrNotAsked):
		return mainMenu(t, t.Text(messages.PollNotAsked, nil))
	case errors.As(err, &inv):
		t.Say(messages.ErrOutOfRange, map[string]any{"Max": messages.FormatNumber(t.Lang(), len(res.Poll.Options))})
		t.Ask(coalition.PollQuestion(res.Poll, t.Lang()), pollChoices(t, res.Poll))
		return nil
	case err != nil:
		return err
	}
	lang := t.Lang()
	chosen := coalition.PollOption(res.Poll, res.Option, lang)
	var text string
	switch {
	case res.Previous < 0:
		text = t.Text(messages.PollThanks, map[string]any{"Option": chosen})
	case res.Previous == res.Option:
		text = t.Text(messages.PollSame, map[string]any{"Option": chosen})
	default:
		text = t.Text(messages.PollChanged, map[string]any{"Option": chosen, "Previous": coalition.PollOption(res.Poll, res.Previous, lang)})
	}
	if res.Poll.ClosesAt.IsZero() {
		text += "\n" + t.Text(messages.PollChangeOpen, nil)
	} else {
		text += "\n" + t.Text(messages.PollChangeUntil, map[string]any{"Until": ps.timeText(t, res.Poll.ClosesAt)})
	}
	t.Ask(text, pollChoices(t, res.Poll))
	return nil
}

// pollChoices are a poll's options as a menu whose values vote.
func pollChoices(t *engine.Turn, p *store.Poll) []engine.Choice {
	opts := make([]engine.Choice, 0, len(p.Options))
	for i := range p.Options {
		opts = append(opts, engine.Choice{Label: coalition.PollOption(p, i, t.Lang()), Value: coalition.VotePayload(p.ID, i)})
	}
	return opts
}

// answerPending reads words sent outside a conversation (Bot.Unprompted):
// words that choose an option of the newest poll the person has not
// answered, sent since the menu they were shown last, answer it.
func (ps *polls) answerPending(t *engine.Turn, text string) (bool, error) {
	p, at, err := ps.co.Polls.Pending(t.Ctx(), ps.actor(t))
	if err != nil || p == nil {
		return false, err
	}
	if shown := t.MenuShownAt(); !shown.IsZero() && shown.Truncate(time.Second).After(at) {
		// the menu they were shown since is what they answer; in the same
		// second, the poll, which reached them as they read (the time it
		// was sent is kept to the second)
		return false, nil
	}
	labels := make([]string, len(p.Options))
	for i := range p.Options {
		labels[i] = coalition.PollOption(p, i, t.Lang())
	}
	i, ok := messages.Choose(text, labels)
	if !ok {
		return false, nil
	}
	return true, ps.vote(t, p.ID, i)
}

// cmdFollowUp is /followup CODE on|off: whether the people signed up are
// asked after the event whether they came.
func (ps *polls) cmdFollowUp(t *engine.Turn, arg string) error {
	code, state, _ := strings.Cut(strings.TrimSpace(arg), " ")
	var on bool
	switch strings.ToLower(strings.TrimSpace(state)) {
	case "on", "yes", "تشغيل", "نعم":
		on = true
	case "off", "no", "إيقاف", "ايقاف", "لا":
	default:
		t.Say(messages.PollFollowUpUsage, nil)
		return mainMenu(t, "")
	}
	c, err := ps.co.Polls.SetFollowUp(t.Ctx(), ps.actor(t), code, on)
	switch {
	case errors.Is(err, coalition.ErrNotFound):
		t.Say(messages.CampaignNotFound, map[string]any{"Code": messages.Isolate(code)})
		return mainMenu(t, "")
	case errors.Is(err, coalition.ErrDecided):
		return mainMenu(t, t.Text(messages.PollFollowUpAsked, map[string]any{"Code": messages.Isolate(c.Code)}))
	case err != nil:
		if explain(t, err) {
			return mainMenu(t, "")
		}
		return err
	}
	key := messages.PollFollowUpOff
	if on {
		key = messages.PollFollowUpOn
	}
	return mainMenu(t, t.Text(key, map[string]any{"Title": coalition.Title(c, t.Lang())}))
}

// attendanceStats adds to /stats whether the people signed up are (or
// were) asked after the event whether they came, and their answers.
func (ps *polls) attendanceStats(t *engine.Turn, c *store.Campaign, sb *strings.Builder) error {
	if !c.Kind.HasEvent() || c.EventAt.IsZero() {
		return nil
	}
	a, err := ps.co.Polls.Attendance(t.Ctx(), ps.actor(t), c)
	if err != nil {
		return err
	}
	code := messages.Isolate(c.Code)
	switch {
	case a.Results != nil:
		r := a.Results
		sb.WriteString("\n\n" + t.Text(messages.PollAttendanceStats, map[string]any{"People": t.Count(messages.PeopleCount, r.Counts.Asked, nil)}))
		sb.WriteString("\n" + ps.optionLines(t, r.Poll, r.Counts.Options))
		sb.WriteString("\n" + t.Count(messages.PollAnswered, r.Counts.Answered(), map[string]any{"Asked": messages.FormatNumber(t.Lang(), r.Counts.Asked)}))
	case a.On:
		sb.WriteString("\n\n" + t.Text(messages.PollAttendanceLater, map[string]any{"When": ps.timeText(t, a.At), "Code": code}))
	default:
		sb.WriteString("\n\n" + t.Text(messages.PollAttendanceOff, map[string]any{"Code": code}))
	}
	return nil
}

// pollFlow asks a question of an audience: its campaign, the question and
// its options in both languages, the audience, how long it stays open.
func (ps *polls) pollFlow() *engine.Flow {
	steps := ps.messageSteps("duration")
	steps["text_ar"] = engine.TextStep(messages.PollAskQuestionAR, "text_ar", coalition.MaxQuestion, false, true, needArabicText, "text_en")
	steps["text_en"] = engine.TextStep(messages.PollAskQuestionEN, "text_en", coalition.MaxQuestion, true, true, nil, "options")
	steps["options"] = engine.Step{
		Ask: func(t *engine.Turn) error {
			t.Ask(t.Text(messages.PollAskOptionsAR, map[string]any{"Max": messages.FormatNumber(t.Lang(), coalition.MaxPollOptions)}), nil)
			return nil
		},
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			v, ok := t.FreeText(a, engine.MaxInput, true)
			if !ok {
				return "options", nil
			}
			opts, ok := optionLines(t, v, 0)
			if !ok {
				return "options", nil
			}
			if len(dataOptions(t, "options_en")) != len(opts) {
				t.SetData("options_en", "")
			}
			return t.NextOr("options_en"), setOptions(t, "options", opts)
		},
	}
	steps["options_en"] = engine.Step{
		Ask: func(t *engine.Turn) error {
			n := len(dataOptions(t, "options"))
			t.Ask(t.Text(messages.PollAskOptionsEN, map[string]any{"Count": messages.FormatNumber(t.Lang(), n)}),
				[]engine.Choice{{Label: t.Text(messages.CommonSkip, nil), Value: "skip"}})
			return nil
		},
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			if engine.IsSkip(a) {
				t.SetData("options_en", "")
				return t.NextOr("audience"), nil
			}
			v, ok := t.FreeText(a, engine.MaxInput, true)
			if !ok {
				return "options_en", nil
			}
			opts, ok := optionLines(t, v, len(dataOptions(t, "options")))
			if !ok {
				return "options_en", nil
			}
			return t.NextOr("audience"), setOptions(t, "options_en", opts)
		},
	}
	steps["duration"] = engine.Step{
		Ask: func(t *engine.Turn) error {
			t.Ask(t.Text(messages.PollAskDuration, nil), []engine.Choice{
				{Label: t.Text(messages.PollForDay, nil), Value: "24"},
				{Label: t.Text(messages.PollForThreeDays, nil), Value: "72"},
				{Label: t.Text(messages.PollForWeek, nil), Value: "168"},
				{Label: t.Text(messages.PollUntilClosed, nil), Value: "0"},
			})
			return nil
		},
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			if _, err := strconv.Atoi(a.Value); !a.Chosen || err != nil {
				t.SayChoose(a)
				return "duration", nil
			}
			t.SetData("hours", a.Value)
			return "confirm", nil
		},
	}
	steps["confirm"] = engine.Step{
		Ask: func(t *engine.Turn) error { return ps.pollPreview(t) },
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			switch {
			case a.Value == "send" || a.Value == "urgent":
				return "", ps.submitPoll(t, a.Value == "urgent")
			case a.Value == "edit":
				return "edit", nil
			case a.Value == "cancel" || !a.Chosen && messages.IsNo(a.Text):
				return "", cmdCancel(t, "")
			}
			t.SayChoose(a)
			return "confirm", nil
		},
	}
	steps["edit"] = engine.EditStep(func(t *engine.Turn) []engine.Choice {
		return []engine.Choice{
			{Label: t.Text(messages.PollFieldQuestion, nil), Value: "text_ar"},
			{Label: t.Text(messages.PollFieldQuestionEN, nil), Value: "text_en"},
			{Label: t.Text(messages.PollFieldOptions, nil), Value: "options"},
			{Label: t.Text(messages.PollFieldOptionsEN, nil), Value: "options_en"},
			{Label: t.Text(messages.BroadcastAudience, nil), Value: "audience"},
			{Label: t.Text(messages.PollFieldDuration, nil), Value: "duration"},
		}
	})
	return &engine.Flow{First: "org", Role: store.RoleCoordinator, Title: messages.FlowPoll, Steps: steps}
}

// listMarker is a number or bullet people put before the options they list.
var listMarker = regexp.MustCompile(`^\s*(?:[0-9٠-٩]{1,2}\s*[.)\-:،]|[-•*▪◦])\s*`)

// optionSeparators split options typed on one line: commas (Arabic and
// Latin), semicolons and bars; not slashes, which dates have.
var optionSeparators = regexp.MustCompile(`\s*[،,؛;|]\s*`)

// optionLines reads the options typed one per line, or on one line
// separated by commas, saying what is wrong and returning false when they
// are refused; want, if not 0, is how many there must be.
func optionLines(t *engine.Turn, v string, want int) ([]string, bool) {
	var opts []string
	lines := strings.Split(v, "\n")
	if len(lines) == 1 {
		lines = optionSeparators.Split(v, -1)
	}
	for _, line := range lines {
		line = strings.TrimSpace(listMarker.ReplaceAllString(line, ""))
		if line != "" {
			opts = append(opts, line)
		}
	}
	seen := map[string]bool{}
	for _, o := range opts {
		switch {
		case len([]rune(o)) > coalition.MaxOption:
			t.Say(messages.PollErrOptionLong, nil)
			return nil, false
		case seen[messages.Normalize(o)]:
			t.Say(messages.PollErrDuplicate, nil)
			return nil, false
		}
		seen[messages.Normalize(o)] = true
	}
	switch {
	case want != 0 && len(opts) != want:
		t.SayText(t.Count(messages.PollErrCount, want, nil))
		return nil, false
	case len(opts) < coalition.MinPollOptions:
		t.Say(messages.PollErrTooFew, nil)
		return nil, false
	case len(opts) > coalition.MaxPollOptions:
		t.Say(messages.PollErrTooMany, nil)
		return nil, false
	}
	return opts, true
}

func setOptions(t *engine.Turn, key string, opts []string) error {
	buf, err := json.Marshal(opts)
	if err != nil {
		return err
	}
	t.SetData(key, string(buf))
	return nil
}

func dataOptions(t *engine.Turn, key string) []string {
	var opts []string
	if v := t.Data(key); v != "" {
		_ = json.Unmarshal([]byte(v), &opts) // data the flow wrote itself; garbage reads as none
	}
	return opts
}

func (ps *polls) pollDraft(t *engine.Turn, urgent bool) coalition.PollDraft {
	aud := ps.dataAudience(t)
	ar, en := dataOptions(t, "options"), dataOptions(t, "options_en")
	opts := make([]store.PollOption, len(ar))
	for i := range ar {
		opts[i].AR = ar[i]
		if i < len(en) {
			opts[i].EN = en[i]
		}
	}
	d := coalition.PollDraft{CampaignID: aud.CampaignID, QuestionAR: t.Data("text_ar"), QuestionEN: t.Data("text_en"),
		Options: opts, Audience: aud, Urgent: urgent, Organiser: dataOrganiser(t)}
	if h, _ := strconv.Atoi(t.Data("hours")); h > 0 {
		d.ClosesAt = t.Now().Add(time.Duration(h) * time.Hour)
	}
	return d
}

func (ps *polls) pollPreview(t *engine.Turn) error {
	d := ps.pollDraft(t, false)
	p, body, err := ps.co.Polls.Preview(t.Ctx(), ps.actor(t), d)
	if err != nil {
		return endWith(t, err)
	}
	if p.Total == 0 {
		t.Say(messages.BroadcastNobody, nil)
		return t.GoTo("audience")
	}
	ps.previewSend(t, body, d.Audience, p)
	t.Ask(t.Text(messages.MenuChoose, nil), []engine.Choice{
		{Label: t.Text(messages.PollSend, nil), Value: "send"},
		{Label: t.Text(messages.BroadcastSendUrgent, nil), Value: "urgent"},
		{Label: t.Text(messages.CommonEdit, nil), Value: "edit"},
		{Label: t.Text(messages.CommonCancel, nil), Value: "cancel"},
	})
	return nil
}

func (ps *polls) submitPoll(t *engine.Turn, urgent bool) error {
	res, err := ps.co.Polls.Submit(t.Ctx(), ps.actor(t), ps.pollDraft(t, urgent))
	if errors.Is(err, coalition.ErrNobody) {
		t.Say(messages.BroadcastNobody, nil)
		return t.GoTo("audience")
	}
	if err != nil {
		return endWith(t, err)
	}
	return ps.announceSubmitted(t, res.Submitted, urgent, t.Text(messages.PollCreated, map[string]any{
		"ID": messages.FormatID(t.Lang(), res.Poll.ID), "Command": messages.Isolate("/poll " + messages.FormatID(t.Lang(), res.Poll.ID)),
	}))
}
