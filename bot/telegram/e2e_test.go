package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
)

// The end-to-end tests below run the real engine (bot.Service over a bbolt
// file and the real catalog) through this channel against the fake Bot API:
// a person is a Telegram user whose updates are pushed into getUpdates, and
// what they see is the text and keyboard of the sendMessage requests the
// fake receives, read back through Telegram's HTML parser.

// e2eNow is the engine's fixed clock: a Monday morning in Hebron.
var e2eNow = time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)

const e2eAdminID = 900

// tgUser is a Telegram user the tests write as.
type tgUser struct {
	ID   int64
	Name string
	// Lang is the client's language_code.
	Lang string
}

func (u tgUser) chat() string         { return strconv.FormatInt(u.ID, 10) }
func (u tgUser) addr() string         { return "telegram:" + u.chat() }
func (u tgUser) address() bot.Address { return bot.MustParseAddress(u.addr()) }

func (u tgUser) json() map[string]any {
	m := map[string]any{"id": u.ID, "is_bot": false, "first_name": u.Name}
	if u.Lang != "" {
		m["language_code"] = u.Lang
	}
	return m
}

// reply is one sendMessage request as the person sees it.
type reply struct {
	Chat string
	// HTML is the text parameter as sent; Text is what Telegram shows.
	HTML, Text string
	ParseMode  string
	Markup     bool
	Buttons    [][]inlineButton
}

// button returns the callback_data of the button labelled label.
func (r reply) button(t testing.TB, label string) string {
	t.Helper()
	for _, row := range r.Buttons {
		for _, b := range row {
			if b.Text == label {
				return b.CallbackData
			}
		}
	}
	t.Fatalf("no button %q in %q", label, r.labels())
	return ""
}

func (r reply) labels() []string {
	var out []string
	for _, row := range r.Buttons {
		for _, b := range row {
			out = append(out, b.Text)
		}
	}
	return out
}

// e2e is the whole bot on one bbolt file, talking to a fake Telegram.
type e2e struct {
	t     testing.TB
	f     *fakeTelegram
	path  string
	st    *store.Store
	cat   *messages.Catalog
	loc   *time.Location
	stack *bottest.Stack
	tg    *testChannel
	// limits are the Telegram limits the outbox sends at; the default lifts
	// the one-a-second pace per chat, so conversations take no real time.
	limits outbox.Limits

	handled   chan bot.Incoming
	stop      func() error
	stopStack func()
	nextID    int64
	// seen is how many sendMessage requests earlier steps returned.
	seen int
}

func newE2E(t testing.TB) *e2e {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Hebron")
	require.NoError(t, err)
	cat, err := messages.New()
	require.NoError(t, err)
	e := &e2e{
		t: t, f: newFake(t), path: filepath.Join(t.TempDir(), "mobilise.db"), cat: cat, loc: loc,
		handled: make(chan bot.Incoming, 1000), nextID: 1,
		limits: outbox.Limits{PerSecond: 30, Burst: 1, WindowCap: 29, Concurrency: 8},
	}
	// the conversations here run faster than Telegram lets one chat be
	// written to (the outbox's limits above lift the pace per chat); the
	// pace itself is tested against the fake's full rates in delivery_test.go
	e.f.rate.rates.perChat = 0
	e.open()
	t.Cleanup(func() {
		if e.stopStack != nil {
			e.stopStack()
		}
		assert.NoError(t, e.st.Close())
	})
	return e
}

// startE2E is newE2E with the channel built on the store and running.
func startE2E(t *testing.T) *e2e {
	e := newE2E(t)
	e.build(e.st)
	e.start()
	return e
}

func (e *e2e) open() {
	st, err := store.Open(e.path, store.WithBatchDelay(time.Millisecond))
	require.NoError(e.t, err)
	e.st = st
}

// reopen closes the store and opens the file again, as a restarted process does.
func (e *e2e) reopen() {
	if e.stopStack != nil {
		e.stopStack()
		e.stopStack = nil
	}
	require.NoError(e.t, e.st.Close())
	e.open()
}

// build makes a new bot and Channel, wired as main wires them: one channel
// receives and sends, through the account's pacer; state is where the
// channel keeps its offset (the store, or a wrapper of it).
func (e *e2e) build(state State) {
	pacer := outbox.NewPacer(e.st, bot.Telegram, e.limits)
	tg := newTestChannel(e.t, e.f, WithState(state), WithThrottle(pacer), WithMaxThrottleWait(0))
	if e.stopStack != nil {
		e.stopStack()
	}
	e.stack = bottest.New(e.t, e.st, []bot.Sender{tg.Channel}, bottest.Config{
		Admins: []bot.Address{bot.MustParseAddress(fmt.Sprintf("telegram:%d", e2eAdminID))},
		Now:    func() time.Time { return e2eNow },
		Plan:   outbox.Plan{bot.Telegram: e.limits},
		// the dispatcher runs on the real clock: pacing waits real time
		Dispatcher: []outbox.Option{outbox.WithClock(time.Now), outbox.WithPacer(bot.Telegram, pacer)},
	})
	e.tg = tg
}

func (e *e2e) start() {
	ctx, cancel := context.WithCancel(context.Background())
	e.startCtx(ctx, cancel)
}

