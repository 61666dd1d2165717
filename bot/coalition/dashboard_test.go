package coalition_test

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/bot/coalition"
	"mobilise/bot/schedule"
	"mobilise/store"
)

// sink records what is sent on one channel.
type sink struct {
	mu   sync.Mutex
	sent []bot.Outgoing
}

func (s *sink) Name() bot.ChannelName { return bot.Telegram }
func (s *sink) Send(_ context.Context, m bot.Outgoing) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	return "1", nil
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type dashFixture struct {
	co     *coalition.Coalition
	st     *store.Store
	clock  *clock
	admin  coalition.Actor
	coord  coalition.Actor
	people map[string]*store.Contact
}

func newDashFixture(t *testing.T) *dashFixture {
	t.Helper()
	clk := &clock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	st, err := store.Open(filepath.Join(t.TempDir(), "mobilise.db"), store.WithNow(clk.Now), store.WithBatchDelay(time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	adminAddr := bot.MustParseAddress("telegram:1")
	s := bottest.New(t, st, []bot.Sender{&sink{}}, bottest.Config{
		Admins: []bot.Address{adminAddr}, Now: clk.Now, Threshold: 100,
		Coalition: []coalition.Option{coalition.WithDashboard("https://dash.example.org/login")},
	})
	f := &dashFixture{co: s.Co, st: st, clock: clk, people: map[string]*store.Contact{}}
	ctx := context.Background()
	for _, who := range []string{"1", "2", "3"} {
		c, _, err := st.EnsureContact(ctx, bot.MustParseAddress("telegram:"+who), "person "+who, "ar")
		require.NoError(t, err)
		f.people[who] = c
	}
	f.admin = s.Co.Members.ActorOf(f.people["1"], adminAddr)
	_, err = s.Co.Members.Appoint(ctx, f.admin, f.people["2"])
	require.NoError(t, err)
	f.coord, err = s.Co.Members.Actor(ctx, f.people["2"].ID, bot.MustParseAddress("telegram:2"))
	require.NoError(t, err)
	require.Equal(t, store.RoleCoordinator, f.coord.Role)
	return f
}

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	assert.Equal(t, "dash.example.org", u.Host)
	return u.Query().Get("t")
}

func TestSignInLinks(t *testing.T) {
	f := newDashFixture(t)
	ctx := context.Background()
	citizen, err := f.co.Members.Actor(ctx, f.people["3"].ID, bot.MustParseAddress("telegram:3"))
	require.NoError(t, err)
	_, err = f.co.Logins.Issue(ctx, citizen)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed, "a citizen gets no link")

	login, err := f.co.Logins.Issue(ctx, f.coord)
	require.NoError(t, err)
	assert.Equal(t, f.clock.Now().Add(coalition.LoginValid), login.Expires)
	token := tokenOf(t, login.URL)
	cookie, ws, err := f.co.Logins.Redeem(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, f.coord.Person, ws.Actor.Person)
	assert.NotEmpty(t, ws.CSRF)
	_, _, err = f.co.Logins.Redeem(ctx, token)
	assert.ErrorIs(t, err, coalition.ErrBadCode, "a link works once")

	got, err := f.co.Logins.Session(ctx, cookie)
	require.NoError(t, err)
	assert.Equal(t, store.RoleCoordinator, got.Actor.Role)
	_, err = f.co.Logins.Session(ctx, "not a cookie")
	assert.ErrorIs(t, err, coalition.ErrBadCode)

	// idle for longer than allowed: signed out
	f.clock.Add(coalition.SessionIdle)
	_, err = f.co.Logins.Session(ctx, cookie)
	assert.ErrorIs(t, err, coalition.ErrBadCode)

	// an expired link
	login, err = f.co.Logins.Issue(ctx, f.coord)
	require.NoError(t, err)
	f.clock.Add(coalition.LoginValid)
	_, _, err = f.co.Logins.Redeem(ctx, tokenOf(t, login.URL))
	assert.ErrorIs(t, err, coalition.ErrBadCode)

	// a link whose person was dismissed before using it
	login, err = f.co.Logins.Issue(ctx, f.coord)
	require.NoError(t, err)
	cookie, _, err = f.co.Logins.Redeem(ctx, tokenOf(t, login.URL))
	require.NoError(t, err)
	second, err := f.co.Logins.Issue(ctx, f.coord)
	require.NoError(t, err)
	_, err = f.co.Members.Dismiss(ctx, f.admin, f.people["2"])
	require.NoError(t, err)
	_, _, err = f.co.Logins.Redeem(ctx, tokenOf(t, second.URL))
	assert.ErrorIs(t, err, coalition.ErrNotAllowed, "a citizen's link is refused")
	_, err = f.co.Logins.Session(ctx, cookie)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed, "a dismissed coordinator's session stops at once")
	_, err = f.co.Logins.Session(ctx, cookie)
	assert.ErrorIs(t, err, coalition.ErrBadCode, "and is gone")

	page, err := f.co.Members.AuditLog(ctx, f.admin, coalition.AuditFilter{Person: f.coord.Person})
	require.NoError(t, err)
	var actions []string
	for _, e := range page.Entries {
		actions = append(actions, e.Action)
	}
	assert.Contains(t, actions, "dashboard_link_issued")
	assert.Contains(t, actions, "dashboard_signed_in")
	assert.Contains(t, actions, "dashboard_sign_in_refused")
}

