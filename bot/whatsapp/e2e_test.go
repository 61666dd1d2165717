package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
)

// The end-to-end tests below run the whole bot (bottest's stack over a
// bbolt file and the real catalog, its answers through the outbox) through this channel over the fake client: a
// person is a WhatsApp number whose messages arrive as hand-built whatsmeow
// events, and what they see is the text of the SendMessage calls the fake
// receives. Menus reach them as numbered lines, and they answer by number.

// e2eNow is the engine's fixed clock: a Monday morning in Hebron (UTC+2).
var e2eNow = time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)

// waOwnNumber is the bot's own WhatsApp number, used in wa.me links.
const waOwnNumber = "970599000000"

// waUser is a person writing from a WhatsApp number.
type waUser struct {
	Number, Name string
}

func (u waUser) jid() types.JID    { return types.NewJID(u.Number, types.DefaultUserServer) }
func (u waUser) addr() bot.Address { return bot.Address{Channel: Name, ID: u.Number} }

// sendingClient is the fake client that also reports each SendMessage call
// on a channel, so tests wait for sends instead of polling.
type sendingClient struct {
	*fakeClient
	sends chan sentMessage
}

func (c *sendingClient) SendMessage(ctx context.Context, to types.JID, msg *waE2E.Message, extra ...whatsmeow.SendRequestExtra) (whatsmeow.SendResponse, error) {
	resp, err := c.fakeClient.SendMessage(ctx, to, msg, extra...)
	c.sends <- sentMessage{To: to, Text: msg.GetConversation()}
	return resp, err
}

// tgRecorder is a second channel named "telegram" that keeps what the
// engine sends through it, on a channel so alerts sent from other
// goroutines can be waited for.
type tgRecorder struct {
	sent chan bot.Outgoing
}

func (r *tgRecorder) Name() bot.ChannelName { return bot.Telegram }

func (r *tgRecorder) Send(_ context.Context, msg bot.Outgoing) (string, error) {
	r.sent <- msg
	return strconv.Itoa(len(r.sent)), nil
}

// drain returns what was sent so far without waiting.
func (r *tgRecorder) drain() []bot.Outgoing {
	var out []bot.Outgoing
	for {
		select {
		case m := <-r.sent:
			out = append(out, m)
		default:
			return out
		}
	}
}

// e2eHarness is the whole bot on one bbolt file with the WhatsApp channel over
// the fake client and a recording "telegram" channel beside it.
type e2eHarness struct {
	t     *testing.T
	path  string
	st    *store.Store
	cat   *messages.Catalog
	loc   *time.Location
	stack *bottest.Stack
	f     *sendingClient
	wa    *Channel
	tg    *tgRecorder
	clk   *clock
	run   *running

	// handled reports each message the engine has finished with.
	handled chan bot.Incoming
	// before, when set, runs on the worker before the engine sees a message.
	before func(in bot.Incoming)
	// alertErrs receives what the bot's Alert returned, which the channel logs.
	alertErrs chan error
	nextID    int
}

// newWAE2E builds the store, the engine with admins, the WhatsApp channel
// wired as cmd/mobilise wires it, and runs the channel.
func newWAE2E(t *testing.T, admins ...bot.Address) *e2eHarness {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Hebron")
	require.NoError(t, err)
	cat, err := messages.New()
	require.NoError(t, err)
	e := &e2eHarness{
		t: t, path: filepath.Join(t.TempDir(), "mobilise.db"), cat: cat, loc: loc,
		f:         &sendingClient{fakeClient: newFakeClient(), sends: make(chan sentMessage, 1024)},
		tg:        &tgRecorder{sent: make(chan bot.Outgoing, 1024)},
		clk:       &clock{t: e2eNow},
		handled:   make(chan bot.Incoming, 100),
		alertErrs: make(chan error, 16),
	}
	e.open()
	// registered before the channel runs, so it closes after Run has returned
	t.Cleanup(func() { assert.NoError(t, e.st.Close()) })

	e.wa = newWithClient(e.f,
		withOwnNumber(waOwnNumber),
		withLIDs(fakeLIDs{e2eLID: types.NewJID("970599123456", types.DefaultUserServer)}),
		withTypingDelay(time.Hour),
		// one worker: everything is handled in the order it arrived, so a
		// marker message proves the events before it were looked at
		WithWorkers(1),
		WithNow(e.clk.now),
	)
	e.stack = bottest.New(t, e.st, []bot.Sender{e.wa, e.tg}, bottest.Config{
		Admins: admins,
		Now:    func() time.Time { return e2eNow },
		// no pacing: the tests wait for each answer, not for WhatsApp's gaps
		Plan: outbox.Plan{
			Name:         {Concurrency: 1, AtMostOnce: true},
			bot.Telegram: {Concurrency: 1},
		},
		Dispatcher: []outbox.Option{outbox.WithClock(time.Now)},
	})
	e.stack.Start(t)
	h := bot.HandlerFunc(func(ctx context.Context, in bot.Incoming) error {
		if e.before != nil {
			e.before(in)
		}
		err := e.stack.Bot.HandleIncoming(ctx, in)
		e.flush()
		e.handled <- in
		return err
	})
	e.run = start(t, e.wa, e.f.fakeClient, alerting{Handler: h, e: e})
	return e
}

// alerting is the handler main gives the channel: the bot behind a
// wrapper, whose alerts reach the admins; what Alert returns is kept.
type alerting struct {
	bot.Handler
	e *e2eHarness
}

func (a alerting) Alert(ctx context.Context, al bot.Alert) error {
	err := a.e.stack.Bot.Alert(ctx, al)
	if err != nil {
		a.e.alertErrs <- err
	}
	a.e.flush()
	return err
}

// flush sends what the bot has queued for both channels.
func (e *e2eHarness) flush() {
	for _, ch := range []bot.ChannelName{Name, bot.Telegram} {
		if err := e.stack.Disp.Flush(context.Background(), ch); err != nil {
			e.t.Errorf("flushing %s: %v", ch, err)
		}
	}
}

var e2eLID = types.NewJID("123456789012345", types.HiddenUserServer)

func (e *e2eHarness) open() {
	st, err := store.Open(e.path, store.WithBatchDelay(time.Millisecond), store.WithNow(func() time.Time { return e2eNow }))
	require.NoError(e.t, err)
	e.st = st
}

