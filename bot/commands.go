package bot

import (
	"context"
	"fmt"
	"strings"

	"mobilise/messages"
	"mobilise/store"
)

// command is one slash command: who may use it and what it does.
type command struct {
	name string
	// role is the lowest role allowed to run it.
	role store.Role
	// desc describes it in command menus and /help; empty hides it there.
	desc messages.Key
	run  func(t *turn, arg string) error
}

// commands lists every command in the order menus show them. It is built per
// Service so handlers can close over nothing but the turn.
func commands() []command {
	return []command{
		{"start", store.RoleCitizen, messages.CmdStart, (*turn).cmdStart},
		{"campaigns", store.RoleCitizen, messages.CmdCampaigns, (*turn).cmdCampaigns},
		{"campaign", store.RoleCitizen, "", (*turn).cmdCampaign},
		{"pledge", store.RoleCitizen, "", (*turn).cmdPledge},
		{"signup", store.RoleCitizen, "", (*turn).cmdSignup},
		{"cancelsignup", store.RoleCitizen, "", (*turn).cmdCancelSignup},
		{"share", store.RoleCitizen, messages.CmdShare, (*turn).cmdShare},
		{"menu", store.RoleCitizen, messages.CmdMenu, (*turn).cmdMenu},
		{"language", store.RoleCitizen, messages.CmdLanguage, (*turn).cmdLanguage},
		{"stop", store.RoleCitizen, messages.CmdStop, (*turn).cmdStop},
		{"mydata", store.RoleCitizen, messages.CmdMyData, (*turn).cmdMyData},
		{"forget", store.RoleCitizen, messages.CmdForget, (*turn).cmdForget},
		{"register", store.RoleCitizen, messages.CmdRegister, (*turn).cmdRegister},
		{"link", store.RoleCitizen, messages.CmdLink, (*turn).cmdLink},
		{"help", store.RoleCitizen, messages.CmdHelp, (*turn).cmdHelp},
		{"cancel", store.RoleCitizen, "", (*turn).cmdCancel},
		{"newcampaign", store.RoleCoordinator, messages.CmdNewCampaign, (*turn).cmdNewCampaign},
		{"closecampaign", store.RoleCoordinator, messages.CmdCloseCampaign, (*turn).cmdCloseCampaign},
		{"stats", store.RoleCoordinator, messages.CmdStats, (*turn).cmdStats},
		{"broadcast", store.RoleCoordinator, messages.CmdBroadcast, (*turn).cmdBroadcast},
		{"remind", store.RoleCoordinator, messages.CmdRemind, (*turn).cmdRemind},
		{"pause", store.RoleAdmin, messages.CmdPause, (*turn).cmdPause},
		{"resume", store.RoleAdmin, messages.CmdResume, (*turn).cmdResume},
		{"approvebroadcast", store.RoleAdmin, messages.CmdApproveBroadcast, (*turn).cmdApproveBroadcast},
		{"rejectbroadcast", store.RoleAdmin, messages.CmdRejectBroadcast, (*turn).cmdRejectBroadcast},
		{"pending", store.RoleAdmin, messages.CmdPending, (*turn).cmdPending},
		{"approve", store.RoleAdmin, messages.CmdApprove, (*turn).cmdApprove},
		{"reject", store.RoleAdmin, messages.CmdReject, (*turn).cmdReject},
		{"appoint", store.RoleAdmin, messages.CmdAppoint, (*turn).cmdAppoint},
		{"dismiss", store.RoleAdmin, messages.CmdDismiss, (*turn).cmdDismiss},
		{"members", store.RoleAdmin, messages.CmdMembers, (*turn).cmdMembers},
	}
}

