package coalition_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/bot/outbox"
	"mobilise/bot/schedule"
	"mobilise/messages"
	"mobilise/store"
)

// testNow is a Monday morning in Hebron.
var testNow = time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)

// fixture is the coalition's operations over a real store in a temp dir,
// with an outbox queue for Telegram and WhatsApp that nothing drains: what
// the operations hand to other people stays there for the test to read.
type fixture struct {
	t   *testing.T
	st  *store.Store
	co  *coalition.Coalition
	cat *messages.Catalog
	loc *time.Location

	mu  sync.Mutex
	now time.Time
	n   int
	// theAdmin is the admin who approves institutions (org_fixture_test.go).
	theAdmin *store.Contact
}

// roles are every role a person can have, for tests that try each.
var roles = []store.Role{store.RoleCitizen, store.RoleMember, store.RoleCoordinator, store.RoleAdmin}

// newFixture builds the operations with an approval threshold of 3, no
// quiet hours, and opts after those defaults.
func newFixture(t *testing.T, opts ...coalition.Option) *fixture {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Hebron")
	require.NoError(t, err)
	cat, err := messages.New()
	require.NoError(t, err)
	f := &fixture{t: t, cat: cat, loc: loc, now: testNow}
	st, err := store.Open(filepath.Join(t.TempDir(), "mobilise.db"), store.WithBatchDelay(0), store.WithNow(f.clock))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	f.st = st
	q := outbox.NewQueue(st, bot.Telegram, bot.WhatsApp)
	f.co = coalition.New(st, cat, q, append([]coalition.Option{
		coalition.WithClock(f.clock), coalition.WithLocation(loc), coalition.WithApprovalThreshold(3),
		coalition.WithQuietHours(schedule.QuietHours{}), coalition.WithEditor(bot.Telegram),
	}, opts...)...)
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// advance moves the clock on.
func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// person makes an onboarded person who agreed to messages, on Telegram,
// in Nablus, speaking Arabic, with role.
func (f *fixture) person(role store.Role) *store.Contact {
	f.t.Helper()
	return f.personOn(bot.Telegram, role, "nablus", "ar")
}

// personOn makes an onboarded, consenting person on channel.
func (f *fixture) personOn(channel bot.ChannelName, role store.Role, gov, lang string) *store.Contact {
	f.t.Helper()
	ctx := context.Background()
	f.mu.Lock()
	f.n++
	id := fmt.Sprintf("%d", 1000+f.n)
	if channel == bot.WhatsApp {
		id = fmt.Sprintf("970599%06d", f.n)
	}
	f.mu.Unlock()
	c, _, err := f.st.EnsureContact(ctx, bot.Address{Channel: channel, ID: id}, "Person "+id, lang)
	require.NoError(f.t, err)
	c, err = f.st.UpdateContact(ctx, c.ID, func(c *store.Contact) error {
		c.Consent, c.ConsentAt, c.OnboardedAt, c.Governorate = true, testNow, testNow, gov
		if role != store.RoleCitizen {
			c.Role = role
		}
		return nil
	})
	require.NoError(f.t, err)
	return c
}

// crowd makes n citizens in gov.
func (f *fixture) crowd(n int, gov string) []*store.Contact {
	f.t.Helper()
	var out []*store.Contact
	for range n {
		out = append(out, f.personOn(bot.Telegram, store.RoleCitizen, gov, "ar"))
	}
	return out
}

// actor is c acting from their first address, with their role now.
func (f *fixture) actor(c *store.Contact) coalition.Actor {
	f.t.Helper()
	fresh, err := f.st.Contact(context.Background(), c.ID)
	require.NoError(f.t, err)
	return f.co.Members.ActorOf(fresh, fresh.Addresses[0])
}

// queued returns every message waiting in the outbox, replies, notices
// and bulk alike, in ID order per channel.
func (f *fixture) queued() []store.OutboxEntry {
	f.t.Helper()
	var out []store.OutboxEntry
	for _, ch := range []bot.ChannelName{bot.Telegram, bot.WhatsApp} {
		for _, bulk := range []bool{false, true} {
			entries, err := f.st.PendingOutbox(context.Background(), ch, bulk, 0, 100_000)
			require.NoError(f.t, err)
			out = append(out, entries...)
		}
	}
	return out
}

// to returns the queued messages of kind to c.
func (f *fixture) to(c *store.Contact, kind store.MessageKind) []store.OutboxEntry {
	f.t.Helper()
	var out []store.OutboxEntry
	for _, e := range f.queued() {
		if e.ContactID == c.ID && (kind == "" || e.Kind == kind) {
			out = append(out, e)
		}
	}
	return out
}

// ofKind returns the queued messages of kind, to anyone.
func (f *fixture) ofKind(kind store.MessageKind) []store.OutboxEntry {
	f.t.Helper()
	var out []store.OutboxEntry
	for _, e := range f.queued() {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// bulkOf returns the queued messages of a broadcast.
func (f *fixture) bulkOf(broadcastID uint64) []store.OutboxEntry {
	f.t.Helper()
	var out []store.OutboxEntry
	for _, e := range f.queued() {
		if e.BroadcastID == broadcastID {
			out = append(out, e)
		}
	}
	return out
}

// audit returns the audit entries of action.
func (f *fixture) audit(action string) []store.AuditEntry {
	f.t.Helper()
	var out []store.AuditEntry
	require.NoError(f.t, f.st.Audit(context.Background(), func(e *store.AuditEntry) error {
		if e.Action == action {
			out = append(out, *e)
		}
		return nil
	}))
	return out
}

// campaign creates an open campaign by a coordinator.
func (f *fixture) campaign(code string, kind store.CampaignKind, target int) *store.Campaign {
	f.t.Helper()
	d := coalition.Draft{Code: code, TitleAR: "حملة " + code, TitleEN: "Campaign " + code, CallAR: "انضمّوا", CallEN: "Join",
		Kind: kind, Target: target, StartAt: f.clock().Add(-time.Hour)}
	if kind.HasEvent() {
		d.EventAt, d.EventPlace = f.clock().Add(72*time.Hour), "نابلس"
	}
	c, err := f.co.Campaigns.Create(context.Background(), f.actor(f.person(store.RoleCoordinator)), d)
	require.NoError(f.t, err)
	return c
}

// everyone is the audience of everyone who agreed to messages.
var everyone = store.Audience{Kind: store.AudienceEveryone}

// governorate is the audience of one governorate.
func governorate(g string) store.Audience {
	return store.Audience{Kind: store.AudienceGovernorate, Governorate: g}
}

// texts are the texts of entries.
func texts(entries []store.OutboxEntry) string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Text)
	}
	return strings.Join(out, "\n---\n")
}
