package chat

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
)

// An institution's numbers, the coalition's numbers by institution, and
// what the admins decide about a membership: suspend, reinstate, end, and
// a change of name.

// cmdInstitutionStats shows an institution's numbers to its people and
// the coalition's staff.
func (ip *institutionPanel) cmdInstitutionStats(t *engine.Turn, code string) error {
	inst, err := ip.myInstitution(t, code, commandWith("/institutionstats"))
	if inst == nil {
		return err
	}
	n, err := ip.co.Institutions.Numbers(t.Ctx(), ip.actor(t), inst.ID)
	if err != nil {
		return fail(t, err)
	}
	return mainMenu(t, "📊 "+institutionName(t, inst)+"\n"+ip.numbersText(t, n, true))
}

// numbersText shows an organiser's numbers; detail adds them by
// governorate and by month.
func (ip *institutionPanel) numbersText(t *engine.Turn, n coalition.Numbers, detail bool) string {
	lang := t.Lang()
	var sb strings.Builder
	if n.Institution != nil {
		sb.WriteString(t.Count(messages.OrgSupportersLine, n.Supporters, nil))
		sb.WriteString("\n" + t.Count(messages.OrgReferralsLine, n.Referrals, nil))
		if n.Left > 0 {
			sb.WriteString("\n" + t.Count(messages.OrgLeftLine, n.Left, nil))
		}
		sb.WriteString("\n")
	}
	sb.WriteString(t.Count(messages.OrgCampaignsLine, n.Campaigns, nil))
	sb.WriteString("\n" + t.Count(messages.OrgPledgesLine, n.Pledges, nil))
	sb.WriteString("\n" + t.Count(messages.OrgSignupsLine, n.Signups, nil))
	if n.Polls > 0 {
		// answers only for an organiser that asked: the others have none to count
		sb.WriteString("\n" + t.Count(messages.OrgAnswersLine, n.Answers, nil))
	}
	if !detail {
		return sb.String()
	}
	tally := func(x coalition.Tally) string {
		parts := []string{t.Count(messages.OrgSupportersLine, x.Supporters, nil),
			t.Count(messages.OrgPledgesLine, x.Pledges, nil), t.Count(messages.OrgSignupsLine, x.Signups, nil)}
		if n.Polls > 0 {
			parts = append(parts, t.Count(messages.OrgAnswersLine, x.Answers, nil))
		}
		return ip.words.List(parts, lang)
	}
	if len(n.ByGovernorate) > 0 {
		sb.WriteString("\n\n" + t.Text(messages.OrgByGovernorate, nil))
		keys := make([]string, 0, len(n.ByGovernorate))
		for k := range n.ByGovernorate {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			label := t.Text(messages.CommonUnknown, nil)
			if k != "" {
				label = t.Text(messages.GovernorateKey(k), nil)
			}
			sb.WriteString("\n• " + label + ": " + tally(n.ByGovernorate[k]))
		}
	}
	if len(n.ByMonth) > 0 {
		sb.WriteString("\n\n" + t.Text(messages.OrgByMonth, nil))
		for _, m := range n.ByMonth {
			sb.WriteString("\n• " + monthText(lang, m.Start) + ": " + tally(m.Tally))
		}
	}
	return sb.String()
}

// cmdOverview rolls the coalition's numbers up by organiser, for its staff.
func (ip *institutionPanel) cmdOverview(t *engine.Turn, _ string) error {
	all, err := ip.co.Institutions.Overview(t.Ctx(), ip.actor(t))
	if err != nil {
		return fail(t, err)
	}
	var sb strings.Builder
	sb.WriteString(t.Text(messages.OrgOverviewTitle, nil))
	for _, n := range all {
		name := ip.words.Organiser(coalition.From{}, t.Lang())
		if n.Institution != nil {
			name = institutionName(t, n.Institution)
			if !n.Institution.Active() {
				name += " (" + t.Text(messages.InstitutionStatusKey(string(n.Institution.Status)), nil) + ")"
			}
		}
		sb.WriteString("\n\n• " + name + "\n  " + strings.ReplaceAll(ip.numbersText(t, n, false), "\n", "\n  "))
	}
	return mainMenu(t, sb.String())
}

// codeAndReason reads "CODE reason…".
func codeAndReason(arg string) (string, string) {
	code, reason, _ := strings.Cut(strings.TrimSpace(arg), " ")
	return strings.ToLower(messages.ToASCIIDigits(code)), strings.TrimSpace(reason)
}

func (ip *institutionPanel) cmdSuspend(t *engine.Turn, arg string) error {
	return ip.standing(t, arg, "/suspend", ip.co.Institutions.Suspend, messages.OrgSuspendedDone)
}

