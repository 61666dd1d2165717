package whatsapp

import (
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Hebron without the system zone database

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func seeded() func() float64 { return rand.New(rand.NewPCG(1, 2)).Float64 }

func hebron(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Hebron")
	require.NoError(t, err)
	return loc
}

func TestPacerGaps(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, hebron(t))}
	p := NewPacer(0, 0, 0, clk.now, seeded())

	wait, ok := p.Reserve()
	require.True(t, ok)
	assert.Zero(t, wait, "the first send goes at once")

	seen := map[time.Duration]bool{}
	for range 50 {
		wait, ok := p.Reserve()
		require.True(t, ok)
		assert.GreaterOrEqual(t, wait, DefaultMinGap)
		assert.LessOrEqual(t, wait, DefaultMaxGap)
		seen[wait] = true
		clk.advance(wait) // the dispatcher sleeps, then sends
	}
	assert.Greater(t, len(seen), 40, "gaps vary: no steady rhythm")
}

func TestPacerGapCountsFromPreviousSend(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	p := NewPacer(10*time.Second, 10*time.Second, 10, clk.now, seeded())
	_, _ = p.Reserve()

	// a caller asking again at once waits the full gap; two back-to-back
	// reservations queue one gap after the other
	wait, _ := p.Reserve()
	assert.Equal(t, 10*time.Second, wait)
	wait, _ = p.Reserve()
	assert.Equal(t, 20*time.Second, wait)

	// once that time has passed, a late caller sends at once
	clk.advance(time.Minute)
	wait, _ = p.Reserve()
	assert.Zero(t, wait)
}

func TestPacerDailyCapResetsAtMidnightInHebron(t *testing.T) {
	loc := hebron(t)
	// 00:30 in Hebron is still the previous day in UTC
	clk := &clock{t: time.Date(2026, 5, 5, 0, 30, 0, 0, loc)}
	p := NewPacer(8*time.Second, 20*time.Second, 3, clk.now, seeded())
	assert.True(t, p.ResetAt().IsZero())

	for range 3 {
		wait, ok := p.Reserve()
		require.True(t, ok)
		clk.advance(wait)
	}
	wait, ok := p.Reserve()
	assert.False(t, ok, "cap used up")
	assert.Zero(t, wait)
	reset := p.ResetAt()
	assert.Equal(t, time.Date(2026, 5, 6, 0, 0, 0, 0, loc), reset)
	assert.NotEqual(t, 0, reset.UTC().Hour(), "midnight in Hebron, not UTC")

	clk.advance(20 * time.Hour) // later that day: still capped
	_, ok = p.Reserve()
	assert.False(t, ok)

	clk.set(reset)
	wait, ok = p.Reserve()
	assert.True(t, ok, "a new day")
	assert.Zero(t, wait)
}

func TestPacerSendAfterMidnightCountsOnNewDay(t *testing.T) {
	loc := hebron(t)
	clk := &clock{t: time.Date(2026, 5, 5, 23, 59, 55, 0, loc)}
	p := NewPacer(10*time.Second, 10*time.Second, 1, clk.now, seeded())
	_, ok := p.Reserve()
	require.True(t, ok)
	// the next send is due at 00:00:05, on a day with its own cap
	wait, ok := p.Reserve()
	assert.True(t, ok)
	assert.Equal(t, 10*time.Second, wait)
}

func TestPacerRestore(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 5, 15, 0, 0, 0, hebron(t))}
	p := NewPacer(8*time.Second, 8*time.Second, 200, clk.now, seeded())
	p.Restore(clk.now().Add(-3*time.Second), 200)
	_, ok := p.Reserve()
	assert.False(t, ok, "a restart does not lift the cap")

	p = NewPacer(8*time.Second, 8*time.Second, 200, clk.now, seeded())
	p.Restore(clk.now().Add(-3*time.Second), 10)
	wait, ok := p.Reserve()
	assert.True(t, ok)
	assert.Equal(t, 5*time.Second, wait, "nor bursts after the last send")
}

func TestPacerEstimate(t *testing.T) {
	loc := hebron(t)
	clk := &clock{t: time.Date(2026, 5, 5, 23, 0, 0, 0, loc)}
	p := NewPacer(8*time.Second, 20*time.Second, 200, clk.now, seeded())
	assert.Zero(t, p.Estimate(0))
	assert.Zero(t, p.Estimate(1))
	assert.Equal(t, 2*14*time.Second, p.Estimate(3), "mean gap 14 s")

	capped := NewPacer(8*time.Second, 20*time.Second, 2, clk.now, seeded())
	assert.Equal(t, time.Hour, capped.Estimate(3), "the third waits for midnight")
	assert.Equal(t, 25*time.Hour, capped.Estimate(5))
}
