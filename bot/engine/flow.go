package engine

import (
	"fmt"
	"maps"
	"strings"

	"mobilise/messages"
	"mobilise/store"
)

// Step is one question of a conversation: Ask puts it, Answer takes the
// reply and names the next step. Returning the current step's name means the
// reply was refused (Answer has said why) and the question is asked again;
// returning "" means Answer ended the conversation itself.
type Step struct {
	Ask    func(t *Turn) error
	Answer func(t *Turn, a Answer) (next string, err error)
	// Kind is the kind of question the step puts; it decides how words that
	// could mean several things are read (see messages.Meaning.At), so
	// Answer gets the reading in Answer.Intent.
	Kind messages.StepKind
	// TakesNumber marks a step whose answer is a number (a target, hours):
	// a typed number is the answer, never the position of an option.
	TakesNumber bool
	// TakesPhone and TakesPlace let a shared contact or location answer the step.
	TakesPhone, TakesPlace bool
	// TakesMedia lets a photo, document or video answer the step: the
	// engine keeps it (WithFiles) and hands it in Answer.Media.
	TakesMedia bool
}

// Flow is a multi-step conversation whose place is kept in the store, so it
// survives a restart.
type Flow struct {
	First string
	Steps map[string]Step
	// Role is the lowest role that may be in it. It is checked at every
	// step, not only when the conversation commits: a coordinator dismissed
	// halfway sees no more of it.
	Role store.Role
	// Title names what the person is doing in it ("a new campaign"). A
	// conversation with a title gathers a draft worth keeping: a command
	// typed in the middle of it asks whether to leave, and leaving keeps the
	// draft to resume (see Turn.ResumeDraft). One without a title (a yes/no
	// confirmation, the choice of a language) is simply left.
	Title messages.Key
}

// StartFlow begins conversation name at its first step (or at step, if given).
func (t *Turn) StartFlow(name, at string, data map[string]string) error {
	f, ok := t.e.flows[name]
	if !ok {
		return fmt.Errorf("unknown conversation %q", name)
	}
	if d := t.draft(); d != nil && d.Flow == name && at == "" && t.role.AtLeast(f.Role) {
		// the person comes back to what they left: go on from there
		return t.resume(d)
	}
	if at == "" {
		at = f.First
	}
	if data == nil {
		data = map[string]string{}
	}
	data = maps.Clone(data)
	if d, ok := t.sess.Data[draftKey]; ok {
		data[draftKey] = d
	}
	t.sess.Flow, t.sess.Step, t.sess.Data = name, at, data
	if !t.allowed(f) {
		return nil
	}
	return f.Steps[at].Ask(t)
}

// GoTo moves the conversation to another step and asks it.
func (t *Turn) GoTo(name string) error {
	f := t.e.flows[t.sess.Flow]
	if f == nil {
		return fmt.Errorf("no conversation in progress to go to step %q", name)
	}
	st, ok := f.Steps[name]
	if !ok {
		return fmt.Errorf("conversation %q has no step %q", t.sess.Flow, name)
	}
	if t.sess.Step != name && t.sess.Step != leaveStep {
		t.pushTrail(t.sess.Step)
	}
	t.sess.Step = name
	if !t.allowed(f) {
		return nil
	}
	return st.Ask(t)
}

// Back goes to the step asked before the current one, and asks it; at the
// first step it asks the current one again.
func (t *Turn) Back() error {
	f := t.e.flows[t.sess.Flow]
	if f == nil {
		return t.Reask()
	}
	trail := splitTrail(t.sess.Data[trailKey])
	if len(trail) == 0 {
		return t.Reask()
	}
	prev := trail[len(trail)-1]
	t.setTrail(trail[:len(trail)-1])
	if _, ok := f.Steps[prev]; !ok {
		return t.Reask()
	}
	t.sess.Step = prev
	if !t.allowed(f) {
		return nil
	}
	return f.Steps[prev].Ask(t)
}

