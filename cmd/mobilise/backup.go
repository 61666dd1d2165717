package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"mobilise/store"
)

// runBackup writes a consistent copy of the database to a file.
func runBackup(args []string, getenv func(string) string, stdout io.Writer, stderr *os.File) int {
	cfg := defaultConfig()
	if v := getenv("MOBILISE_DATA"); v != "" {
		cfg.DataDir = v
	}
	fs := flag.NewFlagSet("mobilise backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: mobilise backup [--data DIR] FILE\n\nWrites a consistent copy of DIR/mobilise.db to FILE (mode 0600).\nRestore by stopping the bot and putting FILE in place of mobilise.db.\n\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory, holding mobilise.db")
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
