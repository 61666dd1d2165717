package telegram

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot"
	"mobilise/store"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden transcripts in testdata")

// tgInput is one thing a person sends in a golden transcript: what the
// transcript shows, and the fields of the message besides its sender.
type tgInput struct {
	shown  string
	fields map[string]any
	// group sends it in a group chat instead of the private one.
	group bool
}

func tgText(s string) tgInput { return tgInput{shown: s, fields: map[string]any{"text": s}} }

func tgVoice() tgInput {
	return tgInput{shown: "[voice note]", fields: map[string]any{"voice": map[string]any{"file_id": "AwAD", "file_unique_id": "v1", "duration": 4}}}
}

func tgSticker() tgInput {
	return tgInput{shown: "[sticker]", fields: map[string]any{"sticker": map[string]any{
		"file_id": "CAAD", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false,
	}}}
}

func tgPhoto(caption string) tgInput {
	in := tgInput{shown: "[photo]", fields: map[string]any{"photo": []map[string]any{{"file_id": "AgAD", "file_unique_id": "p1", "width": 90, "height": 90}}}}
	if caption != "" {
		in.shown, in.fields["caption"] = "[photo, captioned] "+caption, caption
	}
	return in
}

func tgDocument() tgInput {
	return tgInput{shown: "[document]", fields: map[string]any{"document": map[string]any{"file_id": "BQAD", "file_unique_id": "d1", "file_name": "statement.pdf"}}}
}

func tgLocation(name string, lat, lon float64) tgInput {
	return tgInput{shown: fmt.Sprintf("[location: %s %.4f,%.4f]", name, lat, lon), fields: map[string]any{"location": map[string]any{"latitude": lat, "longitude": lon}}}
}

// tgContact is a shared contact; own is the person's own number, shared
// with the one-tap button.
func tgContact(u tgUser, phone string, own bool) tgInput {
	c := map[string]any{"phone_number": phone, "first_name": u.Name}
	shown := "[contact: " + phone + "]"
	if own {
		c["user_id"] = u.ID
		shown = "[shares own number: " + phone + "]"
	}
	return tgInput{shown: shown, fields: map[string]any{"contact": c}}
}

func tgForwarded(s string) tgInput {
	return tgInput{shown: "[forwarded] " + s, fields: map[string]any{"text": s, "forward_origin": map[string]any{
		"type": "user", "date": e2eNow.Add(-48 * 3600e9).Unix(),
		"sender_user": map[string]any{"id": 7777, "is_bot": false, "first_name": "Someone"},
	}}}
}

func tgGroup(s string) tgInput {
	in := tgText(s)
	in.shown, in.group = "[in a group] "+s, true
	return in
}

// transcript sends each input from u and writes the conversation as the
// person sees it: "> " what they sent, "< " each line the bot showed, the
// buttons of an inline menu as "  [label]", and a reply keyboard as
// "  ⌨ label" (📱 when it shares the phone number) or its removal.
func (e *e2e) transcript(u tgUser, inputs []tgInput) string {
	e.t.Helper()
	const group = -1005550001
	var b strings.Builder
	for _, in := range inputs {
		id := e.nextUpdateID()
		chat := privateChat(u)
		if in.group {
			chat = groupChat(group)
		}
		msg := map[string]any{"message_id": id, "from": u.json(), "chat": chat, "date": e2eNow.Unix()}
		for k, v := range in.fields {
			msg[k] = v
		}
		raw := mustJSON(e.t, map[string]any{"update_id": id, "message": msg})
		fmt.Fprintf(&b, "> %s\n", in.shown)
		for _, r := range e.deliverRaw(id, raw) {
			if r.reply.Chat != u.chat() {
				fmt.Fprintf(&b, "[→ %s]\n", r.reply.Chat)
			}
			for _, line := range strings.Split(r.reply.Text, "\n") {
				b.WriteString(strings.TrimRight("< "+line, " ") + "\n")
			}
			for _, row := range r.reply.Buttons {
				for _, btn := range row {
					fmt.Fprintf(&b, "<   [%s]\n", btn.Text)
				}
			}
			b.WriteString(r.keyboard)
		}
	}
	return b.String()
}

