package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLogsNeverShowPhoneNumbers(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(redactingHandler{slog.NewTextHandler(&buf, nil)}).With("to", "whatsapp:970599123456")
	err := fmt.Errorf("sending to whatsapp:972541234567: %w", errors.New("server said no"))
	log.Warn("reply to +970 599123456 not delivered", "error", err, "contact_id", 42,
		slog.Group("req", "chat", "telegram:123456789"))
	out := buf.String()
	for _, number := range []string{"970599123456", "972541234567", "599123456", "123456789"} {
		assert.NotContains(t, out, number)
	}
	assert.Contains(t, out, "contact_id=42", "small IDs stay readable")
	assert.Contains(t, out, "…56", "the last digits tell numbers apart")
	assert.Contains(t, out, "server said no")
}
