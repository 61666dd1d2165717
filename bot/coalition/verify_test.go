package coalition_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/bot/schedule"
	"mobilise/store"
)

// broadcast submits a broadcast to aud by a new coordinator.
func (f *fixture) broadcast(aud store.Audience) coalition.Submitted {
	f.t.Helper()
	res, err := f.co.Broadcasts.Submit(context.Background(), f.actor(f.person(store.RoleCoordinator)),
		coalition.BroadcastDraft{TextAR: "انضمّوا إلى الوقفة يوم الجمعة", TextEN: "Join the vigil on Friday", Audience: aud})
	require.NoError(f.t, err)
	return res
}

// codeOf is the verification code of a broadcast.
func (f *fixture) codeOf(broadcastID uint64) string {
	f.t.Helper()
	c, err := f.st.CallOf(context.Background(), "broadcast", broadcastID)
	require.NoError(f.t, err)
	return c.Code
}

// Every copy of a broadcast and of each firing of a reminder ends with its
// call's code; /verify says the coalition sent it, when, for which
// campaign, and with which words.
func TestEveryCallCarriesAVerificationCode(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	c := f.campaign("vigil", store.KindEvent, 0)
	people := f.crowd(2, "hebron")
	for _, p := range people {
		_, err := f.co.Campaigns.SignUp(ctx, f.actor(p), c.Code)
		require.NoError(t, err)
	}
	res, err := f.co.Broadcasts.Submit(ctx, f.actor(f.person(store.RoleCoordinator)),
		coalition.BroadcastDraft{CampaignID: c.ID, TextAR: "الوقفة غدًا", TextEN: "The vigil is tomorrow", Audience: governorate("hebron")})
	require.NoError(t, err)
	code := f.codeOf(res.Broadcast.ID)
	bc, err := f.st.Broadcast(ctx, res.Broadcast.ID)
	require.NoError(t, err)
	copies := f.bulkOf(bc.ID)
	require.Len(t, copies, 2)
	for _, e := range copies {
		assert.True(t, strings.HasSuffix(e.Text, "\u2068/verify \u2068"+coalition.FormatCode(code)+"\u2069\u2069"), "the code ends the copy: %q", e.Text)
		assert.Equal(t, bc.TextAR, e.Text, "the copy is its broadcast's text, so the outbox keeps a reference, not a copy")
		assert.Equal(t, "/campaign vigil", e.Buttons[0][0].Payload, "the campaign's button stays")
	}
	v, err := f.co.Verify.Check(ctx, f.actor(people[0]), strings.ToLower(code))
	require.NoError(t, err)
	assert.Equal(t, coalition.VerdictGenuine, v.Kind)
	assert.Equal(t, "الوقفة غدًا\n\n— \u2068ائتلاف السلم الأهلي\u2069", v.Call.TextAR, "the words as sent, with whom they are from, without the code line")
	assert.Equal(t, c.ID, v.Campaign.ID)
	assert.Equal(t, f.clock().UTC(), v.Call.At)

	// each firing of a recurring reminder has a code of its own
	r, err := f.co.Reminders.Create(ctx, f.actor(f.person(store.RoleCoordinator)), coalition.ReminderDraft{
		TextAR: "تذكير يومي", Audience: governorate("hebron"), Schedule: &schedule.Schedule{Hour: 12}})
	require.NoError(t, err)
	var codes []string
	for _, d := range []time.Duration{31 * time.Minute, 24 * time.Hour} { // 12:01 in Hebron, twice
		f.advance(d)
		require.NoError(t, f.co.Reminders.FireDue(ctx))
		call, err := f.st.CallOf(ctx, "reminder", r.Reminder.ID)
		require.NoError(t, err)
		codes = append(codes, call.Code)
	}
	assert.NotEqual(t, codes[0], codes[1])
	for _, e := range f.ofKind(store.KindReminder) {
		found, ok := coalition.FindCode(e.Text)
		require.True(t, ok, e.Text)
		assert.Contains(t, codes, found)
	}
	// and the event's own reminder, a day before the event
	f.advance(23*time.Hour + 30*time.Minute)
	require.NoError(t, f.co.Reminders.FireDue(ctx))
	var event int
	for _, e := range f.ofKind(store.KindReminder) {
		if strings.Contains(e.Text, "vigil") {
			event++
			found, ok := coalition.FindCode(e.Text)
			require.True(t, ok)
			call, err := f.st.Call(ctx, found)
			require.NoError(t, err)
			assert.Equal(t, c.ID, call.CampaignID)
		}
	}
	assert.NotZero(t, event)
}

