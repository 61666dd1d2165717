package outbox

import (
	"context"
	"strings"

	"mobilise/bot"
	"mobilise/store"
)

// Describer words the line that stands for a file on a channel that cannot
// send one (the terminal chat), in the message's language.
type Describer interface {
	DescribeMedia(lang string, m *store.Media) string
}

// WithMedia makes the dispatcher send the files messages carry, read from
// files, through the channels that are a bot.MediaSender; elsewhere a line
// worded by d (nil: the file's name after a paperclip) stands for the file.
// Without it every message goes as text with that line.
func WithMedia(files *store.MediaFiles, d Describer) Option {
	return func(disp *Dispatcher) { disp.media, disp.describer = files, d }
}

// sendNew sends e as a new message: with its file through the channel's
// bot.MediaSender where it has one, else as text naming the file.
func (r *runner) sendNew(ctx context.Context, e *store.OutboxEntry, msg bot.Outgoing) (string, error) {
	if e.Media == nil {
		return r.snd.Send(ctx, msg)
	}
	if ms, ok := bot.MediaSenderOf(r.snd); ok && r.d.media != nil {
		msg.Media = e.Media.Bot(r.d.media)
		return ms.SendMedia(ctx, msg)
	}
	line := r.describe(e.Lang, e.Media)
	if strings.TrimSpace(msg.Text) == "" {
		msg.Text = line
	} else {
		msg.Text += "\n\n" + line
	}
	return r.snd.Send(ctx, msg)
}

// describe is the line that stands for a file.
func (r *runner) describe(lang string, m *store.Media) string {
	if r.d.describer != nil {
		return r.d.describer.DescribeMedia(lang, m)
	}
	return "📎 " + m.Name
}
