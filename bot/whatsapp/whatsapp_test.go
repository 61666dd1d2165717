package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"mobilise/bot"
)

var (
	phoneJID  = types.NewJID("970599123456", types.DefaultUserServer)
	lidJID    = types.NewJID("123456789012345", types.HiddenUserServer)
	strangerL = types.NewJID("987654321098765", types.HiddenUserServer)
	t0        = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
)

func text(s string) *waE2E.Message { return &waE2E.Message{Conversation: &s} }

// dm builds a private text message from sender in chat.
func dm(id string, chat, sender types.JID, msg *waE2E.Message) *events.Message {
	return &events.Message{
		Info: types.MessageInfo{
			MessageSource: types.MessageSource{Chat: chat, Sender: sender},
			ID:            id,
			PushName:      "Lina",
			Timestamp:     t0,
			Type:          "text",
		},
		Message: msg,
	}
}

func addr(id string) bot.Address { return bot.Address{Channel: "whatsapp", ID: id} }

func TestIncoming(t *testing.T) {
	withDevice := types.JID{User: phoneJID.User, Server: types.DefaultUserServer, Device: 3}
	extended := "1"
	cases := []struct {
		label    string
		evt      func() *events.Message
		wantFrom string
		wantText string
		ignored  bool
	}{
		{
			label:    "conversation text from a phone number",
			evt:      func() *events.Message { return dm("A1", phoneJID, phoneJID, text("مرحبا")) },
			wantFrom: "970599123456", wantText: "مرحبا",
		},
		{
			label: "extended text",
			evt: func() *events.Message {
				return dm("A2", phoneJID, phoneJID, &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: &extended}})
			},
			wantFrom: "970599123456", wantText: "1",
		},
		{
			label:    "sender with a device part",
			evt:      func() *events.Message { return dm("A3", phoneJID, withDevice, text("hi")) },
			wantFrom: "970599123456", wantText: "hi",
		},
		{
			label: "LID sender with the phone number alongside",
			evt: func() *events.Message {
				e := dm("A4", lidJID, lidJID, text("hi"))
				e.Info.SenderAlt = phoneJID
				return e
			},
			wantFrom: "970599123456", wantText: "hi",
		},
		{
			label:    "LID sender mapped through the LID store",
			evt:      func() *events.Message { return dm("A5", lidJID, lidJID, text("hi")) },
			wantFrom: "970599123456", wantText: "hi",
		},
		{
			label:    "LID sender with no known number keeps the LID",
			evt:      func() *events.Message { return dm("A6", strangerL, strangerL, text("hi")) },
			wantFrom: "987654321098765@lid", wantText: "hi",
		},
		{
			label: "group message",
			evt: func() *events.Message {
				e := dm("B1", types.NewJID("120363000000000001", types.GroupServer), phoneJID, text("hi"))
				e.Info.IsGroup = true
				return e
			},
			ignored: true,
		},
		{
			label: "own message",
			evt: func() *events.Message {
				e := dm("B2", phoneJID, types.NewJID("970591111111", types.DefaultUserServer), text("hi"))
				e.Info.IsFromMe = true
				return e
			},
			ignored: true,
		},
		{
			label:   "status broadcast",
			evt:     func() *events.Message { return dm("B3", types.StatusBroadcastJID, phoneJID, text("story")) },
			ignored: true,
		},
		{
			label: "broadcast list",
			evt: func() *events.Message {
				e := dm("B4", types.NewJID("1700000000", types.BroadcastServer), phoneJID, text("hi all"))
				e.Info.IsGroup = true
				return e
			},
			ignored: true,
		},
		{
			label: "newsletter",
			evt: func() *events.Message {
				return dm("B5", types.NewJID("120363000000000002", types.NewsletterServer), phoneJID, text("news"))
			},
			ignored: true,
		},
		{
			label: "edited message",
			evt: func() *events.Message {
				e := dm("B6", phoneJID, phoneJID, text("2"))
				e.IsEdit = true
				e.Info.Edit = types.EditAttributeMessageEdit
				return e
			},
			ignored: true,
		},
		{
			label: "a reaction",
			evt: func() *events.Message {
				return dm("B7", phoneJID, phoneJID, &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{Text: proto.String("👍")}})
			},
			ignored: true,
		},
		{
			label: "a deletion",
			evt: func() *events.Message {
				return dm("B8", phoneJID, phoneJID, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{}})
			},
			ignored: true,
		},
	}
	c := newWithClient(newFakeClient(), withLIDs(fakeLIDs{lidJID: phoneJID}))
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			evt := tc.evt()
			j, ok := c.incoming(evt)
			if tc.ignored {
				assert.False(t, ok)
				return
			}
			require.True(t, ok)
			assert.Equal(t, addr(tc.wantFrom), j.in.From)
			assert.Equal(t, tc.wantText, j.in.Text)
			assert.Equal(t, "Lina", j.in.Name)
			assert.Equal(t, evt.Info.ID, j.in.ExternalID)
			assert.Equal(t, t0, j.in.ReceivedAt)
			// receipts go to the chat as WhatsApp addressed it
			assert.Equal(t, evt.Info.Chat, j.chat)
			assert.Equal(t, evt.Info.Sender, j.sender)
		})
	}
}