// message builds a private text message as whatsmeow delivers it.
func (e *e2eHarness) message(chat, sender types.JID, name, body string) *events.Message {
	e.nextID++
	return &events.Message{
		Info: types.MessageInfo{
			MessageSource: types.MessageSource{Chat: chat, Sender: sender},
			ID:            fmt.Sprintf("3EB0E2E%04d", e.nextID),
			PushName:      name,
			Timestamp:     e2eNow,
			Type:          "text",
		},
		Message: &waE2E.Message{Conversation: &body},
	}
}

// deliver emits evt, waits until the engine has handled it, and returns
// every message the fake client was asked to send meanwhile.
func (e *e2eHarness) deliver(evt *events.Message) []sentMessage {
	e.t.Helper()
	e.f.emit(evt)
	e.waitHandled(evt.Info.ID)
	return e.sent()
}

func (e *e2eHarness) waitHandled(id string) {
	e.t.Helper()
	select {
	case in := <-e.handled:
		require.Equal(e.t, id, in.ExternalID, "a different message was handled")
	case <-time.After(waitTimeout):
		e.t.Fatalf("message %s was not handled", id)
	}
}

// sent returns the SendMessage calls made since the last call.
func (e *e2eHarness) sent() []sentMessage {
	var out []sentMessage
	for {
		select {
		case m := <-e.f.sends:
			out = append(out, m)
		default:
			return out
		}
	}
}

// say sends text from u and returns everything the bot sent meanwhile.
func (e *e2eHarness) say(u waUser, text string) []sentMessage {
	e.t.Helper()
	return e.deliver(e.message(u.jid(), u.jid(), u.Name, text))
}

// one sends text from u and returns the one answer, which went to u alone.
func (e *e2eHarness) one(u waUser, text string) string {
	e.t.Helper()
	got := e.say(u, text)
	require.Len(e.t, got, 1, "want one answer to %q, got %+v", text, got)
	require.Equal(e.t, u.jid(), got[0].To)
	return got[0].Text
}

// only returns the one message among got that went to u.
func only(t *testing.T, u waUser, got []sentMessage) string {
	t.Helper()
	var texts []string
	for _, m := range got {
		if m.To == u.jid() {
			texts = append(texts, m.Text)
		}
	}
	require.Len(t, texts, 1, "want one message to %s, got %+v", u.Number, got)
	return texts[0]
}

// tgSay sends text from the Telegram user id straight to the engine, as the
// Telegram channel would, and returns what was sent to that chat.
func (e *e2eHarness) tgSay(id, text string) []bot.Outgoing {
	e.t.Helper()
	require.NoError(e.t, e.stack.Bot.HandleIncoming(context.Background(), bot.Incoming{
		From: bot.Address{Channel: bot.Telegram, ID: id}, Name: "TG " + id, Text: text,
	}))
	e.flush()
	var out []bot.Outgoing
	for _, m := range e.tg.drain() {
		require.Equal(e.t, id, m.To.ID, "a Telegram message to someone else: %+v", m)
		out = append(out, m)
	}
	return out
}

func (e *e2eHarness) tx(lang string, key messages.Key) string { return e.cat.Text(lang, key, nil) }

// shown is an address as /mydata shows it: the channel's name and the number.
func (e *e2eHarness) shown(lang string, a bot.Address) string {
	return e.tx(lang, messages.ChannelKey(string(a.Channel))) + " " + messages.Isolate(a.ID)
}

func (e *e2eHarness) contact(addr bot.Address) *store.Contact {
	e.t.Helper()
	c, err := e.st.ContactByAddress(context.Background(), addr)
	require.NoError(e.t, err, addr)
	return c
}

func (e *e2eHarness) counts(c *store.Campaign) store.Counts {
	e.t.Helper()
	n, err := e.st.Counts(context.Background(), c.ID)
	require.NoError(e.t, err)
	return n
}

// campaign stores an active campaign; one with an event has it in three days in Nablus.
func (e *e2eHarness) campaign(code string, kind store.CampaignKind, titleAR, titleEN string) *store.Campaign {
	e.t.Helper()
	c := &store.Campaign{
		Code: code, TitleAR: titleAR, TitleEN: titleEN, CallAR: "انضمّوا إلينا", CallEN: "Join us",
		Kind: kind, StartAt: e2eNow.Add(-24 * time.Hour),
	}
	if kind.HasEvent() {
		c.EventAt, c.EventPlace = e2eNow.Add(72*time.Hour), "Nablus"
	}
	require.NoError(e.t, e.st.CreateCampaign(context.Background(), c))
	return c
}

// langNumber is the option of lang in the first language menu.
func langNumber(lang string) string {
	if lang == "en" {
		return "2"
	}
	return "1"
}

// onboard takes u through /start in lang, consenting, skipping the governorate.
func (e *e2eHarness) onboard(u waUser, lang string) {
	e.t.Helper()
	e.one(u, "/start")
	e.one(u, langNumber(lang))
	e.one(u, "yes")
	assert.Contains(e.t, e.one(u, "skip"), e.tx(lang, messages.StartReady))
}

// onboardTG does the same for a Telegram user.
func (e *e2eHarness) onboardTG(id, lang string) {
	e.t.Helper()
	for _, text := range []string{"/start", langNumber(lang), "yes", "skip"} {
		require.Len(e.t, e.tgSay(id, text), 1)
	}
	require.False(e.t, e.contact(bot.Address{Channel: bot.Telegram, ID: id}).OnboardedAt.IsZero())
}

// numbered splits a WhatsApp text into its body and the options of the
// numbered menu that ends it. The numbering must run 1, 2, 3… with one
// option a line, or the menu lost or garbled a button.
func numbered(t *testing.T, text string) (body string, labels []string) {
	t.Helper()
	i := strings.LastIndex(text, "\n\n")
	if i < 0 || !strings.HasPrefix(text[i+2:], "1. ") {
		return text, nil
	}
	for n, line := range strings.Split(text[i+2:], "\n") {
		num, label, ok := strings.Cut(line, ". ")
		require.True(t, ok && num == strconv.Itoa(n+1), "line %q of the menu in %q", line, text)
		require.NotEmpty(t, strings.TrimSpace(label), "empty option in %q", text)
		labels = append(labels, label)
	}
	return text[:i], labels
}

