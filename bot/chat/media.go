package chat

import (
	"encoding/json"
	"errors"

	"mobilise/bot/coalition"
	"mobilise/bot/engine"
	"mobilise/messages"
	"mobilise/store"
)

// Files in the wizards: a broadcast and a new campaign ask, just before
// their summary, for a poster, a PDF or a short video. The coordinator
// sends the file as they would to anyone; the engine fetches and keeps it
// before the turn (Bot.Keep), and the step reads what became of it.
// These steps are core's: the campaigns and the broadcasts both ask them.

// mediaKey is where a wizard keeps the file chosen, as JSON; mediaAsked
// marks that the question was put, so the summary follows it.
const (
	mediaKey   = "media"
	mediaAsked = "media_asked"
)

// dataMedia is the file a wizard holds, nil for none.
func dataMedia(t *engine.Turn) *store.Media {
	raw := t.Data(mediaKey)
	if raw == "" {
		return nil
	}
	var m store.Media
	if err := json.Unmarshal([]byte(raw), &m); err != nil || m.SHA256 == "" {
		return nil
	}
	return &m
}

func setDataMedia(t *engine.Turn, m *store.Media) {
	if m == nil {
		t.SetData(mediaKey, "")
		return
	}
	raw, _ := json.Marshal(m) // a struct of strings and numbers
	t.SetData(mediaKey, string(raw))
}

// askMediaFirst puts the question of a file before the wizard's step
// confirm, once: the summary then shows the file too. Going back to it
// from the edit menu asks again. Without files configured it asks nothing.
// sayFile marks the new campaign's wizard, whose file people see with the
// campaign: the summary names it, and the question says so.
func (cr *core) askMediaFirst(steps map[string]engine.Step, confirm string, campaignFile func(*engine.Turn) *store.Media, sayFile bool) {
	orig := steps[confirm]
	steps["media"] = cr.mediaStep(confirm, campaignFile)
	if sayFile {
		steps["media"] = cr.fileStepAsking(confirm, campaignFile, false, messages.MediaAskNewCampaign)
	}
	ask := orig.Ask
	orig.Ask = func(t *engine.Turn) error {
		if t.Data(mediaAsked) == "" && cr.co.Media.Limit() > 0 {
			t.SetData(mediaAsked, "1")
			return t.GoTo("media")
		}
		if sayFile {
			cr.previewMedia(t, dataMedia(t))
		}
		return ask(t)
	}
	steps[confirm] = orig
}

// mediaStep asks for the file and goes on to next. campaignFile, if not
// nil, offers the file of the campaign the message is about.
func (cr *core) mediaStep(next string, campaignFile func(*engine.Turn) *store.Media) engine.Step {
	return cr.fileStep(next, campaignFile, false)
}

// fileStep is mediaStep; forCampaign asks for the file of the wizard's
// campaign itself, where «No file» removes the one it has.
func (cr *core) fileStep(next string, campaignFile func(*engine.Turn) *store.Media, forCampaign bool) engine.Step {
	return cr.fileStepAsking(next, campaignFile, forCampaign, messages.MediaAsk)
}

// fileStepAsking is fileStep asking with prompt, which takes {{.Limit}}.
func (cr *core) fileStepAsking(next string, campaignFile func(*engine.Turn) *store.Media, forCampaign bool, prompt messages.Key) engine.Step {
	// in a wizard the file is optional: «لا», «بلاش», "skip" go on without
	// one; the campaign's own file is only removed by choosing «No file»
	kind := messages.OptionalText
	if forCampaign {
		kind = messages.ChoiceQuestion
	}
	return engine.Step{
		Kind:       kind,
		TakesMedia: true,
		Ask: func(t *engine.Turn) error {
			opts := []engine.Choice{{Label: t.Text(messages.MediaNone, nil), Value: "none"}}
			if campaignFile != nil && campaignFile(t) != nil {
				opts = append([]engine.Choice{{Label: t.Text(messages.MediaCampaign, nil), Value: "campaign"}}, opts...)
			}
			limit := cr.words.Size(t.Lang(), cr.co.Media.Limit())
			if c := cr.dataCampaign(t); forCampaign && c != nil {
				t.Ask(t.Text(messages.MediaAskCampaign, map[string]any{"Limit": limit, "Title": coalition.Title(c, t.Lang())}), opts)
				return nil
			}
			t.Ask(t.Text(prompt, map[string]any{"Limit": limit}), opts)
			return nil
		},
		Answer: func(t *engine.Turn, a engine.Answer) (string, error) {
			switch {
			case a.Media != nil:
				setDataMedia(t, a.Media)
				t.Say(messages.MediaKept, map[string]any{"File": cr.words.MediaLine(t.Lang(), a.Media)})
				return next, nil
			case a.MediaErr != nil:
				cr.sayRefused(t, a.MediaErr)
				return "media", nil
			case a.Chosen && a.Value == "none", !forCampaign && engine.IsSkip(a):
				setDataMedia(t, nil)
				return next, nil
			case a.Chosen && a.Value == "campaign" && campaignFile != nil:
				setDataMedia(t, campaignFile(t))
				return next, nil
			}
			t.Say(messages.MediaNeedFile, nil)
			return "media", nil
		},
	}
}

// sayRefused tells why a file was not kept.
func (cr *core) sayRefused(t *engine.Turn, err error) {
	switch {
	case errors.Is(err, store.ErrMediaTooLarge):
		t.Say(messages.MediaTooLarge, map[string]any{"Limit": cr.words.Size(t.Lang(), cr.co.Media.Limit())})
	case errors.Is(err, store.ErrMediaType):
		t.Say(messages.MediaBadType, nil)
	default:
		t.Say(messages.MediaFetchFailed, nil)
	}
}

// previewMedia says which file goes with the message.
func (cr *core) previewMedia(t *engine.Turn, m *store.Media) {
	if m != nil {
		t.Say(messages.MediaPreview, map[string]any{"File": cr.words.MediaLine(t.Lang(), m)})
	}
}

// campaignMedia is the file of the wizard's campaign, nil for none.
func (cr *core) campaignMedia(t *engine.Turn) *store.Media {
	if c := cr.dataCampaign(t); c != nil {
		return c.Media
	}
	return nil
}
