package bot

import (
	"fmt"

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

// freeText validates a typed answer: not empty, at most max runes, and on a
// single line unless multiline. It says what is wrong and returns ok false
// when the answer is refused.
func (t *turn) freeText(a answer, max int, multiline bool) (string, bool) {
	if a.Chosen {
		t.say(messages.ErrTypeAnswer, nil)
		return "", false
	}
	valid := messages.ValidText
	if multiline {
		valid = messages.ValidMultiline
	}
	v, err := valid(a.Text, max)
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

func isSkip(a answer) bool {
	return (a.Chosen && a.Value == "skip") || (!a.Chosen && messages.IsSkip(a.Text))
}

// nextOr returns the step after a field: back to the summary when the person
// is correcting one field, else normal.
func (t *turn) nextOr(normal string) string {
	if t.data("editing") != "" {
		return "confirm"
	}
	return normal
}

// textStep is a step that asks for text, one line or, where multiline, several,
// and stores it under key. An optional one offers to skip; check may refuse
// the text, saying why.
func textStep(prompt messages.Key, key string, max int, optional, multiline bool, check func(t *turn, v string) bool, next string) step {
	return step{
		ask: func(t *turn) error {
			var opts []option
			if optional {
				opts = append(opts, option{t.text(messages.CommonSkip, nil), "skip"})
			}
			t.ask(t.text(prompt, nil), opts)
			return nil
		},
		answer: func(t *turn, a answer) (string, error) {
			if optional && isSkip(a) {
				t.setData(key, "")
				return t.nextOr(next), nil
			}
			v, ok := t.freeText(a, max, multiline)
			if !ok || (check != nil && !check(t, v)) {
				return t.sess.Step, nil
			}
			t.setData(key, v)
			return t.nextOr(next), nil
		},
	}
}

// confirmStep is the "confirm" step that ends a form: it shows the summary
// and offers submitLabel, edit (where editable: the form has an "edit" step)
// and cancel. A typed yes submits and a typed no cancels.
func confirmStep(summary func(t *turn) (string, error), submitLabel messages.Key, editable bool, submit func(t *turn) error) step {
	return step{
		ask: func(t *turn) error {
			t.setData("editing", "")
			prompt, err := summary(t)
			if err != nil {
				return err
			}
			opts := []option{{t.text(submitLabel, nil), "submit"}}
			if editable {
				opts = append(opts, option{t.text(messages.CommonEdit, nil), "edit"})
			}
			t.ask(prompt, append(opts, option{t.text(messages.CommonCancel, nil), "cancel"}))
			return nil
		},
		answer: func(t *turn, a answer) (string, error) {
			switch {
			case a.Value == "submit" || !a.Chosen && messages.IsYes(a.Text):
				return "", submit(t)
			case editable && a.Value == "edit":
				return "edit", nil
			case a.Value == "cancel" || !a.Chosen && messages.IsNo(a.Text):
				return "", t.cmdCancel("")
			}
			t.sayChoose(a)
			return "confirm", nil
		},
	}
}

// editStep is the "edit" step of a form: it asks which of the fields to
// correct and goes to that field's step, which then returns to "confirm".
func editStep(fields func(t *turn) []option) step {
	return step{
		ask: func(t *turn) error {
			t.ask(t.text(messages.CommonWhichField, nil), fields(t))
			return nil
		},
		answer: func(t *turn, a answer) (string, error) {
			if !a.Chosen {
				t.sayChoose(a)
				return "edit", nil
			}
			t.setData("editing", "1")
			return a.Value, nil
		},
	}
}