// menu returns the options of the numbered menu ending text.
func menu(t *testing.T, text string) []string {
	t.Helper()
	_, labels := numbered(t, text)
	return labels
}

// mainMenu is the citizen's main menu in lang.
func (e *e2eHarness) mainMenu(lang string, receiving bool) []string {
	toggle := messages.MenuStop
	if !receiving {
		toggle = messages.MenuResume
	}
	var out []string
	for _, k := range []messages.Key{messages.MenuCampaigns, messages.MenuShare, messages.MenuMyData, messages.MenuLanguage, toggle, messages.MenuRegister, messages.MenuHelp} {
		out = append(out, e.tx(lang, k))
	}
	return out
}

// governorates are the governorate options in lang, then last.
func (e *e2eHarness) governorates(lang string, last messages.Key) []string {
	var out []string
	for _, g := range messages.Governorates() {
		out = append(out, e.tx(lang, messages.GovernorateKey(g)))
	}
	return append(out, e.tx(lang, last))
}

func (e *e2eHarness) labels(lang string, keys ...messages.Key) []string {
	var out []string
	for _, k := range keys {
		out = append(out, e.tx(lang, k))
	}
	return out
}

// waLinkPattern finds a wa.me link in a message; Isolate's U+2069 ends it.
var waLinkPattern = regexp.MustCompile(`https://wa\.me/[^\s\x{2069}]+`)

func TestE2ECoreFlows(t *testing.T) {
	// what each person types: numbers in both digit sets, spoken yes,
	// governorates by number and by name, stop in Arabic and English
	cases := []struct {
		label, lang    string
		hello, langNo  string
		consent        string
		gov, wantGov   string
		second, first  string // options typed as numbers, in turns
		stop, again    string
		forgetKeepsNo  string
		forgetYesNo    string
		friendSkipsGov string
	}{
		{
			label: "arabic", lang: "ar", hello: "مرحبا", langNo: "1", consent: "اه",
			gov: "٧", wantGov: "ramallah", second: "٢", first: "١",
			stop: "ايقاف", again: "/start", forgetKeepsNo: "٢", forgetYesNo: "١", friendSkipsGov: "١٧",
		},
		{
			label: "english", lang: "en", hello: "/start", langNo: "٢", consent: "yes",
			gov: "Hebron", wantGov: "hebron", second: "2", first: "1",
			stop: "ايقاف", again: "/start", forgetKeepsNo: "2", forgetYesNo: "1", friendSkipsGov: "17",
		},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			e := newWAE2E(t)
			lang := tc.lang
			tx := func(k messages.Key) string { return e.tx(lang, k) }
			walk := e.campaign("walk", store.KindPledge, "مسيرة السلام", "Peace walk")
			vigil := e.campaign("vigil", store.KindBoth, "وقفة المصالحة", "Reconciliation vigil")
			titleOf := func(c *store.Campaign) string {
				if lang == "en" {
					return c.TitleEN
				}
				return c.TitleAR
			}
			u := waUser{Number: "970599111111", Name: "Layla"}

			// onboarding
			greet := e.one(u, tc.hello)
			assert.Contains(t, greet, e.tx("ar", messages.StartGreeting))
			assert.Contains(t, greet, e.tx("en", messages.StartGreeting))
			assert.Equal(t, []string{"العربية", "English"}, menu(t, greet))

			consent := e.one(u, tc.langNo)
			assert.Contains(t, consent, tx(messages.StartConsent))
			assert.Equal(t, e.labels(lang, messages.CommonYes, messages.CommonNo), menu(t, consent))

			gov := e.one(u, tc.consent)
			assert.Contains(t, gov, tx(messages.StartConsentYes))
			assert.Contains(t, gov, tx(messages.StartGovernorate))
			assert.Equal(t, e.governorates(lang, messages.CommonSkip), menu(t, gov), "all 16 governorates and skip, numbered across the rows")

			ready := e.one(u, tc.gov)
			assert.Contains(t, ready, tx(messages.StartReady))
			assert.Equal(t, e.mainMenu(lang, true), menu(t, ready))
			c := e.contact(u.addr())
			assert.Equal(t, lang, c.Lang)
			assert.True(t, c.Consent)
			assert.Equal(t, tc.wantGov, c.Governorate)
			assert.Equal(t, "Layla", c.Name, "the push name")
			assert.Equal(t, []bot.Address{u.addr()}, c.Addresses)

			// campaigns → open → pledge → sign up → cancel the sign-up, all by number
			list := e.one(u, tc.first)
			assert.Contains(t, list, tx(messages.CampaignsTitle))
			assert.Equal(t, []string{titleOf(walk), titleOf(vigil), tx(messages.CommonBack)}, menu(t, list))

			shown := e.one(u, tc.second)
			assert.Contains(t, shown, "📣 "+titleOf(vigil))
			assert.Contains(t, shown, "📍")
			assert.Equal(t, e.labels(lang, messages.CampaignPledgeButton, messages.CampaignSignupButton, messages.CampaignShareButton, messages.CommonBack), menu(t, shown))

			pledged := e.one(u, tc.first)
			assert.Contains(t, pledged, tx(messages.PledgeThanks))
			assert.Contains(t, pledged, tx(messages.CampaignYouPledged))
			assert.Equal(t, e.labels(lang, messages.CampaignSignupButton, messages.CampaignShareButton, messages.CampaignWithdrawButton, messages.CommonBack), menu(t, pledged))
			p, err := e.st.Pledge(context.Background(), vigil.ID, c.ID)
			require.NoError(t, err)
			assert.Equal(t, Name, p.Channel)
			assert.Equal(t, tc.wantGov, p.Governorate)
			assert.Equal(t, lang, p.Lang)

			signed := e.one(u, tc.first)
			assert.Contains(t, signed, tx(messages.CampaignYouSignedUp))
			assert.Equal(t, e.labels(lang, messages.CampaignCancelSignupButton, messages.CampaignShareButton, messages.CampaignWithdrawButton, messages.CommonBack), menu(t, signed))
			assert.Equal(t, store.Counts{Pledges: 1, Signups: 1}, e.counts(vigil))

			cancelled := e.one(u, tc.first)
			assert.Contains(t, cancelled, tx(messages.SignupCancelled))
			assert.Equal(t, e.labels(lang, messages.CampaignSignupButton, messages.CampaignShareButton, messages.CampaignWithdrawButton, messages.CommonBack), menu(t, cancelled))
			assert.Equal(t, store.Counts{Pledges: 1, Signups: 0}, e.counts(vigil))

			// share: a wa.me link to the bot's number that types "start <payload>"
			share := e.one(u, tc.second)
			links := waLinkPattern.FindAllString(share, -1)
			require.Len(t, links, 1, share)
			link, err := url.Parse(links[0])
			require.NoError(t, err)
			assert.Equal(t, "wa.me", link.Host)
			assert.Equal(t, "/"+waOwnNumber, link.Path)
			prefilled := link.Query().Get("text")
			assert.Equal(t, "start vigil-"+c.RefCode, prefilled)
			assert.NotContains(t, links[0], "+", "wa.me reads + literally")
			assert.Equal(t, e.labels(lang, messages.CampaignSignupButton, messages.CampaignShareButton, messages.CampaignWithdrawButton, messages.CommonBack), menu(t, share), "the campaign is shown again")

			// a friend opens the link: WhatsApp sends the prefilled text from their number
			friend := waUser{Number: "970599222222", Name: "Rana"}
			fgreet := e.one(friend, prefilled)
			assert.Contains(t, fgreet, e.tx(lang, messages.StartGreeting), "onboarding comes first")
			e.one(friend, tc.langNo)
			e.one(friend, tc.consent)
			opened := e.one(friend, tc.friendSkipsGov)
			assert.Contains(t, opened, "📣 "+titleOf(vigil), "the campaign opens once onboarded")
			assert.Equal(t, e.labels(lang, messages.CampaignPledgeButton, messages.CampaignSignupButton, messages.CampaignShareButton, messages.CommonBack), menu(t, opened))
			assert.Contains(t, e.one(friend, tc.first), tx(messages.PledgeThanks))
			fc := e.contact(friend.addr())
			assert.Equal(t, c.ID, fc.ReferredBy)
			assert.Empty(t, fc.Governorate, "skipped")
			assert.Equal(t, 1, e.contact(u.addr()).Referrals)
			fp, err := e.st.Pledge(context.Background(), vigil.ID, fc.ID)
			require.NoError(t, err)
			assert.Equal(t, c.ID, fp.ReferredBy, "the pledge counts for the sharer")
			assert.Equal(t, 2, e.counts(vigil).Pledges)
			// the link opened again counts nothing more
			e.one(friend, prefilled)
			assert.Equal(t, 1, e.contact(u.addr()).Referrals)
			assert.Contains(t, e.one(u, "/share"), e.cat.Count(lang, messages.ShareReferrals, 1, nil))

			// /mydata
			data := e.one(u, "/mydata")
			assert.Contains(t, data, tx(messages.MyDataIntro))
			assert.Contains(t, data, e.shown(lang, u.addr()))
			assert.Contains(t, data, tx(messages.GovernorateKey(tc.wantGov)))
			assert.Contains(t, data, "• "+titleOf(vigil)+" — ")
			assert.Equal(t, e.mainMenu(lang, true), menu(t, data))

			// stop, typed as a word, then start again
			stopped := e.one(u, tc.stop)
			assert.Equal(t, tx(messages.StopDone), stopped, "no menu after stop")
			assert.True(t, e.contact(u.addr()).Stopped)
			resumed := e.one(u, tc.again)
			assert.Contains(t, resumed, tx(messages.StartResumed))
			assert.Contains(t, resumed, tx(messages.StartWelcomeBack))
			assert.Equal(t, e.mainMenu(lang, true), menu(t, resumed))
			assert.False(t, e.contact(u.addr()).Stopped)

			// forget: no keeps everything, yes erases the person but not the totals
			confirm := e.one(u, "/forget")
			assert.Contains(t, confirm, tx(messages.ForgetConfirm))
			assert.Equal(t, e.labels(lang, messages.ForgetYes, messages.ForgetNo), menu(t, confirm))
			kept := e.one(u, tc.forgetKeepsNo)
			assert.Contains(t, kept, tx(messages.ForgetKept))
			assert.Equal(t, c.ID, e.contact(u.addr()).ID)
			e.one(u, "/forget")
			assert.Equal(t, tx(messages.ForgetDone), e.one(u, tc.forgetYesNo))
			_, err = e.st.ContactByAddress(context.Background(), u.addr())
			assert.ErrorIs(t, err, store.ErrNotFound)
			assert.Equal(t, store.Counts{Pledges: 2}, e.counts(vigil), "pledges stay counted, anonymously")
			assert.Zero(t, e.counts(walk).Pledges)
			require.NoError(t, e.st.Check())

			// writing again starts afresh
			assert.Contains(t, e.one(u, tc.hello), e.tx("en", messages.StartGreeting))

			// every message was read, and every one was answered on WhatsApp only
			assert.Len(t, e.f.readReceipts(), e.nextID)
			assert.Empty(t, e.tg.drain())
		})
	}
}