// startCtx runs the channel and the outbox; every update the bot has
// finished with is reported on e.handled once its answers are sent, so
// steps wait for it instead of sleeping.
func (e *e2e) startCtx(ctx context.Context, cancel context.CancelFunc) {
	e.stopStack = e.stack.Start(e.t)
	b, d, handled := e.stack.Bot, e.stack.Disp, e.handled
	h := bot.HandlerFunc(func(ctx context.Context, in bot.Incoming) error {
		err := b.HandleIncoming(ctx, in)
		if ferr := d.Flush(context.Background(), bot.Telegram); ferr != nil {
			return ferr
		}
		handled <- in
		return err
	})
	e.stop = runningCtx(e.t, ctx, cancel, e.tg.Channel, withDirectory{h, b})
}

// withDirectory is a handler that offers the bot's command menus, as the
// metrics wrapper does in main.
type withDirectory struct {
	bot.Handler
	inner bot.Handler
}

func (w withDirectory) Unwrap() bot.Handler { return w.inner }

func (e *e2e) nextUpdateID() int64 {
	id := e.nextID
	e.nextID++
	return id
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// messageUpdate is a text message from u in chat.
func (e *e2e) messageUpdate(u tgUser, chat map[string]any, text string) (int64, string) {
	id := e.nextUpdateID()
	return id, mustJSON(e.t, map[string]any{"update_id": id, "message": map[string]any{
		"message_id": id, "from": u.json(), "chat": chat, "date": e2eNow.Unix(), "text": text,
	}})
}

func privateChat(u tgUser) map[string]any {
	return map[string]any{"id": u.ID, "type": "private", "first_name": u.Name}
}

func groupChat(id int64) map[string]any {
	return map[string]any{"id": id, "type": "supergroup", "title": "Coalition volunteers"}
}

// say sends text from u in their private chat and returns the bot's answers.
func (e *e2e) say(u tgUser, text string) []reply {
	e.t.Helper()
	id, raw := e.messageUpdate(u, privateChat(u), text)
	return e.deliver(id, raw)
}

// press presses a button with data under a message in u's private chat, and
// checks that the press was answered.
func (e *e2e) press(u tgUser, data string) []reply {
	e.t.Helper()
	id := e.nextUpdateID()
	cbID := fmt.Sprintf("cb%d", id)
	raw := mustJSON(e.t, map[string]any{"update_id": id, "callback_query": map[string]any{
		"id": cbID, "from": u.json(), "chat_instance": "ci" + u.chat(), "data": data,
		"message": map[string]any{
			"message_id": 1, "date": e2eNow.Unix(), "chat": privateChat(u), "text": "menu",
			"from": map[string]any{"id": 42, "is_bot": true, "first_name": "Mobilise", "username": testUsername},
		},
	}})
	out := e.deliver(id, raw)
	answered := slices.ContainsFunc(e.f.calls("answerCallbackQuery"), func(r fakeRequest) bool {
		return r.Form["callback_query_id"] == cbID
	})
	assert.True(e.t, answered, "button press %s was not answered", cbID)
	return out
}

// pressLabel presses the button labelled label under r.
func (e *e2e) pressLabel(u tgUser, r reply, label string) []reply {
	e.t.Helper()
	return e.press(u, r.button(e.t, label))
}

// deliver puts an update in the getUpdates queue, waits until the engine has
// handled it, and returns every sendMessage it caused.
func (e *e2e) deliver(id int64, raw string) []reply {
	e.t.Helper()
	e.f.push(raw)
	e.waitHandled(id)
	return e.newReplies()
}

// ignored pushes updates the bot must not act on, followed by a marker
// message from someone else in the same batch; once the marker is handled,
// the updates before it have been looked at. It returns what the bot sent
// anywhere but to the marker's chat.
func (e *e2e) ignored(raws ...string) []reply {
	e.t.Helper()
	marker := tgUser{ID: 4242, Name: "Marker", Lang: "en"}
	id, raw := e.messageUpdate(marker, privateChat(marker), "/help")
	e.f.push(append(raws, raw)...)
	e.waitHandled(id)
	var out []reply
	for _, r := range e.newReplies() {
		if r.Chat != marker.chat() {
			out = append(out, r)
		}
	}
	return out
}

func (e *e2e) waitHandled(id int64) {
	e.t.Helper()
	select {
	case in := <-e.handled:
		require.Equal(e.t, strconv.FormatInt(id, 10), in.ExternalID, "a different update was handled")
	case <-time.After(10 * time.Second):
		e.t.Fatalf("update %d was not handled", id)
	}
}

// waitAny waits for n handled updates, in any order, and returns their IDs.
func (e *e2e) waitAny(n int) []string {
	e.t.Helper()
	var ids []string
	for range n {
		select {
		case in := <-e.handled:
			ids = append(ids, in.ExternalID)
		case <-time.After(10 * time.Second):
			e.t.Fatalf("%d of %d updates handled", len(ids), n)
		}
	}
	return ids
}

// newReplies returns the sendMessage requests since the last call.
func (e *e2e) newReplies() []reply {
	e.t.Helper()
	calls := e.f.calls("sendMessage")
	out := make([]reply, 0, len(calls)-e.seen)
	for _, c := range calls[e.seen:] {
		out = append(out, e.parseReply(c))
	}
	e.seen = len(calls)
	return out
}

func (e *e2e) parseReply(c fakeRequest) reply {
	e.t.Helper()
	r := reply{Chat: c.Form["chat_id"], HTML: c.Form["text"], Text: c.Form["text"], ParseMode: c.Form["parse_mode"]}
	if r.ParseMode == "HTML" {
		shown, err := parseTelegramHTML(r.HTML)
		require.NoError(e.t, err, "Telegram would refuse this HTML")
		r.Text = shown
	}
	if rm, ok := c.Form["reply_markup"]; ok {
		var kb inlineMarkup
		require.NoError(e.t, json.Unmarshal([]byte(rm), &kb))
		r.Markup, r.Buttons = true, kb.InlineKeyboard
	}
	return r
}

// only returns the one reply to u among rs.
func only(t testing.TB, u tgUser, rs []reply) reply {
	t.Helper()
	got := repliesTo(u, rs)
	require.Len(t, got, 1, "want one message to %s, got %+v", u.chat(), rs)
	return got[0]
}

func repliesTo(u tgUser, rs []reply) []reply {
	var out []reply
	for _, r := range rs {
		if r.Chat == u.chat() {
			out = append(out, r)
		}
	}
	return out
}

func (e *e2e) text(lang string, key messages.Key) string { return e.cat.Text(lang, key, nil) }

// langLabel is the button that picks lang in the language menu.
func langLabel(lang string) string {
	if lang == "en" {
		return "English"
	}
	return "العربية"
}

// onboard takes u through /start in their client's language: consent yes,
// Ramallah. It returns the main menu they end on.
func (e *e2e) onboard(u tgUser) reply {
	e.t.Helper()
	greet := only(e.t, u, e.say(u, "/start"))
	e.pressLabel(u, greet, langLabel(u.Lang))
	e.say(u, "نعم")
	menu := only(e.t, u, e.say(u, "٧"))
	require.Contains(e.t, menu.Text, e.text(messages.NormalizeLang(u.Lang), messages.StartReady))
	return menu
}

func (e *e2e) contact(u tgUser) *store.Contact {
	e.t.Helper()
	c, err := e.st.ContactByAddress(context.Background(), bot.MustParseAddress(u.addr()))
	require.NoError(e.t, err)
	return c
}

// campaign stores an active campaign that has been running for a day.
func (e *e2e) campaign(code string, kind store.CampaignKind, target int, title string) *store.Campaign {
	e.t.Helper()
	c := &store.Campaign{
		Code: code, TitleAR: title, TitleEN: title, CallAR: "انضمّوا إلينا", CallEN: "Join us",
		Kind: kind, Target: target, StartAt: e2eNow.Add(-24 * time.Hour),
	}
	if kind.HasEvent() {
		c.EventAt, c.EventPlace = e2eNow.Add(72*time.Hour), "Nablus"
	}
	require.NoError(e.t, e.st.CreateCampaign(context.Background(), c))
	return c
}

func TestE2EOnboarding(t *testing.T) {
	// both answer consent with "نعم" and the governorate with an Arabic-Indic
	// digit: what people type is understood whatever language they chose
	cases := []struct {
		label, lang  string
		consent, gov string
		wantLang     string
	}{
		{label: "arabic", lang: "ar", consent: "نعم", gov: "٧", wantLang: "ar"},
		{label: "english", lang: "en", consent: "نعم", gov: "٧", wantLang: "en"},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			e := startE2E(t)
			u := tgUser{ID: 5001, Name: "Layla", Lang: tc.lang}

			greet := only(t, u, e.say(u, "/start"))
			assert.Contains(t, greet.Text, e.text("ar", messages.StartGreeting))
			assert.Contains(t, greet.Text, e.text("en", messages.StartGreeting))
			assert.Equal(t, "HTML", greet.ParseMode)
			assert.Equal(t, []string{"العربية", "English"}, greet.labels(), "languages as inline buttons")
			assert.Equal(t, tc.lang, e.contact(u).Lang, "language_code is the first guess")

			consent := only(t, u, e.pressLabel(u, greet, langLabel(tc.lang)))
			assert.Contains(t, consent.Text, e.text(tc.wantLang, messages.StartConsent))
			assert.Equal(t, []string{e.text(tc.wantLang, messages.CommonYes), e.text(tc.wantLang, messages.CommonNo)}, consent.labels())

			gov := only(t, u, e.say(u, tc.consent))
			assert.Contains(t, gov.Text, e.text(tc.wantLang, messages.StartConsentYes))
			assert.Contains(t, gov.Text, e.text(tc.wantLang, messages.StartGovernorate))
			assert.Len(t, gov.labels(), len(messages.Governorates())+1, "each governorate and skip")

			menu := only(t, u, e.say(u, tc.gov))
			assert.Contains(t, menu.Text, e.text(tc.wantLang, messages.StartReady))
			assert.Contains(t, menu.labels(), e.text(tc.wantLang, messages.MenuCampaigns))
			assert.Contains(t, menu.labels(), e.text(tc.wantLang, messages.MenuRegister))

			c := e.contact(u)
			assert.Equal(t, tc.wantLang, c.Lang)
			assert.True(t, c.Consent)
			assert.Equal(t, "ramallah", c.Governorate, "the seventh option, typed as ٧")
			assert.False(t, c.OnboardedAt.IsZero())
			assert.Equal(t, "Layla", c.Name)
		})
	}
}

