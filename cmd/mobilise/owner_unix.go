//go:build unix

package main

import (
	"os"
	"syscall"
)

// giveToOwnerOf gives path the owner and group of the existing file like,
// when they differ: what root writes into the data directory for a bot that
// runs as its own user must stay readable by that user. Only root can give a
// file away, and only then do the owners differ.
func giveToOwnerOf(path, like string) error {
	want, err := os.Stat(like)
	if err != nil {
		return err
	}
	got, err := os.Stat(path)
	if err != nil {
		return err
	}
	w, ok1 := want.Sys().(*syscall.Stat_t)
	g, ok2 := got.Sys().(*syscall.Stat_t)
	if !ok1 || !ok2 || (w.Uid == g.Uid && w.Gid == g.Gid) {
		return nil
	}
	return os.Chown(path, int(w.Uid), int(w.Gid))
}
