package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/store/postgres/pgtest"
)

// runMigrateBinary runs `mobilise migrate` from the data directory's
// database into dbURL and returns its output and exit code.
func runMigrateBinary(t *testing.T, data, dbURL string) (string, int) {
	t.Helper()
	cmd := exec.Command(mobiliseBinary(t), "migrate", "--from", filepath.Join(data, "mobilise.db"), "--to", dbURL)
	cmd.Env = []string{"HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return string(out), code
}

// TestMigrateMidBroadcastToPostgres moves a running installation from its
// bbolt file to PostgreSQL the way its README says: a first copy while
// the bot runs a broadcast of a poster and answers people, then the bot
// stopped, the copy made again, and the bot started on PostgreSQL with a
// data directory of its own. The broadcast goes on from where it stopped,
// everyone gets the poster exactly once (by the file_id Telegram gave the
// first upload, on bbolt), the people answered on bbolt are not answered
// again, and a conversation begun on bbolt goes on.
func TestMigrateMidBroadcastToPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	dbURL := pgtest.NewDatabase(t)
	mobiliseBinary(t) // not timed
	const people, writers = 300, 12
	s := prepareBroadcastWith(t, people, crashPoster(t))
	api := newCrashBotAPI(t, 30)

	p := startBot(t, s, api, false, 1)
	burst(api, writers, writers)
	waitFor(t, p, time.Minute, "the writers answered and a third of the broadcast sent", func() bool {
		return len(api.answers(writers)) == writers && api.tally(s.recipients).messages >= people/3
	})
	out, code := runMigrateBinary(t, s.data, dbURL)
	require.Equal(t, 0, code, "a first copy while the bot runs:\n%s", out)
	require.Contains(t, out, "every count matches")

	require.Equal(t, 0, p.stop(t, syscall.SIGTERM), "a clean stop; the log:\n%s", p.stderr())
	atStop := api.tally(s.recipients)
	b, left := broadcastState(t, s)
	require.Less(t, b.Sent, people, "the broadcast was stopped half way")
	require.Equal(t, people-b.Sent, left)

	out, code = runMigrateBinary(t, s.data, dbURL)
	require.Equal(t, 0, code, "the last copy, after the stop:\n%s", out)
	require.Contains(t, out, "every count matches")
	require.Regexp(t, `outbox\s+\d+\s+\d+`, out, "the counts of both sides are printed")
	require.Regexp(t, `media_files\s+1\s+1`, out, "the poster is copied into the database")
	t.Logf("the copy after the stop:\n%s", out)

	pg := startInstance(t, dbURL, api, "postgres")
	report := doneReport(t, s.broadcastID, people)
	waitFor(t, pg, 2*time.Minute, "the rest of the broadcast and its report", func() bool {
		got := api.tally(s.recipients)
		return got.reached == people && got.coordinator == report
	})
	time.Sleep(time.Second) // anything sent twice arrives
	got := api.tally(s.recipients)
	assert.Zero(t, got.twice+got.more, "after a clean stop, nobody gets the call twice")
	assert.Empty(t, api.wrongTexts(s.recipients), "each in their language")
	m, photos := api.photosTo(s.recipients)
	assert.Equal(t, people, photos, "every recipient got the poster")
	assert.Equal(t, 1, m.uploads, "the poster uploaded on bbolt is sent by its file_id from PostgreSQL")
	assert.Empty(t, m.badRef)
	answers := api.answers(writers)
	require.Len(t, answers, writers)
	for chat, n := range answers {
		assert.Equal(t, 1, n, "person %d is answered once, on bbolt, and not again after the move", chat)
	}

	// a conversation begun on bbolt goes on: the language chosen, the consent question follows
	api.push(textUpdateJSON(writers+1, firstWriter, "١"))
	waitFor(t, pg, 30*time.Second, "the writer's next step", func() bool { return api.answers(writers)[firstWriter] == 2 })
	api.mu.Lock()
	next := api.delivered[firstWriter][1]
	api.mu.Unlock()
	assert.Contains(t, next, "هل نرسل إليك هذه الرسائل؟", "the wizard goes on from its step")

	// written to now: the copy is not made over it
	out, code = runMigrateBinary(t, s.data, dbURL)
	assert.Equal(t, 1, code, "a database the bot has written to is refused:\n%s", out)
	assert.Contains(t, out, "written to since")
	require.Equal(t, 0, pg.stop(t, syscall.SIGTERM), "a clean exit; the log:\n%s", pg.stderr())
	assert.NotContains(t, pg.stderr(), "level=ERROR")
	t.Logf("%d people; %d messages before the stop (%d recorded sent); the rest sent on PostgreSQL; twice %d; writers answered %d of %d",
		people, atStop.messages, b.Sent, got.twice, len(answers), writers)
}

// TestMigrateExplainsBadArguments answers a wrong call with what to give.
func TestMigrateExplainsBadArguments(t *testing.T) {
	dir := t.TempDir()
	res := runMain(t, t.Context(), []string{"migrate", "--from", filepath.Join(dir, "mobilise.db")}, nil, "")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "--to is missing")

	res = runMain(t, t.Context(), []string{"migrate", "--to", "mysql://root:secret@db/x"}, nil, "")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "--to must be a PostgreSQL URL, postgres://user@host/database, not mysql://root:xxxxx@db/x")

	res = runMain(t, t.Context(), []string{"migrate", filepath.Join(dir, "mobilise.db"), "--to", "postgres://127.0.0.1:1/none"}, nil, "")
	assert.Equal(t, 2, res.code, "the file given without --from")
	assert.Contains(t, res.stderr, "Usage: mobilise migrate")
	assert.Contains(t, res.stderr, fmt.Sprintf("mobilise migrate: unexpected argument %q", filepath.Join(dir, "mobilise.db")))

	res = runMain(t, t.Context(), []string{"migrate", "--from", filepath.Join(dir, "missing.db"), "--to", "postgres://127.0.0.1:1/none"}, nil, "")
	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stderr, "no database at")
	_, err := os.Stat(filepath.Join(dir, "missing.db"))
	assert.True(t, os.IsNotExist(err), "nothing is created where the file is missing")

	res = runMain(t, t.Context(), []string{"migrate", "--help"}, nil, "")
	assert.Equal(t, 0, res.code)
	assert.Contains(t, res.stderr, "can be made while the bot still runs")

	res = runMain(t, t.Context(), []string{"migrate"}, map[string]string{"MOBILISE_STORE": "postgres://127.0.0.1:1/none", "MOBILISE_DATA": dir}, "")
	assert.Equal(t, 1, res.code, "the defaults: DATA/mobilise.db into MOBILISE_STORE")
	assert.Contains(t, res.stderr, filepath.Join(dir, "mobilise.db"))
}