// sentReply is a sendMessage request with its reply keyboard described.
type sentReply struct {
	reply    reply
	keyboard string
}

// deliverRaw is deliver, keeping what reply_markup said about a reply keyboard.
func (e *e2e) deliverRaw(id int64, raw string) []sentReply {
	e.t.Helper()
	e.f.push(raw)
	e.waitHandled(id)
	calls := e.f.calls("sendMessage")
	var out []sentReply
	for _, c := range calls[e.seen:] {
		r := sentReply{reply: e.parseReply(c)}
		var kb struct {
			Keyboard [][]struct {
				Text           string `json:"text"`
				RequestContact bool   `json:"request_contact"`
			} `json:"keyboard"`
			Remove bool `json:"remove_keyboard"`
		}
		if rm, ok := c.Form["reply_markup"]; ok {
			require.NoError(e.t, json.Unmarshal([]byte(rm), &kb))
		}
		for _, row := range kb.Keyboard {
			for _, btn := range row {
				mark := "⌨"
				if btn.RequestContact {
					mark = "⌨ 📱"
				}
				r.keyboard += fmt.Sprintf("<   %s %s\n", mark, btn.Text)
			}
		}
		if kb.Remove {
			r.keyboard += "<   ⌨ (removed)\n"
		}
		out = append(out, r)
	}
	e.seen = len(calls)
	return out
}

// checkGolden compares got with testdata/name; -update rewrites it.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./bot/telegram -run NonText -update to write it")
	if string(want) != got {
		diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(string(want)), B: difflib.SplitLines(got), FromFile: name, ToFile: "got", Context: 2})
		t.Fatalf("transcript %s differs; run go test ./bot/telegram -run NonText -update to accept, then read the diff:\n%s", name, diff)
	}
}

// TestE2ENonText takes a newcomer through everything that is not plain
// text, in each language, against the fake Bot API: a sticker or a voice
// note as the first message starts the welcome; media at a question is
// answered kindly and the question asked again; a location far away is
// refused, one near a governorate suggested and confirmed; a caption is
// read as text; a location or contact where none was asked is explained;
// a forwarded «إيقاف» stops nothing; at the phone question the share-contact
// button is offered and the shared number taken, and the keyboard removed
// after; a command in a group gets a pointer to the private chat.
func TestE2ENonText(t *testing.T) {
	for _, tc := range []struct {
		user tgUser
		file string
		gov  string
		in   func(u tgUser) []tgInput
	}{
		{user: tgUser{ID: 6101, Name: "سمر", Lang: "ar"}, file: "nontext_ar.txt", gov: "hebron", in: func(u tgUser) []tgInput {
			return []tgInput{
				tgVoice(), tgText("١"), tgSticker(), tgText("نعم"),
				tgLocation("Amman", 31.9539, 35.9106), tgLocation("Nablus", 32.2227, 35.2621), tgText("لأ"),
				tgLocation("Hebron", 31.5297, 35.0939), tgText("اه"),
				tgPhoto(""), tgDocument(), tgLocation("Hebron", 31.5297, 35.0939), tgContact(u, "+970599111222", false),
				tgPhoto("الحملات"), tgForwarded("إيقاف"),
				tgText("/register"), tgText("مركز الحوار"), tgSticker(), tgText("تجاوز"), tgText("١"), tgText("٤"), tgText("انتهيت"),
				tgText("سمر خليل"), tgVoice(), tgContact(u, "970599111222", true),
				tgGroup("/pledge@" + testUsername + " walk"),
			}
		}},
		{user: tgUser{ID: 6102, Name: "Samar", Lang: "en"}, file: "nontext_en.txt", gov: "nablus", in: func(u tgUser) []tgInput {
			return []tgInput{
				tgSticker(), tgText("2"), tgVoice(), tgText("yes"),
				tgLocation("Amman", 31.9539, 35.9106), tgLocation("Nablus", 32.2227, 35.2621), tgText("yes"),
				tgPhoto(""), tgVoice(), tgContact(u, "+970599111222", false), tgLocation("Nablus", 32.2227, 35.2621),
				tgPhoto("campaigns"), tgForwarded("stop"),
				tgText("/register"), tgText("مركز الحوار"), tgText("skip"), tgText("1"), tgText("4"), tgText("done"),
				tgText("Samar Khalil"), tgDocument(), tgContact(u, "970599111222", true),
				tgGroup("/pledge@" + testUsername + " walk"),
			}
		}},
	} {
		t.Run(tc.user.Lang, func(t *testing.T) {
			e := startE2E(t)
			e.campaign("walk", store.KindPledge, 0, "مسيرة السلام")
			got := e.transcript(tc.user, tc.in(tc.user))
			checkGolden(t, tc.file, got)

			c := e.contact(tc.user)
			assert.False(t, c.Stopped, "a forwarded stop word stops nothing")
			assert.True(t, c.Consent)
			assert.Equal(t, tc.gov, c.Governorate, "the suggested governorate, confirmed")
			sess, err := e.st.Session(context.Background(), c.ID)
			require.NoError(t, err)
			assert.Equal(t, "+970599111222", sess.Data["phone"], "the shared number answered the phone question")
			assert.Equal(t, "confirm", sess.Step)
		})
	}
}

