package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"mobilise/bot"
	"mobilise/messages"
	"mobilise/store"
)

// MaxInput bounds anything a person types; longer input is refused politely.
const MaxInput = 2000

// Turn is the handling of one incoming message: who wrote, where their
// conversation stands, and the replies gathered so far. Its context carries
// the unit of work: every store call and operation made with Ctx joins it.
type Turn struct {
	e       *Engine
	ctx     context.Context
	in      bot.Incoming
	c       *store.Contact
	created bool
	role    store.Role
	sess    *store.Session
	lang    string

	paras   []string
	replies []bot.Outgoing
	// forgotten is set when the contact was erased or merged during this
	// turn: its session is not written back.
	forgotten bool
	// kept is the file the message carried, kept before the turn for a
	// step that takes one
	kept *keptFile
	// command is the command running ("/pledge"), for its own examples
	command string
}

// Choice is one option of a menu: Label is shown, Value is what choosing it means.
type Choice struct{ Label, Value string }

// Answer is a person's reply to a question: Value is the chosen option's
// value when they picked one, Text what they typed (or captioned).
type Answer struct {
	Text   string
	Value  string
	Chosen bool
	// Intent is what the typed words mean at this kind of step (yes, no,
	// skip, done, now, a language: see messages.Meaning.At), 0 when they
	// say nothing the step asks for or an option was chosen. Meaning is the
	// whole reading, for the language or number it names.
	Intent  messages.Intent
	Meaning messages.Meaning
	// Attachment, SharedPhone and Place are what a message carried besides words.
	Attachment  bot.Attachment
	SharedPhone string
	Place       *bot.Point
	// Media is the file the message carried, kept, at a step that
	// TakesMedia; MediaErr why it was refused (store.ErrMediaTooLarge,
	// store.ErrMediaType) or could not be fetched.
	Media    *store.Media
	MediaErr error
}

// Ctx is the turn's context, carrying its unit of work.
func (t *Turn) Ctx() context.Context { return t.ctx }

// In is the message being handled.
func (t *Turn) In() bot.Incoming { return t.in }

// Contact is the person who wrote, as stored now.
func (t *Turn) Contact() *store.Contact { return t.c }

// SetContact replaces the turn's copy of the person after an operation changed them.
func (t *Turn) SetContact(c *store.Contact) {
	t.c = c
	if c.Lang != "" {
		t.lang = messages.NormalizeLang(c.Lang)
	}
	t.role = t.e.people.RoleOf(c)
}

// Created reports whether this message made the person known to the bot.
func (t *Turn) Created() bool { return t.created }

// Role is the person's role, read when the turn began and again after SetContact.
func (t *Turn) Role() store.Role { return t.role }

// Lang is the language the turn answers in.
func (t *Turn) Lang() string { return t.lang }

// Now is the engine's clock.
func (t *Turn) Now() time.Time { return t.e.now() }

// Loc is the coalition's time zone.
func (t *Turn) Loc() *time.Location { return t.e.loc }

// Catalog is the catalog of what the bot says.
func (t *Turn) Catalog() *messages.Catalog { return t.e.cat }

// Forgotten marks the person erased or merged into another contact: the
// turn stores no session for them.
func (t *Turn) Forgotten() { t.forgotten = true }

// Text is the message key in the turn's language.
func (t *Turn) Text(key messages.Key, data map[string]any) string {
	return t.e.cat.Text(t.lang, key, data)
}

// Count is the plural message key for n in the turn's language.
func (t *Turn) Count(key messages.Key, n int, data map[string]any) string {
	return t.e.cat.Count(t.lang, key, n, data)
}

// Say adds a paragraph to the reply being built.
func (t *Turn) Say(key messages.Key, data map[string]any) { t.SayText(t.Text(key, data)) }

// SayText adds a paragraph of text already in the turn's language.
func (t *Turn) SayText(s string) {
	if s != "" {
		t.paras = append(t.paras, s)
	}
}

// Ask ends the current reply with a menu and remembers it, so the answer can
// be a button, the option's number or its words. No options ends the reply
// with no menu.
func (t *Turn) Ask(prompt string, opts []Choice) {
	t.SayText(prompt)
	if len(opts) == 0 {
		t.sess.Menu = nil
		t.Flush(nil)
		return
	}
	m := &store.Menu{ID: newMenuID()}
	// long lists of short labels (governorates) go two to a row, so they fit a phone screen
	perRow := 1
	if len(opts) > 6 && shortLabels(opts) {
		perRow = 2
	}
	var rows [][]bot.Button
	for i, o := range opts {
		m.Options = append(m.Options, o.Value)
		m.Labels = append(m.Labels, o.Label)
		b := bot.Button{Text: o.Label, Payload: "m:" + m.ID + ":" + strconv.Itoa(i)}
		if i%perRow == 0 {
			rows = append(rows, []bot.Button{b})
		} else {
			rows[len(rows)-1] = append(rows[len(rows)-1], b)
		}
	}
	t.sess.Menu = m
	t.Flush(rows)
}

