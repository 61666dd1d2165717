package whatsapp

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"mobilise/bot"
	"mobilise/store"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden transcripts in testdata")

// waInput is one thing a person sends in a golden transcript: what the
// transcript shows, and the message as whatsmeow delivers it.
type waInput struct {
	shown string
	msg   *waE2E.Message
	// group sends it in a group chat instead of the private one.
	group bool
}

func waText(s string) waInput {
	return waInput{shown: s, msg: &waE2E.Message{Conversation: proto.String(s)}}
}

func waVoice() waInput {
	return waInput{shown: "[voice note]", msg: &waE2E.Message{AudioMessage: &waE2E.AudioMessage{PTT: proto.Bool(true), Seconds: proto.Uint32(4)}}}
}

func waSticker() waInput {
	return waInput{shown: "[sticker]", msg: &waE2E.Message{StickerMessage: &waE2E.StickerMessage{Mimetype: proto.String("image/webp")}}}
}

func waPhoto(caption string) waInput {
	shown := "[photo]"
	if caption != "" {
		shown = "[photo, captioned] " + caption
	}
	return waInput{shown: shown, msg: &waE2E.Message{ImageMessage: &waE2E.ImageMessage{Caption: proto.String(caption), Mimetype: proto.String("image/jpeg")}}}
}

func waDocument() waInput {
	return waInput{shown: "[document]", msg: &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{FileName: proto.String("statement.pdf")}}}
}

func waLocation(name string, lat, lon float64) waInput {
	return waInput{shown: fmt.Sprintf("[location: %s %.4f,%.4f]", name, lat, lon),
		msg: &waE2E.Message{LocationMessage: &waE2E.LocationMessage{DegreesLatitude: proto.Float64(lat), DegreesLongitude: proto.Float64(lon)}}}
}

func waContact(name, number string) waInput {
	card := "BEGIN:VCARD\nVERSION:3.0\nN:;" + name + ";;;\nFN:" + name + "\nitem1.TEL;waid=" + number + ":+" + number + "\nitem1.X-ABLabel:Mobile\nEND:VCARD"
	return waInput{shown: "[contact card: " + name + " +" + number + "]",
		msg: &waE2E.Message{ContactMessage: &waE2E.ContactMessage{DisplayName: proto.String(name), Vcard: proto.String(card)}}}
}

func waForwarded(s string) waInput {
	return waInput{shown: "[forwarded] " + s, msg: &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{
		Text: proto.String(s), ContextInfo: &waE2E.ContextInfo{IsForwarded: proto.Bool(true), ForwardingScore: proto.Uint32(1)},
	}}}
}

func waGroup(s string) waInput {
	in := waText(s)
	in.shown, in.group = "[in a group] "+s, true
	return in
}

// transcript sends each input from u and writes the conversation as the
// person sees it: "> " what they sent, "< " each line the bot sent them,
// and "[→ number]" before a message that went to someone else.
func (e *e2eHarness) transcript(u waUser, inputs []waInput) string {
	e.t.Helper()
	group := types.NewJID("120363000000000009", types.GroupServer)
	var b strings.Builder
	for _, in := range inputs {
		chat := u.jid()
		if in.group {
			chat = group
		}
		e.nextID++
		evt := &events.Message{
			Info: types.MessageInfo{
				MessageSource: types.MessageSource{Chat: chat, Sender: u.jid(), IsGroup: in.group},
				ID:            fmt.Sprintf("3EB0NT%04d", e.nextID),
				PushName:      u.Name,
				Timestamp:     e2eNow,
			},
			Message: in.msg,
		}
		fmt.Fprintf(&b, "> %s\n", in.shown)
		for _, m := range e.deliver(evt) {
			if m.To != u.jid() {
				fmt.Fprintf(&b, "[→ %s]\n", m.To.User)
			}
			for _, line := range strings.Split(m.Text, "\n") {
				b.WriteString(strings.TrimRight("< "+line, " ") + "\n")
			}
		}
	}
	return b.String()
}