func TestE2EInstitutionRegistration(t *testing.T) {
	cases := []struct {
		label, repLang, adminLang string
		nameEN                    string
		govs, done                string
		approve                   string
	}{
		{label: "arabic applicant, english admin", repLang: "ar", adminLang: "en", nameEN: "١", govs: "٤ ٧", done: "١٧", approve: "1"},
		{label: "english applicant, arabic admin", repLang: "en", adminLang: "ar", nameEN: "Dialogue Centre", govs: "4, 7", done: "17", approve: "١"},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			admin := waUser{Number: "970599000900", Name: "Admin"}
			e := newWAE2E(t, admin.addr())
			e.onboard(admin, tc.adminLang)
			rep := waUser{Number: "970599333333", Name: "Samar"}
			e.onboard(rep, tc.repLang)
			lang := tc.repLang
			tx := func(k messages.Key) string { return e.tx(lang, k) }

			nameAR := e.one(rep, "/register")
			assert.Contains(t, nameAR, tx(messages.RegisterIntro))
			assert.Contains(t, nameAR, tx(messages.RegisterNameAR))
			assert.Nil(t, menu(t, nameAR), "a typed answer: no options")
			nameEN := e.one(rep, "مركز الحوار")
			assert.Equal(t, e.labels(lang, messages.CommonSkip), menu(t, nameEN))

			field := e.one(rep, tc.nameEN)
			var fields []string
			for _, f := range messages.Fields() {
				fields = append(fields, tx(messages.FieldKey(f)))
			}
			assert.Equal(t, fields, menu(t, field))

			govs := e.one(rep, "1")
			assert.Equal(t, e.governorates(lang, messages.CommonDone), menu(t, govs))
			govs = e.one(rep, tc.govs)
			assert.Contains(t, govs, tx(messages.GovernorateKey("nablus"))+e.tx(lang, messages.CommonListSep)+tx(messages.GovernorateKey("ramallah")), "both numbers were taken")
			assert.Equal(t, e.governorates(lang, messages.CommonDone), menu(t, govs))

			person := e.one(rep, tc.done)
			assert.Contains(t, person, tx(messages.RegisterPerson))
			assert.Contains(t, e.one(rep, "سمر خليل"), tx(messages.RegisterContact))
			summary := e.one(rep, "info@dialogue.ps")
			assert.Contains(t, summary, "مركز الحوار")
			assert.Contains(t, summary, tx(messages.FieldKey("reconciliation")))
			assert.Equal(t, e.labels(lang, messages.CommonSubmit, messages.CommonEdit, messages.CommonCancel), menu(t, summary))

			submitted := e.say(rep, "1")
			require.Len(t, submitted, 2, "the answer and the admin's notice")
			assert.Contains(t, only(t, rep, submitted), tx(messages.RegisterSubmitted))
			note := only(t, admin, submitted)
			insts, err := e.st.Institutions(context.Background(), store.InstitutionPending)
			require.NoError(t, err)
			require.Len(t, insts, 1)
			inst := insts[0]
			assert.Equal(t, []string{"nablus", "ramallah"}, inst.Governorates)
			assert.Equal(t, "info@dialogue.ps", inst.Email)
			assert.Equal(t, "reconciliation", inst.Field)
			if lang == "en" {
				assert.Equal(t, "Dialogue Centre", inst.NameEN)
			} else {
				assert.Empty(t, inst.NameEN, "skipped by number")
			}
			instName := inst.NameAR
			if tc.adminLang == "en" && inst.NameEN != "" {
				instName = inst.NameEN
			}
			assert.Contains(t, note, e.cat.Text(tc.adminLang, messages.AdminNewApplication, map[string]any{
				"ID": messages.FormatID(tc.adminLang, inst.ID), "Name": instName,
			}))
			id0 := strconv.FormatUint(inst.ID, 10)
			assert.Contains(t, note, "• "+e.tx(tc.adminLang, messages.AdminApproveButton)+": /approve "+id0, "the notice's buttons as the commands to type")
			assert.Contains(t, note, "• "+e.tx(tc.adminLang, messages.AdminRejectButton)+": /reject "+id0)

			// the admin, another WhatsApp number, approves from the list of applications
			pending := e.one(admin, "/pending")
			id := " #" + messages.FormatID(tc.adminLang, inst.ID)
			assert.Equal(t, []string{
				e.tx(tc.adminLang, messages.AdminApproveButton) + id,
				e.tx(tc.adminLang, messages.AdminRejectButton) + id,
				e.tx(tc.adminLang, messages.CommonBack),
			}, menu(t, pending))
			decided := e.say(admin, tc.approve)
			require.Len(t, decided, 2, "the admin's answer and the applicant's news")
			assert.Contains(t, only(t, admin, decided), e.cat.Text(tc.adminLang, messages.AdminApproved, map[string]any{"Name": instName}))
			repName := inst.NameAR
			if lang == "en" && inst.NameEN != "" {
				repName = inst.NameEN
			}
			assert.Equal(t, e.cat.Text(lang, messages.RegisterApproved, map[string]any{"Name": repName}), only(t, rep, decided))

			got, err := e.st.Institution(context.Background(), inst.ID)
			require.NoError(t, err)
			assert.Equal(t, store.InstitutionApproved, got.Status)
			assert.Equal(t, e.contact(admin.addr()).ID, got.DecidedBy)
			rc := e.contact(rep.addr())
			assert.Equal(t, store.RoleMember, rc.Role)
			assert.Equal(t, inst.ID, rc.InstitutionID)
			assert.Empty(t, e.tg.drain())
		})
	}
}