func TestRunDeliversAndMarksRead(t *testing.T) {
	f := newFakeClient()
	c := newWithClient(f, withLIDs(fakeLIDs{lidJID: phoneJID}), withTypingDelay(time.Hour))
	got := make(recorder, 4)
	r := start(t, c, f, got)

	f.emit(dm("M1", phoneJID, phoneJID, text("تسجيل")))
	f.emit(dm("M2", lidJID, lidJID, text("2")))
	first, second := receive(t, got), receive(t, got)
	require.NoError(t, r.stop(t))

	assert.Equal(t, "تسجيل", first.Text)
	assert.Equal(t, "2", second.Text)
	// the phone form and the LID form are one person
	assert.Equal(t, addr("970599123456"), first.From)
	assert.Equal(t, first.From, second.From)
	assert.Equal(t, []readReceipt{
		{IDs: []types.MessageID{"M1"}, Chat: phoneJID, Sender: phoneJID},
		{IDs: []types.MessageID{"M2"}, Chat: lidJID, Sender: lidJID},
	}, f.readReceipts())
	assert.Equal(t, 1, f.disconnects)
	assert.Empty(t, f.presences, "fast answers show no typing")
}

func TestTypingWhileSlow(t *testing.T) {
	f := newFakeClient()
	c := newWithClient(f, withTypingDelay(time.Millisecond))
	done := make(chan struct{})
	h := bot.HandlerFunc(func(context.Context, bot.Incoming) error {
		// a slow answer: still running when the indicator is due
		select {
		case p := <-f.presences:
			assert.Equal(t, chatPresence{Chat: phoneJID, State: types.ChatPresenceComposing}, p)
		case <-time.After(waitTimeout):
			assert.Fail(t, "no typing indicator")
		}
		close(done)
		return nil
	})
	start(t, c, f, h)
	f.emit(dm("M1", phoneJID, phoneJID, text("hi")))
	receive(t, done)
	assert.Equal(t, chatPresence{Chat: phoneJID, State: types.ChatPresencePaused}, receive(t, f.presences))
}

func TestPerPersonOrder(t *testing.T) {
	f := newFakeClient()
	c := newWithClient(f, WithWorkers(3), withTypingDelay(time.Hour))
	var mu sync.Mutex
	seen := map[string][]int{}
	all := make(chan struct{}, 100)
	h := bot.HandlerFunc(func(_ context.Context, in bot.Incoming) error {
		n, err := strconv.Atoi(in.Text)
		assert.NoError(t, err)
		mu.Lock()
		seen[in.From.ID] = append(seen[in.From.ID], n)
		mu.Unlock()
		all <- struct{}{}
		return nil
	})
	r := start(t, c, f, h)
	people := []string{"970599000001", "970599000002", "970599000003", "972501234567"}
	const each = 20
	for i := range each {
		for _, p := range people {
			jid := types.NewJID(p, types.DefaultUserServer)
			f.emit(dm(fmt.Sprintf("%s-%d", p, i), jid, jid, text(strconv.Itoa(i))))
		}
	}
	for range each * len(people) {
		receive(t, all)
	}
	require.NoError(t, r.stop(t))
	want := make([]int, each)
	for i := range want {
		want[i] = i
	}
	for _, p := range people {
		assert.Equal(t, want, seen[p], p)
	}
}