func TestLogoutEveryone(t *testing.T) {
	f := newDashFixture(t)
	ctx := context.Background()
	var cookies []string
	for _, by := range []coalition.Actor{f.admin, f.coord} {
		login, err := f.co.Logins.Issue(ctx, by)
		require.NoError(t, err)
		cookie, _, err := f.co.Logins.Redeem(ctx, tokenOf(t, login.URL))
		require.NoError(t, err)
		cookies = append(cookies, cookie)
	}
	_, err := f.co.Logins.LogoutEveryone(ctx, f.coord)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
	require.NoError(t, f.co.Logins.Logout(ctx, f.coord, cookies[1]))
	_, err = f.co.Logins.Session(ctx, cookies[1])
	assert.ErrorIs(t, err, coalition.ErrBadCode, "signed out")
	n, err := f.co.Logins.LogoutEveryone(ctx, f.admin)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = f.co.Logins.Session(ctx, cookies[0])
	assert.ErrorIs(t, err, coalition.ErrBadCode)
}

func TestExportsRule(t *testing.T) {
	f := newDashFixture(t)
	ctx := context.Background()
	var buf bytes.Buffer
	_, err := f.co.Exports.Write(ctx, f.coord, "pledges.csv", true, &buf)
	assert.ErrorIs(t, err, coalition.ErrNotAllowed, "personal data is for admins")
	assert.Zero(t, buf.Len())
	_, err = f.co.Exports.Write(ctx, f.coord, "pledges.csv", false, &buf)
	require.NoError(t, err)
	assert.Contains(t, buf.String(), "campaign_code")
	_, err = f.co.Exports.Write(ctx, f.admin, "contacts.csv", true, &buf)
	assert.ErrorIs(t, err, coalition.ErrNotFound)
	page, err := f.co.Members.AuditLog(ctx, f.admin, coalition.AuditFilter{Action: "export_downloaded"})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1, "each download in the audit log")
	assert.Equal(t, "false", page.Entries[0].Details["personal"])
	_, err = f.co.Members.AuditLog(ctx, f.coord, coalition.AuditFilter{})
	assert.ErrorIs(t, err, coalition.ErrNotAllowed)
}

func TestNextTimes(t *testing.T) {
	f := newDashFixture(t)
	loc, err := time.LoadLocation("Asia/Hebron") // the dashFixture's zone
	require.NoError(t, err)
	s, err := schedule.Parse("every friday at 18:00", f.clock.Now(), loc)
	require.NoError(t, err)
	next := s.Next(f.clock.Now(), loc)
	times := f.co.Reminders.NextTimes(&store.Reminder{Schedule: &s, NextFireAt: next}, 3)
	require.Len(t, times, 3)
	assert.Equal(t, 7*24*time.Hour, times[1].Sub(times[0]).Round(time.Hour))
	assert.Len(t, f.co.Reminders.NextTimes(&store.Reminder{NextFireAt: next}, 3), 1, "a one-off fires once")
}

// TestForgetEndsSignIns checks that /forget ends the person's dashboard
// sessions and unused sign-in links at once: they hold the address the
// person came from.
func TestForgetEndsSignIns(t *testing.T) {
	f := newDashFixture(t)
	ctx := context.Background()
	login, err := f.co.Logins.Issue(ctx, f.coord)
	require.NoError(t, err)
	cookie, _, err := f.co.Logins.Redeem(ctx, tokenOf(t, login.URL))
	require.NoError(t, err)
	unused, err := f.co.Logins.Issue(ctx, f.coord)
	require.NoError(t, err)
	other, err := f.co.Logins.Issue(ctx, f.admin)
	require.NoError(t, err)
	otherCookie, _, err := f.co.Logins.Redeem(ctx, tokenOf(t, other.URL))
	require.NoError(t, err)

	require.NoError(t, f.co.People.Forget(ctx, f.coord))
	n, err := f.st.WebSessionCount(ctx, f.clock.Now())
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only the admin's session is left")
	_, err = f.co.Logins.Session(ctx, cookie)
	assert.ErrorIs(t, err, coalition.ErrBadCode)
	_, _, err = f.co.Logins.Redeem(ctx, tokenOf(t, unused.URL))
	assert.ErrorIs(t, err, coalition.ErrBadCode, "the unused link went too")
	_, err = f.co.Logins.Session(ctx, otherCookie)
	assert.NoError(t, err, "another person's session stays")
}
