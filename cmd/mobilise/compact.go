package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/dustin/go-humanize"

	"mobilise/store"
)

// runCompact rewrites the stopped bot's database with its live records only.
func runCompact(args []string, getenv func(string) string, stdout io.Writer, stderr *os.File) int {
	fs := flag.NewFlagSet("mobilise compact", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: mobilise compact [--data DIR]

Rewrites DIR/mobilise.db with its live records only. bbolt reuses the space
that deletions free but never clears it, so until it is reused the bytes of
deleted and forgotten records stay in the file. compact writes a compacted
copy beside the file (mode 0600), checks it, and renames it into place. It
works only while the bot is stopped, and refuses a damaged file.

`)
		fs.PrintDefaults()
	}
	dataDir := maintenanceFlags(fs, getenv)
	dir, code, ok := parseMaintenanceArgs(fs, args, 0, dataDir)
	if !ok {
		return code
	}
	cfg := Config{DataDir: dir}
	path := cfg.dbPath()
	if _, err := os.Stat(path); err != nil {
		fmt.Fprintf(stderr, "mobilise compact: no database at %s (is --data right?): %v\n", path, err)
		return 1
	}
	res, err := store.Compact(path)
	switch {
	case errors.Is(err, store.ErrInUse):
		fmt.Fprintf(stderr, "mobilise compact: %v: the bot is running; stop it first (a backup made while it runs is compacted already: mobilise backup)\n", err)
		return 1
	case errors.Is(err, store.ErrCorrupt):
		fmt.Fprintf(stderr, "mobilise compact: %v\nThe file was left as it was; restore a backup in its place.\n", err)
		return 1
	case err != nil:
		fmt.Fprintln(stderr, "mobilise compact:", err)
		return 1
	}
	fmt.Fprintf(stdout, "compacted %s: %s before, %s after (%d and %d bytes)\n", path,
		humanize.Bytes(uint64(res.Before)), humanize.Bytes(uint64(res.After)), res.Before, res.After)
	return 0
}
