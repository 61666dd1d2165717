package coalition

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
)

// linkCodeTTL is how long a code from /link stays valid, and a link waiting
// for its privileged side to confirm.
const linkCodeTTL = 10 * time.Minute

// A link code is 8 characters from an alphabet without look-alikes (31^8 ≈
// 8.5e11 codes), and an address gets maxLinkFailures wrong tries an hour,
// counted under its mark so /forget does not reset them: a guessed code
// would join a stranger's account to the guesser's.
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

// LinkCode gives the acting person a one-time code to type on their other
// account; their previous code stops working.
func (p *People) LinkCode(ctx context.Context, by Actor) (string, error) {
	code, err := newLinkCode()
	if err != nil {
		return "", err
	}
	if err := p.st.PutLinkCode(ctx, code, by.Person, p.now().Add(linkCodeTTL)); err != nil {
		return "", err
	}
	return code, nil
}

// Linked is what Link did.
type Linked struct {
	// Contact is the person now reachable on both accounts; nil while a
	// privileged owner of the code has yet to confirm.
	Contact *store.Contact
	// Waiting is set when the link waits for the code's owner to confirm.
	Waiting bool
}

// Link joins the acting person's account to the one that gave code. Two
// accounts on one channel cannot be linked. When either has a role above
// citizen the link never passes the role silently: a privileged person who
// typed the code must have confirmed (confirmed true, else ErrConfirm); a
// privileged owner of the code is asked to confirm, and the link waits.
// Every link goes to the audit log and the admins are told.
func (p *People) Link(ctx context.Context, by Actor, code string, confirmed bool) (Linked, error) {
	code = strings.ToLower(strings.TrimSpace(messages.ToASCIIDigits(code)))
	mark, err := p.st.AddressMark(ctx, by.From)
	if err != nil {
		return Linked{}, err
	}
	fails, err := p.st.LinkFailures(ctx, mark, p.now())
	if err != nil {
		return Linked{}, err
	}
	if len(fails) >= maxLinkFailures {
		return Linked{}, ErrTooManyTries
	}
	var out Linked
	var wrong bool
	err = p.st.InTx(ctx, func(ctx context.Context) error {
		ownerID, err := p.st.TakeLinkCode(ctx, code, p.now())
		if errors.Is(err, store.ErrNotFound) {
			wrong = true
			return ErrBadCode
		}
		if err != nil {
			return err
		}
		if ownerID == by.Person {
			return ErrSameAccount
		}
		owner, err := p.st.Contact(ctx, ownerID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrBadCode
		}
		if err != nil {
			return err
		}
		me, err := p.st.Contact(ctx, by.Person)
		if err != nil {
			return notFound(err)
		}
		if sharesChannel(owner, me) {
			return ErrSameChannel
		}
		ownerRole, myRole := p.co.Members.RoleOf(owner), p.co.Members.RoleOf(me)
		if myRole != store.RoleCitizen && !confirmed {
			// the code is spent only if the person goes on: put it back
			if err := p.st.PutLinkCode(ctx, code, ownerID, p.now().Add(linkCodeTTL)); err != nil {
				return err
			}
			return ErrConfirm
		}
		if ownerRole != store.RoleCitizen {
			token, err := newLinkCode()
			if err != nil {
				return err
			}
			if err := p.st.PutPendingLink(ctx, token, store.PendingLink{Owner: ownerID, Requester: by.Person, Expires: p.now().Add(linkCodeTTL)}); err != nil {
				return err
			}
			out.Waiting = true
			w := p.words()
			return p.out.Notify(ctx, outbox.Notice{ContactID: ownerID, Kind: "link_confirm", Render: func(lang string) (string, [][]bot.Button) {
				return p.cat.Text(lang, messages.LinkConfirmOwner, map[string]any{"Who": w.Person(me, lang), "Role": p.cat.Text(lang, messages.RoleKey(string(ownerRole)), nil)}),
					[][]bot.Button{{
						{Text: p.cat.Text(lang, messages.LinkConfirmYes, nil), Payload: "/link yes " + token},
						{Text: p.cat.Text(lang, messages.LinkConfirmNo, nil), Payload: "/link no " + token},
					}}
			}})
		}
		out.Contact, err = p.merge(ctx, owner, me, by.Person)
		return err
	})
	if wrong {
		if ferr := p.st.AddLinkFailure(ctx, mark, p.now()); ferr != nil {
			return Linked{}, errors.Join(err, ferr)
		}
	}
	return out, err
}