// TestE2ENoticeButtonsShowTheCommand checks that the buttons under a notice
// (the admin's "new application" with Approve and Reject) show on WhatsApp as
// the commands to type, not as numbers that would collide with the menu the
// admin was last shown; and that a greeting after /stop does not resume.
func TestE2ENoticeButtonsShowTheCommand(t *testing.T) {
	admin := waUser{Number: "970599000900", Name: "Admin"}
	e := newWAE2E(t, admin.addr())
	e.onboard(admin, "en")
	rep := waUser{Number: "970599333333", Name: "Samar"}
	e.onboard(rep, "en")
	for _, text := range []string{"/register", "مركز الحوار", "skip", "1", "4", "done", "Samar", "info@dialogue.ps"} {
		e.one(rep, text)
	}
	note := only(t, admin, e.say(rep, "1"))
	assert.Contains(t, note, "• "+e.cat.Text("en", messages.AdminApproveButton, nil)+": /approve 1")
	assert.Contains(t, note, "• "+e.cat.Text("en", messages.AdminRejectButton, nil)+": /reject 1")

	got := only(t, admin, e.say(admin, "/approve 1"))
	assert.Contains(t, got, e.cat.Text("en", messages.AdminApproved, map[string]any{"Name": "مركز الحوار"}))
	insts, err := e.st.Institutions(context.Background(), store.InstitutionApproved)
	require.NoError(t, err)
	assert.Len(t, insts, 1)

	e.one(rep, "stop")
	require.True(t, e.contact(rep.addr()).Stopped)
	e.one(rep, "hello")
	assert.True(t, e.contact(rep.addr()).Stopped, "a greeting is not a request to resume")
}