// mainMenuID marks the menu ID of the main menu, where a typed «إلغاء» asks
// whether to stop all messages rather than closing the menu.
const mainMenuID = "main"

// AskMain is Ask for the main menu.
func (t *Turn) AskMain(prompt string, opts []Choice) {
	t.Ask(prompt, opts)
	if t.sess.Menu != nil {
		t.sess.Menu.ID = mainMenuID + t.sess.Menu.ID
		for _, row := range t.replies[len(t.replies)-1].Buttons {
			for i := range row {
				row[i].Payload = strings.Replace(row[i].Payload, "m:", "m:"+mainMenuID, 1)
			}
		}
	}
}

// AskPhone ends the reply with a one-tap button that shares the person's
// phone number, where the platform has one.
func (t *Turn) AskPhone(prompt, button string) {
	t.SayText(prompt)
	t.sess.Menu = nil
	if len(t.paras) == 0 {
		return
	}
	t.replies = append(t.replies, bot.Outgoing{To: t.in.ReplyTo(), Lang: t.lang, Text: strings.Join(t.paras, "\n\n"), PhoneButton: button})
	t.paras = nil
}

func shortLabels(opts []Choice) bool {
	for _, o := range opts {
		if utf8.RuneCountInString(o.Label) > 18 {
			return false
		}
	}
	return true
}

// Flush ends the reply being built, with buttons if given.
func (t *Turn) Flush(buttons [][]bot.Button) {
	if len(t.paras) == 0 && buttons == nil {
		return
	}
	t.replies = append(t.replies, bot.Outgoing{To: t.in.ReplyTo(), Lang: t.lang, Text: strings.Join(t.paras, "\n\n"), Buttons: buttons})
	t.paras = nil
}

// Menu is the menu the person was shown last, nil if none.
func (t *Turn) Menu() *store.Menu { return t.sess.Menu }

// MenuShownAt is when the person was shown the menu of their last turn,
// zero when there is none: what reached them since is newer.
func (t *Turn) MenuShownAt() time.Time {
	if t.sess.Menu == nil {
		return time.Time{}
	}
	return t.sess.UpdatedAt
}

// ClearMenu forgets the last menu, so a number typed next means nothing.
func (t *Turn) ClearMenu() { t.sess.Menu = nil }

// finish stores the conversation's state and queues the replies, then the
// notices the turn's operations addressed to other people.
func (t *Turn) finish() error {
	t.Flush(nil)
	ctx := t.ctx
	if !t.forgotten {
		if t.sess.Flow == "" && t.sess.Menu == nil && len(t.sess.Data) == 0 {
			if err := t.e.st.DeleteSession(ctx, t.c.ID); err != nil {
				return fmt.Errorf("clearing session of contact %d: %w", t.c.ID, err)
			}
		} else {
			t.sess.UpdatedAt = t.e.now().UTC()
			if err := t.e.st.PutSession(ctx, t.c.ID, t.sess); err != nil {
				return fmt.Errorf("saving session of contact %d: %w", t.c.ID, err)
			}
		}
	}
	if err := t.e.out.Reply(ctx, t.replies...); err != nil {
		return err
	}
	return t.e.out.Release(ctx)
}

