// Package chat is the bot's conversations: the commands people type, the
// menus they answer and the multi-step conversations (onboarding,
// registration, a new campaign, a broadcast, a reminder, a poll, a warning
// about a fake) that gather what an operation needs. Words that answer what
// was sent outside a conversation — a poll's number, a pasted call to
// check — are read before the menu of the person's last turn (Unprompted). A conversation holds no rule: it asks, calls one of
// the coalition's operations, and says what came of it, or tells the
// operation's error in the person's language.
//
// Each domain of conversation is a small type of its own that gives the
// commands and conversations it answers (home, campaigns, broadcasts,
// reminders, polls, verification, privacy, institutions, institutionPanel,
// admin, dashboard); what they all need is core (core.go), and what the
// sends to many people share is outreach (outreach.go). Bot only plays the
// bot's part towards the engine and the channels, and builds the groups.
package chat

import (
	"context"
	"fmt"
	"log/slog"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// Bot is the coalition's bot as channels see it: it handles what they
// read (the engine, with every conversation registered), gives their
// command menus and hears their alerts. The conversations themselves are
// its groups'; the methods here answer the engine and pass each case on to
// the group it belongs to.
type Bot struct {
	*engine.Engine
	core         *core
	home         *home
	polls        *polls
	verification *verification
}

// Replier is where the bot's replies go: the outbox's queue.
type Replier = engine.Replier

// New returns the bot over st, answering through out and acting through co.
func New(st store.Backend, cat *messages.Catalog, co *coalition.Coalition, out Replier, opts ...engine.Option) *Bot {
	c := &core{co: co, cat: cat, words: co.Words(), log: slog.New(slog.DiscardHandler)}
	b := &Bot{core: c}
	b.Engine = engine.New(st, cat, people{co}, out, b, append([]engine.Option{engine.WithFiles(b)}, opts...)...)
	sends := &outreach{core: c}
	inst := &institutions{core: c}
	b.polls = &polls{outreach: sends}
	b.verification = &verification{outreach: sends}
	b.home = &home{core: c, institutions: inst, commandsFor: b.CommandsFor}
	b.register(
		b.home,
		&campaigns{core: c, attendance: b.polls},
		&broadcasts{outreach: sends},
		&reminders{outreach: sends},
		b.polls,
		b.verification,
		&privacy{core: c},
		inst,
		&institutionPanel{core: c},
		&admin{core: c},
		&dashboard{core: c},
	)
	return b
}

// WithLogger is engine.WithLogger.
func WithLogger(l *slog.Logger) engine.Option { return engine.WithLogger(l) }

// group is one domain of conversation: the commands it answers and the
// multi-step conversations it runs, by name.
type group interface {
	commands() []engine.Command
	flows() map[string]*engine.Flow
}

// menuOrder is the order menus and /help list the commands in, whichever
// group answers them: everyone's first, then a coordinator's, then an
// admin's, then the institutions'.
var menuOrder = []string{
	"start", "campaigns", "campaign", "pledge", "signup", "cancelsignup", "withdraw", "watch", "vote", "share",
	"menu", "language", "stop", "mydata", "forget", "register", "link", "verify", "help", "cancel", "continue",
	"newcampaign", "editcampaign", "closecampaign", "reopencampaign", "stats", "followup", "poster", "attach",
	"broadcast", "remind", "dashboard", "poll",
	"pause", "resume", "approvebroadcast", "rejectbroadcast", "approvereminder", "rejectreminder", "takeover", "drop",
	"pending", "approve", "reject", "appoint", "dismiss", "members",
	"institutions", "institution", "join", "leave", "myinstitution", "institutionpeople", "institutionstats",
	"appointcoordinator", "addrepresentative", "removeperson", "editinstitution", "invitepartner", "acceptpartner",
	"declinepartner", "overview", "suspend", "reinstate", "endmembership", "approvename", "rejectname",
}

// register adds every group's commands, in menuOrder, and conversations.
// A command or conversation given twice, or a command missing from
// menuOrder or answered by no group, is a mistake in this package: it
// panics, so the first test that builds a bot finds it.
func (b *Bot) register(groups ...group) {
	byName := map[string]engine.Command{}
	flows := map[string]bool{}
	for _, g := range groups {
		for _, c := range g.commands() {
			if _, dup := byName[c.Name]; dup {
				panic(fmt.Sprintf("chat: two groups answer /%s", c.Name))
			}
			byName[c.Name] = c
		}
		for name, f := range g.flows() {
			if flows[name] {
				panic(fmt.Sprintf("chat: two groups run the conversation %q", name))
			}
			flows[name] = true
			b.RegisterFlow(name, f)
		}
	}
	for _, name := range menuOrder {
		c, ok := byName[name]
		if !ok {
			panic(fmt.Sprintf("chat: no group answers /%s", name))
		}
		b.Register(c)
		delete(byName, name)
	}
	for name := range byName {
		panic(fmt.Sprintf("chat: /%s has no place in menuOrder", name))
	}
}

// people adapts the coalition's people and roles to what the engine needs.
type people struct{ co *coalition.Coalition }

func (p people) Arrive(ctx context.Context, in bot.Incoming) (*store.Contact, bool, error) {
	return p.co.People.Arrive(ctx, in)
}
func (p people) Blocked(ctx context.Context, addr bot.Address) error {
	return p.co.People.Blocked(ctx, addr)
}

// RoleOf is the role whose menus and conversations the engine opens: a
// coordinator's for someone who acts for a member institution, whose
// operations then keep to its scope.
func (p people) RoleOf(c *store.Contact) store.Role { return p.co.Members.MenuRole(c) }

// DefaultCommands implements bot.CommandDirectory: everyone's menu.
func (b *Bot) DefaultCommands(lang string) []bot.Command {
	return b.CommandsFor(lang, store.RoleCitizen)
}

// PersonalMenus implements bot.CommandDirectory: the menus of people with a role.
func (b *Bot) PersonalMenus(ctx context.Context, channel bot.ChannelName) ([]bot.PersonalMenu, error) {
	people, err := b.core.co.Members.Privileged(ctx, channel)
	if err != nil {
		return nil, err
	}
	out := make([]bot.PersonalMenu, 0, len(people))
	for _, p := range people {
		out = append(out, bot.PersonalMenu{Address: p.Address, Commands: b.CommandsFor(p.Lang, p.Role)})
	}
	return out, nil
}

// MenusChanged implements bot.CommandDirectory.
func (b *Bot) MenusChanged() <-chan struct{} { return b.core.co.Members.RolesChanged() }

// Alert implements bot.Alerter: a channel's news goes to the admins.
func (b *Bot) Alert(ctx context.Context, a bot.Alert) error { return b.core.co.Alert(ctx, a) }

// Keep implements engine.FileKeeper: the file a coordinator sent at the
// step that asks for one (media.go), kept by the rulebook.
func (b *Bot) Keep(ctx context.Context, c *store.Contact, from bot.Address, f *bot.IncomingFile) (*store.Media, error) {
	co := b.core.co
	return co.Media.KeepIncoming(ctx, co.Members.ActorOf(c, from), f)
}

// Conversations the engine calls on its own.

// MainMenu implements engine.Conversations.
func (b *Bot) MainMenu(t *engine.Turn, intro string) error { return mainMenu(t, intro) }

// Newcomer implements engine.Conversations: whatever a newcomer's first
// message is, it starts the welcome (start.go).
func (b *Bot) Newcomer(t *engine.Turn) error { return b.home.newcomer(t) }

// Forwarded implements engine.Conversations: a forwarded call, or what
// claims to be one, is checked (verify.go); anything else is no command.
func (b *Bot) Forwarded(t *engine.Turn) error { return b.verification.verifyForwarded(t) }

// Unprompted implements engine.Unprompted: a pasted message that carries a
// verification code is checked (verify.go); else words may answer the
// newest poll the person was sent (polls.go).
func (b *Bot) Unprompted(t *engine.Turn, text string) (bool, error) {
	if _, ok := coalition.FindCode(text); ok {
		return true, b.verification.verifyText(t, text)
	}
	return b.polls.answerPending(t, text)
}

// Media implements engine.Conversations: what the bot cannot read gets a
// short answer that says what it can, then the question again.
func (b *Bot) Media(t *engine.Turn) error {
	in := t.In()
	key := messages.MediaNote
	switch {
	case in.Place != nil || in.Attachment == bot.Location:
		key = messages.MediaLocation
	case in.SharedPhone != "" || in.Attachment == bot.ContactCard:
		key = messages.MediaContact
	case in.Attachment == bot.Voice:
		key = messages.MediaVoice
	case in.Attachment == bot.Sticker:
		key = messages.MediaSticker
	case in.Attachment == bot.Photo || in.Attachment == bot.Video || in.Attachment == bot.Document:
		key = messages.MediaPicture
	}
	t.Say(key, nil)
	return t.Reask()
}

// AskStop implements engine.Conversations: a «إلغاء» at the main menu asks
// whether to stop all messages, where there are any to stop (start.go).
func (b *Bot) AskStop(t *engine.Turn) error { return b.home.askStop(t) }

// Group implements engine.Conversations: a command in a group chat is
// answered with a pointer to the private chat, to the campaign it named.
// A channel that does not answer in groups (WhatsApp) passes the command
// with no Chat: the pointer then goes to the person privately, and says
// what to send there.
func (b *Bot) Group(ctx context.Context, in bot.Incoming) (bot.Outgoing, bool) {
	name, arg, ok := engine.ParseCommand(in.Text)
	if !ok {
		return bot.Outgoing{}, false
	}
	lang := messages.NormalizeLang(in.LangHint)
	payload := ""
	switch name {
	case "campaign", "pledge", "signup", "share":
		if p, ok := parseStartPayload(messages.ToASCIIDigits(arg)); ok && p.Ref == "" {
			payload = p.Campaign
		}
	}
	if in.Chat.IsZero() {
		cmd := "/start"
		if payload != "" {
			cmd = "/campaign " + payload
		}
		text := b.core.cat.Text(lang, messages.GroupPrivateReply, map[string]any{"Command": messages.Isolate(cmd)})
		return bot.Outgoing{To: in.From, Lang: lang, Text: text}, true
	}
	text := b.core.cat.Text(lang, messages.GroupUsePrivate, map[string]any{"Link": messages.Isolate(b.core.co.Campaigns.StartLink(in.From.Channel, payload))})
	return bot.Outgoing{To: in.ReplyTo(), Lang: lang, Text: text}, true
}