func TestE2EIgnoredMessages(t *testing.T) {
	e := newWAE2E(t)
	walk := e.campaign("walk", store.KindPledge, "مسيرة", "Walk")
	person := waUser{Number: "970599444444", Name: "Ziad"}
	group := types.NewJID("120363000000000001", types.GroupServer)
	own := types.NewJID(waOwnNumber, types.DefaultUserServer)

	cases := []struct {
		label string
		evt   func() *events.Message
	}{
		{"group greeting", func() *events.Message {
			m := e.message(group, person.jid(), person.Name, "مرحبا")
			m.Info.IsGroup = true
			return m
		}},
		{"the bot's own message", func() *events.Message {
			m := e.message(person.jid(), own, "Mobilise", "/start")
			m.Info.IsFromMe = true
			return m
		}},
		{"own message in a note-to-self chat", func() *events.Message {
			m := e.message(own, own, "Mobilise", "/pledge walk")
			m.Info.IsFromMe = true
			return m
		}},
		{"status broadcast", func() *events.Message {
			return e.message(types.StatusBroadcastJID, person.jid(), person.Name, "/pledge walk")
		}},
		{"broadcast list", func() *events.Message {
			m := e.message(types.NewJID("1700000000", types.BroadcastServer), person.jid(), person.Name, "start")
			m.Info.IsGroup = true
			return m
		}},
	}
	var ids []string
	for _, tc := range cases {
		evt := tc.evt()
		ids = append(ids, evt.Info.ID)
		e.f.emit(evt)
	}
	// a private message after them: once it is handled, those before it were looked at
	marker := waUser{Number: "970599555555", Name: "Marker"}
	got := e.say(marker, "/help")
	require.Len(t, got, 1)
	assert.Equal(t, marker.jid(), got[0].To, "nothing sent to the group, the status or anyone else")

	var addrs []bot.Address
	require.NoError(t, e.st.Contacts(context.Background(), func(c *store.Contact) error {
		addrs = append(addrs, c.Addresses...)
		return nil
	}))
	assert.Equal(t, []bot.Address{marker.addr()}, addrs, "nobody but the marker was stored")
	_, err := e.st.Session(context.Background(), e.contact(marker.addr()).ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "the marker's /help leaves no session either")
	assert.Zero(t, e.counts(walk).Pledges)
	for _, r := range e.f.readReceipts() {
		for _, id := range ids {
			assert.NotContains(t, r.IDs, id, "ignored messages are not marked read")
		}
	}
	assert.Len(t, e.f.readReceipts(), 1)

	// the same person writing privately is a new person then
	assert.Contains(t, e.one(person, "/start"), e.tx("ar", messages.StartGreeting))
}

func TestE2ELIDAndPhoneAreOnePerson(t *testing.T) {
	e := newWAE2E(t)
	walk := e.campaign("walk", store.KindBoth, "مسيرة", "Walk")
	// the harness's LID store maps e2eLID to this number
	u := waUser{Number: "970599123456", Name: "Huda"}
	e.onboard(u, "en")
	c := e.contact(u.addr())

	// a LID message carrying the phone number alongside
	withAlt := e.message(e2eLID, e2eLID, u.Name, "/pledge walk")
	withAlt.Info.SenderAlt = u.jid()
	got := e.deliver(withAlt)
	require.Len(t, got, 1)
	assert.Equal(t, u.jid(), got[0].To, "the reply goes to the phone number")
	assert.Contains(t, got[0].Text, e.tx("en", messages.PledgeThanks))

	// a LID message mapped through the LID store
	got = e.deliver(e.message(e2eLID, e2eLID, u.Name, "/pledge walk"))
	require.Len(t, got, 1)
	assert.Equal(t, u.jid(), got[0].To)
	assert.Contains(t, got[0].Text, e.tx("en", messages.PledgeAlready), "the same person: already pledged")
	got = e.deliver(e.message(e2eLID, e2eLID, u.Name, "/signup walk"))
	require.Len(t, got, 1)
	assert.Contains(t, got[0].Text, e.tx("en", messages.CampaignYouSignedUp))

	// and the phone form again, with a device part on the sender
	device := types.JID{User: u.Number, Server: types.DefaultUserServer, Device: 7}
	got = e.deliver(e.message(u.jid(), device, u.Name, "/signup walk"))
	require.Len(t, got, 1)
	assert.Contains(t, got[0].Text, e.tx("en", messages.SignupAlready))

	assert.Equal(t, store.Counts{Pledges: 1, Signups: 1}, e.counts(walk), "one person counts once")
	after := e.contact(u.addr())
	assert.Equal(t, c.ID, after.ID)
	assert.Equal(t, []bot.Address{u.addr()}, after.Addresses, "no LID address was stored")
	_, err := e.st.ContactByAddress(context.Background(), bot.Address{Channel: Name, ID: e2eLID.String()})
	assert.ErrorIs(t, err, store.ErrNotFound)
	pledges, err := e.st.ContactPledges(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Len(t, pledges, 1)

	// receipts go to the chat as WhatsApp addressed it
	var lidReads int
	for _, r := range e.f.readReceipts() {
		if r.Chat == e2eLID {
			assert.Equal(t, e2eLID, r.Sender)
			lidReads++
		}
	}
	assert.Equal(t, 3, lidReads, "the three messages written in the LID form")

	// a LID whose number WhatsApp has not revealed is its own contact, answered at the LID
	stranger := types.NewJID("987654321098765", types.HiddenUserServer)
	got = e.deliver(e.message(stranger, stranger, "Stranger", "/pledge walk"))
	require.Len(t, got, 1)
	assert.Equal(t, stranger, got[0].To)
	sc := e.contact(bot.Address{Channel: Name, ID: stranger.String()})
	assert.NotEqual(t, c.ID, sc.ID)
	assert.Equal(t, 2, e.counts(walk).Pledges, "until the mapping is known, the LID is another person")
}

// linkCodePattern finds the code of a /link answer; Isolate may wrap it.
var linkCodePattern = regexp.MustCompile(`/link \x{2068}?([a-z2-9]{8})`)

// arabicIndic writes the ASCII digits of s as Arabic-Indic digits.
func arabicIndic(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '٠' + r - '0'
		}
		return r
	}, s)
}