func TestSlowPersonDoesNotHoldOthers(t *testing.T) {
	f := newFakeClient()
	c := newWithClient(f, WithWorkers(4), withTypingDelay(time.Hour))
	slow := "970599000001"
	fast := ""
	for i := 2; fast == ""; i++ {
		id := fmt.Sprintf("9705990000%02d", i)
		if c.shard(addr(id)) != c.shard(addr(slow)) {
			fast = id
		}
	}
	release := make(chan struct{})
	fastDone := make(chan struct{})
	h := bot.HandlerFunc(func(_ context.Context, in bot.Incoming) error {
		if in.From.ID == slow {
			<-release
			return nil
		}
		close(fastDone)
		return nil
	})
	start(t, c, f, h)
	slowJID, fastJID := types.NewJID(slow, types.DefaultUserServer), types.NewJID(fast, types.DefaultUserServer)
	f.emit(dm("S1", slowJID, slowJID, text("1")))
	f.emit(dm("F1", fastJID, fastJID, text("1")))
	receive(t, fastDone)
	close(release)
}

func TestRunWaitsForHandlersThenDisconnects(t *testing.T) {
	f := newFakeClient()
	j := &journal{}
	f.journal = j
	c := newWithClient(f, withTypingDelay(time.Hour))
	started, release := make(chan struct{}), make(chan struct{})
	h := bot.HandlerFunc(func(ctx context.Context, _ bot.Incoming) error {
		close(started)
		<-release
		// the reply of a started answer still goes out
		assert.NoError(t, ctx.Err())
		j.add("handler done")
		return nil
	})
	r := start(t, c, f, h)
	f.emit(dm("M1", phoneJID, phoneJID, text("hi")))
	receive(t, started)
	r.cancel()
	close(release)
	require.NoError(t, r.wait(t))
	j.add("run returned")
	assert.Equal(t, []string{"handler done", "disconnect", "run returned"}, j.list())
}

func TestSend(t *testing.T) {
	f := newFakeClient()
	f.connected = true
	c := newWithClient(f)
	id, err := c.Send(context.Background(), bot.Outgoing{
		To:   addr("970599123456"),
		Text: "اختر مؤسستك:",
		Buttons: [][]bot.Button{
			{{Text: "جمعية الأمل", Payload: "inst:1"}, {Text: "مركز السلام", Payload: "inst:2"}},
			{{Text: "إلغاء", Payload: "cancel"}},
		},
	})
	require.NoError(t, err)
	assert.Equal(t, "3EB0FAKE", id)

	_, err = c.Send(context.Background(), bot.Outgoing{To: addr("123456789012345@lid"), Text: "plain"})
	require.NoError(t, err)

	assert.Equal(t, []sentMessage{
		{To: phoneJID, Text: "اختر مؤسستك:\n\n1. جمعية الأمل\n2. مركز السلام\n3. إلغاء"},
		{To: lidJID, Text: "plain"},
	}, f.sentMessages())
}

func TestSendErrors(t *testing.T) {
	cases := []struct {
		label        string
		to           string
		disconnected bool
		sendErr      error
		onWhatsApp   map[string]bool
		wantErr      error
		wantSent     bool
		wantAlert    AlertKind
	}{
		{
			label: "not connected: nothing sent", to: "970599123456", disconnected: true,
			wantErr: ErrNotConnected,
		},
		{
			label: "socket dropped mid-send", to: "970599123456",
			sendErr: fmt.Errorf("failed to send message node: %w", whatsmeow.ErrNotConnected),
			wantErr: ErrNotConnected, wantSent: true,
		},
		{
			label: "session gone", to: "970599123456", sendErr: whatsmeow.ErrNotLoggedIn,
			wantErr: ErrLoggedOut, wantSent: true,
		},
		{
			label: "reach-out time-lock", to: "970599123456",
			sendErr: fmt.Errorf("%w %d", whatsmeow.ErrServerReturnedError, 463),
			wantErr: ErrSendBlocked, wantSent: true, wantAlert: AlertSendBlocked,
		},
		{
			label: "rate over limit", to: "970599123456",
			sendErr: fmt.Errorf("%w %d", whatsmeow.ErrServerReturnedError, 429),
			wantErr: ErrSendBlocked, wantSent: true, wantAlert: AlertSendBlocked,
		},
		{
			label: "number not on whatsapp", to: "970599999999",
			sendErr:    errors.New("no LID found for 970599999999@s.whatsapp.net from server"),
			onWhatsApp: map[string]bool{"+970599999999": false},
			wantErr:    bot.ErrRecipientGone, wantSent: true,
		},
		{
			label: "unknown failure to a registered number", to: "970599123456",
			sendErr:    errors.New("failed to get user info"),
			onWhatsApp: map[string]bool{"+970599123456": true},
			wantSent:   true,
		},
		{label: "not a phone number", to: "0599123456"},
		{label: "a group", to: "120363000000000001@g.us"},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			f := newFakeClient()
			f.connected = !tc.disconnected
			f.sendErr = tc.sendErr
			f.onWhatsApp = tc.onWhatsApp
			alerts := make(chan Alert, 4)
			c := newWithClient(f, WithAlerts(func(_ context.Context, a Alert) { alerts <- a }))

			_, err := c.Send(context.Background(), bot.Outgoing{To: addr(tc.to), Text: "hi"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "whatsapp: send to whatsapp:"+tc.to)
			for _, sentinel := range []error{ErrNotConnected, ErrLoggedOut, ErrSendBlocked, bot.ErrRecipientGone} {
				assert.Equal(t, sentinel == tc.wantErr, errors.Is(err, sentinel), "errors.Is(%v)", sentinel)
			}
			if tc.sendErr != nil {
				assert.ErrorIs(t, err, tc.sendErr, "the library's error stays in the chain")
			}
			assert.Equal(t, tc.wantSent, len(f.sentMessages()) == 1)
			if tc.wantAlert != "" {
				assert.Equal(t, tc.wantAlert, receive(t, alerts).Kind)
			}
			c.alerts.Wait()
			assert.Empty(t, alerts)
		})
	}
}

