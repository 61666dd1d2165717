// Package dashboard is the coordinators' web dashboard: the coalition's
// operations through a second front door, beside the chat. Like a
// conversation, a page holds no rule: it gathers what an operation needs
// from a form, calls the operation (bot/coalition) and shows its result or
// its error in the reader's language.
//
// Pages are rendered on the server with html/template, Arabic first and
// right to left, English one click away; numbers and dates are written
// through package messages, as in chat. Charts are SVG drawn on the server
// by gonum/plot, inlined in the page, so they need no script and no
// network; the only script (assets/app.js) updates a draft's recipient
// counts and a running broadcast's progress. Templates, styles, the script
// and the font are embedded in the binary.
//
// Signing in takes no password: a coordinator or admin sends /dashboard to
// the bot and gets a link that works once, for a few minutes
// (coalition.Logins). It opens a session held in the store, named by a
// Secure, HttpOnly, SameSite=Strict cookie, that ends after a while without
// a request. Every request reads the person's role again, so a dismissed
// coordinator is signed out at once. Every form carries the session's CSRF
// secret, and cross-origin posts are refused besides
// (http.CrossOriginProtection).
package dashboard

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/messages"
	"mobilise/store"
)

// Prefix is the path the dashboard is served under.
const Prefix = "/dashboard"

// LoginPath is the path of the sign-in page the bot's links point to.
const LoginPath = Prefix + "/login"

// cookieName names the session cookie; langCookie the reader's language.
const (
	cookieName = "mobilise_session"
	langCookie = "mobilise_lang"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Health says whether a channel is connected now.
type Health struct {
	Channel   bot.ChannelName
	Connected bool
}

// Config is what the dashboard is built from.
type Config struct {
	Co  *coalition.Coalition
	Cat *messages.Catalog
	// Loc is the coalition's time zone, in which dates are typed and shown.
	Loc *time.Location
	Log *slog.Logger
	// Now is the clock; nil for time.Now.
	Now func() time.Time
	// Health reports the channels' connections; nil shows none.
	Health func() []Health
}

// Server serves the dashboard.
type Server struct {
	co     *coalition.Coalition
	cat    *messages.Catalog
	words  coalition.Words
	loc    *time.Location
	log    *slog.Logger
	now    func() time.Time
	health func() []Health
	pages  map[string]*template.Template
	charts *charts
	mux    *http.ServeMux
}

// New builds the dashboard.
func New(cfg Config) (*Server, error) {
	s := &Server{co: cfg.Co, cat: cfg.Cat, words: cfg.Co.Words(), loc: cfg.Loc, log: cfg.Log, now: cfg.Now, health: cfg.Health}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.health == nil {
		s.health = func() []Health { return nil }
	}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if s.charts, err = newCharts(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// parsePages parses each page together with the layout.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("listing templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", n, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// Handler returns the dashboard's HTTP handler, to be served under Prefix.
func (s *Server) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	return securityHeaders(cop.Handler(s.mux))
}

// securityHeaders keeps pages out of frames and caches, and scripts to the dashboard's own.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		// inline styles: the charts' SVG draws with style attributes; scripts stay the dashboard's own
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		if !strings.HasPrefix(r.URL.Path, Prefix+"/assets/") {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

// request is one signed-in request: who, in which language.
type request struct {
	w     http.ResponseWriter
	r     *http.Request
	by    coalition.Actor
	csrf  string
	lang  string
	token string // the session cookie, to sign out
}

// handler is a page's handler for a signed-in person.
type handler func(q *request) error

// langOf is the reader's language: the one they chose, else Arabic, the
// coalition's first language, whatever the browser says.
func langOf(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil {
		return messages.NormalizeLang(c.Value)
	}
	return messages.Arabic
}

// signedIn wraps h: it reads the session, refreshing the person's role,
// and on a POST checks the form's CSRF secret. A request without a live
// session goes to the signed-out page.
func (s *Server) signedIn(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := langOf(r)
		c, err := r.Cookie(cookieName)
		if err != nil {
			s.signedOut(w, r)
			return
		}
		ws, err := s.co.Logins.Session(r.Context(), c.Value)
		if errors.Is(err, coalition.ErrBadCode) || errors.Is(err, coalition.ErrNotAllowed) {
			clearCookie(w, cookieName)
			s.signedOut(w, r)
			return
		}
		if err != nil {
			s.fail(w, r, lang, err)
			return
		}
		if r.Method == http.MethodPost {
			// PostFormValue reads url-encoded and multipart forms alike
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(ws.CSRF)) != 1 {
				s.log.Warn("form without its CSRF secret refused", "path", r.URL.Path, "contact_id", ws.Actor.Person)
				http.Error(w, "forbidden: this form has expired, reload the page", http.StatusForbidden)
				return
			}
		}
		q := &request{w: w, r: r, by: ws.Actor, csrf: ws.CSRF, lang: lang, token: c.Value}
		if err := h(q); err != nil {
			s.fail(w, r, lang, err)
		}
	})
}