// dispatch decides what the message means: a command, a menu choice, an
// answer to the current question, or something to explain.
func (t *Turn) dispatch() error {
	in := t.in
	if took, err := t.mediaAnswer(); took {
		// a file is the answer, forwarded or not (a poster passed on from another chat)
		return err
	}
	if in.Forwarded != nil {
		// a forwarded «إيقاف» or /start is someone else's words, not this person's wish
		return t.e.conv.Forwarded(t)
	}
	if strings.HasPrefix(in.Payload, "/") {
		return t.Command(in.Payload)
	}
	if in.Payload != "" {
		v, ok := t.resolvePayload(in.Payload)
		if !ok {
			t.Say(messages.ErrMenuExpired, nil)
			return t.Reask()
		}
		return t.answer(Answer{Value: v, Chosen: true})
	}
	if strings.TrimSpace(in.Text) == "" && (in.Attachment != bot.NoAttachment || in.SharedPhone != "" || in.Place != nil) {
		return t.nonText()
	}
	text, err := messages.ValidMultiline(in.Text, MaxInput)
	if err != nil {
		t.SayCount(InputProblem(err), MaxInput)
		return t.Reask()
	}
	if strings.HasPrefix(text, "/") {
		return t.Command(text)
	}
	if t.c.OnboardedAt.IsZero() && t.sess.Flow == "" {
		if cmd, ok := KeywordCommand(text); ok && strings.HasPrefix(cmd, "/start ") {
			// "start vigil-ab12", typed by a wa.me link: the welcome, then that campaign
			return t.Command(cmd)
		}
		// a newcomer's first words, whatever they are, start the welcome
		return t.e.conv.Newcomer(t)
	}
	if u, ok := t.e.conv.(Unprompted); ok && t.sess.Flow == "" {
		// an answer to what came unasked (a poll), unless a menu shown since is meant
		if took, err := u.Unprompted(t, text); took || err != nil {
			return err
		}
	}
	kind := t.StepKind()
	m := messages.Understand(text)
	a := Answer{Text: text, Attachment: in.Attachment, Meaning: m}
	if menu := t.sess.Menu; menu != nil {
		if i, ok := t.chooseOption(text, m, menu); ok {
			a.Value, a.Chosen = menu.Options[i], true
			return t.answer(a)
		}
	}
	if t.sess.Flow == "" {
		if cmd, ok := KeywordCommand(text); ok && (cmd == "/campaigns" || cmd == "/mydata" || cmd == "/forget" || strings.HasPrefix(cmd, "/start ")) {
			return t.Command(cmd)
		}
	}
	a.Intent = m.At(kind)
	switch a.Intent {
	case messages.IntentStop:
		return t.Command("/stop")
	case messages.IntentHelp:
		return t.Command("/help")
	case messages.IntentCancel:
		return t.cancel(kind)
	case messages.IntentMenu:
		return t.Command("/menu")
	case messages.IntentBack:
		if t.sess.Flow != "" && t.sess.Step != leaveStep {
			return t.Back()
		}
		return t.Command("/menu")
	case messages.IntentGreeting:
		return t.Command("/menu")
	case messages.IntentLanguage:
		if kind == messages.MainMenu {
			return t.Command("/language " + m.Lang)
		}
	}
	return t.answer(a)
}

// StepKind is the kind of question the person is answering: the current
// step's, else a menu outside a wizard, else the main menu.
func (t *Turn) StepKind() messages.StepKind {
	if st, ok := t.currentStep(); ok {
		return st.Kind
	}
	if m := t.sess.Menu; m != nil && !strings.HasPrefix(m.ID, mainMenuID) {
		return messages.ListMenu
	}
	return messages.MainMenu
}

// chooseOption finds the option of menu the text names, by its words or
// its number; at a step that takes a number, a number is the answer and
// not an option's position.
func (t *Turn) chooseOption(text string, m messages.Meaning, menu *store.Menu) (int, bool) {
	if st, ok := t.currentStep(); ok && st.TakesNumber {
		if _, isNum := messages.ParseNumber(text); isNum || m.Is(messages.IntentNumber) {
			return -1, false
		}
	}
	labels := menu.Labels
	if len(labels) != len(menu.Options) {
		labels = menu.Options
	}
	i, ok := messages.Choose(text, labels)
	if !ok || i >= len(menu.Options) {
		return -1, false
	}
	if m.Typo && t.StepKind().TakesText() {
		// a free-text answer one letter from an option's word is the person's own
		if j, exact := messages.MatchOption(text, labels); !exact || j != i {
			return -1, false
		}
	}
	return i, true
}

// cancel answers a «إلغاء» as the step it is typed at means it: inside a
// wizard it leaves it; at a list it closes the list; at the main menu,
// where there is nothing to leave, the person may mean the messages, so
// they are asked whether to stop them.
func (t *Turn) cancel(kind messages.StepKind) error {
	switch {
	case t.sess.Flow != "":
		return t.Command("/cancel")
	case kind == messages.ListMenu:
		t.ClearMenu()
		t.Say(messages.MenuClosed, nil)
		return nil
	}
	return t.e.conv.AskStop(t)
}

// nonText handles a message with no words: a shared contact or location is
// an answer where the current step takes one; anything else is explained.
func (t *Turn) nonText() error {
	a := Answer{Attachment: t.in.Attachment, SharedPhone: t.in.SharedPhone, Place: t.in.Place}
	if t.c.OnboardedAt.IsZero() && t.sess.Flow == "" {
		return t.e.conv.Newcomer(t)
	}
	if st, ok := t.currentStep(); ok && (a.SharedPhone != "" && st.TakesPhone || a.Place != nil && st.TakesPlace) {
		return t.advance(a)
	}
	return t.e.conv.Media(t)
}