func TestSendBlockedAlertsOncePerHour(t *testing.T) {
	f := newFakeClient()
	f.connected = true
	f.sendErr = fmt.Errorf("%w %d", whatsmeow.ErrServerReturnedError, 463)
	clk := &clock{t: t0}
	var alerts []Alert
	var mu sync.Mutex
	c := newWithClient(f, WithNow(clk.now), WithAlerts(func(_ context.Context, a Alert) {
		mu.Lock()
		defer mu.Unlock()
		alerts = append(alerts, a)
	}))
	send := func() {
		_, err := c.Send(context.Background(), bot.Outgoing{To: addr("970599123456"), Text: "hi"})
		require.ErrorIs(t, err, ErrSendBlocked)
	}
	send()
	send()
	clk.advance(time.Hour)
	send()
	c.alerts.Wait()
	assert.Len(t, alerts, 2)
}

func TestLoggedOutStopsChannel(t *testing.T) {
	f := newFakeClient()
	alerts := make(chan Alert, 4)
	c := newWithClient(f, WithAlerts(func(_ context.Context, a Alert) { alerts <- a }))
	r := start(t, c, f, make(recorder, 1))
	assert.True(t, c.Connected())

	f.emit(&events.LoggedOut{OnConnect: true, Reason: events.ConnectFailureLoggedOut})

	err := r.wait(t)
	require.ErrorIs(t, err, ErrLoggedOut)
	assert.Contains(t, err.Error(), "401")
	a := receive(t, alerts)
	assert.Equal(t, AlertLoggedOut, a.Kind)
	assert.Contains(t, a.Detail, "logged out from another device")
	assert.Equal(t, 1, f.disconnects)
	assert.False(t, c.Connected())

	f.connected = true // even were the socket up, the session is gone
	_, err = c.Send(context.Background(), bot.Outgoing{To: addr("970599123456"), Text: "hi"})
	assert.ErrorIs(t, err, ErrLoggedOut)
	assert.Empty(t, f.sentMessages())
}

func TestTemporaryBanRefusesSends(t *testing.T) {
	f := newFakeClient()
	clk := &clock{t: t0}
	alerts := make(chan Alert, 4)
	c := newWithClient(f, WithNow(clk.now), WithAlerts(func(_ context.Context, a Alert) { alerts <- a }))
	start(t, c, f, make(recorder, 1))

	f.emit(&events.TemporaryBan{Code: events.TempBanSentToTooManyPeople, Expire: 6 * time.Hour})
	a := receive(t, alerts)
	assert.Equal(t, AlertBanned, a.Kind)
	assert.Equal(t, t0.Add(6*time.Hour), a.Expires)
	assert.Contains(t, a.Detail, "101")

	msg := bot.Outgoing{To: addr("970599123456"), Text: "hi"}
	_, err := c.Send(context.Background(), msg)
	require.ErrorIs(t, err, ErrSendBlocked)
	assert.Empty(t, f.sentMessages())

	clk.advance(6*time.Hour + time.Second)
	_, err = c.Send(context.Background(), msg)
	require.NoError(t, err)
	assert.Len(t, f.sentMessages(), 1)
}

