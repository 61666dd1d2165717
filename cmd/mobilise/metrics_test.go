package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/store"
)

// opsChannel is a channel for the operations tests: Send answers with the
// queued errors in turn, and Connected reports what the test sets.
type opsChannel struct {
	name      bot.ChannelName
	mu        sync.Mutex
	errs      []error
	connected atomic.Bool
}

func (c *opsChannel) Name() bot.ChannelName                        { return c.name }
func (c *opsChannel) Run(ctx context.Context, _ bot.Handler) error { <-ctx.Done(); return nil }
func (c *opsChannel) Send(context.Context, bot.Outgoing) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) == 0 {
		return "1", nil
	}
	err := c.errs[0]
	c.errs = c.errs[1:]
	return "", err
}
func (c *opsChannel) Connected() bool { return c.connected.Load() }

// opsLinkingChannel is an opsChannel that makes share links, as Telegram does.
type opsLinkingChannel struct{ opsChannel }

func (c *opsLinkingChannel) ShareLink(payload string) string {
	return "https://t.me/x?start=" + payload
}

// opsStore opens a new store in a temporary data directory.
func opsStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	st, err := store.Open(filepath.Join(dir, dbFileName), store.WithBatchDelay(0))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st, dir
}

// opsPhone and the names are personal data the seed writes, so tests can look
// for them where they must not be.
const (
	opsPhone       = "970599123456"
	opsPersonName  = "Samar Khalil"
	opsInstPhone   = "+970599765432"
	opsInstEmail   = "info@peace.example.org"
	opsInstContact = "=HYPERLINK(\"http://evil\")"
)

// opsSeed fills st with an institution, two campaigns, three people (one on
// WhatsApp), pledges (one through a share code, one anonymous after its
// person was forgotten), sign-ups, a queued message and a reminder.
func opsSeed(t *testing.T, st *store.Store) {
	t.Helper()
	require.NoError(t, st.CreateInstitution(context.Background(), &store.Institution{
		NameAR: "مركز السلام", NameEN: "Peace Center", Field: "reconciliation", Governorates: []string{"nablus", "jenin"},
		ContactPerson: opsInstContact, Phone: opsInstPhone, Email: opsInstEmail, Status: store.InstitutionApproved,
	}))
	require.NoError(t, st.CreateInstitution(context.Background(), &store.Institution{NameAR: "جمعية", Field: "youth", Status: store.InstitutionPending}))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	peace := &store.Campaign{Code: "peace", TitleAR: "عهد السلام", Kind: store.KindBoth, Target: 100, StartAt: start}
	require.NoError(t, st.CreateCampaign(context.Background(), peace))
	quiet := &store.Campaign{Code: "quiet", TitleAR: "هدوء", Kind: store.KindPledge, StartAt: start, Closed: true}
	require.NoError(t, st.CreateCampaign(context.Background(), quiet))

	wa, _, err := st.EnsureContact(context.Background(), bot.Address{Channel: bot.WhatsApp, ID: opsPhone}, opsPersonName, "ar")
	require.NoError(t, err)
	_, err = st.UpdateContact(context.Background(), wa.ID, func(c *store.Contact) error { c.Consent = true; return nil })
	require.NoError(t, err)
	tg, _, err := st.EnsureContact(context.Background(), bot.MustParseAddress("telegram:555"), "Omar", "en")
	require.NoError(t, err)
	_, err = st.UpdateContact(context.Background(), tg.ID, func(c *store.Contact) error { c.Stopped = true; return nil })
	require.NoError(t, err)
	gone, _, err := st.EnsureContact(context.Background(), bot.MustParseAddress("telegram:777"), "Gone", "ar")
	require.NoError(t, err)

	at := time.Date(2026, 2, 3, 10, 11, 12, 0, time.UTC)
	_, err = st.AddPledge(context.Background(), store.Pledge{CampaignID: peace.ID, ContactID: wa.ID, At: at, Channel: "whatsapp", Governorate: "nablus", Lang: "ar"})
	require.NoError(t, err)
	_, err = st.AddPledge(context.Background(), store.Pledge{CampaignID: peace.ID, ContactID: tg.ID, At: at, Channel: "telegram", Lang: "en", ReferredBy: wa.ID})
	require.NoError(t, err)
	_, err = st.AddPledge(context.Background(), store.Pledge{CampaignID: peace.ID, ContactID: gone.ID, At: at, Channel: "telegram"})
	require.NoError(t, err)
	require.NoError(t, st.ForgetContact(context.Background(), gone.ID))
	_, err = st.AddSignup(context.Background(), store.Signup{CampaignID: peace.ID, ContactID: wa.ID, At: at, Channel: "whatsapp", Governorate: "nablus", Lang: "ar"})
	require.NoError(t, err)

	require.NoError(t, st.Enqueue(context.Background(), store.OutboxEntry{To: bot.Address{Channel: bot.WhatsApp, ID: opsPhone}, ContactID: wa.ID, Text: "hello"}))
	require.NoError(t, st.CreateReminder(context.Background(), &store.Reminder{
		TextAR: "تذكير", Audience: store.Audience{Kind: store.AudienceEveryone},
		Spec: "0 10 * * 5", NextFireAt: at.Add(24 * time.Hour), Kind: store.ReminderCustom,
	}))
}