// resolvePayload maps a pressed button to its option value, if its menu is still current.
func (t *Turn) resolvePayload(p string) (string, bool) {
	parts := strings.Split(p, ":")
	m := t.sess.Menu
	if len(parts) != 3 || parts[0] != "m" || m == nil || parts[1] != m.ID {
		return "", false
	}
	i, err := strconv.Atoi(parts[2])
	if err != nil || i < 0 || i >= len(m.Options) {
		return "", false
	}
	return m.Options[i], true
}

// answer routes a reply to the current question, or to the menu shown last.
func (t *Turn) answer(a Answer) error {
	if t.sess.Flow != "" {
		return t.advance(a)
	}
	if a.Chosen && strings.HasPrefix(a.Value, "/") {
		return t.Command(a.Value)
	}
	if _, isNumber := messages.ParseNumber(a.Text); isNumber && t.sess.Menu != nil {
		t.SayOutOfRange()
		return t.Reask()
	}
	t.Say(messages.ErrNotUnderstood, nil)
	return t.e.conv.MainMenu(t, "")
}

// SayCount adds the plural message key for n, in the turn's language.
func (t *Turn) SayCount(key messages.Key, n int) { t.SayText(t.Count(key, n, nil)) }

// Reask repeats the current question after a problem with the answer.
func (t *Turn) Reask() error {
	if st, ok := t.currentStep(); ok {
		return st.Ask(t)
	}
	if t.sess.Flow != "" {
		// a conversation from an older version of the bot: start afresh
		t.EndFlow()
		return t.e.conv.MainMenu(t, "")
	}
	if m := t.sess.Menu; m != nil {
		if strings.HasPrefix(m.ID, mainMenuID) {
			return t.e.conv.MainMenu(t, "")
		}
		// repeat the last menu as it was shown
		opts := make([]Choice, len(m.Options))
		for i := range m.Options {
			label := m.Options[i]
			if i < len(m.Labels) {
				label = m.Labels[i]
			}
			opts[i] = Choice{Label: label, Value: m.Options[i]}
		}
		t.Ask(t.Text(messages.MenuChoose, nil), opts)
		return nil
	}
	return t.e.conv.MainMenu(t, "")
}

// MainMenu shows the main menu after intro.
func (t *Turn) MainMenu(intro string) error { return t.e.conv.MainMenu(t, intro) }

// privacyCommand maps what people type, whole and normalised
// (messages.Normalize), to see or erase what the coalition keeps about
// them. The erasing phrases lead to /forget, which asks before it erases.
func privacyCommand(n string) (string, bool) {
	switch n {
	case "بياناتي", "معلوماتي", "my data":
		return "/mydata", true
	case "احذف بياناتي", "احذفوا بياناتي", "امسح بياناتي", "امسحوا بياناتي", "احذف حسابي", "امسح حسابي", "انسوني",
		"delete my data", "erase my data", "delete my account", "forget me":
		return "/forget", true
	}
	return "", false
}

// KeywordCommand maps typed words that mean a command ("start", «مساعدة»,
// "start peace2026" from a wa.me link, «احذف بياناتي») to it.
func KeywordCommand(text string) (string, bool) {
	n := messages.Normalize(text)
	if cmd, ok := privacyCommand(n); ok {
		return cmd, true
	}
	word, rest, _ := strings.Cut(n, " ")
	switch word {
	case "start", "ابدا", "بدايه", "مرحبا", "اهلا", "السلام", "hi", "hello":
		if word == "start" && rest != "" {
			return "/start " + strings.TrimSpace(rest), true
		}
		if rest == "" || word == "السلام" {
			return "/start", true
		}
	case "help", "مساعده", "ساعدني":
		return "/help", true
	case "menu", "القائمه", "قائمه":
		return "/menu", true
	case "campaigns", "الحملات", "حملات":
		return "/campaigns", true
	}
	return "", false
}

// InputProblem picks the message that explains why input was refused.
func InputProblem(err error) messages.Key {
	switch {
	case errors.Is(err, messages.ErrEmpty):
		return messages.ErrInputEmpty
	case errors.Is(err, messages.ErrTooLong):
		return messages.ErrInputTooLong
	default:
		return messages.ErrInputInvalid
	}
}

// newMenuID returns a short random ID that ties buttons to the menu they were shown with.
func newMenuID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return hex.EncodeToString(b[:])
}
