package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/messages"
)

// TestPipedConsoleSessionIsNotCutOffAndDrains pipes a long session into the
// terminal chat, faster than anyone types: no line is refused as a flood,
// and a broadcast sent by the last lines reaches its recipients before the
// program exits.
func TestPipedConsoleSessionIsNotCutOffAndDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole program")
	}
	cat := catalog(t)
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"MOBILISE_DATA": data, "MOBILISE_ADMINS": "console:admin"}
	var script strings.Builder
	script.WriteString(":as user\n/start\n2\nyes\nskip\n")
	for range 60 {
		script.WriteString("/help\n")
	}
	// the broadcast: no campaign, both texts, everyone, no file, send now
	script.WriteString(":as admin\n/start\n2\nyes\nskip\n/broadcast\n1\nنلتقي يوم الجمعة في الساحة\nWe meet on Friday in the square\n1\n1\n2\n")
	res := runMain(t, context.Background(), nil, env, script.String())
	require.Equal(t, 0, res.code, res.stderr)
	assert.NotContains(t, res.stderr, "level=ERROR", "the end of input is a clean stop")
	assert.NotContains(t, res.stdout, cat.Text("en", messages.ErrSlowDown, nil))
	assert.Equal(t, 60, strings.Count(res.stdout, "< "+cat.Text("en", messages.HelpIntro, nil)), "every line was answered")
	assert.Contains(t, res.stdout, "[→ user]\n< We meet on Friday in the square", "the broadcast went out before the exit")
}