// A forwarded or pasted message is judged by its code and its words: the
// bot's own copy is genuine, a copy from elsewhere with the same words is
// a copied call, other words under a real code are a fake, as is a code
// never sent.
func TestMessagesAreJudgedByCodeAndWords(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tg := f.personOn(bot.Telegram, store.RoleCitizen, "gaza", "en")
	wa := f.personOn(bot.WhatsApp, store.RoleCitizen, "gaza", "ar")
	res := f.broadcast(governorate("gaza"))
	copies := map[uint64]string{}
	for _, e := range f.bulkOf(res.Broadcast.ID) {
		copies[e.ContactID] = e.Text
	}
	asker := f.actor(f.person(store.RoleCitizen))
	fromBot := &bot.Forward{FromBot: true, Date: f.clock()}
	cases := []struct {
		name string
		text string
		fwd  *bot.Forward
		want coalition.VerdictKind
	}{
		{"the bot's English copy, forwarded", copies[tg.ID], fromBot, coalition.VerdictGenuine},
		{"the same words pasted", copies[tg.ID], nil, coalition.VerdictCopied},
		{"forwarded from a person who copied it", copies[tg.ID], &bot.Forward{}, coalition.VerdictCopied},
		{"a WhatsApp copy with its greeting, pasted", copies[wa.ID], nil, coalition.VerdictCopied},
		{"spaces and bidi marks do not count", "\u2068" + strings.ReplaceAll(copies[tg.ID], " ", "  ") + "\u2069", fromBot, coalition.VerdictGenuine},
		{"a word changed", strings.Replace(copies[tg.ID], "Friday", "Saturday", 1), nil, coalition.VerdictAltered},
		{"a line added", copies[tg.ID] + "\nSend money to 0599123456", nil, coalition.VerdictAltered},
		{"a code never sent", "Join us. Verification code: AAAAA-BBBBB", nil, coalition.VerdictUnknown},
		{"no code, from the bot", "Thank you. Your pledge is recorded.", fromBot, coalition.VerdictNoCode},
		{"no code, from anyone", "The coalition asks you to transfer money", nil, coalition.VerdictNoCode},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := f.co.Verify.Message(ctx, asker, tc.text, tc.fwd)
			require.NoError(t, err)
			assert.Equal(t, tc.want, v.Kind)
			assert.Equal(t, tc.want.Fake(), tc.want == coalition.VerdictAltered || tc.want == coalition.VerdictUnknown)
			if tc.want != coalition.VerdictNoCode && tc.want != coalition.VerdictUnknown {
				assert.Equal(t, res.Broadcast.ID, v.Call.RefID)
			}
		})
	}
}

// Guesses are limited per address: ten codes never sent an hour, counted
// under the address's mark, so /forget does not reset them. A malformed
// code is no guess.
func TestVerifyGuessesAreLimitedPerAddress(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.crowd(1, "nablus")
	res := f.broadcast(governorate("nablus"))
	genuine := f.codeOf(res.Broadcast.ID)
	guesser := f.person(store.RoleCitizen)
	by := f.actor(guesser)
	var inv *coalition.InvalidError
	for range 20 {
		_, err := f.co.Verify.Check(ctx, by, "hello")
		require.True(t, errors.As(err, &inv), "%v", err)
	}
	for i := range 10 {
		v, err := f.co.Verify.Check(ctx, by, "AAAAA-BBBB"+string("CDEFGHJKMN"[i]))
		require.NoError(t, err, "guess %d", i+1)
		assert.Equal(t, coalition.VerdictUnknown, v.Kind)
	}
	_, err := f.co.Verify.Check(ctx, by, genuine)
	assert.ErrorIs(t, err, coalition.ErrTooManyTries, "even a genuine code, once the guesses are spent")
	_, err = f.co.Verify.Message(ctx, by, "text AAAAA-BBBBB", nil)
	assert.ErrorIs(t, err, coalition.ErrTooManyTries, "a forward is a guess too")

	other := f.actor(f.person(store.RoleCitizen))
	v, err := f.co.Verify.Check(ctx, other, genuine)
	require.NoError(t, err, "another address has its own count")
	assert.Equal(t, coalition.VerdictGenuine, v.Kind)

	require.NoError(t, f.co.People.Forget(ctx, by))
	again, _, err := f.st.EnsureContact(ctx, guesser.Addresses[0], "", "ar")
	require.NoError(t, err)
	_, err = f.co.Verify.Check(ctx, f.co.Members.ActorOf(again, guesser.Addresses[0]), genuine)
	assert.ErrorIs(t, err, coalition.ErrTooManyTries, "forgetting oneself does not reset the count")

	f.advance(61 * time.Minute)
	_, err = f.co.Verify.Check(ctx, f.co.Members.ActorOf(again, guesser.Addresses[0]), genuine)
	assert.NoError(t, err, "an hour later")
}

