package messages

// StepKind is the kind of question a message answers. The same words mean
// different things at different questions («بلاش» skips an optional
// question and says no to a yes/no one, «خلص» finishes a choice of several
// and cancels anywhere else, «إلغاء» leaves a wizard but, at the main menu,
// is a question of whether to stop all messages), so the engine reads every
// message at the kind of step it answers, with Meaning.At.
type StepKind uint8

// The kinds of step. The zero value is a free-text question.
const (
	// FreeText asks for text the person writes: a name, a title, a call.
	FreeText StepKind = iota
	// OptionalText is a free-text question that may be skipped.
	OptionalText
	// YesNoQuestion asks yes or no (consent, "send it?").
	YesNoQuestion
	// LanguageQuestion asks for a language.
	LanguageQuestion
	// ChoiceQuestion asks for one option of a menu, inside a wizard.
	ChoiceQuestion
	// SeveralChoices asks for one or more options, then "done".
	SeveralChoices
	// TimeQuestion asks when: now, or a date and time typed.
	TimeQuestion
	// ListMenu is a menu outside a wizard: the campaigns, the reminders.
	ListMenu
	// MainMenu is the main menu.
	MainMenu
)

// String names the kind, for logs and test output.
func (k StepKind) String() string {
	names := [...]string{"text", "optional", "yesno", "lang", "choice", "several", "when", "list", "main"}
	if int(k) < len(names) {
		return names[k]
	}
	return "unknown"
}

// TakesText reports whether the step takes words of the person's own as
// its answer, so a word one letter from a command may be a real one.
func (k StepKind) TakesText() bool {
	return k == FreeText || k == OptionalText
}

// asks lists, for each kind of step, the intents it asks for itself, before
// the ones any step understands.
func (k StepKind) asks() []Intent {
	switch k {
	case OptionalText:
		return []Intent{IntentSkip, IntentNo}
	case YesNoQuestion:
		return []Intent{IntentYes, IntentNo}
	case LanguageQuestion:
		return []Intent{IntentLanguage}
	case SeveralChoices:
		return []Intent{IntentDone}
	case TimeQuestion:
		return []Intent{IntentNow}
	}
	return nil
}

// understood lists what any step of kind k understands beyond what it asks
// for, in order.
func (k StepKind) understood() []Intent {
	switch k {
	case ListMenu:
		return []Intent{IntentStop, IntentCancel, IntentHelp, IntentBack, IntentMenu, IntentGreeting}
	case MainMenu:
		return []Intent{IntentStop, IntentCancel, IntentHelp, IntentGreeting, IntentMenu, IntentLanguage, IntentBack}
	}
	return []Intent{IntentStop, IntentCancel, IntentHelp, IntentBack, IntentMenu}
}

// At returns what the whole message means at a step of kind k: one intent,
// or 0 when it says nothing the step acts on. The step's own question comes
// first (yes or no at a yes/no question, done at a choice of several, now
// at "when?"), then what every step understands (stop, cancel, help, back,
// the menu; at menus a greeting, and at the main menu a language), in the
// order Meaning.First documents. Two readings are settled as a person
// would settle them:
//
//   - a «لا» or «بلاش» at an optional question skips it (IntentSkip);
//   - at a step that takes free text, a word read through a typo is taken
//     as typed, never as a command: «الغا» may be a name.
//
// A menu's options are matched before this, with Choose: At is what is
// left when the message names none of them.
func (m Meaning) At(k StepKind) Intent {
	if k.TakesText() && m.Typo {
		return 0
	}
	got := m.First(append(k.asks(), k.understood()...)...)
	if k == OptionalText && got == IntentNo {
		return IntentSkip
	}
	return got
}
