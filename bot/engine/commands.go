package engine

import (
	"strings"

	"mobilise/bot"
	"mobilise/messages"
	"mobilise/store"
)

// Command is one slash command: who may use it and what it does.
type Command struct {
	Name string
	// Role is the lowest role allowed to run it. The operation it calls
	// checks again: this only keeps menus and help honest.
	Role store.Role
	// Desc describes it in command menus and /help; empty hides it there.
	Desc messages.Key
	Run  func(t *Turn, arg string) error
	// KeepsFlow marks a command that answers inside a conversation and then
	// asks its question again (/help), rather than leaving it.
	KeepsFlow bool
}

// ParseCommand splits "/name@bot arg…" into its lower-case name and argument.
func ParseCommand(text string) (name, arg string, ok bool) {
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

// findCommand returns the command named name.
func (e *Engine) findCommand(name string) (Command, bool) {
	for _, c := range e.cmds {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// CommandsFor returns the commands a person of role sees in menus, described in lang.
func (e *Engine) CommandsFor(lang string, role store.Role) []bot.Command {
	var out []bot.Command
	for _, c := range e.cmds {
		if c.Desc == "" || !role.AtLeast(c.Role) {
			continue
		}
		out = append(out, bot.Command{Name: c.Name, Description: e.cat.Text(lang, c.Desc, nil)})
	}
	return out
}

// CommandName is the command running in this turn, as typed without its
// argument ("/pledge"), or "" when none is.
func (t *Turn) CommandName() string { return t.command }

// Command runs a slash command. Inside a conversation with a draft, a
// command that does not keep the conversation going (as /help does) first
// asks whether to leave it, and leaving keeps the draft to resume; /cancel
// leaves and drops it, /stop stops at once, keeping the draft, and
// /continue asks the conversation's question again. A
// conversation without a draft is simply left.
func (t *Turn) Command(text string) error {
	text = strings.TrimSpace(text)
	if text == "/" {
		// a bare slash: someone looking for the commands
		text = "/help"
	}
	name, arg, ok := ParseCommand(text)
	if !ok {
		t.Say(messages.ErrUnknownCommand, map[string]any{"Command": messages.Isolate(text)})
		return t.Reask()
	}
	cmd, ok := t.e.findCommand(name)
	if !ok {
		t.Say(messages.ErrUnknownCommand, map[string]any{"Command": messages.Isolate("/" + name)})
		return t.Reask()
	}
	if !t.role.AtLeast(cmd.Role) {
		t.e.log.Info("refused privileged command", "command", name, "contact_id", t.c.ID, "role", string(t.role))
		t.Say(messages.ErrNotAllowed, nil)
		return t.Reask()
	}
	t.command = "/" + name
	if t.sess.Flow != "" {
		if cmd.KeepsFlow {
			if err := cmd.Run(t, arg); err != nil {
				return err
			}
			return t.Reask()
		}
		f := t.e.flows[t.sess.Flow]
		switch {
		case name == "continue":
			// the person means to go on with the conversation they are in
			return t.Reask()
		case name == "cancel":
			// the person means to drop it: /cancel says so
		case f == nil || f.Title == "":
			t.EndFlow() // nothing worth keeping
		case name == "stop":
			if err := t.park(); err != nil {
				return err
			}
		default:
			return t.askLeave(text)
		}
	}
	return cmd.Run(t, arg)
}