func TestIncomingNonText(t *testing.T) {
	u := tgUser{ID: 5551, Name: "ليلى", Lang: "ar"}
	from := bot.Address{Channel: "telegram", ID: "5551"}
	for _, tc := range []struct {
		label  string
		fields map[string]any
		want   bot.Incoming
	}{
		{"voice note", tgVoice().fields, bot.Incoming{Attachment: bot.Voice}},
		{"sticker", tgSticker().fields, bot.Incoming{Attachment: bot.Sticker}},
		{"photo with a caption", tgPhoto("٢").fields, bot.Incoming{Attachment: bot.Photo, Text: "٢", File: &bot.IncomingFile{MIME: "image/jpeg"}}},
		{"document", tgDocument().fields, bot.Incoming{Attachment: bot.Document, File: &bot.IncomingFile{Name: "statement.pdf"}}},
		{"location", tgLocation("Gaza", 31.5, 34.46).fields, bot.Incoming{Attachment: bot.Location, Place: &bot.Point{Lat: 31.5, Lon: 34.46}}},
		{"own contact", tgContact(u, "970599111222", true).fields, bot.Incoming{Attachment: bot.ContactCard, SharedPhone: "+970599111222"}},
		{"a contact saved with a local number", tgContact(u, "0599111222", false).fields, bot.Incoming{Attachment: bot.ContactCard, SharedPhone: "0599111222"}},
		{"forwarded text", tgForwarded("إيقاف").fields, bot.Incoming{Text: "إيقاف", Forwarded: &bot.Forward{Date: e2eNow.Add(-48 * 3600e9)}}},
	} {
		t.Run(tc.label, func(t *testing.T) {
			msg := map[string]any{"message_id": 9, "from": u.json(), "chat": privateChat(u), "date": e2eNow.Unix()}
			for k, v := range tc.fields {
				msg[k] = v
			}
			_, upd, err := decodeUpdate([]byte(mustJSON(t, map[string]any{"update_id": 77, "message": msg})))
			require.NoError(t, err)
			got, ok := incomingFromUpdate(upd, testUsername)
			require.True(t, ok)
			want := tc.want
			want.From, want.Name, want.LangHint, want.ExternalID, want.ReceivedAt = from, "ليلى", "ar", "77", e2eNow
			assert.Equal(t, want, got)
		})
	}
}
