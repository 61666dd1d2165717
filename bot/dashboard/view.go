package dashboard

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"mobilise/bot/coalition"
	"mobilise/messages"
	"mobilise/store"
)

// view is what every page's template sees: the reader, their language,
// the words, and the page's own data.
type view struct {
	s     *Server
	Lang  string
	Page  string
	Actor coalition.Actor
	CSRF  string
	Path  string
	// Flash is a line of news at the top (what the last action did);
	// Problem says why it did not happen.
	Flash, Problem string
	Data           any
}

// funcs are the template functions that need no view.
var funcs = template.FuncMap{
	"id":   func(v uint64) string { return strconv.FormatUint(v, 10) },
	"add3": func(a, b, c int) int { return a + b + c },
	"audiences": func() []string {
		return []string{"everyone", "members", "governorate", "lang", "pledgers", "not_pledged", "signups"}
	},
	"pct": func(n, of int) int {
		if of <= 0 {
			return 0
		}
		return min(100, n*100/of)
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			if k, ok := kv[i].(string); ok {
				m[k] = kv[i+1]
			}
		}
		return m
	},
}

// Dir is the writing direction of the page.
func (v *view) Dir() string {
	if v.Lang == messages.English {
		return "ltr"
	}
	return "rtl"
}

// Other is the other language, and OtherName its name in itself.
func (v *view) Other() string {
	if v.Lang == messages.English {
		return messages.Arabic
	}
	return messages.English
}

// OtherName is the other language's name, written in that language.
func (v *view) OtherName() string { return v.s.cat.Text(v.Other(), messages.LangKey(v.Other()), nil) }

// LangHref switches to the other language and comes back here.
func (v *view) LangHref() string {
	return Prefix + "/lang/" + v.Other() + "?back=" + url.QueryEscape(v.Path)
}

// Admin reports whether the reader is an admin.
func (v *view) Admin() bool { return v.Actor.Role.AtLeast(store.RoleAdmin) }

// SignedIn reports whether the page is shown to a signed-in person.
func (v *view) SignedIn() bool { return v.Actor.Person != 0 }

// T is a message in the reader's language.
func (v *view) T(key string) string { return v.s.cat.Text(v.Lang, messages.Key(key), nil) }

// Tf is a message filled from name, value pairs.
func (v *view) Tf(key string, kv ...any) string {
	return v.s.cat.Text(v.Lang, messages.Key(key), funcs["dict"].(func(...any) map[string]any)(kv...))
}

// C is a plural message for n.
func (v *view) C(key string, n int) string { return v.s.cat.Count(v.Lang, messages.Key(key), n, nil) }

// N writes a number the reader's way.
func (v *view) N(n int) string { return messages.FormatNumber(v.Lang, n) }

// Time writes a date and time the reader's way, in the coalition's zone.
func (v *view) Time(t time.Time) string { return v.s.words.Time(v.Lang, t) }

// Date writes a date the reader's way.
func (v *view) Date(t time.Time) string {
	if t.IsZero() {
		return v.T(string(messages.CommonNone))
	}
	return v.s.words.Date(v.Lang, t)
}

// About says roughly how long something takes.
func (v *view) About(d time.Duration) string { return v.s.words.About(v.Lang, d) }

// Title is a campaign's title in the reader's language.
func (v *view) Title(c *store.Campaign) string {
	if c == nil {
		return v.T(string(messages.CommonNone))
	}
	return coalition.Title(c, v.Lang)
}

// Audience describes an audience as chat does: a poll's answerers by their
// answer, an institution's supporters by its name.
func (v *view) Audience(a store.Audience, c *store.Campaign) string {
	describe, err := v.s.co.Polls.DescribeAudience(context.Background(), a, c)
	if err != nil {
		v.s.log.Warn("describing an audience", "error", err)
		return v.s.words.Audience(a, c, v.Lang)
	}
	return describe(v.Lang)
}

// Person names a person by number, name and channels, without their phone.
func (v *view) Person(id uint64) string {
	if id == 0 {
		return v.T(string(messages.CommonNone))
	}
	c, err := v.s.co.Members.FindPerson(context.Background(), "#"+strconv.FormatUint(id, 10))
	if err != nil {
		return "#" + strconv.FormatUint(id, 10)
	}
	return v.s.words.Person(c, v.Lang)
}

// Gov is a governorate's name.
func (v *view) Gov(key string) string {
	if key == "" {
		return v.T(string(messages.DashUnknown))
	}
	return v.s.cat.Text(v.Lang, messages.GovernorateKey(key), nil)
}