func TestE2EFirstLanguage(t *testing.T) {
	e := startE2E(t)
	cases := []struct{ code, want string }{
		{"ar", "ar"}, {"en", "en"}, {"en-GB", "en"}, {"fr", "ar"}, {"", "ar"},
	}
	for i, tc := range cases {
		u := tgUser{ID: int64(5100 + i), Name: "New", Lang: tc.code}
		help := only(t, u, e.say(u, "/help"))
		assert.Contains(t, help.Text, e.text(tc.want, messages.HelpIntro), "language_code %q", tc.code)
		assert.Equal(t, tc.want, e.contact(u).Lang, "language_code %q", tc.code)
	}

	// the person's choice wins over language_code from then on
	u := tgUser{ID: 5002, Name: "Omar", Lang: "en"}
	greet := only(t, u, e.say(u, "/start"))
	consent := only(t, u, e.pressLabel(u, greet, "العربية"))
	assert.Contains(t, consent.Text, e.text("ar", messages.StartConsent))
	// help in the middle of onboarding answers, then asks the consent question again
	got := e.say(u, "/help")
	require.Len(t, got, 2)
	assert.Contains(t, got[0].Text, e.text("ar", messages.HelpIntro))
	assert.Contains(t, got[1].Text, e.text("ar", messages.StartConsent))
	assert.Equal(t, "ar", e.contact(u).Lang)
}

