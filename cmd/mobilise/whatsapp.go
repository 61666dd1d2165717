package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"mobilise/bot/whatsapp"
	"mobilise/store"
)

// whatsAppLinked reports whether a WhatsApp number is linked where the bot
// keeps its device: in the PostgreSQL database of --store, else in
// whatsapp.db in the data directory. Neither is created: a bot without
// WhatsApp never has one. A look in PostgreSQL that fails is an error,
// not "none": an instance would start without WhatsApp for good.
func whatsAppLinked(ctx context.Context, cfg Config) (bool, error) {
	if cfg.usesPostgres() {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		linked, err := whatsapp.PostgresLinked(ctx, cfg.Store)
		if err != nil {
			return false, fmt.Errorf("looking for the WhatsApp device: %w", err)
		}
		return linked, nil
	}
	return whatsAppFileLinked(ctx, cfg.DataDir), nil
}

// whatsAppFileLinked reports whether whatsapp.db in dataDir exists and
// holds a linked device.
func whatsAppFileLinked(ctx context.Context, dataDir string) bool {
	_, err := os.Stat(filepath.Join(dataDir, whatsapp.DBFile))
	if err != nil {
		return false
	}
	d, err := whatsapp.OpenDevice(ctx, dataDir, slog.New(slog.DiscardHandler))
	if err != nil {
		return false
	}
	defer d.Close()
	return d.Linked()
}

// openWhatsAppDevice opens the device where the bot keeps it: with
// PostgreSQL in that database, so that whichever instance holds the
// whatsapp lease connects with it; else in whatsapp.db in the data directory.
func openWhatsAppDevice(ctx context.Context, cfg Config, log *slog.Logger) (*whatsapp.Device, error) {
	if cfg.usesPostgres() {
		return whatsapp.OpenPostgresDevice(ctx, cfg.Store, log)
	}
	return whatsapp.OpenDevice(ctx, cfg.DataDir, log)
}

