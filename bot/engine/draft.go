package engine

import (
	"encoding/json"
	"maps"

	"mobilise/messages"
)

// A person in the middle of a conversation with a draft (a campaign, an
// application, a call) who types a command is asked whether to leave it;
// leaving keeps the draft, one per person, in the session, until they come
// back to it (Turn.ResumeDraft, or starting the same conversation again),
// start another draft they leave in turn, or cancel.

// draft is a conversation left for later.
type draft struct {
	Flow string            `json:"flow"`
	Step string            `json:"step"`
	Data map[string]string `json:"data,omitempty"`
}

// draft returns the conversation the person left for later, if any.
func (t *Turn) draft() *draft {
	raw := t.sess.Data[draftKey]
	if raw == "" {
		return nil
	}
	var d draft
	if err := json.Unmarshal([]byte(raw), &d); err != nil || t.e.flows[d.Flow] == nil {
		// kept by an older version, or of a conversation that is gone
		return nil
	}
	return &d
}

// Draft names what the person left for later ("a new campaign"), or "" if
// there is nothing to resume. A conversation of a role the person no longer
// has counts as nothing.
func (t *Turn) Draft() messages.Key {
	d := t.draft()
	if d == nil {
		return ""
	}
	f := t.e.flows[d.Flow]
	if !t.role.AtLeast(f.Role) {
		return ""
	}
	return f.Title
}

// ResumeDraft takes the person back to the conversation they left, at the
// question they were at; it reports false when there is none.
func (t *Turn) ResumeDraft() (bool, error) {
	d := t.draft()
	if d == nil || t.Draft() == "" {
		return false, nil
	}
	return true, t.resume(d)
}

// resume makes d the conversation in progress again and asks its question.
func (t *Turn) resume(d *draft) error {
	f := t.e.flows[d.Flow]
	if _, ok := f.Steps[d.Step]; !ok {
		d.Step = f.First
	}
	data := maps.Clone(d.Data)
	if data == nil {
		data = map[string]string{}
	}
	t.sess.Flow, t.sess.Step, t.sess.Data, t.sess.Menu = d.Flow, d.Step, data, nil
	if !t.allowed(f) {
		return nil
	}
	t.Say(messages.DraftResumed, map[string]any{"What": t.Text(f.Title, nil)})
	return f.Steps[d.Step].Ask(t)
}

// park leaves the conversation in progress, keeping it as the draft to
// resume, and says so.
func (t *Turn) park() error {
	f := t.e.flows[t.sess.Flow]
	step := t.sess.Step
	if step == leaveStep {
		step = t.sess.Data[leaveFrom]
	}
	data := map[string]string{}
	for k, v := range t.sess.Data {
		switch k {
		case draftKey, leaveCmd, leaveFrom:
		default:
			data[k] = v
		}
	}
	buf, err := json.Marshal(draft{Flow: t.sess.Flow, Step: step, Data: data})
	if err != nil {
		return err
	}
	t.sess.Flow, t.sess.Step, t.sess.Menu = "", "", nil
	t.sess.Data = map[string]string{draftKey: string(buf)}
	t.Say(messages.DraftKept, map[string]any{"What": t.Text(f.Title, nil)})
	return nil
}

// DropDraft forgets the draft left for later, if any.
func (t *Turn) DropDraft() { delete(t.sess.Data, draftKey) }

// askLeave asks whether to leave the conversation for the command cmd.
func (t *Turn) askLeave(cmd string) error {
	t.SetData(leaveCmd, cmd)
	if t.sess.Step != leaveStep {
		t.SetData(leaveFrom, t.sess.Step)
	}
	t.sess.Step = leaveStep
	st, _ := t.currentStep()
	return st.Ask(t)
}

// leaveQuestion is the step that asks whether to leave f for a command.
func (t *Turn) leaveQuestion(f *Flow) Step {
	back := func(t *Turn) error {
		from := t.sess.Data[leaveFrom]
		t.SetData(leaveCmd, "")
		t.SetData(leaveFrom, "")
		if _, ok := f.Steps[from]; !ok {
			from = f.First
		}
		t.sess.Step = from
		return f.Steps[from].Ask(t)
	}
	return Step{
		Kind: messages.YesNoQuestion,
		Ask: func(t *Turn) error {
			cmd := t.sess.Data[leaveCmd]
			t.Ask(t.Text(messages.DraftLeaveAsk, map[string]any{
				"What": t.Text(f.Title, nil), "Command": messages.Isolate(cmd),
			}), []Choice{
				{Label: t.Text(messages.DraftLeave, nil), Value: "leave"},
				{Label: t.Text(messages.DraftStay, nil), Value: "stay"},
			})
			return nil
		},
		Answer: func(t *Turn, a Answer) (string, error) {
			switch {
			case a.Value == "leave" || a.Intent == messages.IntentYes:
				cmd := t.sess.Data[leaveCmd]
				if err := t.park(); err != nil {
					return "", err
				}
				return "", t.Command(cmd)
			case a.Value == "stay" || a.Intent == messages.IntentNo:
				return "", back(t)
			}
			t.SayChoose(a)
			return leaveStep, nil
		},
	}
}
