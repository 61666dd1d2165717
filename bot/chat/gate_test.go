package chat_test

import (
	"time"

	"mobilise/bot/outbox"
	"mobilise/store"
)

// bulkGate holds bulk messages in the outbox, where a test reads them,
// unless the world releases them; everything else goes to the sending gate.
type bulkGate struct {
	w    *world
	next outbox.Gate
}

func (g bulkGate) Hold(now time.Time, e *store.OutboxEntry) time.Time {
	if e.Bulk && !g.w.releaseBulk {
		return now.Add(time.Hour)
	}
	return g.next.Hold(now, e)
}

// holdBulk wraps the coalition's gate; the stack's is set later, so it
// reads it through the world.
func holdBulk(w *world) outbox.Option {
	return outbox.WithGate(lateGate{w})
}

type lateGate struct{ w *world }

func (g lateGate) Hold(now time.Time, e *store.OutboxEntry) time.Time {
	return bulkGate{w: g.w, next: g.w.stack.Co.Sending}.Hold(now, e)
}
