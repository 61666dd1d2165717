package chat_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/bot/bottest"
	"mobilise/messages"
	"mobilise/store"
)

// These tests put a person at each kind of step, in each language, and
// check that what they type is read as the step means it.

// person is someone onboarded in lang on the test channel.
func (w *world) person(id, lang string) *store.Contact {
	w.t.Helper()
	w.say(id, "/start")
	if lang == "ar" {
		w.say(id, "1")
	} else {
		w.say(id, "2")
	}
	w.say(id, "1")
	w.say(id, "17")
	c, err := w.st.ContactByAddress(context.Background(), bot.Address{Channel: "test", ID: id})
	require.NoError(w.t, err)
	require.Equal(w.t, lang, c.Lang)
	return c
}

func (w *world) tx(lang string, key messages.Key, data map[string]any) string {
	return w.cat.Text(lang, key, data)
}

func (w *world) contactOf(id string) *store.Contact {
	w.t.Helper()
	c, err := w.st.ContactByAddress(context.Background(), bot.Address{Channel: "test", ID: id})
	require.NoError(w.t, err)
	return c
}

func (w *world) session(id string) *store.Session {
	w.t.Helper()
	s, err := w.st.Session(context.Background(), w.contactOf(id).ID)
	if err != nil {
		return &store.Session{}
	}
	return s
}

// words are what people type for each meaning, in each language.
var words = map[string]map[string][]string{
	"ar": {
		"cancel": {"إلغاء", "الغاء", "بدي الغي"},
		"stop":   {"إيقاف", "بطّلوا تبعتولي", "ما بدي رسائل"},
		"help":   {"مساعدة", "شو الأوامر؟", "مش فاهم"},
		"yes":    {"نعم", "اه", "أكيد"},
		"no":     {"لا", "مش موافق", "ما بدي"},
		"skip":   {"تجاوز", "بعدين", "لا"},
		"back":   {"رجوع", "ارجع"},
		"done":   {"انتهيت", "خلص"},
		"now":    {"الآن", "هلق"},
	},
	"en": {
		"cancel": {"cancel", "Cancel please", "I want to cancel"},
		"stop":   {"stop", "STOP", "no more messages"},
		"help":   {"help", "what can I do?", "I don't understand"},
		"yes":    {"yes", "yeah", "sure"},
		"no":     {"no", "nope", "I don't agree"},
		"skip":   {"skip", "later", "no"},
		"back":   {"back", "go back"},
		"done":   {"done", "finished"},
		"now":    {"now", "right now"},
	},
}

func TestCancelInsideAWizardLeavesIt(t *testing.T) {
	for lang, ws := range words {
		for _, word := range ws["cancel"] {
			t.Run(lang+"/"+word, func(t *testing.T) {
				w := newWorld(t, bottest.Config{})
				w.person("rep", lang)
				w.say("rep", "/register")
				out := w.say("rep", word)
				assert.Contains(t, out, w.tx(lang, messages.CancelDone, nil))
				assert.Empty(t, w.session("rep").Flow)
				assert.False(t, w.contactOf("rep").Stopped, "a cancel is never a stop")
			})
		}
	}
}

func TestCancelAtAListClosesIt(t *testing.T) {
	for lang, ws := range words {
		t.Run(lang, func(t *testing.T) {
			w := newWorld(t, bottest.Config{})
			w.campaign("walk", store.KindPledge, 0)
			w.person("amal", lang)
			assert.Contains(t, w.say("amal", "/campaigns"), w.tx(lang, messages.CampaignsChoose, nil))
			assert.Equal(t, w.tx(lang, messages.MenuClosed, nil), w.say("amal", ws["cancel"][0]))
			assert.Nil(t, w.session("amal").Menu, "the list is closed")
			assert.False(t, w.contactOf("amal").Stopped)
		})
	}
}

func TestCancelAtTheMainMenuAsksWhetherToStop(t *testing.T) {
	for lang, ws := range words {
		t.Run(lang, func(t *testing.T) {
			w := newWorld(t, bottest.Config{})
			w.person("amal", lang)
			w.say("amal", "/menu")
			assert.Contains(t, w.say("amal", ws["cancel"][0]), w.tx(lang, messages.StopAsk, nil))
			assert.Contains(t, w.say("amal", ws["no"][0]), w.tx(lang, messages.StopKept, nil))
			assert.False(t, w.contactOf("amal").Stopped)

			assert.Contains(t, w.say("amal", ws["cancel"][1]), w.tx(lang, messages.StopAsk, nil))
			assert.Contains(t, w.say("amal", ws["yes"][1]), w.tx(lang, messages.StopDone, nil))
			assert.True(t, w.contactOf("amal").Stopped)

			// stopped already: nothing to ask
			assert.Contains(t, w.say("amal", ws["cancel"][0]), w.tx(lang, messages.CancelNothing, nil))
		})
	}
}

