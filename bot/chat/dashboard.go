package chat

import (
	"errors"
	"time"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// dashboard opens the web dashboard from the chat for a coordinator or an
// admin (/dashboard).
type dashboard struct{ *core }

func (ds *dashboard) commands() []engine.Command {
	return []engine.Command{
		{Name: "dashboard", Role: store.RoleCoordinator, Desc: messages.CmdDashboard, Run: ds.cmdDashboard},
	}
}

func (ds *dashboard) flows() map[string]*engine.Flow { return nil }

// cmdDashboard gives a coordinator or admin a link that signs them in to
// the web dashboard: once, for a few minutes, only them.
func (ds *dashboard) cmdDashboard(t *engine.Turn, _ string) error {
	login, err := ds.co.Logins.Issue(t.Ctx(), ds.actor(t))
	if errors.Is(err, coalition.ErrNoDashboard) {
		return mainMenu(t, t.Text(messages.DashChatOff, nil))
	}
	if err != nil {
		return fail(t, err)
	}
	return mainMenu(t, t.Text(messages.DashChatLink, map[string]any{
		"Link":    messages.Isolate(login.URL),
		"Minutes": messages.FormatNumber(t.Lang(), int(coalition.LoginValid/time.Minute)),
	}))
}