func TestE2ELinkWithTelegram(t *testing.T) {
	e := newWAE2E(t)
	walk := e.campaign("walk", store.KindBoth, "مسيرة السلام", "Peace walk")
	u := waUser{Number: "970599666666", Name: "Omar"}
	const tgID = "5001"
	tgAddr := bot.Address{Channel: bot.Telegram, ID: tgID}

	// the same person, not yet linked, on both channels
	e.onboard(u, "ar")
	e.one(u, "/pledge walk")
	e.one(u, "/signup walk")
	e.onboardTG(tgID, "en")
	e.tgSay(tgID, "/pledge walk")
	e.tgSay(tgID, "/signup walk")
	require.Equal(t, store.Counts{Pledges: 2, Signups: 2}, e.counts(walk), "two accounts count twice")
	waContact := e.contact(u.addr())

	// /link on WhatsApp, the code typed on Telegram in Arabic-Indic digits
	asked := e.one(u, "/link")
	m := linkCodePattern.FindStringSubmatch(asked)
	require.Len(t, m, 2, asked)
	done := e.tgSay(tgID, "/link "+arabicIndic(m[1]))
	require.Len(t, done, 1)
	assert.Contains(t, done[0].Text, e.tx("en", messages.ChannelKey(string(Name))))
	assert.Contains(t, done[0].Text, e.tx("en", messages.ChannelKey(string(bot.Telegram))))
	assert.Empty(t, e.sent(), "nothing more on WhatsApp")

	merged := e.contact(tgAddr)
	assert.Equal(t, waContact.ID, merged.ID, "the account that asked for the code is kept")
	assert.Equal(t, merged.ID, e.contact(u.addr()).ID)
	assert.ElementsMatch(t, []bot.Address{u.addr(), tgAddr}, merged.Addresses)
	assert.Equal(t, store.Counts{Pledges: 1, Signups: 1}, e.counts(walk), "linked, the person counts once")
	require.NoError(t, e.st.Check())

	// either side shows the one record with both addresses
	data := e.one(u, "/mydata")
	assert.Contains(t, data, e.shown("ar", u.addr()))
	assert.Contains(t, data, e.shown("ar", tgAddr))
	assert.Contains(t, data, e.cat.Count("ar", messages.MyDataPledges, 1, nil))
	tgData := e.tgSay(tgID, "/mydata")
	require.Len(t, tgData, 1)
	assert.Contains(t, tgData[0].Text, e.shown("ar", u.addr()))
	assert.Contains(t, tgData[0].Text, e.shown("ar", tgAddr))

	// pledging again from either side is the same pledge
	assert.Contains(t, e.one(u, "/pledge walk"), e.tx("ar", messages.PledgeAlready))
	again := e.tgSay(tgID, "/pledge walk")
	require.Len(t, again, 1)
	assert.Contains(t, again[0].Text, e.tx("ar", messages.PledgeAlready), "the kept record's language")
	assert.Equal(t, store.Counts{Pledges: 1, Signups: 1}, e.counts(walk))
}

// alertAdmins are two admins reachable only on the "telegram" recorder.
var alertAdmins = []struct{ id, lang string }{{"900", "en"}, {"901", "ar"}}

func newAlertE2E(t *testing.T) *e2eHarness {
	t.Helper()
	var addrs []bot.Address
	for _, a := range alertAdmins {
		addrs = append(addrs, bot.Address{Channel: bot.Telegram, ID: a.id})
	}
	e := newWAE2E(t, addrs...)
	for _, a := range alertAdmins {
		e.onboardTG(a.id, a.lang)
	}
	return e
}

// adminAlerts waits for one message to each alert admin and returns them by language.
func (e *e2eHarness) adminAlerts() map[string]string {
	e.t.Helper()
	byID := map[string]string{}
	for range alertAdmins {
		m := receive(e.t, e.tg.sent)
		require.NotContains(e.t, byID, m.To.ID, "a second alert to %s", m.To)
		byID[m.To.ID] = m.Text
	}
	out := map[string]string{}
	for _, a := range alertAdmins {
		require.Contains(e.t, byID, a.id)
		out[a.lang] = byID[a.id]
	}
	return out
}

func TestE2ETemporaryBanAlertsAdmins(t *testing.T) {
	e := newAlertE2E(t)
	walk := e.campaign("walk", store.KindPledge, "مسيرة", "Walk")
	u := waUser{Number: "970599777777", Name: "Nour"}
	e.onboard(u, "en")

	e.f.emit(&events.TemporaryBan{Code: events.TempBanSentToTooManyPeople, Expire: 6 * time.Hour})
	got := e.adminAlerts()
	// 09:30 UTC + 6 h is 17:30 in Hebron in December
	at := time.Date(2026, 12, 7, 17, 30, 0, 0, e.loc)
	for _, lang := range []string{"en", "ar"} {
		until := messages.FormatDateTime(lang, at, messages.Around(e2eNow))
		assert.Equal(t, e.cat.Text(lang, messages.AlertWhatsAppBanned, map[string]any{"Until": until}), got[lang], lang)
	}
	assert.Contains(t, got["en"], "5:30", "the ban's expiry, in the coalition's time")
	assert.Empty(t, e.alertErrs)

	// while banned, what people write is still kept; only the answers wait
	attempts := len(e.f.sentMessages())
	assert.Empty(t, e.say(u, "/pledge walk"), "nothing is sent while banned")
	assert.Len(t, e.f.sentMessages(), attempts, "not even attempted: the channel refuses before WhatsApp sees it")
	assert.Equal(t, 1, e.counts(walk).Pledges)

	assert.Empty(t, e.tg.drain(), "one alert per admin")

	// once the ban is over, an admin resumes sending and the answers flow again
	e.clk.advance(6*time.Hour + time.Minute)
	require.NoError(t, e.stack.Bot.HandleIncoming(context.Background(), bot.Incoming{
		From: bot.Address{Channel: bot.Telegram, ID: alertAdmins[0].id}, Name: "TG", Text: "/resume",
	}))
	e.flush()
	resumed := e.tg.drain()
	require.NotEmpty(t, resumed, "the admin is answered")
	assert.Contains(t, only(t, u, e.sent()), e.tx("en", messages.PledgeThanks), "the answer that waited")
	data := e.one(u, "/mydata")
	assert.Contains(t, data, "• Walk — ")
	require.NoError(t, e.run.stop(t))
}

