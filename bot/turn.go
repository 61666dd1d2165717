package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"mobilise/messages"
	"mobilise/store"
)

// maxInput bounds anything a person types; longer input is refused politely.
const maxInput = 2000

// turn is the handling of one incoming message: who wrote, where their
// conversation stands, and the replies gathered so far.
type turn struct {
	ctx     context.Context
	s       *Service
	in      Incoming
	c       *store.Contact
	created bool
	role    store.Role
	sess    *store.Session
	lang    string

	paras   []string
	replies []Outgoing
	// notices go to other people after the replies, so a person who is both
	// answered and notified reads them in order.
	notices []Notice
	// forgotten is set when the contact was erased during this turn: nothing more is stored.
	forgotten bool
}

// option is one choice of a menu: Label is shown, Value is what choosing it means.
type option struct{ Label, Value string }

// answer is a person's reply to a question: Value is the chosen option's
// value when they picked one, Text what they typed.
type answer struct {
	Text   string
	Value  string
	Chosen bool
}

func (t *turn) text(key messages.Key, data map[string]any) string {
	return t.s.cat.Text(t.lang, key, data)
}

func (t *turn) count(key messages.Key, n int, data map[string]any) string {
	return t.s.cat.Count(t.lang, key, n, data)
}

// say adds a paragraph to the reply being built.
func (t *turn) say(key messages.Key, data map[string]any) { t.sayText(t.text(key, data)) }

func (t *turn) sayText(s string) {
	if s != "" {
		t.paras = append(t.paras, s)
	}
}

// ask ends the current reply with a menu and remembers it, so the answer can
// be a button, the option's number or its words.
func (t *turn) ask(prompt string, opts []option) {
	t.sayText(prompt)
	if len(opts) == 0 {
		t.sess.Menu = nil
		t.flush(nil)
		return
	}
	m := &store.Menu{ID: newMenuID()}
	// long lists of short labels (governorates) go two to a row, so they fit a phone screen
	perRow := 1
	if len(opts) > 6 && shortLabels(opts) {
		perRow = 2
	}
	var rows [][]Button
	for i, o := range opts {
		m.Options = append(m.Options, o.Value)
		m.Labels = append(m.Labels, o.Label)
		b := Button{Text: o.Label, Payload: "m:" + m.ID + ":" + strconv.Itoa(i)}
		if i%perRow == 0 {
			rows = append(rows, []Button{b})
		} else {
			rows[len(rows)-1] = append(rows[len(rows)-1], b)
		}
	}
	t.sess.Menu = m
	t.flush(rows)
}

func shortLabels(opts []option) bool {
	for _, o := range opts {
		if utf8.RuneCountInString(o.Label) > 18 {
			return false
		}
	}
	return true
}

func (t *turn) flush(buttons [][]Button) {
	if len(t.paras) == 0 && buttons == nil {
		return
	}
	t.replies = append(t.replies, Outgoing{To: t.in.ReplyTo(), Lang: t.lang, Text: strings.Join(t.paras, "\n\n"), Buttons: buttons})
	t.paras = nil
}

// finish stores the conversation's state and sends the replies.
func (t *turn) finish() error {
	t.flush(nil)
	if !t.forgotten {
		if t.sess.Flow == "" && t.sess.Menu == nil {
			if err := t.s.store.DeleteSession(t.c.ID); err != nil {
				return fmt.Errorf("clearing session of contact %d: %w", t.c.ID, err)
			}
		} else {
			t.sess.UpdatedAt = t.s.now().UTC()
			if err := t.s.store.PutSession(t.c.ID, t.sess); err != nil {
				return fmt.Errorf("saving session of contact %d: %w", t.c.ID, err)
			}
		}
	}
	var errs []error
	for _, r := range t.replies {
		if err := t.s.send(t.ctx, r); err != nil {
			errs = append(errs, err)
			break
		}
	}
	// what the turn did is stored: the people it concerns hear of it even if the reply failed
	if len(t.notices) > 0 {
		if err := t.s.notify(t.ctx, t.notices); err != nil {
			t.s.log.Warn("delivering notices", "count", len(t.notices), "error", err)
		}
	}
	return errors.Join(errs...)
}

