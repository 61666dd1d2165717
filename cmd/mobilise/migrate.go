package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"mobilise/bot/whatsapp"
	"mobilise/store"
	"mobilise/store/postgres"
)

// runMigrate copies a bbolt database into PostgreSQL.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, stderr *os.File) int {
	fs := flag.NewFlagSet("mobilise migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: mobilise migrate --from FILE --to postgres://…

Copies everything the bbolt database FILE holds into the PostgreSQL
database: people, institutions, campaigns, pledges, sign-ups, polls,
conversations in progress, the outbox, broadcasts under way and
reminders, with the same IDs. It copies in one transaction and checks that
PostgreSQL then holds as many records of each kind as the file; if not,
nothing is written. It prints both counts.

FILE may be a backup (mobilise backup FILE) or the bot's own
data/mobilise.db; while that bot runs, the copy is taken from a snapshot
it makes. Running migrate again is safe: a database holding only an
earlier copy, not written to since, is copied into afresh, so a first copy
can be made while the bot still runs and a last one after it stops. A
database that an instance has started on since the copy, or runs on, is
never overwritten.

The media files beside FILE (its media directory) are copied into the
database too, where every instance finds them. The WhatsApp device
(whatsapp.db) is not: mobilise whatsapp copy moves it once no bot runs.

`)
		fs.PrintDefaults()
	}
	from := fs.String("from", "", "the bbolt database to copy (default DATA/mobilise.db)")
	to := fs.String("to", "", "the PostgreSQL database to copy into, postgres://… (default MOBILISE_STORE)")
	dataDir := maintenanceFlags(fs, getenv)
	dir, code, ok := parseMaintenanceArgs(fs, args, 0, dataDir)
	if !ok {
		return code
	}
	src := *from
	if src == "" {
		src = filepath.Join(dir, dbFileName)
	}
	dst := firstNonEmpty(*to, getenv("MOBILISE_STORE"))
	switch {
	case dst == "":
		fmt.Fprintln(stderr, "mobilise migrate: --to is missing: name the PostgreSQL database to copy into, --to postgres://user@host/database (or MOBILISE_STORE)")
		return 2
	case !strings.HasPrefix(dst, "postgres://") && !strings.HasPrefix(dst, "postgresql://"):
		fmt.Fprintf(stderr, "mobilise migrate: --to must be a PostgreSQL URL, postgres://user@host/database, not %s\n", redactURL(dst))
		return 2
	}
	counts, err := migrateStore(ctx, src, dst, stdout)
	if len(counts) > 0 {
		printCounts(stdout, counts)
	}
	if err != nil {
		fmt.Fprintln(stderr, "mobilise migrate:", err)
		return 1
	}
	fmt.Fprintf(stdout, "copied %s into %s: every count matches\n", src, redactURL(dst))
	fmt.Fprintln(stdout, "next: if a bot still runs on the file, stop it and run migrate again; then start the instances with --store (or MOBILISE_STORE)")
	if dir := filepath.Dir(src); whatsAppFileLinked(ctx, dir) {
		fmt.Fprintf(stdout, "the WhatsApp device in %s is not copied by migrate: once no bot runs on it, "+
			"mobilise whatsapp copy --data %s --store … copies it (or link the number again)\n", filepath.Join(dir, whatsapp.DBFile), dir)
	}
	return 0
}

// migrateStore opens both stores and copies src into dst.
func migrateStore(ctx context.Context, src, dst string, stdout io.Writer) ([]postgres.CopyCount, error) {
	if _, err := os.Stat(src); err != nil {
		return nil, fmt.Errorf("no database at %s: %w", src, err)
	}
	var (
		st   *store.Store
		done func() error
		err  error
	)
	if filepath.Base(src) == dbFileName {
		// the bot's own file: through a snapshot if it runs
		st, done, err = openForReading(ctx, filepath.Dir(src))
	} else if st, err = store.Open(src); err == nil {
		done = st.Close
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if derr := done(); derr != nil {
			fmt.Fprintln(stdout, "mobilise migrate: closing the copy read:", derr)
		}
	}()
	pg, err := postgres.Open(ctx, dst)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", redactURL(dst), err)
	}
	defer pg.Close()
	counts, err := pg.Import(ctx, st, src)
	if err != nil {
		return counts, err
	}
	media, err := copyMedia(ctx, store.MediaDir(src), pg)
	return append(counts, media), err
}

// copyMedia puts the files of the media directory beside the database
// into PostgreSQL, where the instances find them, and counts the files
// the directory holds and how many of them the database has. A file
// already there is left as it is.
func copyMedia(ctx context.Context, dir string, pg *postgres.Store) (postgres.CopyCount, error) {
	count := postgres.CopyCount{Kind: "media_files"}
	if !hasFiles(dir) {
		return count, nil // none; and no directory made where there was none
	}
	files, err := store.OpenMediaFiles(dir, 0, store.WithSharedMedia(pg))
	if err != nil {
		return count, err
	}
	local, err := files.List()
	if err != nil {
		return count, fmt.Errorf("listing the media files in %s: %w", dir, err)
	}
	count.Source = len(local)
	_, shareErr := files.ShareLocal(ctx)
	known, err := pg.MediaSHAs(ctx)
	if err != nil {
		return count, fmt.Errorf("listing the media files copied: %w", err)
	}
	for _, sha := range local {
		if slices.Contains(known, sha) {
			count.Target++
		}
	}
	if shareErr != nil {
		return count, fmt.Errorf("copying the media files of %s: %w; the records are copied, and each instance puts the files of its own media directory into the database at start", dir, shareErr)
	}
	return count, nil
}

// redactURL is a database URL without its password, to print.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the database"
	}
	return u.Redacted()
}

// printCounts prints the counts of both sides, the kinds with records.
func printCounts(w io.Writer, counts []postgres.CopyCount) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tbbolt\tPostgreSQL\t")
	for _, c := range counts {
		if c.Source == 0 && c.Target == 0 {
			continue
		}
		mark := ""
		if c.Source != c.Target {
			mark = "  ≠"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", c.Kind, c.Source, c.Target, mark)
	}
	_ = tw.Flush() // w is the terminal; a failed write there has no one to tell
}

// hasFiles reports whether dir holds any file, in it or below.
func hasFiles(dir string) bool {
	found := errors.New("found")
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			return found
		}
		return nil // an unreadable part is no file to copy
	})
	return errors.Is(err, found)
}

// fileExists reports whether path names a file.
func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
