package coalition

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"mobilise/store"
)

// How long the dashboard's sign-ins last.
const (
	// LoginValid is how long a sign-in link works, once.
	LoginValid = 5 * time.Minute
	// SessionIdle is how long a signed-in browser stays signed in without a request.
	SessionIdle = 30 * time.Minute
	// sessionTouch is how stale a session's last request may be before it
	// is written again: not every request needs a write.
	sessionTouch = time.Minute
)

// ErrNoDashboard: the dashboard is not switched on.
var ErrNoDashboard = errors.New("the dashboard is off")

// WithDashboard switches sign-in links on: loginURL is the address of the
// dashboard's sign-in page as people's browsers reach it (the public
// address behind a reverse proxy), to which a link's secret is added.
func WithDashboard(loginURL string) Option { return func(r *rules) { r.dashboard = loginURL } }

// Logins are the dashboard's sign-ins: a coordinator or admin asks the
// bot for a link, which works once, for a few minutes, and opens a session
// in the browser; every request reads the person's role anew, so a
// dismissed coordinator is signed out at once.
type Logins struct{ *rules }

// Login is a sign-in link just made.
type Login struct {
	URL     string
	Expires time.Time
}

// WebSession is a signed-in browser: who acts through it, and the secret
// its forms carry back.
type WebSession struct {
	Actor   Actor
	CSRF    string
	Expires time.Time
}

// secret returns a new random secret and the hash under which the store keeps it.
func secret() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error
	s := base64.RawURLEncoding.EncodeToString(b)
	return s, hashSecret(s)
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Issue makes a sign-in link for the acting person, a coordinator or an
// admin, bound to them and to the address they asked from.
func (l *Logins) Issue(ctx context.Context, by Actor) (Login, error) {
	if !by.can(store.RoleCoordinator) {
		return Login{}, ErrNotAllowed
	}
	if l.dashboard == "" {
		return Login{}, ErrNoDashboard
	}
	u, err := url.Parse(l.dashboard)
	if err != nil {
		return Login{}, fmt.Errorf("the dashboard's address %q: %w", l.dashboard, err)
	}
	token, hash := secret()
	q := u.Query()
	q.Set("t", token)
	u.RawQuery = q.Encode()
	expires := l.now().Add(LoginValid)
	err = l.st.InTx(ctx, func(ctx context.Context) error {
		if err := l.st.PutLoginToken(ctx, hash, store.LoginToken{ContactID: by.Person, From: by.From, Lang: by.Lang, Expires: expires}); err != nil {
			return err
		}
		return l.audit(ctx, by.Person, "dashboard_link_issued", map[string]string{"channel": string(by.From.Channel)})
	})
	if err != nil {
		return Login{}, err
	}
	return Login{URL: u.String(), Expires: expires}, nil
}

// Redeem uses a sign-in link's secret and opens a session for its person:
// ErrBadCode when the link is unknown, used or expired, ErrNotAllowed when
// the person is no longer a coordinator or admin. It returns the session's
// cookie secret. Either way the link is spent.
func (l *Logins) Redeem(ctx context.Context, token string) (string, WebSession, error) {
	var cookie string
	var ws WebSession
	err := l.st.InTx(ctx, func(ctx context.Context) error {
		t, err := l.st.TakeLoginToken(ctx, hashSecret(token), l.now())
		if errors.Is(err, store.ErrNotFound) {
			return ErrBadCode
		}
		if err != nil {
			return err
		}
		by, err := l.co.Members.Actor(ctx, t.ContactID, t.From)
		if err != nil {
			return notFound(err)
		}
		if !by.can(store.RoleCoordinator) {
			// the link is spent all the same, and the refusal recorded
			return l.audit(ctx, by.Person, "dashboard_sign_in_refused", map[string]string{"role": string(by.Role)})
		}
		var hash []byte
		cookie, hash = secret()
		csrf, _ := secret()
		now := l.now().UTC()
		ws = WebSession{Actor: by, CSRF: csrf, Expires: now.Add(SessionIdle)}
		if err := l.st.PutWebSession(ctx, hash, store.WebSession{
			ContactID: by.Person, From: t.From, Lang: t.Lang, CSRF: csrf, CreatedAt: now, SeenAt: now, Expires: ws.Expires,
		}); err != nil {
			return err
		}
		l.log.Info("dashboard sign-in", "contact_id", by.Person)
		return l.audit(ctx, by.Person, "dashboard_signed_in", nil)
	})
	if err == nil && cookie == "" {
		err = ErrNotAllowed
	}
	if err != nil {
		return "", WebSession{}, err
	}
	return cookie, ws, nil
}

// Session returns who acts through the session with this cookie, with
// their role of this moment, and keeps the session alive. ErrBadCode: no
// such session, or it expired. ErrNotAllowed: the person is no longer a
// coordinator or admin; their sessions are ended.
func (l *Logins) Session(ctx context.Context, cookie string) (WebSession, error) {
	hash := hashSecret(cookie)
	now := l.now()
	s, err := l.st.WebSession(ctx, hash, now)
	if errors.Is(err, store.ErrNotFound) {
		return WebSession{}, ErrBadCode
	}
	if err != nil {
		return WebSession{}, err
	}
	by, err := l.co.Members.Actor(ctx, s.ContactID, s.From)
	if errors.Is(err, ErrNotFound) || (err == nil && !by.can(store.RoleCoordinator)) {
		if _, derr := l.st.DeleteWebSessions(ctx, s.ContactID); derr != nil {
			return WebSession{}, derr
		}
		l.log.Info("dashboard session ended: the person may no longer use it", "contact_id", s.ContactID)
		return WebSession{}, ErrNotAllowed
	}
	if err != nil {
		return WebSession{}, err
	}
	if now.Sub(s.SeenAt) >= sessionTouch {
		s.SeenAt, s.Expires = now.UTC(), now.Add(SessionIdle).UTC()
		if err := l.st.PutWebSession(ctx, hash, s); err != nil {
			return WebSession{}, err
		}
	}
	return WebSession{Actor: by, CSRF: s.CSRF, Expires: s.Expires}, nil
}

// Logout ends the session with this cookie.
func (l *Logins) Logout(ctx context.Context, by Actor, cookie string) error {
	return l.st.InTx(ctx, func(ctx context.Context) error {
		if err := l.st.DeleteWebSession(ctx, hashSecret(cookie)); err != nil {
			return err
		}
		return l.audit(ctx, by.Person, "dashboard_signed_out", nil)
	})
}

// LogoutEveryone ends every dashboard session, the admin's own too, and
// spends every sign-in link not yet used. Admins only. It returns how
// many sessions it ended.
func (l *Logins) LogoutEveryone(ctx context.Context, by Actor) (int, error) {
	if !by.can(store.RoleAdmin) {
		return 0, ErrNotAllowed
	}
	var n int
	err := l.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		if n, err = l.st.DeleteWebSessions(ctx, 0); err != nil {
			return err
		}
		l.log.Warn("every dashboard session ended", "by", by.Person, "sessions", n)
		return l.audit(ctx, by.Person, "dashboard_everyone_signed_out", map[string]string{"sessions": strconv.Itoa(n)})
	})
	return n, err
}

// Sessions counts the live dashboard sessions. Admins only.
func (l *Logins) Sessions(ctx context.Context, by Actor) (int, error) {
	if !by.can(store.RoleAdmin) {
		return 0, ErrNotAllowed
	}
	return l.st.WebSessionCount(ctx, l.now())
}

// Enabled reports whether sign-in links can be made.
func (l *Logins) Enabled() bool { return l.dashboard != "" }