// parseMetrics reads a /metrics answer with the Prometheus text parser.
func parseMetrics(t *testing.T, body io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(body)
	require.NoError(t, err)
	return fams
}

// metricValue returns the value of the series of fam with the given labels.
func metricValue(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	fam, ok := fams[name]
	require.True(t, ok, "no metric %s", name)
	for _, m := range fam.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		if fmt.Sprint(got) != fmt.Sprint(labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

func TestMetricsScrape(t *testing.T) {
	st, _ := opsStore(t)
	opsSeed(t, st)
	tg := &opsLinkingChannel{opsChannel{name: "telegram"}}
	wa := &opsChannel{name: "whatsapp"}
	tg.errs = []error{
		nil,
		fmt.Errorf("telegram: sendMessage to telegram:1: %w", bot.ErrRecipientGone),
		fmt.Errorf("telegram: sendMessage to telegram:2: %w", &bot.ThrottledError{RetryAfter: time.Second}),
		errors.New("telegram: sendMessage to telegram:3: connection reset"),
		nil,
	}
	handled := 0
	reg := prometheus.NewRegistry()
	m := instrument(reg, st)
	h := m.handler(bot.HandlerFunc(func(context.Context, bot.Incoming) error { handled++; return nil }))
	senders := []bot.Sender{m.sender(tg), m.sender(wa)}

	_, isLinker := bot.LinkerOf(senders[0])
	assert.True(t, isLinker, "the decorator keeps Telegram's share links")
	_, isLinker = bot.LinkerOf(senders[1])
	assert.False(t, isLinker, "and adds none where there were none")
	assert.Equal(t, bot.Telegram, senders[0].Name())

	for range 3 {
		require.NoError(t, h.HandleIncoming(context.Background(), bot.Incoming{From: bot.Address{Channel: "telegram", ID: "1"}, Text: "hi"}))
	}
	require.NoError(t, h.HandleIncoming(context.Background(), bot.Incoming{From: bot.Address{Channel: "whatsapp", ID: opsPhone}, Text: "hi"}))
	assert.Equal(t, 4, handled)
	var sendErrs []error
	for range 5 {
		_, err := senders[0].Send(context.Background(), bot.Outgoing{To: bot.Address{Channel: "telegram", ID: "1"}, Text: "x"})
		sendErrs = append(sendErrs, err)
	}
	assert.ErrorIs(t, sendErrs[1], bot.ErrRecipientGone, "errors pass through unchanged")

	srv := httptest.NewServer(opsMux(st, reg, []bot.Channel{tg, wa}, slog.New(slog.DiscardHandler), nil, nil))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	fams := parseMetrics(t, resp.Body)

	assert.Equal(t, 3.0, metricValue(t, fams, "mobilise_updates_received_total", map[string]string{"channel": "telegram"}))
	assert.Equal(t, 1.0, metricValue(t, fams, "mobilise_updates_received_total", map[string]string{"channel": "whatsapp"}))
	assert.Equal(t, 3.0, metricValue(t, fams, "mobilise_handler_duration_seconds", map[string]string{"channel": "telegram"}), "one latency sample per update")
	for outcome, want := range map[string]float64{"sent": 2, "blocked": 1, "rate_limited": 1, "failed": 1} {
		assert.Equal(t, want, metricValue(t, fams, "mobilise_messages_total", map[string]string{"channel": "telegram", "outcome": outcome}), outcome)
		assert.Equal(t, 0.0, metricValue(t, fams, "mobilise_messages_total", map[string]string{"channel": "whatsapp", "outcome": outcome}), "series exist before the first send")
	}
	assert.Equal(t, 1.0, metricValue(t, fams, "mobilise_outbox_depth", map[string]string{"channel": "whatsapp"}))
	assert.Equal(t, 1.0, metricValue(t, fams, "mobilise_scheduled_reminders", map[string]string{}))
	assert.Equal(t, 3.0, metricValue(t, fams, "mobilise_campaign_pledges", map[string]string{"campaign": "peace"}))
	assert.Equal(t, 1.0, metricValue(t, fams, "mobilise_campaign_signups", map[string]string{"campaign": "peace"}))
	assert.Equal(t, 0.0, metricValue(t, fams, "mobilise_campaign_pledges", map[string]string{"campaign": "quiet"}))
	fi, err := os.Stat(st.Path())
	require.NoError(t, err)
	assert.Equal(t, float64(fi.Size()), metricValue(t, fams, "mobilise_store_size_bytes", map[string]string{}))
	assert.Contains(t, fams, "go_goroutines", "the Go runtime's metrics come along")
	assert.NotContains(t, fams, "promhttp_metric_handler_requests_total", "its own registry, not the global default")

	// the figures from the store are read at each scrape
	_, err = st.AddSignup(context.Background(), store.Signup{CampaignID: 1, ContactID: 2})
	require.NoError(t, err)
	resp2, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp2.Body.Close()
	assert.Equal(t, 2.0, metricValue(t, parseMetrics(t, resp2.Body), "mobilise_campaign_signups", map[string]string{"campaign": "peace"}))
}

func TestMetricsScrapeFailsOnAClosedStore(t *testing.T) {
	st, _ := opsStore(t)
	reg := prometheus.NewRegistry()
	instrument(reg, st)
	require.NoError(t, st.Close())
	srv := httptest.NewServer(opsMux(st, reg, nil, slog.New(slog.DiscardHandler), nil, nil))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, "a wrong zero would hide the problem")
	assert.Contains(t, string(body), "database not open")
}

func TestHealthz(t *testing.T) {
	st, _ := opsStore(t)
	tg := &opsLinkingChannel{opsChannel{name: "telegram"}} // no Connected: counts as connected
	wa := &opsChannel{name: "whatsapp"}
	wa.connected.Store(true)
	channels := []bot.Channel{plainChannel{tg}, wa}
	srv := httptest.NewServer(opsMux(st, prometheus.NewRegistry(), channels, slog.New(slog.DiscardHandler), nil, nil))
	t.Cleanup(srv.Close)
	get := func() (int, string) {
		resp, err := http.Get(srv.URL + "/healthz")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	code, body := get()
	assert.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "ok\n", body)

	wa.connected.Store(false)
	code, body = get()
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "whatsapp: not connected\n", body)

	require.NoError(t, st.Close())
	code, body = get()
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "store: ")
	assert.Contains(t, body, "whatsapp: not connected")

	resp, err := http.Post(srv.URL+"/healthz", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// plainChannel hides every method but bot.Channel's, as the Telegram channel
// has no Connected.
type plainChannel struct{ bot.Channel }

func TestStartOpsServesAndStops(t *testing.T) {
	st, dir := opsStore(t)
	logs := &syncWriter{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	cfg := defaultConfig()
	cfg.DataDir = dir
	cfg.HTTPAddr = "127.0.0.1:0"
	reg := prometheus.NewRegistry()
	instrument(reg, st)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop, err := startOps(ctx, cfg, log, st, reg, nil, nil, nil)
	require.NoError(t, err)

	var addr string
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Addr != "" {
			addr = rec.Addr
		}
	}
	require.NotEmpty(t, addr, "the listening address is logged: %s", logs.String())
	resp, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	socket := filepath.Join(dir, adminSocketName)
	fi, err := os.Stat(socket)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "only the bot's user reaches the admin socket")

	stop()
	_, err = http.Get("http://" + addr + "/healthz")
	assert.Error(t, err, "the listener is closed")
	_, err = os.Stat(socket)
	assert.ErrorIs(t, err, os.ErrNotExist, "the socket file goes with the listener")

	cfg.HTTPAddr = addr
	ln, err := startOps(ctx, cfg, log, st, reg, nil, nil, nil)
	require.NoError(t, err, "the address is free again")
	ln()
}