// Channel is a channel's name.
func (v *view) Channel(name string) string {
	return v.s.cat.Text(v.Lang, messages.ChannelKey(name), nil)
}

// Role is a role's name.
func (v *view) Role(r store.Role) string {
	return v.s.cat.Text(v.Lang, messages.RoleKey(string(r)), nil)
}

// Status is a broadcast's or application's state, in words.
func (v *view) Status(st string) string {
	return v.s.cat.Text(v.Lang, messages.Key("dash.status."+st), nil)
}

// InLang picks the reader's language of a text given in both.
func (v *view) InLang(ar, en string) string { return coalition.InLang(v.Lang, ar, en) }

// Governorates lists the governorate keys, for pickers.
func (v *view) Governorates() []string { return messages.Governorates() }

// Local writes t for a datetime-local input, in the coalition's zone.
func (v *view) Local(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(v.s.loc).Format("2006-01-02T15:04")
}

// render writes page with data, in the layout.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view, data any) {
	v.s, v.Page, v.Data, v.Path = s, page, data, r.URL.RequestURI()
	if v.Lang == "" {
		v.Lang = langOf(r)
	}
	t, ok := s.pages[page]
	if !ok {
		s.log.Error("no such page template", "page", page)
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		s.log.Error("rendering page", "page", page, "error", err)
		http.Error(w, s.cat.Text(v.Lang, messages.DashError, nil), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w) // the browser went away: nothing to do
}

// page renders a signed-in page.
func (q *request) page(s *Server, page string, data any) {
	q.pageWith(s, page, data, "", "")
}

// pageWith renders a signed-in page with news or a problem on top.
func (q *request) pageWith(s *Server, page string, data any, flash, problem string) {
	status := http.StatusOK
	if problem != "" {
		status = http.StatusUnprocessableEntity
	}
	s.render(q.w, q.r, status, page, &view{Lang: q.lang, Actor: q.by, CSRF: q.csrf, Flash: flash, Problem: problem}, data)
}

// done goes to path after an action, with its news.
func (q *request) done(path, flash string) {
	if flash != "" {
		path += "?done=" + url.QueryEscape(flash)
	}
	http.Redirect(q.w, q.r, path, http.StatusSeeOther)
}

// flash is the news an action left for the page it went to.
func (q *request) flash(s *Server) string {
	key := q.r.URL.Query().Get("done")
	if key == "" || !s.cat.Has(q.lang, messages.Key(key)) {
		return ""
	}
	return s.cat.Text(q.lang, messages.Key(key), nil)
}

// explain says why an operation refused, in the reader's language, and
// reports whether the error was a rule's; the field is the form field an
// *InvalidError names.
func (s *Server) explain(lang string, err error) (text, field string, ok bool) {
	var inv *coalition.InvalidError
	key := messages.Key("")
	switch {
	case errors.As(err, &inv):
		return s.cat.Text(lang, inv.Reason, map[string]any{"Max": messages.FormatNumber(lang, coalition.MaxCall)}), inv.Field, true
	case errors.Is(err, coalition.ErrNotAllowed):
		key = messages.ErrNotAllowed
	case errors.Is(err, coalition.ErrNotFound):
		key = messages.ErrNotFoundGeneric
	case errors.Is(err, coalition.ErrNobody):
		key = messages.BroadcastNobody
	case errors.Is(err, coalition.ErrOwnApproval):
		key = messages.BroadcastOwnApproval
	case errors.Is(err, coalition.ErrAudienceGrew):
		key = messages.BroadcastAudienceGrew
	case errors.Is(err, coalition.ErrAlreadyPaused):
		key = messages.PauseAlready
	case errors.Is(err, coalition.ErrDecided):
		key = messages.DashDecided
	case errors.Is(err, coalition.ErrTooOften):
		key = messages.RemindTooOften
	case errors.Is(err, coalition.ErrTooManyReminders):
		key = messages.DashTooManyReminders
	case errors.Is(err, coalition.ErrYourself):
		key = messages.AdminNotYourself
	case errors.Is(err, coalition.ErrConfiguredAdmin):
		key = messages.AdminCannotDismissAdmin
	case errors.Is(err, coalition.ErrAlreadyAdmin):
		key = messages.AdminAlreadyAdmin
	case errors.Is(err, coalition.ErrCampaignClosed):
		key = messages.CampaignClosed
	default:
		return "", "", false
	}
	return s.cat.Text(lang, key, nil), "", true
}