func TestE2ECampaigns(t *testing.T) {
	e := startE2E(t)
	// campaigns with as many pledges as each Arabic plural form needs
	forms := []struct {
		code string
		n    int
		want string
	}{
		{"zero", 0, "لم يتعهّد أحد بعد"},
		{"one", 1, "تعهّد شخص واحد"},
		{"two", 2, "تعهّد شخصان"},
		{"few", 3, "تعهّد ٣ أشخاص"},
		{"many", 11, "تعهّد ١١ شخصًا"},
		{"other", 100, "تعهّد ١٠٠ شخص"},
	}
	ids := map[string]uint64{}
	for _, f := range forms {
		ids[f.code] = e.campaign(f.code, store.KindPledge, 0, "حملة "+f.code).ID
	}
	walk := e.campaign("walk", store.KindBoth, 10, "مسيرة السلام")
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := e.st.EnsureContact(context.Background(), bot.MustParseAddress(fmt.Sprintf("seed:%d", i)), "", "ar")
			if !assert.NoError(t, err) {
				return
			}
			for _, f := range forms {
				if i < f.n {
					_, err := e.st.AddPledge(context.Background(), store.Pledge{CampaignID: ids[f.code], ContactID: c.ID, At: e2eNow})
					assert.NoError(t, err)
				}
			}
		}()
	}
	wg.Wait()

	u := tgUser{ID: 5003, Name: "Huda", Lang: "ar"}
	e.onboard(u)

	list := only(t, u, e.say(u, "/campaigns"))
	for _, f := range forms {
		assert.Contains(t, list.Text, "• حملة "+f.code+"\n  "+f.want+"\n", "plural form for %d", f.n)
	}
	assert.Contains(t, list.Text, "• مسيرة السلام\n  لم يتعهّد أحد بعد — الهدف ١٠\n  لم يسجّل أحد في الفعالية بعد")
	assert.Contains(t, list.labels(), "حملة two")

	// open by button, pledge by button: two becomes three, the "few" form
	shown := only(t, u, e.pressLabel(u, list, "حملة two"))
	assert.Contains(t, shown.Text, "📣 حملة two\nتنظيم: ائتلاف السلم الأهلي\n\nانضمّوا إلينا\n\nتعهّد شخصان")
	pledged := only(t, u, e.pressLabel(u, shown, e.text("ar", messages.CampaignPledgeButton)))
	assert.Contains(t, pledged.Text, e.text("ar", messages.PledgeThanks))
	assert.Contains(t, pledged.Text, "تعهّد ٣ أشخاص")
	assert.Contains(t, pledged.Text, e.text("ar", messages.CampaignYouPledged))
	assert.NotContains(t, pledged.labels(), e.text("ar", messages.CampaignPledgeButton), "no second pledge button")
	p, err := e.st.Pledge(context.Background(), ids["two"], e.contact(u).ID)
	require.NoError(t, err)
	assert.Equal(t, bot.Telegram, p.Channel)
	assert.Equal(t, "ramallah", p.Governorate)

	// pressing the pledge button of that message again is an expired menu, not a second pledge
	again := only(t, u, e.press(u, shown.button(t, e.text("ar", messages.CampaignPledgeButton))))
	assert.Contains(t, again.Text, e.text("ar", messages.ErrMenuExpired))
	n, err := e.st.Counts(context.Background(), ids["two"])
	require.NoError(t, err)
	assert.Equal(t, 3, n.Pledges)

	// sign up for the event, then cancel
	event := only(t, u, e.say(u, "/campaign walk"))
	assert.Contains(t, event.Text, "📍")
	signed := only(t, u, e.pressLabel(u, event, e.text("ar", messages.CampaignSignupButton)))
	assert.Contains(t, signed.Text, "سجّل شخص واحد في الفعالية")
	assert.Contains(t, signed.Text, e.text("ar", messages.CampaignYouSignedUp))
	_, err = e.st.Signup(context.Background(), walk.ID, e.contact(u).ID)
	require.NoError(t, err)

	cancelled := only(t, u, e.pressLabel(u, signed, e.text("ar", messages.CampaignCancelSignupButton)))
	assert.Contains(t, cancelled.Text, e.text("ar", messages.SignupCancelled))
	assert.Contains(t, cancelled.Text, "لم يسجّل أحد في الفعالية بعد")
	assert.Contains(t, cancelled.labels(), e.text("ar", messages.CampaignSignupButton))
	_, err = e.st.Signup(context.Background(), walk.ID, e.contact(u).ID)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