func TestStartOpsWarnsOfAnOpenDataDirectory(t *testing.T) {
	st, dir := opsStore(t)
	require.NoError(t, os.Chmod(dir, 0o755))
	logs := &syncWriter{}
	cfg := defaultConfig()
	cfg.DataDir = dir
	stop, err := startOps(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, nil)), st, prometheus.NewRegistry(), nil, nil, nil)
	require.NoError(t, err)
	stop()
	assert.Contains(t, logs.String(), "chmod 700")
}

// syncWriter collects log output written from several goroutines.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// editingChannel is an opsChannel that edits messages, as Telegram does.
type editingChannel struct {
	opsLinkingChannel
	edits atomic.Int32
}

func (c *editingChannel) Edit(context.Context, string, bot.Outgoing) error {
	c.edits.Add(1)
	return nil
}

// TestSenderWrapperKeepsEveryCapability checks that the metrics wrapper
// main puts around each channel offers what the channel offers: without
// Editor, a broadcast's progress would never be edited in place.
func TestSenderWrapperKeepsEveryCapability(t *testing.T) {
	st, _ := opsStore(t)
	m := instrument(prometheus.NewRegistry(), st)
	tg := &editingChannel{opsLinkingChannel: opsLinkingChannel{opsChannel{name: bot.Telegram}}}
	wrapped := m.sender(tg)
	ed, ok := bot.EditorOf(wrapped)
	require.True(t, ok, "the wrapper still edits")
	require.NoError(t, ed.Edit(context.Background(), "1", bot.Outgoing{To: bot.Address{Channel: bot.Telegram, ID: "1"}, Text: "x"}))
	assert.Equal(t, int32(1), tg.edits.Load(), "through to the channel")
	_, ok = bot.LinkerOf(wrapped)
	assert.True(t, ok, "and makes share links")
	_, ok = bot.EditorOf(m.sender(&opsChannel{name: bot.WhatsApp}))
	assert.False(t, ok, "and invents nothing")
}
