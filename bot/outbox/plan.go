package outbox

import (
	"context"
	"time"

	"mobilise/bot"
)

// Plan is the limits of every channel the bot sends on: the dispatcher
// sends at them, and previews estimate with them before anything is queued.
type Plan map[bot.ChannelName]Limits

// Limits returns the channel's limits, DefaultLimits if the plan has none.
func (p Plan) Limits(channel bot.ChannelName) Limits {
	if l, ok := p[channel]; ok {
		return l.normalised()
	}
	return DefaultLimits(channel).normalised()
}

// Estimate says how long n bulk messages on channel take at the plan's limits.
func (p Plan) Estimate(channel bot.ChannelName, n int) time.Duration {
	return p.Limits(channel).Estimate(n)
}

// WithPlan sets the limits of every channel in p.
func WithPlan(p Plan) Option {
	return func(d *Dispatcher) {
		for ch, l := range p {
			d.limits[ch] = l
		}
	}
}

// Flushed returns a handler that, after h has handled a message from
// channel, waits until the dispatcher has sent what was queued for that
// channel: the terminal chat reads its next line only once the answers to
// the last are printed. Capabilities of h are still found through Unwrap.
func (d *Dispatcher) Flushed(channel bot.ChannelName, h bot.Handler) bot.Handler {
	return &flushedHandler{d: d, channel: channel, next: h}
}

type flushedHandler struct {
	d       *Dispatcher
	channel bot.ChannelName
	next    bot.Handler
}

// HandleIncoming handles in, then waits for the channel's outbox to be sent.
func (f *flushedHandler) HandleIncoming(ctx context.Context, in bot.Incoming) error {
	err := f.next.HandleIncoming(ctx, in)
	if ferr := f.d.Flush(ctx, f.channel); ferr != nil && err == nil && ctx.Err() == nil {
		err = ferr
	}
	return err
}

// Unwrap returns the wrapped handler.
func (f *flushedHandler) Unwrap() bot.Handler { return f.next }
