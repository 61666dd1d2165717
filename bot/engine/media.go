package engine

import (
	"context"
	"errors"
	"strings"

	"mobilise/bot"
	"mobilise/store"
)

// FileKeeper keeps a file a person sent at a step that takes one (a
// poster for a broadcast) and returns its record, or why it was refused.
type FileKeeper interface {
	Keep(ctx context.Context, c *store.Contact, from bot.Address, f *bot.IncomingFile) (*store.Media, error)
}

// WithFiles makes the steps marked TakesMedia receive files, kept by k.
func WithFiles(k FileKeeper) Option { return func(e *Engine) { e.files = k } }

// keptFile is what became of an incoming file before its turn.
type keptFile struct {
	media *store.Media
	err   error
}

// keepFile fetches and keeps the file of in when the person is at a step
// that takes one, before the turn's unit of work: fetching takes a network
// round trip that must not hold the store's one writer, nor run again when
// a shared commit runs the turn again. nil when there is nothing to keep.
// A file kept for a turn that then fails stays in the media directory,
// named by its content, for whoever sends it next.
func (e *Engine) keepFile(ctx context.Context, in bot.Incoming) *keptFile {
	if e.files == nil || in.File == nil || in.Group {
		return nil
	}
	c, err := e.st.ContactByAddress(ctx, in.From)
	if err != nil {
		return nil
	}
	sess, err := e.st.Session(ctx, c.ID)
	if err != nil {
		return nil
	}
	f, ok := e.flows[sess.Flow]
	if !ok {
		return nil
	}
	if st, ok := f.Steps[sess.Step]; !ok || !st.TakesMedia {
		return nil
	}
	m, err := e.files.Keep(ctx, c, in.From, in.File)
	if err != nil && !errors.Is(err, store.ErrMediaTooLarge) && !errors.Is(err, store.ErrMediaType) {
		e.log.Warn("keeping a file sent", "channel", string(in.From.Channel), "error", err)
	}
	return &keptFile{media: m, err: err}
}

// mediaAnswer hands a kept file to the current step, if it takes one.
func (t *Turn) mediaAnswer() (bool, error) {
	if t.kept == nil {
		return false, nil
	}
	st, ok := t.currentStep()
	if !ok || !st.TakesMedia {
		return false, nil
	}
	return true, t.advance(Answer{Text: strings.TrimSpace(t.in.Text), Attachment: t.in.Attachment, Media: t.kept.media, MediaErr: t.kept.err})
}

// SayMedia adds a reply carrying m, captioned by what was said since the
// last reply, with buttons under it; a channel that cannot send files
// names it instead. With no file it is Flush.
func (t *Turn) SayMedia(m *store.Media, buttons [][]bot.Button) {
	if m == nil {
		t.Flush(buttons)
		return
	}
	t.replies = append(t.replies, bot.Outgoing{To: t.in.ReplyTo(), Lang: t.lang, Text: strings.Join(t.paras, "\n\n"), Buttons: buttons, Media: m.Queued()})
	t.paras = nil
}