func TestReconnectsWhenBanEnds(t *testing.T) {
	f := newFakeClient()
	c := newWithClient(f)
	start(t, c, f, make(recorder, 1))
	f.emit(&events.TemporaryBan{Code: events.TempBanBlockedByUsers, Expire: time.Millisecond})
	receive(t, f.connects)
}

func TestConnectionAlerts(t *testing.T) {
	cases := []struct {
		evt  any
		want AlertKind
	}{
		{&events.StreamReplaced{}, AlertStreamReplaced},
		{&events.ConnectFailure{Reason: events.ConnectFailureBadUserAgent}, AlertConnectFailure},
		{&events.ClientOutdated{}, AlertConnectFailure},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%T", tc.evt), func(t *testing.T) {
			f := newFakeClient()
			alerts := make(chan Alert, 4)
			c := newWithClient(f, WithAlerts(func(_ context.Context, a Alert) { alerts <- a }))
			r := start(t, c, f, make(recorder, 1))
			f.emit(tc.evt)
			a := receive(t, alerts)
			assert.Equal(t, tc.want, a.Kind)
			assert.NotEmpty(t, a.Detail)
			// none of these ends the channel: Run stops only when told
			require.NoError(t, r.stop(t))
		})
	}
}

func TestConnectErrorEndsRun(t *testing.T) {
	f := newFakeClient()
	f.connectErr = errors.New("dial tcp: lookup web.whatsapp.com: no such host")
	alerts := make(chan Alert, 4)
	c := newWithClient(f, WithAlerts(func(_ context.Context, a Alert) { alerts <- a }))
	err := c.Run(context.Background(), make(recorder, 1))
	require.ErrorIs(t, err, f.connectErr)
	assert.Equal(t, AlertConnectFailure, receive(t, alerts).Kind)
}

func TestShareLink(t *testing.T) {
	c := newWithClient(newFakeClient(), withOwnNumber("970599000000"))
	assert.Equal(t, "https://wa.me/970599000000?text=start%20camp_42-x", c.ShareLink("camp_42-x"))
	assert.Empty(t, newWithClient(newFakeClient()).ShareLink("x"))
	assert.Equal(t, bot.WhatsApp, c.Name())
}

func TestServerErrorCode(t *testing.T) {
	code, ok := serverErrorCode(fmt.Errorf("%w %d", whatsmeow.ErrServerReturnedError, 463))
	assert.True(t, ok)
	assert.Equal(t, 463, code)
	_, ok = serverErrorCode(errors.New("server returned error 463"))
	assert.False(t, ok, "only whatsmeow's error, matched with errors.Is")
}

// TestRunAgainAfterLeaseLost checks that Run, once returned (the whatsapp
// lease lost), runs again when the lease is won back: it connects anew,
// each message is handled once, and a second Run while one is in
// progress is refused. After a logout it stays stopped.
func TestRunAgainAfterLeaseLost(t *testing.T) {
	f := newFakeClient()
	c := newWithClient(f, withTypingDelay(time.Hour))
	got := make(recorder, 4)
	r := start(t, c, f, got)
	assert.ErrorContains(t, c.Run(context.Background(), got), "while running")
	f.emit(dm("M1", phoneJID, phoneJID, text("1")))
	assert.Equal(t, "1", receive(t, got).Text)
	require.NoError(t, r.stop(t))
	f.emit(dm("M2", phoneJID, phoneJID, text("lost")))

	r = start(t, c, f, got)
	f.emit(dm("M3", phoneJID, phoneJID, text("3")))
	assert.Equal(t, "3", receive(t, got).Text, "the message between the two runs reached no handler")
	select {
	case in := <-got:
		assert.Fail(t, "handled twice", in.Text)
	case <-time.After(50 * time.Millisecond):
	}
	assert.Len(t, f.connects, 0)
	f.emit(&events.LoggedOut{})
	require.ErrorIs(t, r.wait(t), ErrLoggedOut)
	assert.Equal(t, 2, f.disconnects)
	assert.ErrorIs(t, c.Run(context.Background(), got), ErrLoggedOut)
}
