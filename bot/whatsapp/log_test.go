package whatsapp

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestWALogger(t *testing.T) {
	var buf bytes.Buffer
	l := newWALogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})), "whatsmeow")
	sock := l.Sub("Client").Sub("Socket")

	sock.Debugf("frame %x", []byte{1}) // below the level: not even formatted
	sock.Infof("connected to %s", "web.whatsapp.com")
	l.Warnf("plain %d%%", 5)
	l.Errorf("no args")

	assert.Equal(t,
		"level=INFO msg=\"connected to web.whatsapp.com\" module=whatsmeow/Client/Socket\n"+
			"level=WARN msg=\"plain 5%\" module=whatsmeow\n"+
			"level=ERROR msg=\"no args\" module=whatsmeow\n",
		stripTime(buf.String()))
}

// stripTime drops slog's time= field.
func stripTime(s string) string {
	var out bytes.Buffer
	for _, line := range bytes.SplitAfter([]byte(s), []byte("\n")) {
		if i := bytes.IndexByte(line, ' '); i >= 0 && bytes.HasPrefix(line, []byte("time=")) {
			line = line[i+1:]
		}
		out.Write(line)
	}
	return out.String()
}
