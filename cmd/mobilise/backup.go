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
	dir, code, ok := parseMaintenanceArgs(fs, args, 1, dataDir)
	if !ok {
		return code
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

// parseMaintenanceArgs parses a maintenance command's args into fs (whose
// output is stderr), checks that nargs arguments are left, and resolves the
// data directory with dataDir (from maintenanceFlags). When the command is
// not to run, ok is false and code is its exit status: 0 after --help, 2
// after a usage error, which is reported.
func parseMaintenanceArgs(fs *flag.FlagSet, args []string, nargs int, dataDir func() (string, error)) (dir string, code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", 0, false
		}
		return "", 2, false
	}
	if fs.NArg() != nargs {
		fs.Usage()
		return "", 2, false
	}
	dir, err := dataDir()
	if err != nil {
		fmt.Fprintf(fs.Output(), "%s: %v\n", fs.Name(), err)
		return "", 2, false
	}
	return dir, 0, true
}

// readSnapshot runs read on a consistent copy of dataDir's database (see
// openForReading), then lets the copy go. read's error comes first.
func readSnapshot(ctx context.Context, dataDir string, read func(st *store.Store) error) error {
	st, done, err := openForReading(ctx, dataDir)
	if err != nil {
		return err
	}
	err = read(st)
	if derr := done(); err == nil {
		err = derr
	}
	return err
}
