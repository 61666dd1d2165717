package bot

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"mobilise/messages"
	"mobilise/store"
)

// linkCodeTTL is how long a code from /link stays valid.
const linkCodeTTL = 10 * time.Minute

// cmdLink joins one person's accounts on two channels: without an argument it
// gives a one-time code; with the code, sent from the other account, it
// merges the two into one contact, so the person counts and is messaged once.
func (t *turn) cmdLink(arg string) error {
	arg = strings.TrimSpace(messages.ToASCIIDigits(arg))
	if arg == "" {
		n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
		if err != nil {
			return fmt.Errorf("drawing a link code: %w", err)
		}
		code := fmt.Sprintf("%06d", n.Int64())
		if err := t.s.store.PutLinkCode(code, t.c.ID, t.s.now().Add(linkCodeTTL)); err != nil {
			return err
		}
		t.say(messages.LinkCode, map[string]any{"Code": messages.Isolate(code)})
		t.flush(nil)
		return nil
	}
	otherID, err := t.s.store.TakeLinkCode(arg, t.s.now())
	if errors.Is(err, store.ErrNotFound) {
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