func TestStopWordsStopAtOnceAtEveryKindOfStep(t *testing.T) {
	steps := map[string][]string{
		"main menu":       {"/menu"},
		"list":            {"/campaigns"},
		"free text":       {"/register"},
		"optional text":   {"/register", "مركز الحوار"},
		"several choices": {"/register", "مركز الحوار", "/cancel"},
		"yes/no":          {"/forget"},
		"language":        {"/language"},
	}
	for lang, ws := range words {
		for label, setup := range steps {
			for _, word := range ws["stop"] {
				t.Run(lang+"/"+label+"/"+word, func(t *testing.T) {
					w := newWorld(t, bottest.Config{})
					w.campaign("walk", store.KindPledge, 0)
					w.person("amal", lang)
					w.script("amal", setup...)
					assert.Contains(t, w.say("amal", word), w.tx(lang, messages.StopDone, nil))
					assert.True(t, w.contactOf("amal").Stopped)
				})
			}
		}
	}
}

func TestHelpInsideAWizardShowsHelpThenTheQuestion(t *testing.T) {
	for lang, ws := range words {
		for _, word := range ws["help"] {
			t.Run(lang+"/"+word, func(t *testing.T) {
				w := newWorld(t, bottest.Config{})
				w.person("rep", lang)
				w.say("rep", "/register")
				out := w.say("rep", word)
				assert.Contains(t, out, w.tx(lang, messages.HelpIntro, nil))
				assert.Contains(t, out, w.tx(lang, messages.RegisterNameAR, nil), "then the question again")
				assert.Equal(t, "name_ar", w.session("rep").Step)
				assert.Equal(t, "register", w.session("rep").Flow)
			})
		}
	}
}

func TestHelpNeverOffersACancelWordThatMeansSomethingElse(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	for _, lang := range messages.Langs() {
		help := w.tx(lang, messages.HelpStop, nil)
		assert.NotContains(t, help, "«إلغاء»", "«إلغاء» closes a list and asks about stopping at the main menu")
		assert.NotContains(t, help, "«cancel»")
		assert.Contains(t, help, "/cancel")
	}
}

func TestAnswersAtEachKindOfStep(t *testing.T) {
	for lang, ws := range words {
		t.Run(lang+"/yes-no", func(t *testing.T) {
			for i, word := range ws["yes"] {
				w := newWorld(t, bottest.Config{})
				id := fmt.Sprint("y", i)
				w.say(id, "/start")
				w.say(id, map[string]string{"ar": "1", "en": "2"}[lang])
				assert.Contains(t, w.say(id, word), w.tx(lang, messages.StartConsentYes, nil), "%q", word)
				assert.True(t, w.contactOf(id).Consent)
			}
			for i, word := range ws["no"] {
				w := newWorld(t, bottest.Config{})
				id := fmt.Sprint("n", i)
				w.say(id, "/start")
				w.say(id, map[string]string{"ar": "1", "en": "2"}[lang])
				assert.Contains(t, w.say(id, word), w.tx(lang, messages.StartConsentNo, nil), "%q", word)
				assert.False(t, w.contactOf(id).Consent)
			}
		})
		t.Run(lang+"/optional", func(t *testing.T) {
			for _, word := range ws["skip"] {
				w := newWorld(t, bottest.Config{})
				w.person("rep", lang)
				w.script("rep", "/register", "مركز الحوار")
				assert.Contains(t, w.say("rep", word), w.tx(lang, messages.RegisterField, nil), "%q skips", word)
				assert.Empty(t, w.session("rep").Data["name_en"])
			}
		})
		t.Run(lang+"/back", func(t *testing.T) {
			for _, word := range ws["back"] {
				w := newWorld(t, bottest.Config{})
				w.person("rep", lang)
				w.script("rep", "/register", "مركز الحوار")
				assert.Contains(t, w.say("rep", word), w.tx(lang, messages.RegisterNameAR, nil), "%q goes back a step", word)
				assert.Equal(t, "name_ar", w.session("rep").Step)
			}
		})
		t.Run(lang+"/several", func(t *testing.T) {
			for _, word := range ws["done"] {
				w := newWorld(t, bottest.Config{})
				w.person("rep", lang)
				w.script("rep", "/register", "مركز الحوار", "skip", "1", "4")
				assert.Contains(t, w.say("rep", word), w.tx(lang, messages.RegisterPerson, nil), "%q finishes the choice", word)
			}
		})
		t.Run(lang+"/when", func(t *testing.T) {
			for _, word := range ws["now"] {
				w := newWorld(t, bottest.Config{})
				w.person("coord", lang)
				w.role("coord", store.RoleCoordinator)
				w.script("coord", "/newcampaign", "حملة", "skip", "دعوة", "skip", "walk2027", "1", "skip")
				assert.Contains(t, w.say("coord", word), w.tx(lang, messages.NewCampaignEnd, map[string]any{"Example": messages.Isolate("2026-12-14 11:30")}), "%q is now", word)
				assert.NotEmpty(t, w.session("coord").Data["start"])
			}
		})
		t.Run(lang+"/language", func(t *testing.T) {
			w := newWorld(t, bottest.Config{})
			w.person("amal", lang)
			other := map[string]string{"ar": "en", "en": "ar"}[lang]
			word := map[string]string{"ar": "انجليزي", "en": "عربي"}[lang]
			w.say("amal", "/language")
			assert.Contains(t, w.say("amal", word), w.tx(other, messages.LanguageSet, nil))
			assert.Equal(t, other, w.contactOf("amal").Lang)
		})
	}
}