var shareLinkPattern = regexp.MustCompile(`https://t\.me/` + testUsername + `\?start=([^\s\x{2069}]*)`)
var startPayloadPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func TestE2EDeepLinkWithReferral(t *testing.T) {
	e := startE2E(t)
	peace := e.campaign("peace", store.KindPledge, 0, "Peace pledge")
	sharer := tgUser{ID: 5004, Name: "Sami", Lang: "ar"}
	e.onboard(sharer)

	share := repliesTo(sharer, e.say(sharer, "/share peace"))
	require.NotEmpty(t, share)
	m := shareLinkPattern.FindStringSubmatch(share[0].Text)
	require.NotNil(t, m, "no t.me link in %q", share[0].Text)
	payload := m[1]
	assert.Regexp(t, startPayloadPattern, payload, "Telegram's rules for a start parameter")
	assert.Equal(t, "peace-"+e.contact(sharer).RefCode, payload)
	assert.Equal(t, "https://t.me/"+testUsername+"?start="+payload, e.tg.ShareLink(payload))

	// a second person opens the link: Telegram sends "/start <payload>"
	friend := tgUser{ID: 5005, Name: "Rana", Lang: "en"}
	greet := only(t, friend, e.say(friend, "/start "+payload))
	assert.Contains(t, greet.Text, e.text("en", messages.StartGreeting), "onboarding comes first")
	e.pressLabel(friend, greet, "English")
	gov := only(t, friend, e.say(friend, "yes"))
	opened := only(t, friend, e.pressLabel(friend, gov, e.text("en", messages.CommonSkip)))
	assert.Contains(t, opened.Text, "📣 Peace pledge", "the campaign opens after onboarding")
	pledged := only(t, friend, e.pressLabel(friend, opened, e.text("en", messages.CampaignPledgeButton)))
	assert.Contains(t, pledged.Text, e.text("en", messages.PledgeThanks))

	assert.Equal(t, 1, e.contact(sharer).Referrals)
	assert.Equal(t, e.contact(sharer).ID, e.contact(friend).ReferredBy)
	p, err := e.st.Pledge(context.Background(), peace.ID, e.contact(friend).ID)
	require.NoError(t, err)
	assert.Equal(t, e.contact(sharer).ID, p.ReferredBy, "the pledge counts for the sharer")

	// the same link opened again by someone already here counts nothing more
	e.say(friend, "/start "+payload)
	assert.Equal(t, 1, e.contact(sharer).Referrals)
}

func TestE2EExpiredButton(t *testing.T) {
	e := startE2E(t)
	u := tgUser{ID: 5006, Name: "Adam", Lang: "en"}
	oldMenu := e.onboard(u)
	stopLabel := e.text("en", messages.MenuStop)
	oldStop := oldMenu.button(t, stopLabel)

	only(t, u, e.say(u, "/mydata"))
	before := e.contact(u)

	got := only(t, u, e.press(u, oldStop))
	assert.Contains(t, got.Text, e.text("en", messages.ErrMenuExpired))
	assert.Equal(t, oldMenu.labels(), got.labels(), "the current menu is shown again")
	assert.Equal(t, before, e.contact(u), "the old button changed nothing")

	// the button of the menu shown last works
	only(t, u, e.press(u, got.button(t, stopLabel)))
	assert.True(t, e.contact(u).Stopped)
}

func TestE2EMarkupInTitlesShowsLiterally(t *testing.T) {
	e := startE2E(t)
	const title = `<b>Peace & "Unity"</b>`
	e.campaign("unity", store.KindPledge, 0, title)
	u := tgUser{ID: 5007, Name: "<i>Nour</i> & co", Lang: "en"}
	e.onboard(u)

	list := only(t, u, e.say(u, "/campaigns"))
	assert.Contains(t, list.Text, "• "+title)
	assert.Contains(t, list.labels(), title, "button labels are plain text")

	shown := only(t, u, e.pressLabel(u, list, title))
	assert.Equal(t, "HTML", shown.ParseMode)
	assert.Contains(t, shown.HTML, `📣 &lt;b&gt;Peace &amp; "Unity"&lt;/b&gt;`)
	assert.Contains(t, shown.Text, "📣 "+title)

	data := only(t, u, e.say(u, "/mydata"))
	assert.Contains(t, data.Text, "<i>Nour</i> & co", "a name with markup shows literally too")

	e.f.mu.Lock()
	assert.Empty(t, e.f.violations, "Telegram would have refused a message")
	e.f.mu.Unlock()
}