// fail answers a request an operation failed for a reason that is no rule's.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, lang string, err error) {
	s.log.Error("dashboard request", "path", r.URL.Path, "error", err)
	if errors.Is(err, coalition.ErrNotAllowed) {
		http.Error(w, s.cat.Text(lang, messages.ErrNotAllowed, nil), http.StatusForbidden)
		return
	}
	if errors.Is(err, coalition.ErrNotFound) {
		http.Error(w, s.cat.Text(lang, messages.ErrNotFoundGeneric, nil), http.StatusNotFound)
		return
	}
	http.Error(w, s.cat.Text(lang, messages.DashError, nil), http.StatusInternalServerError)
}

func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: Prefix, MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// signedOut shows the page that says how to sign in.
func (s *Server) signedOut(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusUnauthorized, "signedout", &view{Lang: langOf(r)}, nil)
}

// routes registers every page.
func (s *Server) routes() {
	m := http.NewServeMux()
	assets, _ := fs.Sub(assetFS, "assets") // the directory is embedded: Sub cannot fail
	m.Handle("GET "+Prefix+"/assets/", http.StripPrefix(Prefix+"/assets/", cacheAssets(http.FileServerFS(assets))))
	m.HandleFunc("GET "+LoginPath, s.loginPage)
	m.HandleFunc("POST "+LoginPath, s.login)
	m.HandleFunc("GET "+Prefix+"/lang/{lang}", s.setLang)
	m.HandleFunc("GET "+Prefix+"/signed-out", s.signedOut)
	m.Handle("POST "+Prefix+"/logout", s.signedIn(s.logout))
	m.Handle("POST "+Prefix+"/logout-everyone", s.signedIn(s.logoutEveryone))

	m.Handle("GET "+Prefix+"/{$}", s.signedIn(s.overview))
	m.Handle("POST "+Prefix+"/pause", s.signedIn(s.pause))
	m.Handle("POST "+Prefix+"/resume", s.signedIn(s.resume))

	m.Handle("GET "+Prefix+"/campaigns", s.signedIn(s.campaigns))
	m.Handle("GET "+Prefix+"/campaigns/new", s.signedIn(s.newCampaign))
	m.Handle("POST "+Prefix+"/campaigns/new", s.signedIn(s.createCampaign))
	m.Handle("GET "+Prefix+"/campaigns/{id}", s.signedIn(s.campaign))
	m.Handle("POST "+Prefix+"/campaigns/{id}/edit", s.signedIn(s.editCampaign))
	m.Handle("POST "+Prefix+"/campaigns/{id}/close", s.signedIn(s.closeCampaign))
	m.Handle("POST "+Prefix+"/campaigns/{id}/reopen", s.signedIn(s.reopenCampaign))

	m.Handle("GET "+Prefix+"/broadcasts", s.signedIn(s.broadcasts))
	m.Handle("POST "+Prefix+"/broadcasts", s.limitUpload(s.signedIn(s.composeBroadcast)))
	m.Handle("GET "+Prefix+"/broadcasts/count", s.signedIn(s.countAudience))
	m.Handle("GET "+Prefix+"/broadcasts/{id}", s.signedIn(s.broadcast))
	m.Handle("GET "+Prefix+"/broadcasts/{id}/progress", s.signedIn(s.broadcastProgress))
	m.Handle("POST "+Prefix+"/broadcasts/{id}/{verb}", s.signedIn(s.decideBroadcast))

	m.Handle("GET "+Prefix+"/reminders", s.signedIn(s.reminders))
	m.Handle("POST "+Prefix+"/reminders", s.signedIn(s.createReminder))
	m.Handle("POST "+Prefix+"/reminders/{id}/{verb}", s.signedIn(s.decideReminder))

	m.Handle("GET "+Prefix+"/institutions", s.signedIn(s.institutions))
	m.Handle("POST "+Prefix+"/institutions/{id}/{verb}", s.signedIn(s.decideInstitution))
	m.Handle("POST "+Prefix+"/team/{verb}", s.signedIn(s.changeRole))

	m.Handle("GET "+Prefix+"/audit", s.signedIn(s.audit))
	m.Handle("GET "+Prefix+"/exports", s.signedIn(s.exports))
	m.Handle("POST "+Prefix+"/exports", s.signedIn(s.download))
	s.mux = m
}