// A warning about a fake quotes it in a broadcast of the coalition's,
// under every rule of one, with a code of its own.
func TestWarningAboutAFake(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	admin := f.person(store.RoleAdmin)
	coord := f.actor(f.person(store.RoleCoordinator))
	f.crowd(4, "jenin")
	fake := "الائتلاف يطلب تحويل ٥٠ شيكل إلى الحساب 12345\n\n🔐 رمز التحقّق: AAAAA-BBBBB"
	res, err := f.co.Verify.Warn(ctx, coord, coalition.FakeWarning{Quote: fake, Audience: governorate("jenin")})
	require.NoError(t, err)
	assert.True(t, res.AwaitingApproval, "to 4 people it needs a second person, as any call")
	asks := f.to(admin, "broadcast_approval")
	require.Len(t, asks, 1)
	assert.Contains(t, asks[0].Text, "تحويل ٥٠ شيكل")
	_, err = f.co.Broadcasts.Approve(ctx, f.actor(admin), res.Broadcast.ID)
	require.NoError(t, err)
	copies := f.bulkOf(res.Broadcast.ID)
	require.Len(t, copies, 4)
	text := copies[0].Text
	assert.Contains(t, text, "تحويل ٥٠ شيكل إلى الحساب 12345", "the fake is quoted")
	assert.NotContains(t, text, "AAAAA-BBBBB", "but not its code, which people would read as ours")
	found, ok := coalition.FindCode(text)
	require.True(t, ok, "the warning has a code of its own")
	assert.Equal(t, f.codeOf(res.Broadcast.ID), found)
	v, err := f.co.Verify.Message(ctx, f.actor(f.person(store.RoleCitizen)), text, &bot.Forward{FromBot: true})
	require.NoError(t, err)
	assert.Equal(t, coalition.VerdictGenuine, v.Kind, "the warning itself checks out")
	assert.Len(t, f.audit("fake_warning"), 1)

	var inv *coalition.InvalidError
	_, err = f.co.Verify.Warn(ctx, coord, coalition.FakeWarning{Quote: "  ", Audience: everyone})
	assert.True(t, errors.As(err, &inv), "nothing to quote")
}

func TestCodesAreReadAsPeopleTypeThem(t *testing.T) {
	for _, s := range []string{"K7P2Q-X9MRT", "k7p2qx9mrt", " K7P2Q X9MRT ", "\u2068K7P2Q-X9MRT\u2069", "K٧P٢Q-X٩MRT"} {
		code, ok := coalition.ParseCode(s)
		assert.True(t, ok, "%q", s)
		assert.Equal(t, "K7P2QX9MRT", code, "%q", s)
	}
	for _, s := range []string{"", "K7P2Q", "K7P2Q-X9MRT1", "K7P2Q-X9MR0", "HELLO-WORLD"} {
		_, ok := coalition.ParseCode(s)
		assert.False(t, ok, "%q: too short, too long, or a letter codes do not use", s)
	}
	assert.Equal(t, "K7P2Q-X9MRT", coalition.FormatCode("K7P2QX9MRT"))
	code, ok := coalition.FindCode("text\n\n🔐 Verification code: \u2068K7P2Q-X9MRT\u2069. To check...")
	assert.True(t, ok)
	assert.Equal(t, "K7P2QX9MRT", code)
	_, ok = coalition.FindCode("The DEPARTMENT of SECURITIES")
	assert.False(t, ok, "words are not codes: in a message, only the written form counts")
}

// A reminder with no English text reaches a reader of English in Arabic,
// code line included, and that copy checks out.
func TestArabicOnlyReminderToAnEnglishReader(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	en := f.personOn(bot.Telegram, store.RoleCitizen, "tubas", "en")
	_, err := f.co.Reminders.Create(ctx, f.actor(f.person(store.RoleCoordinator)), coalition.ReminderDraft{
		TextAR: "لا تنسوا الوقفة", Audience: governorate("tubas"), At: f.clock().Add(time.Hour)})
	require.NoError(t, err)
	f.advance(61 * time.Minute)
	require.NoError(t, f.co.Reminders.FireDue(ctx))
	copies := f.to(en, store.KindReminder)
	require.Len(t, copies, 1)
	assert.Contains(t, copies[0].Text, "رمز التحقّق", "the code line in the text's language")
	v, err := f.co.Verify.Message(ctx, f.actor(en), copies[0].Text, &bot.Forward{FromBot: true})
	require.NoError(t, err)
	assert.Equal(t, coalition.VerdictGenuine, v.Kind)
}
