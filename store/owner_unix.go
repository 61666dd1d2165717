//go:build unix

package store

import (
	"os"
	"syscall"
)

// chownLike gives the file at path the owner and group of like, when they
// differ: a copy written by root for a bot that runs as its own user must
// stay readable by that user. Only root can give a file away, and only then
// do the owners differ.
func chownLike(path string, like os.FileInfo) error {
	want, ok := like.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if got, ok := fi.Sys().(*syscall.Stat_t); ok && got.Uid == want.Uid && got.Gid == want.Gid {
		return nil
	}
	return os.Chown(path, int(want.Uid), int(want.Gid))
}