// ConfirmLink is a privileged code owner's answer to a link waiting for
// them: yes joins the accounts, no drops the link and tells the other side.
func (p *People) ConfirmLink(ctx context.Context, by Actor, token string, yes bool) (*store.Contact, error) {
	var out *store.Contact
	err := p.st.InTx(ctx, func(ctx context.Context) error {
		pl, err := p.st.TakePendingLink(ctx, strings.ToLower(strings.TrimSpace(token)), p.now())
		if errors.Is(err, store.ErrNotFound) {
			return ErrBadCode
		}
		if err != nil {
			return err
		}
		ownerID, err := p.st.Identity(ctx, pl.Owner)
		if err != nil {
			return err
		}
		if ownerID != by.Person {
			return ErrNotAllowed
		}
		if !yes {
			return p.out.Notify(ctx, outbox.Notice{ContactID: pl.Requester, Kind: "link_refused", Render: func(lang string) (string, [][]bot.Button) {
				return p.cat.Text(lang, messages.LinkRefused, nil), nil
			}})
		}
		owner, err := p.st.Contact(ctx, ownerID)
		if err != nil {
			return notFound(err)
		}
		requester, err := p.st.Contact(ctx, pl.Requester)
		if errors.Is(err, store.ErrNotFound) {
			return ErrBadCode
		}
		if err != nil {
			return err
		}
		if sharesChannel(owner, requester) {
			return ErrSameChannel
		}
		out, err = p.merge(ctx, owner, requester, by.Person)
		return err
	})
	return out, err
}

// sharesChannel reports whether two contacts have addresses on one channel:
// one person has one account per platform.
func sharesChannel(a, b *store.Contact) bool {
	for _, x := range a.Addresses {
		for _, y := range b.Addresses {
			if x.Channel == y.Channel {
				return true
			}
		}
	}
	return false
}

// merge joins other into keep, audits it and tells the admins.
func (p *People) merge(ctx context.Context, keep, other *store.Contact, by uint64) (*store.Contact, error) {
	roleBefore := p.co.Members.RoleOf(keep)
	if r := p.co.Members.RoleOf(other); r.Rank() > roleBefore.Rank() {
		roleBefore = r
	}
	merged, err := p.st.LinkAddresses(ctx, keep.ID, other.ID)
	if err != nil {
		return nil, fmt.Errorf("linking contacts %d and %d: %w", keep.ID, other.ID, err)
	}
	role := p.co.Members.RoleOf(merged)
	var chans []string
	for _, a := range merged.Addresses {
		chans = append(chans, string(a.Channel))
	}
	if err := p.audit(ctx, by, "accounts_linked", map[string]string{
		"contact_id": fmt.Sprint(merged.ID), "merged_id": fmt.Sprint(other.ID), "role": string(role), "channels": strings.Join(chans, ","),
	}); err != nil {
		return nil, err
	}
	p.log.Info("contacts linked", "contact_id", merged.ID, "merged", other.ID)
	if role != store.RoleCitizen {
		p.roleChanged(ctx)
	}
	w := p.words()
	if err := p.notifyAdmins(ctx, merged.ID, "accounts_linked", func(lang string) (string, [][]bot.Button) {
		return p.cat.Text(lang, messages.LinkAdminNotice, map[string]any{
			"Who": w.Person(merged, lang), "Role": p.cat.Text(lang, messages.RoleKey(string(role)), nil),
		}), nil
	}); err != nil {
		return nil, err
	}
	return merged, nil
}