func (ip *institutionPanel) cmdReinstate(t *engine.Turn, arg string) error {
	return ip.standing(t, arg, "/reinstate", ip.co.Institutions.Reinstate, messages.OrgReinstatedDone)
}

func (ip *institutionPanel) cmdEndMembership(t *engine.Turn, arg string) error {
	return ip.standing(t, arg, "/endmembership", ip.co.Institutions.End, messages.OrgEndedDone)
}

// standing runs an admin's decision about a membership: "CODE reason", or
// the institution's number (as /pending and /approve give it) for CODE;
// without both, the admin is shown how to write command.
func (ip *institutionPanel) standing(t *engine.Turn, arg, command string, decide func(ctx context.Context, by coalition.Actor, id uint64, reason string) (coalition.MembershipChange, error), done messages.Key) error {
	code, reason := codeAndReason(arg)
	if code == "" || reason == "" {
		t.Say(messages.OrgStandingUsage, map[string]any{"Example": messages.Isolate(command + " salam")})
		return mainMenu(t, "")
	}
	inst, err := ip.co.Institutions.Find(t.Ctx(), code)
	if id, ok := broadcastArg(code); ok && errors.Is(err, coalition.ErrNotFound) {
		inst, err = ip.co.Institutions.Get(t.Ctx(), ip.actor(t), id)
	}
	if err != nil && !errors.Is(err, coalition.ErrNotMember) {
		if errors.Is(err, coalition.ErrNotFound) {
			t.Say(messages.OrgNotFound, map[string]any{"Code": messages.Isolate(code)})
			return mainMenu(t, "")
		}
		return err
	}
	res, err := decide(t.Ctx(), ip.actor(t), inst.ID, reason)
	switch {
	case errors.Is(err, coalition.ErrDecided):
		t.Say(messages.OrgStandingUnchanged, map[string]any{"Name": institutionName(t, inst),
			"Status": t.Text(messages.InstitutionStatusKey(string(inst.Status)), nil)})
		return mainMenu(t, "")
	case err != nil:
		if explain(t, err) {
			return mainMenu(t, "")
		}
		return err
	}
	intro := t.Text(done, map[string]any{"Name": institutionName(t, res.Institution)})
	if !res.Stopped.Empty() {
		intro += "\n" + t.Text(messages.AdminStopped, nil)
	}
	if !res.Resumed.Empty() {
		intro += "\n" + t.Text(messages.OrgResumed, map[string]any{"Count": messages.FormatNumber(t.Lang(), len(res.Resumed.Broadcasts)+len(res.Resumed.Reminders))})
	}
	return mainMenu(t, intro)
}

func (ip *institutionPanel) cmdApproveName(t *engine.Turn, arg string) error {
	return ip.decideName(t, arg, true)
}

func (ip *institutionPanel) cmdRejectName(t *engine.Turn, arg string) error {
	return ip.decideName(t, arg, false)
}

// decideName approves or refuses a waiting change of name: "ID [reason]".
func (ip *institutionPanel) decideName(t *engine.Turn, arg string, approve bool) error {
	idText, reason, _ := strings.Cut(strings.TrimSpace(arg), " ")
	id, ok := broadcastArg(idText)
	if !ok {
		command := "/rejectname"
		if approve {
			command = "/approvename"
		}
		t.Say(messages.AdminNeedInstitution, map[string]any{"Example": messages.Isolate(command + " 12")})
		return mainMenu(t, "")
	}
	inst, err := ip.co.Institutions.DecideRename(t.Ctx(), ip.actor(t), id, approve, reason)
	switch {
	case errors.Is(err, coalition.ErrNotFound), errors.Is(err, coalition.ErrNoRename):
		t.Say(messages.OrgNoRename, map[string]any{"ID": messages.FormatID(t.Lang(), id)})
		return mainMenu(t, "")
	case err != nil:
		if explain(t, err) {
			return mainMenu(t, "")
		}
		return err
	}
	key := messages.OrgRenameApprovedDone
	if !approve {
		key = messages.OrgRenameRejectedDone
	}
	return mainMenu(t, t.Text(key, map[string]any{"Name": institutionName(t, inst)}))
}

// monthText names a month with its year, in lang's digits: «آذار ٢٠٢٦», "March 2026".
func monthText(lang string, at time.Time) string {
	tag := language.Arabic
	if lang == messages.English {
		tag = language.English
	}
	return messages.MonthName(lang, at.Month()) + " " + message.NewPrinter(tag).Sprint(number.Decimal(at.Year(), number.NoSeparator()))
}