func TestE2ELongTextIsSplit(t *testing.T) {
	e := startE2E(t)
	u := tgUser{ID: 5008, Name: "Karim", Lang: "ar"}
	e.onboard(u)
	c := e.contact(u)
	var titles []string
	for i := range 25 {
		title := fmt.Sprintf("حملة %02d: %s", i, strings.TrimSpace(strings.Repeat("سلام ", 38)))
		camp := e.campaign(fmt.Sprintf("long%02d", i), store.KindPledge, 0, title)
		_, err := e.st.AddPledge(context.Background(), store.Pledge{CampaignID: camp.ID, ContactID: c.ID, At: e2eNow})
		require.NoError(t, err)
		titles = append(titles, title)
	}

	parts := repliesTo(u, e.say(u, "/mydata"))
	require.GreaterOrEqual(t, len(parts), 2, "a text over 4096 characters is split")
	for i, p := range parts {
		assert.LessOrEqual(t, utf16Len(p.Text), maxTextLen, "part %d", i)
		assert.Equal(t, i == len(parts)-1, p.Markup, "the keyboard goes on the last part only (part %d)", i)
	}
	assert.True(t, strings.HasPrefix(parts[0].Text, e.text("ar", messages.MyDataIntro)))
	var all []string
	for _, p := range parts {
		all = append(all, p.Text)
	}
	joined := strings.Join(all, "\n")
	for _, title := range titles {
		assert.Contains(t, joined, "• "+title+" — ", "each line whole, in one part")
	}
	assert.Contains(t, parts[len(parts)-1].Text, e.text("ar", messages.MyDataForgetHint))
}

func TestE2EInstitutionApproval(t *testing.T) {
	e := newE2E(t)
	admin := tgUser{ID: e2eAdminID, Name: "Admin", Lang: "en"}
	_, _, err := e.st.EnsureContact(context.Background(), bot.MustParseAddress(admin.addr()), admin.Name, "en")
	require.NoError(t, err)
	e.build(e.st)
	e.start()

	rep := tgUser{ID: 5009, Name: "Samar", Lang: "ar"}
	e.onboard(rep)
	ar := func(k messages.Key) string { return e.text("ar", k) }

	nameAR := only(t, rep, e.say(rep, "/register"))
	assert.Contains(t, nameAR.Text, ar(messages.RegisterNameAR))
	nameEN := only(t, rep, e.say(rep, "مركز الحوار"))
	field := only(t, rep, e.pressLabel(rep, nameEN, ar(messages.CommonSkip)))
	govs := only(t, rep, e.pressLabel(rep, field, ar(messages.FieldKey("reconciliation"))))
	govs = only(t, rep, e.pressLabel(rep, govs, ar(messages.GovernorateKey("nablus"))))
	assert.Contains(t, govs.Text, ar(messages.GovernorateKey("nablus")), "the chosen governorate is listed")
	person := only(t, rep, e.pressLabel(rep, govs, ar(messages.CommonDone)))
	assert.Contains(t, person.Text, ar(messages.RegisterPerson))
	only(t, rep, e.say(rep, "سمر خليل"))
	summary := only(t, rep, e.say(rep, "info@dialogue.ps"))
	assert.Contains(t, summary.Text, "مركز الحوار")

	submitted := e.pressLabel(rep, summary, ar(messages.CommonSubmit))
	assert.Contains(t, only(t, rep, submitted).Text, ar(messages.RegisterSubmitted))
	note := only(t, admin, submitted)
	assert.Contains(t, note.Text, "مركز الحوار")
	insts, err := e.st.Institutions(context.Background(), store.InstitutionPending)
	require.NoError(t, err)
	require.Len(t, insts, 1)
	inst := insts[0]
	assert.Equal(t, []string{"nablus"}, inst.Governorates)
	assert.Equal(t, "info@dialogue.ps", inst.Email)

	// the admin approves with the button of the notification
	decided := e.pressLabel(admin, note, e.text("en", messages.AdminApproveButton))
	assert.Contains(t, only(t, admin, decided).Text, e.cat.Text("en", messages.AdminApproved, map[string]any{"Name": "مركز الحوار"}))
	told := only(t, rep, decided)
	assert.Equal(t, e.cat.Text("ar", messages.RegisterApproved, map[string]any{"Name": "مركز الحوار"}), told.Text)

	got, err := e.st.Institution(context.Background(), inst.ID)
	require.NoError(t, err)
	assert.Equal(t, store.InstitutionApproved, got.Status)
	assert.Equal(t, e.contact(admin).ID, got.DecidedBy)
	assert.Equal(t, store.RoleMember, e.contact(rep).Role)
	assert.Equal(t, inst.ID, e.contact(rep).InstitutionID)
	// the role change refreshed the command menus: the new member's chat has one
	assert.True(t, slices.ContainsFunc(e.f.calls("setMyCommands"), func(r fakeRequest) bool {
		return r.Form["scope"] == fmt.Sprintf(`{"type":"chat","chat_id":%d}`, rep.ID)
	}), "no chat-scope menu for the new member")
}

