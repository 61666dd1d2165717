package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"mobilise/store"
)

// runBackup writes a consistent copy of the database to a file.
func runBackup(args []string, getenv func(string) string, stdout io.Writer, stderr *os.File) int {
	fs := flag.NewFlagSet("mobilise backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: mobilise backup [--data DIR] FILE\n\nWrites a consistent copy of DIR/mobilise.db to FILE (mode 0600), taken from the\nrunning bot through its admin socket, or from the file when the bot is stopped.\nRestore by stopping the bot and putting FILE in place of mobilise.db.\n\n")
		fs.PrintDefaults()
	}
	dataDir := maintenanceFlags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	dir, err := dataDir()
	if err != nil {
		fmt.Fprintln(stderr, "mobilise backup:", err)
		return 2
	}
	cfg := Config{DataDir: dir}
	if _, err := os.Stat(cfg.dbPath()); err != nil {
		fmt.Fprintf(stderr, "mobilise backup: no database at %s (is --data right?): %v\n", cfg.dbPath(), err)
		return 1
	}
	switch _, err := fetchBackup(context.Background(), dir, fs.Arg(0)); {
	case err == nil:
		fmt.Fprintf(stdout, "backup written to %s (from the running bot)\n", fs.Arg(0))
		return 0
	case !errors.Is(err, errNoBot):
		fmt.Fprintln(stderr, "mobilise backup:", err)
		return 1
	}
	st, err := store.Open(cfg.dbPath())
	if err != nil {
		fmt.Fprintln(stderr, "mobilise backup:", err)
		return 1
	}
	defer st.Close()
	if err := st.BackupTo(fs.Arg(0)); err != nil {
		fmt.Fprintln(stderr, "mobilise backup:", err)
		return 1
	}
	fmt.Fprintf(stdout, "backup written to %s\n", fs.Arg(0))
	return 0
}