func TestE2ELogoutStopsTheChannelAndAlertsAdmins(t *testing.T) {
	e := newAlertE2E(t)
	walk := e.campaign("walk", store.KindPledge, "مسيرة", "Walk")
	u := waUser{Number: "970599888888", Name: "Karim"}
	e.onboard(u, "ar")
	before := e.contact(u.addr())

	// a message is being handled when the phone unlinks the bot
	entered, release := make(chan struct{}), make(chan struct{})
	e.before = func(bot.Incoming) {
		close(entered)
		<-release
	}
	pledge := e.message(u.jid(), u.jid(), u.Name, "/pledge walk")
	e.f.emit(pledge)
	receive(t, entered)
	e.f.emit(&events.LoggedOut{})
	close(release)
	e.waitHandled(pledge.Info.ID)

	err := e.run.wait(t)
	require.ErrorIs(t, err, ErrLoggedOut)
	got := e.adminAlerts()
	for _, lang := range []string{"en", "ar"} {
		assert.Equal(t, e.tx(lang, messages.AlertWhatsAppLoggedOut), got[lang], lang)
		assert.Contains(t, got[lang], "mobilise whatsapp link", "how to link again")
	}
	assert.Empty(t, e.alertErrs)
	assert.Empty(t, e.sent(), "nothing is sent once logged out")
	assert.Equal(t, 1, e.f.disconnects)
	assert.False(t, e.wa.Connected())
	_, err = e.wa.Send(context.Background(), bot.Outgoing{To: bot.Address{Channel: Name, ID: u.Number}, Text: "hi"})
	assert.ErrorIs(t, err, ErrLoggedOut)

	// nothing stored is lost, the pledge made during the logout included,
	// and it is all still there after a restart
	require.NoError(t, e.st.Close())
	e.open()
	require.NoError(t, e.st.Check())
	after := e.contact(u.addr())
	assert.Equal(t, before.ID, after.ID)
	assert.True(t, after.Consent)
	_, err = e.st.Pledge(context.Background(), walk.ID, after.ID)
	assert.NoError(t, err)
	assert.Equal(t, 1, e.counts(walk).Pledges)
	for _, a := range alertAdmins {
		e.contact(bot.Address{Channel: bot.Telegram, ID: a.id})
	}
}

func TestE2EOtherAlertsReachAdmins(t *testing.T) {
	e := newAlertE2E(t)
	u := waUser{Number: "970599121212", Name: "Adam"}
	e.onboard(u, "en")
	cases := []struct {
		label  string
		cause  func()
		key    messages.Key
		detail string
	}{
		{"stream replaced", func() { e.f.emit(&events.StreamReplaced{}) }, messages.AlertWhatsAppReplaced, ""},
		{
			"connect failure", func() { e.f.emit(&events.ConnectFailure{Reason: events.ConnectFailureBadUserAgent}) },
			messages.AlertWhatsAppConnect, events.ConnectFailureBadUserAgent.String(),
		},
		{
			"client outdated", func() { e.f.emit(&events.ClientOutdated{}) },
			messages.AlertWhatsAppConnect, "client outdated: update go.mau.fi/whatsmeow",
		},
		{
			"reach-out limit on a reply", func() {
				e.f.mu.Lock()
				e.f.sendErr = fmt.Errorf("%w %d", whatsmeow.ErrServerReturnedError, 463)
				e.f.mu.Unlock()
				// the reply is refused and the channel stops: nothing more is tried
				require.Len(t, e.say(u, "/help"), 1)
			},
			messages.AlertWhatsAppBlocked, "",
		},
	}
	for _, tc := range cases {
		tc.cause()
		got := e.adminAlerts()
		for _, lang := range []string{"en", "ar"} {
			want := e.cat.Text(lang, tc.key, map[string]any{"Detail": messages.Isolate(tc.detail)})
			assert.Equal(t, want, got[lang], "%s in %s", tc.label, lang)
		}
		if tc.detail != "" {
			assert.Contains(t, got["en"], tc.detail, tc.label)
		}
	}
	assert.Empty(t, e.alertErrs)
	assert.Empty(t, e.tg.drain(), "one alert per admin and event")
	require.NoError(t, e.run.stop(t), "none of these stops the channel")
}

// TestE2EAlertReachesAdminLinkedToWhatsApp shows an admin who linked their
// WhatsApp and Telegram accounts missing the logout alert: it is sent to
// their first address, the WhatsApp one, which has just stopped working.
func TestE2EAlertReachesAdminLinkedToWhatsApp(t *testing.T) {
	admin := waUser{Number: "970599000900", Name: "Admin"}
	e := newWAE2E(t, bot.MustParseAddress("telegram:900"))
	e.onboardTG("900", "en")
	e.onboard(admin, "en")
	asked := e.one(admin, "/link")
	m := linkCodePattern.FindStringSubmatch(asked)
	require.Len(t, m, 2, asked)
	require.Len(t, e.tgSay("900", "/link "+m[1]), 1, "an admin is asked to confirm: the other account gets the role")
	require.Len(t, e.tgSay("900", "yes"), 1)
	require.Equal(t, []bot.Address{admin.addr(), bot.MustParseAddress("telegram:900")}, e.contact(bot.MustParseAddress("telegram:900")).Addresses)

	e.f.emit(&events.LoggedOut{})
	require.ErrorIs(t, e.run.wait(t), ErrLoggedOut)
	select {
	case msg := <-e.tg.sent:
		assert.Equal(t, e.tx("en", messages.AlertWhatsAppLoggedOut), msg.Text)
	default:
		// Run waits for alerts in flight: by now the alert went wherever it went
		err := errors.New("no alert on telegram")
		select {
		case err = <-e.alertErrs:
		default:
		}
		assert.Fail(t, "the admin was not told on Telegram", "%v", err)
	}
}

// TestE2ELinkKeepsWhatWasChosenOnTheOtherChannel links a person who
// onboarded on Telegram in English from a WhatsApp number whose first
// message was /link: the merged record must keep their language and their
// finished onboarding.
func TestE2ELinkKeepsWhatWasChosenOnTheOtherChannel(t *testing.T) {
	e := newWAE2E(t)
	u := waUser{Number: "970599999999", Name: "Mona"}
	e.onboardTG("5002", "en")
	asked := e.one(u, "/link")
	m := linkCodePattern.FindStringSubmatch(asked)
	require.Len(t, m, 2, asked)
	require.Len(t, e.tgSay("5002", "/link "+m[1]), 1)

	merged := e.contact(u.addr())
	assert.Equal(t, "en", merged.Lang, "the language chosen on Telegram")
	assert.False(t, merged.OnboardedAt.IsZero(), "onboarded on Telegram")
	back := e.one(u, "/start")
	assert.Contains(t, back, e.tx("en", messages.StartWelcomeBack), "no second onboarding")
}
