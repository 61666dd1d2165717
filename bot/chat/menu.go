package chat

import (
	"fmt"
	"strings"

	"mobilise/bot"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// home is where everyone starts and comes back to: the welcome (language,
// consent, governorate) and what a share link opens after it, the main
// menu, /help, /cancel and /continue, the choice of language, and stopping
// all messages (start.go).
type home struct {
	*core
	// institutions answers an institution's share link, which leads
	// through the welcome onto its list.
	institutions *institutions
	// commandsFor is the menu /help lists: the engine's, in menuOrder.
	commandsFor func(lang string, role store.Role) []bot.Command
}

func (h *home) commands() []engine.Command {
	return []engine.Command{
		{Name: "start", Role: store.RoleCitizen, Desc: messages.CmdStart, Run: h.cmdStart},
		{Name: "menu", Role: store.RoleCitizen, Desc: messages.CmdMenu, Run: h.cmdMenu},
		{Name: "language", Role: store.RoleCitizen, Desc: messages.CmdLanguage, Run: h.cmdLanguage},
		{Name: "stop", Role: store.RoleCitizen, Desc: messages.CmdStop, Run: h.cmdStop},
		{Name: "help", Role: store.RoleCitizen, Desc: messages.CmdHelp, Run: h.cmdHelp, KeepsFlow: true},
		{Name: "cancel", Role: store.RoleCitizen, Run: cmdCancel},
		{Name: "continue", Role: store.RoleCitizen, Run: h.cmdContinue},
	}
}

func (h *home) flows() map[string]*engine.Flow {
	return map[string]*engine.Flow{
		"start":    h.onboardingFlow(),
		"language": h.languageFlow(),
		"stopask":  h.stopAskFlow(),
	}
}

func (h *home) cmdHelp(t *engine.Turn, _ string) error {
	var sb strings.Builder
	sb.WriteString(t.Text(messages.HelpIntro, nil))
	for _, c := range h.commandsFor(t.Lang(), t.Role()) {
		fmt.Fprintf(&sb, "\n%s — %s", messages.Isolate("/"+c.Name), c.Description)
	}
	t.SayText(sb.String())
	t.Say(messages.HelpStop, nil)
	t.Flush(nil)
	if t.Flow() == "" {
		t.ClearMenu()
	}
	return nil
}

// cmdContinue takes the person back to the draft they left.
func (h *home) cmdContinue(t *engine.Turn, _ string) error {
	ok, err := t.ResumeDraft()
	if ok || err != nil {
		return err
	}
	t.Say(messages.DraftNone, nil)
	return mainMenu(t, "")
}

func (h *home) cmdMenu(t *engine.Turn, _ string) error { return mainMenu(t, "") }
