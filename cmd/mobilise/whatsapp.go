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
	"strings"
	"syscall"
	"time"

	"mobilise/bot/whatsapp"
	"mobilise/store"
)

// whatsAppLinked reports whether a WhatsApp session file exists; opening it
// is left to the channel, so a bot without WhatsApp never creates one.
func whatsAppLinked(cfg Config) bool {
	_, err := os.Stat(filepath.Join(cfg.DataDir, whatsapp.DBFile))
	if err != nil {
		return false
	}
	d, err := whatsapp.OpenDevice(context.Background(), cfg.DataDir, slog.New(slog.DiscardHandler))
	if err != nil {
		return false
	}
	defer d.Close()
	return d.Linked()
}

// runWhatsApp handles "mobilise whatsapp link|status|unlink".
func runWhatsApp(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, stderr *os.File) int {
	cfg := defaultConfig()
	if v := getenv("MOBILISE_DATA"); v != "" {
		cfg.DataDir = v
	}
	fs := flag.NewFlagSet("mobilise whatsapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	phone := fs.String("phone", "", "link by pairing code for this number (+970…) instead of a QR code")
	timeout := fs.Duration("timeout", 3*time.Minute, "how long to wait for the phone")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory, holding whatsapp.db")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: mobilise whatsapp link [--phone +970…] | status | unlink [--data DIR]

  link     pair the bot with a WhatsApp account: scan the QR code from the phone
           (WhatsApp → Linked devices), or with --phone type the pairing code shown.
           Use a dedicated number: WhatsApp bans numbers that send in bulk.
  status   say whether a number is linked, and which
  unlink   log the bot out of WhatsApp and delete the session (stop the bot first)

`)
		fs.PrintDefaults()
	}
	if len(args) == 0 {
		fs.Usage()
		return 2
	}
	verb := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for _, path := range whatsAppSessionFiles(cfg.DataDir) {
		if err := checkSecretFile(path); err != nil {
			fmt.Fprintln(stderr, "mobilise whatsapp:", err)
			return 1
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		fmt.Fprintln(stderr, "mobilise whatsapp:", err)
		return 1
	}
	d, err := whatsapp.OpenDevice(ctx, cfg.DataDir, log)
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