func TestANumberIsTheAnswerWhereTheStepTakesANumber(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.person("coord", "en")
	w.role("coord", store.RoleCoordinator)
	w.script("coord", "/newcampaign", "حملة", "skip", "دعوة", "skip", "walk2027")
	assert.Contains(t, w.say("coord", "1"), w.en(messages.NewCampaignTarget))
	w.say("coord", "1")
	assert.Equal(t, "1", w.session("coord").Data["target"], "«1» is a target of one, not the first option (Skip)")
}

func TestTypoOfACommandIsAnAnswerInFreeText(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.person("rep", "en")
	w.say("rep", "/register")
	w.say("rep", "مركز")
	assert.Contains(t, w.say("rep", "Cancle"), w.en(messages.RegisterField), "a word one letter from «cancel» is the English name")
	assert.Equal(t, "Cancle", w.session("rep").Data["name_en"])
}

func TestACommandInsideAWizardAsksAndKeepsTheDraft(t *testing.T) {
	for _, lang := range messages.Langs() {
		t.Run(lang, func(t *testing.T) {
			w := newWorld(t, bottest.Config{})
			w.campaign("walk", store.KindPledge, 0)
			w.person("coord", lang)
			w.role("coord", store.RoleCoordinator)
			w.script("coord", "/newcampaign", "حملة الزيتون")
			what := w.tx(lang, messages.FlowNewCampaign, nil)
			ask := w.say("coord", "/campaigns")
			assert.Contains(t, ask, w.tx(lang, messages.DraftLeaveAsk, map[string]any{"What": what, "Command": messages.Isolate("/campaigns")}))

			// carrying on: the question again, nothing lost
			assert.Contains(t, w.say("coord", "2"), w.tx(lang, messages.NewCampaignTitleEN, nil))
			assert.Equal(t, "حملة الزيتون", w.session("coord").Data["title_ar"])

			// leaving: the command runs, the draft is kept
			w.say("coord", "/campaigns")
			out := w.say("coord", "1")
			assert.Contains(t, out, w.tx(lang, messages.DraftKept, map[string]any{"What": what}))
			assert.Contains(t, out, w.tx(lang, messages.CampaignsChoose, nil))
			assert.Empty(t, w.session("coord").Flow)

			// the main menu offers to continue; /newcampaign picks it up too
			menu := w.press("coord", "/menu")
			require.NotEmpty(t, menu)
			assert.Equal(t, w.tx(lang, messages.MenuContinue, map[string]any{"What": what}), menu[0].Buttons[0][0].Text, "first in the menu")
			back := w.say("coord", "/newcampaign")
			assert.Contains(t, back, w.tx(lang, messages.DraftResumed, map[string]any{"What": what}))
			assert.Contains(t, back, w.tx(lang, messages.NewCampaignTitleEN, nil), "at the question it was at")
			assert.Equal(t, "حملة الزيتون", w.session("coord").Data["title_ar"])

			// /cancel drops it for good
			w.say("coord", "/cancel")
			menu = w.press("coord", "/menu")
			require.NotEmpty(t, menu)
			assert.NotEqual(t, w.tx(lang, messages.MenuContinue, map[string]any{"What": what}), menu[0].Buttons[0][0].Text)
			assert.Contains(t, w.say("coord", "/continue"), w.tx(lang, messages.DraftNone, nil))
		})
	}
}