// findCommand returns the command named name.
func (s *Service) findCommand(name string) (command, bool) {
	for _, c := range s.cmds {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// parseCommand splits "/name@bot arg…" into its lower-case name and argument.
func parseCommand(text string) (name, arg string, ok bool) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	head, arg, _ := strings.Cut(text[1:], " ")
	head, _, _ = strings.Cut(head, "@")
	head = strings.ToLower(messages.ToASCIIDigits(head))
	if head == "" {
		return "", "", false
	}
	return head, strings.TrimSpace(arg), true
}

// authorize is the one place privileged actions are checked. Every command
// and every privileged step of a conversation passes through it.
func (t *turn) authorize(min store.Role) bool {
	// the role may have changed since the turn began (an admin demoted someone mid-wizard)
	if t.role.AtLeast(min) {
		return true
	}
	t.say(messages.ErrNotAllowed, nil)
	return false
}

// command runs a slash command, leaving any conversation in progress.
func (t *turn) command(text string) error {
	name, arg, ok := parseCommand(text)
	if !ok {
		t.say(messages.ErrUnknownCommand, nil)
		return t.mainMenu("")
	}
	cmd, ok := t.s.findCommand(name)
	if !ok {
		t.say(messages.ErrUnknownCommand, map[string]any{"Command": messages.Isolate("/" + name)})
		return t.reask()
	}
	if !t.authorize(cmd.role) {
		t.s.log.Info("refused privileged command", "command", name, "contact_id", t.c.ID, "role", string(t.role))
		return t.reask()
	}
	if name == "help" && t.sess.Flow != "" {
		// asking for help in the middle of a conversation keeps it: help, then the question again
		if err := cmd.run(t, arg); err != nil {
			return err
		}
		return t.reask()
	}
	if name != "cancel" && t.sess.Flow != "" {
		t.endFlow()
	}
	return cmd.run(t, arg)
}

// groupCommand answers a command written in a group chat: the bot's work
// happens in private, so it points there, to the campaign the command named.
func (s *Service) groupCommand(ctx context.Context, in Incoming) error {
	name, arg, ok := parseCommand(in.Text)
	if !ok {
		return nil
	}
	lang := s.replyLang(in)
	payload := ""
	switch name {
	case "campaign", "pledge", "signup", "share":
		if p, ok := parseStartPayload(messages.ToASCIIDigits(arg)); ok && p.Ref == "" {
			payload = p.Campaign
		}
	}
	text := s.cat.Text(lang, messages.GroupUsePrivate, map[string]any{"Link": messages.Isolate(s.startLink(in.From.Channel, payload))})
	return s.send(ctx, Outgoing{To: in.ReplyTo(), Lang: lang, Text: text})
}

// Commands implements CommandDirectory: the commands a role sees, described in lang.
func (s *Service) Commands(lang string, role store.Role) []Command {
	var out []Command
	for _, c := range s.cmds {
		if c.desc == "" || !role.AtLeast(c.role) {
			continue
		}
		out = append(out, Command{Name: c.name, Description: s.cat.Text(lang, c.desc, nil)})
	}
	return out
}

// Privileged implements CommandDirectory: everyone on channel above citizen.
func (s *Service) Privileged(channel string) ([]PrivilegedContact, error) {
	var out []PrivilegedContact
	err := s.store.Contacts(func(c *store.Contact) error {
		role := s.roleOf(c)
		if role == store.RoleCitizen {
			return nil
		}
		for _, raw := range c.Addresses {
			a, err := ParseAddress(raw)
			if err == nil && a.Channel == channel {
				out = append(out, PrivilegedContact{Address: a, Role: role, Lang: messages.NormalizeLang(c.Lang)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing privileged contacts: %w", err)
	}
	return out, nil
}

func (t *turn) cmdHelp(string) error {
	var b strings.Builder
	b.WriteString(t.text(messages.HelpIntro, nil))
	for _, c := range t.s.Commands(t.lang, t.role) {
		fmt.Fprintf(&b, "\n/%s — %s", c.Name, c.Description)
	}
	t.sayText(b.String())
	t.say(messages.HelpStop, nil)
	t.flush(nil)
	if t.sess.Flow == "" {
		t.sess.Menu = nil
	}
	return nil
}

func (t *turn) cmdCancel(string) error {
	if t.sess.Flow == "" {
		t.say(messages.CancelNothing, nil)
		return t.mainMenu("")
	}
	t.endFlow()
	t.say(messages.CancelDone, nil)
	return t.mainMenu("")
}

func (t *turn) cmdMenu(string) error { return t.mainMenu("") }

// mainMenu shows what the person can do, starting with intro if given.
func (t *turn) mainMenu(intro string) error {
	opts := []option{
		{t.text(messages.MenuCampaigns, nil), "/campaigns"},
		{t.text(messages.MenuShare, nil), "/share"},
		{t.text(messages.MenuMyData, nil), "/mydata"},
		{t.text(messages.MenuLanguage, nil), "/language"},
	}
	if t.c.Stopped || !t.c.Consent {
		opts = append(opts, option{t.text(messages.MenuResume, nil), "/start"})
	} else {
		opts = append(opts, option{t.text(messages.MenuStop, nil), "/stop"})
	}
	if t.role == store.RoleCitizen || t.role == store.RoleMember {
		opts = append(opts, option{t.text(messages.MenuRegister, nil), "/register"})
	}
	if t.role.AtLeast(store.RoleCoordinator) {
		opts = append(opts,
			option{t.text(messages.MenuNewCampaign, nil), "/newcampaign"},
			option{t.text(messages.MenuBroadcast, nil), "/broadcast"},
			option{t.text(messages.MenuReminders, nil), "/remind list"},
			option{t.text(messages.MenuStats, nil), "/stats"})
	}
	if t.role.AtLeast(store.RoleAdmin) {
		opts = append(opts,
			option{t.text(messages.MenuPending, nil), "/pending"},
			option{t.text(messages.MenuMembers, nil), "/members"})
	}
	opts = append(opts, option{t.text(messages.MenuHelp, nil), "/help"})
	if intro == "" {
		intro = t.text(messages.MenuTitle, nil)
	}
	t.ask(intro, opts)
	return nil
}
