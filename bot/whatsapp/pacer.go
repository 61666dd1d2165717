package whatsapp

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Broadcast pacing defaults: WhatsApp flags numbers that send many messages
// quickly or at a steady rhythm, so sends are spaced at random and capped per day.
const (
	DefaultMinGap   = 8 * time.Second
	DefaultMaxGap   = 20 * time.Second
	DefaultDailyCap = 200
)

// Pacer spaces out broadcast sends on one WhatsApp number: a random gap in
// [minGap, maxGap] between sends and at most dailyCap sends per calendar day.
// Days are counted in the location of the times now returns, so pass
// func() time.Time { return time.Now().In(loc) } for the coalition's zone.
// It is safe for concurrent use; counts live in memory (see Restore).
type Pacer struct {
	minGap, maxGap time.Duration
	dailyCap       int
	now            func() time.Time
	rand           func() float64

	mu      sync.Mutex
	last    time.Time // when the last reserved send is due
	day     time.Time // midnight starting the day count belongs to
	count   int
	resetAt time.Time
}

// NewPacer returns a Pacer. Zero gaps or cap take the defaults (8–20 s,
// 200 a day); maxGap below minGap is raised to minGap. A nil now uses
// time.Now, a nil rand math/rand/v2's Float64 (values in [0, 1)).
func NewPacer(minGap, maxGap time.Duration, dailyCap int, now func() time.Time, rand func() float64) *Pacer {
	if minGap <= 0 && maxGap <= 0 {
		minGap, maxGap = DefaultMinGap, DefaultMaxGap
	}
	if maxGap < minGap {
		maxGap = minGap
	}
	if dailyCap <= 0 {
		dailyCap = DefaultDailyCap
	}
	if now == nil {
		now = time.Now
	}
	if rand == nil {
		rand = randFloat
	}
	return &Pacer{minGap: minGap, maxGap: maxGap, dailyCap: dailyCap, now: now, rand: rand}
}

func randFloat() float64 { return rand.Float64() }

// Reserve books the next send. It returns how long to wait before sending
// it, a random gap after the previous reserved send (zero for the first),
// and ok=false, booking nothing, when the day that send would fall on has
// used its cap: then wait until ResetAt.
func (p *Pacer) Reserve() (wait time.Duration, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	at := now
	if !p.last.IsZero() {
		gap := p.minGap + time.Duration(p.rand()*float64(p.maxGap-p.minGap))
		if next := p.last.Add(gap); next.After(at) {
			at = next
		}
	}
	day := midnight(at)
	if !day.Equal(p.day) {
		p.day, p.count = day, 0
	}
	if p.count >= p.dailyCap {
		p.resetAt = day.AddDate(0, 0, 1)
		return 0, false
	}
	p.count++
	p.last = at
	return at.Sub(now), true
}

// ResetAt returns the midnight when the cap that made Reserve refuse
// lifts; zero if Reserve has not refused.
func (p *Pacer) ResetAt() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.resetAt
}

// Restore seeds the Pacer after a restart: the time of the last send and
// how many went out on that day, so a restart neither bursts nor lifts the cap.
func (p *Pacer) Restore(last time.Time, sentThatDay int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = last.In(p.now().Location())
	p.day = midnight(p.last)
	p.count = sentThatDay
}

// Estimate returns roughly how long n more sends take from now, at the mean
// gap and waiting for midnight whenever a day's cap is reached: what a
// broadcast preview shows for its WhatsApp part.
func (p *Pacer) Estimate(n int) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n <= 0 {
		return 0
	}
	now := p.now()
	mean := (p.minGap + p.maxGap) / 2
	// replay Reserve with the mean gap, the dispatcher sleeping until
	// midnight whenever it refuses
	t, prev, day, used := now, p.last, p.day, p.count
	for n > 0 {
		at := t
		if !prev.IsZero() && prev.Add(mean).After(at) {
			at = prev.Add(mean)
		}
		if d := midnight(at); !d.Equal(day) {
			day, used = d, 0
		}
		if used >= p.dailyCap {
			t = day.AddDate(0, 0, 1)
			continue
		}
		used++
		prev, t = at, at
		n--
	}
	return prev.Sub(now)
}

// midnight returns the start of t's day in t's location.
func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}
