package bot_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/console"
	"mobilise/messages"
	"mobilise/store"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata")

// testNow is the fixed time conversations happen at: a Monday morning in Hebron.
var testNow = time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)

// harness is the bot with a real store in a temp dir, talked to through the console channel.
type harness struct {
	t    *testing.T
	path string
	st   *store.Store
	cat  *messages.Catalog
	now  time.Time
	loc  *time.Location
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Hebron")
	require.NoError(t, err)
	cat, err := messages.New()
	require.NoError(t, err)
	h := &harness{t: t, path: filepath.Join(t.TempDir(), "mobilise.db"), cat: cat, now: testNow, loc: loc}
	h.open()
	return h
}

func (h *harness) open() {
	st, err := store.Open(h.path, store.WithBatchDelay(time.Millisecond), store.WithNow(func() time.Time { return h.now }))
	require.NoError(h.t, err)
	h.st = st
	h.t.Cleanup(func() { _ = h.st.Close() })
}

// restart closes the store and opens it again, as a restarted process would.
func (h *harness) restart() {
	require.NoError(h.t, h.st.Close())
	h.open()
}

// run feeds script to the bot as console input and returns the transcript.
func (h *harness) run(script string) string {
	h.t.Helper()
	var out bytes.Buffer
	con := console.New(strings.NewReader(script), &out, console.WithEcho(true), console.WithClock(func() time.Time { return h.now }))
	svc := bot.New(h.st, h.cat,
		bot.WithSender(con),
		bot.WithClock(func() time.Time { return h.now }),
		bot.WithLocation(h.loc),
		bot.WithAdmins("console:admin"),
		bot.WithFloodLimit(0, time.Second), // the fixed clock never refills a bucket
	)
	require.NoError(h.t, con.Run(context.Background(), svc))
	return h.mask(out.String())
}

var refLink = regexp.MustCompile(`(/start [a-z0-9]*)-[a-z0-9]+`)
var refCode = regexp.MustCompile(`(Invitation code|رمز الدعوة): \x{2068}?[a-z0-9]+\x{2069}?`)

// mask replaces the random referral codes, so transcripts are stable.
func (h *harness) mask(s string) string {
	s = refLink.ReplaceAllString(s, "$1-REF")
	return refCode.ReplaceAllString(s, "$1: REF")
}

// inputOf extracts the typed lines of a transcript: "> " lines, ":as" lines and comments.
func inputOf(transcript string) string {
	var b strings.Builder
	for _, line := range strings.Split(transcript, "\n") {
		switch {
		case strings.HasPrefix(line, "> "):
			b.WriteString(strings.TrimPrefix(line, "> ") + "\n")
		case strings.HasPrefix(line, ":as "), strings.HasPrefix(line, "#"):
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// checkTranscript runs the input of testdata/name and compares the whole
// conversation with it; -update rewrites the file with what the bot said.
func (h *harness) checkTranscript(name string) string {
	h.t.Helper()
	path := filepath.Join("testdata", name)
	want, err := os.ReadFile(path)
	require.NoError(h.t, err)
	got := h.run(inputOf(string(want)))
	if *update {
		require.NoError(h.t, os.WriteFile(path, []byte(got), 0o644))
		return got
	}
	require.Equal(h.t, string(want), got, "transcript %s differs; run go test ./bot -update to accept, then read the diff", name)
	return got
}

// roleOf is the stored role, citizen when none.
func (h *harness) roleOf(c *store.Contact) store.Role {
	if c.Role == "" {
		return store.RoleCitizen
	}
	return c.Role
}