// runWhatsApp handles "mobilise whatsapp link|status|unlink|copy".
func runWhatsApp(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, stderr *os.File) int {
	cfg := defaultConfig()
	if v := getenv("MOBILISE_DATA"); v != "" {
		cfg.DataDir = v
	}
	cfg.Store = getenv("MOBILISE_STORE")
	fs := flag.NewFlagSet("mobilise whatsapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	phone := fs.String("phone", "", "link by pairing code for this number (+970…) instead of a QR code")
	timeout := fs.Duration("timeout", 3*time.Minute, "how long to wait for the phone")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory, holding whatsapp.db")
	fs.StringVar(&cfg.Store, "store", cfg.Store, "the bot's PostgreSQL database, postgres://…, which then keeps the device (default MOBILISE_STORE; none: whatsapp.db)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: mobilise whatsapp link [--phone +970…] | status | unlink | copy [--data DIR] [--store postgres://…]

  link     pair the bot with a WhatsApp account: scan the QR code from the phone
           (WhatsApp → Linked devices), or with --phone type the pairing code shown.
           Use a dedicated number: WhatsApp bans numbers that send in bulk.
  status   say whether a number is linked, and which
  unlink   log the bot out of WhatsApp and delete the session (stop the bot first)
  copy     copy the number linked in DIR/whatsapp.db into the PostgreSQL database
           of --store, to move a bot from the bbolt file to PostgreSQL without
           linking again (stop the bot first; whatsapp.db is left as it is)

The device keys are kept in DIR/whatsapp.db, or with --store (MOBILISE_STORE)
in the bot's PostgreSQL database, where every instance finds them.

`)
		fs.PrintDefaults()
	}
	if len(args) == 0 {
		fs.Usage()
		return 2
	}
	if slices.Contains([]string{"-h", "-help", "--help", "help"}, args[0]) {
		fs.Usage()
		return 0
	}
	verb := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if cfg.Store != "" && !cfg.usesPostgres() {
		fmt.Fprintln(stderr, "mobilise whatsapp: --store: want a postgres:// URL, or nothing for whatsapp.db in --data")
		return 2
	}
	if verb == "copy" && !cfg.usesPostgres() {
		fmt.Fprintln(stderr, "mobilise whatsapp copy: --store (or MOBILISE_STORE) must name the PostgreSQL database to copy into")
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if !cfg.usesPostgres() || verb == "copy" {
		for _, path := range whatsAppSessionFiles(cfg.DataDir) {
			if err := checkSecretFile(path); err != nil {
				fmt.Fprintln(stderr, "mobilise whatsapp:", err)
				return 1
			}
		}
	}
	if verb == "copy" {
		return whatsAppCopy(ctx, cfg, stdout, stderr, log)
	}
	if verb == "status" && !cfg.usesPostgres() && !fileExists(filepath.Join(cfg.DataDir, whatsapp.DBFile)) {
		// asking makes no session file: migrate and the bot would take one for a device
		fmt.Fprintln(stdout, "no WhatsApp number is linked; link one with: mobilise whatsapp link")
		return 0
	}
	if !cfg.usesPostgres() {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			fmt.Fprintln(stderr, "mobilise whatsapp:", err)
			return 1
		}
	}
	d, err := openWhatsAppDevice(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "mobilise whatsapp:", err)
		return 1
	}
	defer d.Close()
	switch verb {
	case "status":
		if d.Linked() {
			fmt.Fprintf(stdout, "linked to +%s\n", d.PhoneNumber())
		} else {
			fmt.Fprintln(stdout, "no WhatsApp number is linked; link one with: mobilise whatsapp link")
			if cfg.usesPostgres() && whatsAppFileLinked(ctx, cfg.DataDir) {
				fmt.Fprintf(stdout, "%s holds a linked number: copy it into PostgreSQL with: mobilise whatsapp copy\n", filepath.Join(cfg.DataDir, whatsapp.DBFile))
			}
		}
		return 0
	case "link":
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		if err := whatsapp.Link(ctx, d, stdout, strings.TrimSpace(*phone), log); err != nil {
			fmt.Fprintln(stderr, "mobilise whatsapp link:", err)
			return 1
		}
		fmt.Fprintf(stdout, "linked to +%s. Start the bot with: mobilise\n", d.PhoneNumber())
		return 0
	case "unlink":
		if err := whatsapp.Unlink(ctx, d, log); err != nil {
			fmt.Fprintln(stderr, "mobilise whatsapp unlink:", err)
			return 1
		}
		fmt.Fprintln(stdout, "unlinked; the WhatsApp session is deleted")
		return 0
	}
	fs.Usage()
	return 2
}

// whatsAppCopy copies the device of whatsapp.db into PostgreSQL.
func whatsAppCopy(ctx context.Context, cfg Config, stdout io.Writer, stderr io.Writer, log *slog.Logger) int {
	res, err := whatsapp.CopyToPostgres(ctx, cfg.DataDir, cfg.Store, log)
	if err != nil {
		fmt.Fprintln(stderr, "mobilise whatsapp copy:", err)
		return 1
	}
	fmt.Fprintf(stdout, "copied +%s from %s into %s (%s in whatsmeow's %d tables).\n",
		res.PhoneNumber, filepath.Join(cfg.DataDir, whatsapp.DBFile), redactURL(cfg.Store), plural(res.Rows, "row"), res.Tables)
	fmt.Fprintf(stdout, "Start the instances on PostgreSQL; %s is left as it is: do not run the bot on it again, or both connect with the same keys and replace each other.\n", whatsapp.DBFile)
	return 0
}

// webhookSecretName is the file in the data directory that keeps the
// generated webhook secret.
const webhookSecretName = "telegram-webhook-secret"

// webhookSecret is the secret Telegram sends with each webhook call: from the
// environment or config, or generated once and kept in the data directory,
// in a file only the bot's user may read. A kept secret that others could
// read is refused: it may have been read already (delete the file and a new
// secret is made and given to Telegram at start).
func webhookSecret(cfg Config) (string, error) {
	if cfg.TelegramSecret != "" {
		return cfg.TelegramSecret, nil
	}
	path := filepath.Join(cfg.DataDir, webhookSecretName)
	if err := checkSecretFile(path); err != nil {
		return "", fmt.Errorf("the webhook secret: %w (or delete it: a new secret is made at start)", err)
	}
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return strings.TrimSpace(string(b)), nil
	}
	secret := newWebhookSecret()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("creating the data directory: %w", err)
	}
	// a new private file renamed into place: WriteFile would keep the mode
	// of a file already there, and the umask could widen a new one's
	f, err := os.CreateTemp(cfg.DataDir, webhookSecretName+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("saving the webhook secret: %w", err)
	}
	_, err = f.WriteString(secret + "\n")
	err = errors.Join(err, f.Chmod(0o600), f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return "", errors.Join(fmt.Errorf("saving the webhook secret: %w", err), removeIfExists(f.Name()))
	}
	return secret, nil
}

// newWebhookSecret returns a new random webhook secret.
func newWebhookSecret() string {
	var buf [24]byte
	_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(buf[:])
}

// sharedSecret is a store that keeps one webhook secret for all the
// instances sharing it: PostgreSQL.
type sharedSecret interface {
	WebhookSecret(ctx context.Context, fresh string) (string, error)
}

// instancesWebhookSecret is webhookSecret on a store that several
// instances share: unless configured, the secret is kept in the database,
// the first instance's, not in each data directory. Each instance
// registers the webhook at start and Telegram keeps the latest secret only,
// so instances with secrets of their own would refuse, behind one proxy,
// every call but those reaching the instance that started last.
func instancesWebhookSecret(ctx context.Context, cfg Config, st store.Backend) (string, error) {
	if shared, ok := st.(sharedSecret); ok && cfg.TelegramSecret == "" {
		secret, err := shared.WebhookSecret(ctx, newWebhookSecret())
		if err != nil {
			return "", fmt.Errorf("the webhook secret: %w", err)
		}
		return secret, nil
	}
	return webhookSecret(cfg)
}

// removeIfExists removes path, if it is there.
func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// plural words n things: "1 row", "8 rows".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