func TestLeavingAWizardWithoutADraftAsksNothing(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.campaign("walk", store.KindPledge, 0)
	w.person("amal", "en")
	w.say("amal", "/language")
	assert.Contains(t, w.say("amal", "/campaigns"), w.en(messages.CampaignsChoose), "a language question is simply left")
	assert.Empty(t, w.session("amal").Flow)
}

func TestBrokenCommandsGetWholeSentences(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.onboard("admin")
	assert.Contains(t, w.say("admin", "/"), w.en(messages.HelpIntro), "a bare slash lists the commands")
	assert.Contains(t, w.say("admin", "/approvebroadcast"), w.en(messages.BroadcastNeedNumber))
	assert.Contains(t, w.say("admin", "/rejectbroadcast #"), w.en(messages.BroadcastNeedNumber))
	assert.Contains(t, w.say("admin", "/remind cancel"), w.en(messages.RemindNeedNumber))
	assert.Contains(t, w.say("admin", "/approvereminder"), w.en(messages.RemindNeedNumber))
	assert.Contains(t, w.say("admin", "/takeover"), "/takeover broadcast 12", "a take-over with nothing named says what to write")
	assert.Contains(t, w.say("admin", "/drop 3"), "/drop broadcast 12")
	assert.Contains(t, w.say("admin", "/drop broadcast 99"), w.en(messages.SuspendedNothing), "a number that names nothing stopped says so")
	assert.Contains(t, w.say("admin", "/ x"), "/ x")
}

// A command missing its number or person shows an example of that command,
// never of another: /dismiss is not told to /appoint, nor /approvename to
// /approve an application.
func TestAMissingArgumentIsShownWithTheCommandTyped(t *testing.T) {
	w := newWorld(t, bottest.Config{})
	w.onboard("admin")
	for command, example := range map[string]string{
		"/dismiss": "/dismiss 12", "/appoint": "/appoint 12", "/approvename": "/approvename 12",
		"/rejectname": "/rejectname 12", "/approve": "/approve 12", "/reject": "/reject 12",
		"/pledge": "/pledge peace2026", "/invitepartner": "/invitepartner peace2026",
		"/editcampaign": "/editcampaign peace2026", "/closecampaign": "/closecampaign peace2026",
	} {
		got := w.say("admin", command)
		assert.Contains(t, got, example, command)
		for _, other := range []string{"/appoint 12", "/approve 12", "/campaign peace2026"} {
			if other != example {
				assert.NotContains(t, got, other, command)
			}
		}
	}
}

func TestANewcomersFirstMessageOfAnyKindOnBothChannels(t *testing.T) {
	for _, ch := range []bot.ChannelName{"test", "wa"} {
		for _, in := range []bot.Incoming{
			{Attachment: bot.Sticker},
			{Attachment: bot.Voice},
			{Attachment: bot.Location, Place: &bot.Point{Lat: 32.22, Lon: 35.25}},
			{Text: "إيقاف", Forwarded: &bot.Forward{}},
			{Text: "walk"},
		} {
			t.Run(fmt.Sprintf("%s/%s%s", ch, in.Attachment, in.Text), func(t *testing.T) {
				w := newWorld(t, bottest.Config{})
				w.campaign("walk", store.KindPledge, 0)
				in.From = bot.Address{Channel: ch, ID: "new"}
				w.send(in)
				w.flush()
				rec := w.rec
				if ch == "wa" {
					rec = w.wa
				}
				got := texts(rec.take("new"))
				require.NotEmpty(t, got)
				assert.Contains(t, got[len(got)-1], w.en(messages.StartGreeting), "the welcome starts")
				c, err := w.st.ContactByAddress(context.Background(), in.From)
				require.NoError(t, err)
				assert.False(t, c.Stopped)
				if in.Text == "walk" {
					for _, text := range []string{"2", "yes", "skip"} {
						w.send(bot.Incoming{From: in.From, Text: text})
					}
					w.flush()
					got := texts(rec.take("new"))
					assert.Contains(t, got[len(got)-1], "Campaign walk", "the code typed first opens its campaign after the welcome")
				}
			})
		}
	}
}
