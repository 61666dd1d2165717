package store

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// evict drops the file at path from the page cache, so the next read of it
// comes from the disk, as after a reboot.
func evict(tb testing.TB, path string) {
	tb.Helper()
	f, err := os.Open(path)
	require.NoError(tb, err)
	defer f.Close()
	require.NoError(tb, f.Sync())
	require.NoError(tb, unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED))
}