// notify queues notices for other people, sent once the turn's replies are out.
func (t *turn) notify(n ...Notice) { t.notices = append(t.notices, n...) }

// dispatch decides what the message means: a command, a menu choice, an
// answer to the current question, or something to explain.
func (t *turn) dispatch() error {
	in := t.in
	if strings.HasPrefix(in.Payload, "/") {
		return t.command(in.Payload)
	}
	if in.Payload != "" {
		v, ok := t.resolvePayload(in.Payload)
		if !ok {
			t.say(messages.ErrMenuExpired, nil)
			return t.reask()
		}
		return t.answer(answer{Value: v, Chosen: true})
	}
	text, err := messages.ValidMultiline(in.Text, maxInput)
	if err != nil {
		t.say(t.s.inputProblem(err), map[string]any{"Max": messages.FormatNumber(t.lang, maxInput)})
		return t.reask()
	}
	if strings.HasPrefix(text, "/") {
		return t.command(text)
	}
	if t.sess.Flow != "" && messages.IsCancelWord(text) {
		// inside a conversation "إلغاء" means leave it, not stop all messages
		return t.command("/cancel")
	}
	if messages.IsStopWord(text) {
		return t.command("/stop")
	}
	if t.sess.Flow == "" {
		if cmd, ok := keywordCommand(text); ok {
			if cmd == "/start" && !t.c.OnboardedAt.IsZero() {
				// a greeting is not a request to resume messages after /stop
				cmd = "/menu"
			}
			return t.command(cmd)
		}
	}
	a := answer{Text: text}
	if m := t.sess.Menu; m != nil {
		if i, ok := messages.MatchOption(text, m.Labels); ok && i < len(m.Options) {
			a.Value, a.Chosen = m.Options[i], true
		}
	}
	return t.answer(a)
}

// resolvePayload maps a pressed button to its option value, if its menu is still current.
func (t *turn) resolvePayload(p string) (string, bool) {
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
func (t *turn) answer(a answer) error {
	if t.sess.Flow != "" {
		return t.advance(a)
	}
	if a.Chosen {
		if strings.HasPrefix(a.Value, "/") {
			return t.command(a.Value)
		}
	}
	if _, isNumber := messages.ParseNumber(a.Text); isNumber && t.sess.Menu != nil {
		t.say(messages.ErrOutOfRange, map[string]any{"Max": messages.FormatNumber(t.lang, len(t.sess.Menu.Options))})
		return t.reask()
	}
	t.say(messages.ErrNotUnderstood, nil)
	return t.mainMenu("")
}

// reask repeats the current question after a problem with the answer.
func (t *turn) reask() error {
	if t.sess.Flow != "" {
		f, ok := t.s.flows[t.sess.Flow]
		if st, ok2 := f.steps[t.sess.Step]; ok && ok2 {
			return st.ask(t)
		}
	}
	if m := t.sess.Menu; m != nil {
		// repeat the last menu as it was shown
		opts := make([]option, len(m.Options))
		for i := range m.Options {
			label := m.Options[i]
			if i < len(m.Labels) {
				label = m.Labels[i]
			}
			opts[i] = option{Label: label, Value: m.Options[i]}
		}
		t.ask(t.text(messages.MenuChoose, nil), opts)
		return nil
	}
	return t.mainMenu("")
}

// keywordCommand maps typed words that mean a command ("start", "مساعدة",
// "start peace2026" from a wa.me link) to it.
func keywordCommand(text string) (string, bool) {
	n := messages.Normalize(text)
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

// inputProblem picks the message that explains why input was refused.
func (s *Service) inputProblem(err error) messages.Key {
	switch {
	case errors.Is(err, messages.ErrEmpty):
		return messages.ErrInputEmpty
	case errors.Is(err, messages.ErrTooLong):
		return messages.ErrInputTooLong
	default:
		return messages.ErrInputInvalid
	}
}
