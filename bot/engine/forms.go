package engine

import (
	"mobilise/messages"
)

// The pieces conversations are built of: yes/no questions, free text,
// confirmation of a form with a summary, and correcting one of its fields.

// YesNo reads a yes/no answer, by button, number or words, at a step of
// kind messages.YesNoQuestion.
func YesNo(a Answer) (yes, ok bool) {
	if a.Chosen {
		return a.Value == "yes", a.Value == "yes" || a.Value == "no"
	}
	switch a.Intent {
	case messages.IntentYes:
		return true, true
	case messages.IntentNo:
		return false, true
	}
	return false, false
}

// YesNoChoices are the yes and no buttons.
func (t *Turn) YesNoChoices() []Choice {
	return []Choice{{t.Text(messages.CommonYes, nil), "yes"}, {t.Text(messages.CommonNo, nil), "no"}}
}

// FreeText validates a typed answer: not empty, at most max runes, and on a
// single line unless multiline. It says what is wrong and returns ok false
// when the answer is refused.
func (t *Turn) FreeText(a Answer, max int, multiline bool) (string, bool) {
	if a.Chosen {
		t.Say(messages.ErrTypeAnswer, nil)
		return "", false
	}
	valid := messages.ValidText
	if multiline {
		valid = messages.ValidMultiline
	}
	v, err := valid(a.Text, max)
	if err != nil {
		t.SayCount(InputProblem(err), max)
		return "", false
	}
	return v, true
}

// SayChoose explains that the answer is not one of the options: a number out
// of range is told the range, anything else how to choose.
func (t *Turn) SayChoose(a Answer) {
	if _, isNumber := messages.ParseNumber(a.Text); isNumber && !a.Chosen && t.sess.Menu != nil {
		t.SayOutOfRange()
		return
	}
	t.Say(messages.ErrChooseOption, nil)
}

// SayOutOfRange tells the range of the numbers of the menu showing.
func (t *Turn) SayOutOfRange() {
	n := 0
	if t.sess.Menu != nil {
		n = len(t.sess.Menu.Options)
	}
	t.Say(messages.ErrOutOfRange, map[string]any{"Max": messages.FormatNumber(t.lang, n), "Min": messages.FormatNumber(t.lang, 1)})
}

// IsSkip reports whether the answer skips an optional question: the skip
// option, or words that skip at this kind of step.
func IsSkip(a Answer) bool {
	return (a.Chosen && a.Value == "skip") || (!a.Chosen && a.Intent == messages.IntentSkip)
}

// NextOr returns the step after a field: back to the summary when the person
// is correcting one field, else normal.
func (t *Turn) NextOr(normal string) string {
	if t.Data("editing") != "" {
		return "confirm"
	}
	return normal
}

// TextStep is a step that asks for text, one line or, where multiline, several,
// and stores it under key. An optional one offers to skip; check may refuse
// the text, saying why.
func TextStep(prompt messages.Key, key string, max int, optional, multiline bool, check func(t *Turn, v string) bool, next string) Step {
	kind := messages.FreeText
	if optional {
		kind = messages.OptionalText
	}
	return Step{
		Kind: kind,
		Ask: func(t *Turn) error {
			var opts []Choice
			if optional {
				opts = append(opts, Choice{t.Text(messages.CommonSkip, nil), "skip"})
			}
			t.Ask(t.Text(prompt, nil), opts)
			return nil
		},
		Answer: func(t *Turn, a Answer) (string, error) {
			if optional && IsSkip(a) {
				t.SetData(key, "")
				return t.NextOr(next), nil
			}
			v, ok := t.FreeText(a, max, multiline)
			if !ok || (check != nil && !check(t, v)) {
				return t.sess.Step, nil
			}
			t.SetData(key, v)
			return t.NextOr(next), nil
		},
	}
}

// ConfirmStep is the "confirm" step that ends a form: it shows the summary
// and offers submitLabel, edit (where editable: the form has an "edit" step)
// and cancel. A typed yes submits and a typed no cancels; cancel runs when
// the person cancels.
func ConfirmStep(summary func(t *Turn) (string, error), submitLabel messages.Key, editable bool, submit, cancel func(t *Turn) error) Step {
	return Step{
		Kind: messages.YesNoQuestion,
		Ask: func(t *Turn) error {
			t.SetData("editing", "")
			prompt, err := summary(t)
			if err != nil {
				return err
			}
			opts := []Choice{{t.Text(submitLabel, nil), "submit"}}
			if editable {
				opts = append(opts, Choice{t.Text(messages.CommonEdit, nil), "edit"})
			}
			t.Ask(prompt, append(opts, Choice{t.Text(messages.CommonCancel, nil), "cancel"}))
			return nil
		},
		Answer: func(t *Turn, a Answer) (string, error) {
			switch {
			case a.Value == "submit" || a.Intent == messages.IntentYes:
				return "", submit(t)
			case editable && a.Value == "edit":
				return "edit", nil
			case a.Value == "cancel" || a.Intent == messages.IntentNo:
				return "", cancel(t)
			}
			t.SayChoose(a)
			return "confirm", nil
		},
	}
}

// EditStep is the "edit" step of a form: it asks which of the fields to
// correct and goes to that field's step, which then returns to "confirm".
func EditStep(fields func(t *Turn) []Choice) Step {
	return Step{
		Kind: messages.ChoiceQuestion,
		Ask: func(t *Turn) error {
			t.Ask(t.Text(messages.CommonWhichField, nil), fields(t))
			return nil
		},
		Answer: func(t *Turn, a Answer) (string, error) {
			if !a.Chosen {
				t.SayChoose(a)
				return "edit", nil
			}
			t.SetData("editing", "1")
			return a.Value, nil
		},
	}
}