// The engine's own keys in a conversation's data; a conversation's keys
// never start with "_".
const (
	trailKey   = "_trail"    // the steps asked so far, for Back
	draftKey   = "_draft"    // a conversation left for later, as JSON
	leaveCmd   = "_leave"    // the command that asked to leave
	leaveFrom  = "_leave_at" // the step it was typed at
	leaveStep  = "_leave"    // the step asking whether to leave
	trailLimit = 30
)

func splitTrail(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (t *Turn) pushTrail(step string) {
	trail := append(splitTrail(t.sess.Data[trailKey]), step)
	if len(trail) > trailLimit {
		trail = trail[len(trail)-trailLimit:]
	}
	t.setTrail(trail)
}

func (t *Turn) setTrail(trail []string) {
	if t.sess.Data == nil {
		t.sess.Data = map[string]string{}
	}
	if len(trail) == 0 {
		delete(t.sess.Data, trailKey)
		return
	}
	t.sess.Data[trailKey] = strings.Join(trail, ",")
}

// allowed checks the person's role for the conversation they are in; one
// who lost it is told, and the conversation ends.
func (t *Turn) allowed(f *Flow) bool {
	if t.role.AtLeast(f.Role) {
		return true
	}
	t.e.log.Info("role lost during a conversation", "flow", t.sess.Flow, "contact_id", t.c.ID, "role", string(t.role))
	t.EndFlow()
	t.Say(messages.ErrNotAllowed, nil)
	return false
}

// EndFlow leaves the conversation; what it gathered is dropped. A draft
// left earlier for later is kept.
func (t *Turn) EndFlow() {
	var data map[string]string
	if d, ok := t.sess.Data[draftKey]; ok {
		data = map[string]string{draftKey: d}
	}
	t.sess.Flow, t.sess.Step, t.sess.Data, t.sess.Menu = "", "", data, nil
}

// Flow names the conversation in progress, "" if none.
func (t *Turn) Flow() string { return t.sess.Flow }

// Step names the current step of the conversation.
func (t *Turn) Step() string { return t.sess.Step }

// FlowData returns the conversation's gathered answers.
func (t *Turn) FlowData() map[string]string {
	out := map[string]string{}
	for k, v := range t.sess.Data {
		if !strings.HasPrefix(k, "_") {
			out[k] = v
		}
	}
	return out
}

// currentStep returns the step the person is at, if any.
func (t *Turn) currentStep() (Step, bool) {
	f, ok := t.e.flows[t.sess.Flow]
	if !ok {
		return Step{}, false
	}
	if t.sess.Step == leaveStep {
		return t.leaveQuestion(f), true
	}
	st, ok := f.Steps[t.sess.Step]
	return st, ok
}

// advance hands an answer to the current step.
func (t *Turn) advance(a Answer) error {
	f, ok := t.e.flows[t.sess.Flow]
	st, ok2 := t.currentStep()
	if !ok || !ok2 {
		// a conversation from an older version of the bot: start afresh
		t.EndFlow()
		return t.e.conv.MainMenu(t, "")
	}
	if !t.allowed(f) {
		return t.e.conv.MainMenu(t, "")
	}
	current := t.sess.Step
	next, err := st.Answer(t, a)
	if err != nil {
		return err
	}
	switch next {
	case "":
		return nil
	case current:
		return st.Ask(t)
	default:
		return t.GoTo(next)
	}
}

// Data returns a value the conversation gathered.
func (t *Turn) Data(k string) string { return t.sess.Data[k] }

// SetData keeps a value for the rest of the conversation; "" deletes it.
func (t *Turn) SetData(k, v string) {
	if t.sess.Data == nil {
		t.sess.Data = map[string]string{}
	}
	if v == "" {
		delete(t.sess.Data, k)
		return
	}
	t.sess.Data[k] = v
}
