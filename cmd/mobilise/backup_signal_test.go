package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A `mobilise backup` stopped mid-copy (Ctrl-C, SIGTERM, its terminal
// closing) left its half-written copy of the database, personal data
// included, beside the backup as FILE.tmp. The bot here is a stand-in on
// the admin socket that sends the first bytes of a copy and no more.
func TestBackupStoppedMidCopyLeavesNoPartialCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	bin := mobiliseBinary(t)
	_, data := opsStore(t)
	ln, err := net.Listen("unix", filepath.Join(data, adminSocketName))
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1048576")
		_, _ = w.Write([]byte(strings.Repeat("x", 4096)))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the rest never comes
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "b.db")
			cmd := exec.Command(bin, "backup", "--data", data, file)
			require.NoError(t, cmd.Start())
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			waitFor(t, nil, 20*time.Second, "the copy under way", func() bool {
				fi, err := os.Stat(file + ".tmp")
				return err == nil && fi.Size() > 0
			})
			require.NoError(t, cmd.Process.Signal(sig))
			select {
			case <-exited:
			case <-time.After(20 * time.Second):
				t.Fatal("the backup did not stop")
			}
			assert.NotZero(t, cmd.ProcessState.ExitCode(), "a backup cut short fails")
			leftovers, err := filepath.Glob(file + "*")
			require.NoError(t, err)
			assert.Empty(t, leftovers, "neither the file nor its partial copy is left")
		})
	}
}