func TestE2EStopStartMyDataForget(t *testing.T) {
	e := startE2E(t)
	u := tgUser{ID: 5010, Name: "Mona", Lang: "en"}
	e.onboard(u)
	en := func(k messages.Key) string { return e.text("en", k) }

	stopped := only(t, u, e.say(u, "/stop"))
	assert.Equal(t, en(messages.StopDone), stopped.Text)
	assert.False(t, stopped.Markup)
	assert.True(t, e.contact(u).Stopped)

	resumed := only(t, u, e.say(u, "/start"))
	assert.Contains(t, resumed.Text, en(messages.StartResumed))
	assert.Contains(t, resumed.Text, en(messages.StartWelcomeBack))
	assert.False(t, e.contact(u).Stopped)

	data := only(t, u, e.say(u, "/mydata"))
	assert.Contains(t, data.Text, en(messages.MyDataIntro))
	assert.Contains(t, data.Text, "Telegram \u2068"+u.chat()+"\u2069")
	assert.Contains(t, data.Text, e.contact(u).RefCode)

	confirm := only(t, u, e.say(u, "/forget"))
	assert.Contains(t, confirm.Text, en(messages.ForgetConfirm))
	kept := only(t, u, e.pressLabel(u, confirm, en(messages.ForgetNo)))
	assert.Contains(t, kept.Text, en(messages.ForgetKept))
	e.contact(u)

	confirm = only(t, u, e.say(u, "/forget"))
	done := only(t, u, e.pressLabel(u, confirm, en(messages.ForgetYes)))
	assert.Equal(t, en(messages.ForgetDone), done.Text)
	_, err := e.st.ContactByAddress(context.Background(), bot.MustParseAddress(u.addr()))
	assert.ErrorIs(t, err, store.ErrNotFound)

	// writing again starts afresh
	greet := only(t, u, e.say(u, "hello"))
	assert.Contains(t, greet.Text, en(messages.StartGreeting))
}

func TestE2EGroupChat(t *testing.T) {
	e := startE2E(t)
	peace := e.campaign("peace", store.KindPledge, 0, "Peace pledge")
	const group = -1009876543210
	u := tgUser{ID: 5011, Name: "Ziad", Lang: "ar"}

	id, raw := e.messageUpdate(u, groupChat(group), "/pledge@"+testUsername+" peace")
	got := e.deliver(id, raw)
	require.Len(t, got, 1, "one answer, in the group")
	assert.Equal(t, strconv.Itoa(group), got[0].Chat)
	link := "https://t.me/" + testUsername + "?start=peace"
	assert.Contains(t, got[0].Text, link, "the link opens the campaign the command named")
	assert.Equal(t, e.cat.Text("ar", messages.GroupUsePrivate, map[string]any{"Link": messages.Isolate(e.tg.ShareLink("peace"))}), got[0].Text)
	n, err := e.st.Counts(context.Background(), peace.ID)
	require.NoError(t, err)
	assert.Zero(t, n.Pledges, "no pledging in a group")

	var raws []string
	for _, text := range []string{"see you all at the vigil", "/pledge peace", "/pledge@other_bot peace", "نعم"} {
		_, raw := e.messageUpdate(u, groupChat(group), text)
		raws = append(raws, raw)
	}
	assert.Empty(t, e.ignored(raws...), "group chatter and commands for others get nothing")
}

func TestE2EUnreachable(t *testing.T) {
	e := startE2E(t)
	u := tgUser{ID: 5012, Name: "Basel", Lang: "en"}
	e.onboard(u)
	setForbidden := func(on bool) {
		e.f.mu.Lock()
		defer e.f.mu.Unlock()
		e.f.forbidden[u.chat()] = on
	}

	// 403 on a reply
	setForbidden(true)
	e.say(u, "/menu")
	assert.Contains(t, e.contact(u).Unreachable, u.address(), "a 403 marks the address unreachable")

	setForbidden(false)
	back := only(t, u, e.say(u, "/menu"))
	assert.Contains(t, back.Text, e.text("en", messages.MenuTitle))
	assert.NotContains(t, e.contact(u).Unreachable, u.address(), "writing again clears the mark")

	// the person blocks the bot: Telegram says so with my_chat_member
	assert.Empty(t, e.block(u), "nothing is sent to someone who blocked the bot")
	assert.Contains(t, e.contact(u).Unreachable, u.address())

	only(t, u, e.say(u, "/menu"))
	assert.NotContains(t, e.contact(u).Unreachable, u.address())
}

// TestE2ENothingMoreAfterA403 checks that once a reply meets a 403, nothing
// more is sent to that chat within the same turn.
func TestE2ENothingMoreAfterA403(t *testing.T) {
	e := startE2E(t)
	u := tgUser{ID: 5015, Name: "Yousef", Lang: "en"}
	e.onboard(u)
	e.f.mu.Lock()
	e.f.forbidden[u.chat()] = true
	e.f.mu.Unlock()

	got := repliesTo(u, e.say(u, "/menu"))
	assert.Len(t, got, 1, "one refused reply, no apology after it")
	assert.Contains(t, e.contact(u).Unreachable, u.address())
}

// block delivers the my_chat_member update Telegram sends when u blocks the bot.
func (e *e2e) block(u tgUser) []reply {
	e.t.Helper()
	id := e.nextUpdateID()
	botUser := map[string]any{"id": 42, "is_bot": true, "first_name": "Mobilise", "username": testUsername}
	kicked := mustJSON(e.t, map[string]any{"update_id": id, "my_chat_member": map[string]any{
		"chat": privateChat(u), "from": u.json(), "date": e2eNow.Unix(),
		"old_chat_member": map[string]any{"user": botUser, "status": "member"},
		"new_chat_member": map[string]any{"user": botUser, "status": "kicked", "until_date": 0},
	}})
	return e.deliver(id, kicked)
}