// checkGolden compares got with testdata/name; -update rewrites it.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./bot/whatsapp -run NonText -update to write it")
	if string(want) != got {
		diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(string(want)), B: difflib.SplitLines(got), FromFile: name, ToFile: "got", Context: 2})
		t.Fatalf("transcript %s differs; run go test ./bot/whatsapp -run NonText -update to accept, then read the diff:\n%s", name, diff)
	}
}

// TestE2ENonText takes a newcomer through everything that is not plain
// text, in each language: a voice note as the first message starts the
// welcome; a sticker at a question is answered kindly and the question
// asked again; a location far away is refused, one near a governorate is
// suggested and confirmed; a photo's caption is read as text; a picture, a
// document, a location or a contact card where none was asked is
// explained; a forwarded «إيقاف» stops nothing; a contact card answers the
// phone question; a command in a group is answered privately. Every
// message is marked read.
func TestE2ENonText(t *testing.T) {
	for _, tc := range []struct {
		lang, file string
		inputs     []waInput
	}{
		{lang: "ar", file: "nontext_ar.txt", inputs: []waInput{
			waVoice(), waText("١"), waSticker(), waText("اه"),
			waLocation("Amman", 31.9539, 35.9106), waLocation("Nablus", 32.2227, 35.2621), waText("لا"),
			waLocation("Hebron", 31.5297, 35.0939), waText("نعم"),
			waPhoto(""), waDocument(), waLocation("Hebron", 31.5297, 35.0939), waContact("سمر", "970599111222"),
			waPhoto("الحملات"), waForwarded("إيقاف"),
			waText("/register"), waText("مركز الحوار"), waVoice(), waText("تجاوز"), waText("١"), waText("٤"), waText("انتهيت"),
			waText("سمر خليل"), waContact("سمر خليل", "970599111222"),
			waGroup("/pledge walk"),
		}},
		{lang: "en", file: "nontext_en.txt", inputs: []waInput{
			waSticker(), waText("2"), waVoice(), waText("yes"),
			waLocation("Amman", 31.9539, 35.9106), waLocation("Nablus", 32.2227, 35.2621), waText("yes"),
			waPhoto(""), waVoice(), waContact("Samar", "970599111222"), waLocation("Nablus", 32.2227, 35.2621),
			waPhoto("campaigns"), waForwarded("stop"),
			waText("/register"), waText("مركز الحوار"), waText("skip"), waText("1"), waText("4"), waText("done"),
			waText("Samar Khalil"), waDocument(), waContact("Samar Khalil", "970599111222"),
			waGroup("/pledge walk"),
		}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			e := newWAE2E(t)
			e.campaign("walk", store.KindPledge, "مسيرة السلام", "Peace walk")
			u := waUser{Number: "970599777777", Name: "Samar"}
			got := e.transcript(u, tc.inputs)
			checkGolden(t, tc.file, got)

			c := e.contact(u.addr())
			assert.False(t, c.Stopped, "a forwarded stop word stops nothing")
			assert.True(t, c.Consent)
			want := map[string]string{"ar": "hebron", "en": "nablus"}[tc.lang]
			assert.Equal(t, want, c.Governorate, "the suggested governorate, confirmed")
			sess, err := e.st.Session(context.Background(), c.ID)
			require.NoError(t, err)
			assert.Equal(t, "+970599111222", sess.Data["phone"], "the contact card answered the phone question")
			assert.Equal(t, "confirm", sess.Step)
			assert.Len(t, e.f.readReceipts(), len(tc.inputs), "every message, media too, is marked read")
			assert.Empty(t, e.tg.drain())
		})
	}
}