// cacheAssets lets browsers keep the embedded assets for a day.
func cacheAssets(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, r)
	})
}

// setLang switches the reader's language and goes back where they were.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	lang := messages.NormalizeLang(r.PathValue("lang"))
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: Prefix, MaxAge: 365 * 24 * 3600, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	back := r.URL.Query().Get("back")
	if u, err := url.Parse(back); err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, Prefix) {
		back = Prefix + "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// loginPage shows the sign-in button for a link's secret. Opening the link
// spends nothing: a link preview fetched by a chat platform must not use
// the link up; pressing the button does.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", &view{Lang: langOf(r)}, map[string]any{"Token": r.URL.Query().Get("t")})
}

// login spends a link and opens a session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	cookie, ws, err := s.co.Logins.Redeem(r.Context(), r.PostFormValue("t"))
	var reason messages.Key
	switch {
	case errors.Is(err, coalition.ErrBadCode):
		reason = messages.DashLinkUsed
	case errors.Is(err, coalition.ErrNotAllowed), errors.Is(err, coalition.ErrNotFound):
		reason = messages.DashLinkNotAllowed
	case err != nil:
		s.fail(w, r, lang, err)
		return
	}
	if reason != "" {
		s.render(w, r, http.StatusForbidden, "signedout", &view{Lang: lang}, map[string]any{"Reason": s.cat.Text(lang, reason, nil)})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: cookie, Path: Prefix, Expires: ws.Expires.Add(24 * time.Hour),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
}

func (s *Server) logout(q *request) error {
	if err := s.co.Logins.Logout(q.r.Context(), q.by, q.token); err != nil {
		return err
	}
	clearCookie(q.w, cookieName)
	http.Redirect(q.w, q.r, Prefix+"/signed-out", http.StatusSeeOther)
	return nil
}

func (s *Server) logoutEveryone(q *request) error {
	if _, err := s.co.Logins.LogoutEveryone(q.r.Context(), q.by); err != nil {
		return err
	}
	clearCookie(q.w, cookieName)
	http.Redirect(q.w, q.r, Prefix+"/signed-out", http.StatusSeeOther)
	return nil
}

// ctx is the request's context.
func (q *request) ctx() context.Context { return q.r.Context() }

// admin reports whether the person is an admin now.
func (q *request) admin() bool { return q.by.Role.AtLeast(store.RoleAdmin) }