// TestE2EGroupCommandKeepsTheBlock checks that a command written in a group
// by someone who blocked the bot in private does not lift the block: the
// group is not their private chat, which stays closed to the bot.
func TestE2EGroupCommandKeepsTheBlock(t *testing.T) {
	e := startE2E(t)
	u := tgUser{ID: 5014, Name: "Lina", Lang: "ar"}
	e.onboard(u)
	e.block(u)
	require.Contains(t, e.contact(u).Unreachable, u.address())

	id, raw := e.messageUpdate(u, groupChat(-1001111), "/campaigns@"+testUsername)
	got := e.deliver(id, raw)
	require.Len(t, got, 1)
	assert.Equal(t, "-1001111", got[0].Chat, "answered in the group")
	assert.Contains(t, e.contact(u).Unreachable, u.address(), "still blocked in private")
}

// TestE2ERestartBeforeConfirming stops the process after a batch of updates
// was fetched and handled but before its offset was saved, so Telegram sends
// the batch again to a fresh Channel and Service on the same file: each
// update is answered exactly once.
func TestE2ERestartBeforeConfirming(t *testing.T) {
	e := newE2E(t)
	var people []tgUser
	var first []string
	for i := range 5 {
		u := tgUser{ID: int64(6000 + i), Name: fmt.Sprint("P", i), Lang: "en"}
		people = append(people, u)
		_, raw := e.messageUpdate(u, privateChat(u), "/start")
		first = append(first, raw)
	}
	e.f.push(first...)

	ctx, cancel := context.WithCancel(context.Background())
	e.build(&crashingState{Store: e.st, crash: cancel})
	e.startCtx(ctx, cancel)
	run1 := e.waitAny(len(people))
	assert.ErrorIs(t, e.stop(), errCrashed, "the offset was never saved")
	assert.Equal(t, []int64{1, 2, 3, 4, 5}, e.f.pending(), "nothing confirmed to Telegram")

	e.reopen()
	e.build(e.st)
	for _, u := range people {
		_, raw := e.messageUpdate(u, privateChat(u), "2")
		e.f.push(raw)
	}
	e.start()
	// the re-sent batch comes to the handler again, which knows it and answers nothing
	run2 := e.waitAny(2 * len(people))
	require.NoError(t, e.stop())

	all := append(run1, run2...)
	slices.Sort(all)
	assert.Equal(t, []string{"1", "1", "10", "2", "2", "3", "3", "4", "4", "5", "5", "6", "7", "8", "9"}, all, "the first batch twice, the second once")
	replies := e.newReplies()
	for _, u := range people {
		got := repliesTo(u, replies)
		require.Len(t, got, 2, "one answer per update for %s", u.chat())
		assert.Contains(t, got[0].Text, e.text("en", messages.StartGreeting))
		assert.Contains(t, got[1].Text, e.text("en", messages.StartConsent), "the conversation went on where it was")
	}
	offset, err := e.st.TelegramOffset(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(11), offset)
}

func TestE2ECommandMenus(t *testing.T) {
	e := newE2E(t)
	_, _, err := e.st.EnsureContact(context.Background(), bot.MustParseAddress(fmt.Sprintf("telegram:%d", e2eAdminID)), "Admin", "en")
	require.NoError(t, err)
	_, _, err = e.st.EnsureContact(context.Background(), bot.MustParseAddress("telegram:5013"), "Citizen", "ar")
	require.NoError(t, err)
	e.build(e.st)
	e.start()
	// once a message is handled, Run has set the menus
	u := tgUser{ID: 5013, Name: "Citizen", Lang: "ar"}
	e.say(u, "/help")

	type cmd struct {
		Command     string `json:"command"`
		Description string `json:"description"`
	}
	want := func(lang string, role store.Role) []cmd {
		var out []cmd
		for _, c := range e.stack.Bot.CommandsFor(lang, role) {
			out = append(out, cmd{c.Name, c.Description})
		}
		return out
	}
	calls := e.f.calls("setMyCommands")
	require.Len(t, calls, 4, "three default menus and the admin's")
	cases := []struct {
		scope, langCode, lang string
		role                  store.Role
	}{
		{`{"type":"default"}`, "", "ar", store.RoleCitizen},
		{`{"type":"default"}`, "ar", "ar", store.RoleCitizen},
		{`{"type":"default"}`, "en", "en", store.RoleCitizen},
		{fmt.Sprintf(`{"type":"chat","chat_id":%d}`, e2eAdminID), "", "en", store.RoleAdmin},
	}
	for i, tc := range cases {
		assert.Equal(t, tc.scope, calls[i].Form["scope"], "call %d", i)
		assert.Equal(t, tc.langCode, calls[i].Form["language_code"], "call %d", i)
		var got []cmd
		require.NoError(t, json.Unmarshal([]byte(calls[i].Form["commands"]), &got))
		assert.Equal(t, want(tc.lang, tc.role), got, "call %d", i)
	}
	names := func(cs []cmd) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Command)
		}
		return out
	}
	assert.NotContains(t, names(want("ar", store.RoleCitizen)), "approve", "citizens do not see admin commands")
	assert.Contains(t, names(want("en", store.RoleAdmin)), "approve")
	assert.Contains(t, names(want("en", store.RoleAdmin)), "pending")
	assert.Equal(t, "بدء الاستخدام أو استئناف الرسائل", want("ar", store.RoleCitizen)[0].Description)
}
