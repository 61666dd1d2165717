package bot

import (
	"fmt"
	"strings"

	"mobilise/messages"
)

// step is one question of a conversation: ask puts it, answer takes the
// reply and names the next step. Returning the current step's name means the
// reply was refused (answer has said why) and the question is asked again;
// returning "" means answer ended the conversation itself.
type step struct {
	ask    func(t *turn) error
	answer func(t *turn, a answer) (next string, err error)
}

// flow is a multi-step conversation whose place is kept in the store, so it
// survives a restart.
type flow struct {
	first string
	steps map[string]step
}

func (s *Service) buildFlows() map[string]flow {
	return map[string]flow{
		"start":       onboardingFlow(),
		"language":    languageFlow(),
		"forget":      forgetFlow(),
		"register":    registerFlow(),
		"newcampaign": newCampaignFlow(),
		"broadcast":   broadcastFlow(),
		"remind":      remindFlow(),
	}
}

// startFlow begins conversation name at its first step (or at step, if given).
func (t *turn) startFlow(name, at string, data map[string]string) error {
	f, ok := t.s.flows[name]
	if !ok {
		return fmt.Errorf("unknown conversation %q", name)
	}
	if at == "" {
		at = f.first
	}
	if data == nil {
		data = map[string]string{}
	}
	t.sess.Flow, t.sess.Step, t.sess.Data = name, at, data
	return f.steps[at].ask(t)
}

// goTo moves the conversation to another step and asks it.
func (t *turn) goTo(name string) error {
	f := t.s.flows[t.sess.Flow]
	st, ok := f.steps[name]
	if !ok {
		return fmt.Errorf("conversation %q has no step %q", t.sess.Flow, name)
	}
	t.sess.Step = name
	return st.ask(t)
}

// endFlow leaves the conversation; what it gathered is dropped.
func (t *turn) endFlow() {
	t.sess.Flow, t.sess.Step, t.sess.Data, t.sess.Menu = "", "", nil, nil
}

// advance hands an answer to the current step.
func (t *turn) advance(a answer) error {
	f, ok := t.s.flows[t.sess.Flow]
	st, ok2 := f.steps[t.sess.Step]
	if !ok || !ok2 {
		// a conversation from an older version of the bot: start afresh
		t.endFlow()
		return t.mainMenu("")
	}
	current := t.sess.Step
	next, err := st.answer(t, a)
	if err != nil {
		return err
	}
	switch next {
	case "":
		return nil
	case current:
		return st.ask(t)
	default:
		return t.goTo(next)
	}
}

func (t *turn) data(k string) string { return t.sess.Data[k] }

func (t *turn) setData(k, v string) {
	if t.sess.Data == nil {
		t.sess.Data = map[string]string{}
	}
	if v == "" {
		delete(t.sess.Data, k)
		return
	}
	t.sess.Data[k] = v
}

// yesNo reads a yes/no answer, by button, number or words.
func yesNo(a answer) (yes, ok bool) {
	if a.Chosen {
		return a.Value == "yes", a.Value == "yes" || a.Value == "no"
	}
	switch {
	case messages.IsYes(a.Text):
		return true, true
	case messages.IsNo(a.Text):
		return false, true
	}
	return false, false
}

func (t *turn) yesNoOptions() []option {
	return []option{{t.text(messages.CommonYes, nil), "yes"}, {t.text(messages.CommonNo, nil), "no"}}
}

// freeText validates a typed answer: single line, not empty, at most max runes.
// It says what is wrong and returns ok false when the answer is refused.
func (t *turn) freeText(a answer, max int) (string, bool) {
	if a.Chosen {
		t.say(messages.ErrTypeAnswer, nil)
		return "", false
	}
	v, err := messages.ValidText(a.Text, max)
	if err == nil && strings.ContainsAny(v, "\r\n") {
		err = messages.ErrControlChars
	}
	if err != nil {
		t.say(t.s.inputProblem(err), map[string]any{"Max": messages.FormatNumber(t.lang, max)})
		return "", false
	}
	return v, true
}

// sayChoose explains that the answer is not one of the options: a number out
// of range is told the range, anything else how to choose.
func (t *turn) sayChoose(a answer) {
	if _, isNumber := messages.ParseNumber(a.Text); isNumber && !a.Chosen && t.sess.Menu != nil {
		t.say(messages.ErrOutOfRange, map[string]any{"Max": messages.FormatNumber(t.lang, len(t.sess.Menu.Options))})
		return
	}
	t.say(messages.ErrChooseOption, nil)
}
