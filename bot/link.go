package bot

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"mobilise/messages"
	"mobilise/store"
)

// linkCodeTTL is how long a code from /link stays valid.
const linkCodeTTL = 10 * time.Minute

// A link code is 8 characters from an alphabet without look-alikes (31^8 ≈
// 8.5e11 codes), and a person gets maxLinkFailures wrong tries an hour: a
// guessed code would join a stranger's account to the guesser's.
const (
	linkCodeAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	linkCodeLen      = 8
	maxLinkFailures  = 5
)

func newLinkCode() (string, error) {
	b := make([]byte, linkCodeLen)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(linkCodeAlphabet))))
		if err != nil {
			return "", fmt.Errorf("drawing a link code: %w", err)
		}
		b[i] = linkCodeAlphabet[n.Int64()]
	}
	return string(b), nil
}

// guessLimit counts wrong link codes per contact over the last hour.
type guessLimit struct {
	mu    sync.Mutex
	fails map[uint64][]time.Time
}

func (g *guessLimit) recent(id uint64, now time.Time) []time.Time {
	var kept []time.Time
	for _, at := range g.fails[id] {
		if now.Sub(at) < time.Hour {
			kept = append(kept, at)
		}
	}
	return kept
}

func (g *guessLimit) allow(id uint64, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.recent(id, now)) < maxLinkFailures
}

func (g *guessLimit) fail(id uint64, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fails == nil {
		g.fails = map[uint64][]time.Time{}
	}
	g.fails[id] = append(g.recent(id, now), now)
}

// cmdLink joins one person's accounts on two channels: without an argument it
// gives a one-time code; with the code, sent from the other account, it
// merges the two into one contact, so the person counts and is messaged once.
func (t *turn) cmdLink(arg string) error {
	arg = strings.TrimSpace(messages.ToASCIIDigits(arg))
	if arg == "" {
		code, err := newLinkCode()
		if err != nil {
			return err
		}
		if err := t.s.store.PutLinkCode(code, t.c.ID, t.s.now().Add(linkCodeTTL)); err != nil {
			return err
		}
		t.say(messages.LinkCode, map[string]any{"Code": messages.Isolate(code)})
		t.flush(nil)
		return nil
	}
	if !t.s.linkGuesses.allow(t.c.ID, t.s.now()) {
		t.say(messages.LinkTooMany, nil)
		t.flush(nil)
		return nil
	}
	otherID, err := t.s.store.TakeLinkCode(strings.ToLower(arg), t.s.now())
	if errors.Is(err, store.ErrNotFound) {
		t.s.linkGuesses.fail(t.c.ID, t.s.now())
		t.say(messages.LinkBadCode, nil)
		t.flush(nil)
		return nil
	}
	if err != nil {
		return err
	}
	if otherID == t.c.ID {
		t.say(messages.LinkSame, nil)
		t.flush(nil)
		return nil
	}
	merged, err := t.s.store.LinkAddresses(otherID, t.c.ID)
	if errors.Is(err, store.ErrNotFound) {
		t.say(messages.LinkBadCode, nil)
		t.flush(nil)
		return nil
	}
	if err != nil {
		return fmt.Errorf("linking contacts %d and %d: %w", otherID, t.c.ID, err)
	}
	t.s.log.Info("contacts linked", "contact_id", merged.ID, "merged", t.c.ID)
	// this contact is gone; the turn must not write its session back
	t.forgotten = true
	t.c = merged
	var addrs []string
	for _, a := range merged.Addresses {
		addrs = append(addrs, messages.Isolate(a))
	}
	t.say(messages.LinkDone, map[string]any{"Addresses": strings.Join(addrs, t.text(messages.CommonListSep, nil))})
	t.flush(nil)
	return nil
}