func TestContentOf(t *testing.T) {
	for _, tc := range []struct {
		label string
		msg   *waE2E.Message
		want  content
		skip  bool
	}{
		{"text", &waE2E.Message{Conversation: proto.String("نعم")}, content{text: "نعم"}, false},
		{"photo with a caption", &waE2E.Message{ImageMessage: &waE2E.ImageMessage{Caption: proto.String("2")}}, content{text: "2", attachment: bot.Photo}, false},
		{"photo", &waE2E.Message{ImageMessage: &waE2E.ImageMessage{}}, content{attachment: bot.Photo}, false},
		{"video", &waE2E.Message{VideoMessage: &waE2E.VideoMessage{Caption: proto.String("hi")}}, content{text: "hi", attachment: bot.Video}, false},
		{"round video", &waE2E.Message{PtvMessage: &waE2E.VideoMessage{}}, content{attachment: bot.Video}, false},
		{"voice note", &waE2E.Message{AudioMessage: &waE2E.AudioMessage{PTT: proto.Bool(true)}}, content{attachment: bot.Voice}, false},
		{"sticker", &waE2E.Message{StickerMessage: &waE2E.StickerMessage{}}, content{attachment: bot.Sticker}, false},
		{"document", &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{Caption: proto.String("my CV")}}, content{text: "my CV", attachment: bot.Document}, false},
		{"location", &waE2E.Message{LocationMessage: &waE2E.LocationMessage{DegreesLatitude: proto.Float64(32.22), DegreesLongitude: proto.Float64(35.25)}},
			content{attachment: bot.Location, place: &bot.Point{Lat: 32.22, Lon: 35.25}}, false},
		{"live location", &waE2E.Message{LiveLocationMessage: &waE2E.LiveLocationMessage{DegreesLatitude: proto.Float64(31.5), DegreesLongitude: proto.Float64(34.46)}},
			content{attachment: bot.Location, place: &bot.Point{Lat: 31.5, Lon: 34.46}}, false},
		{"contact card", &waE2E.Message{ContactMessage: &waE2E.ContactMessage{Vcard: proto.String("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Samar\r\nTEL;type=CELL;waid=970599111222:+970 59-911-1222\r\nEND:VCARD")}},
			content{attachment: bot.ContactCard, sharedPhone: "+970599111222"}, false},
		{"contact card without waid", &waE2E.Message{ContactMessage: &waE2E.ContactMessage{Vcard: proto.String("BEGIN:VCARD\nVERSION:4.0\nTEL;VALUE=uri:tel:+970-2-298-1234\nEND:VCARD")}},
			content{attachment: bot.ContactCard, sharedPhone: "+970-2-298-1234"}, false},
		{"two contacts: no one number", &waE2E.Message{ContactsArrayMessage: &waE2E.ContactsArrayMessage{Contacts: []*waE2E.ContactMessage{
			{Vcard: proto.String("BEGIN:VCARD\nTEL;waid=1:+1\nEND:VCARD")}, {Vcard: proto.String("BEGIN:VCARD\nTEL;waid=2:+2\nEND:VCARD")}}}},
			content{attachment: bot.ContactCard}, false},
		{"poll", &waE2E.Message{PollCreationMessageV3: &waE2E.PollCreationMessage{Name: proto.String("?")}}, content{attachment: bot.OtherMedia}, false},
		{"forwarded", &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String("stop"), ContextInfo: &waE2E.ContextInfo{IsForwarded: proto.Bool(true)}}},
			content{text: "stop", forwarded: true}, false},
		{"forwarded photo", &waE2E.Message{ImageMessage: &waE2E.ImageMessage{ContextInfo: &waE2E.ContextInfo{IsForwarded: proto.Bool(true)}}},
			content{attachment: bot.Photo, forwarded: true}, false},
		{"reaction", &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{Text: proto.String("👍")}}, content{}, true},
		{"poll vote", &waE2E.Message{PollUpdateMessage: &waE2E.PollUpdateMessage{}}, content{}, true},
		{"protocol message", &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{}}, content{}, true},
		{"empty text", &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{}}, content{}, true},
	} {
		t.Run(tc.label, func(t *testing.T) {
			got, ok := contentOf(tc.msg)
			if tc.skip {
				assert.False(t, ok)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}
