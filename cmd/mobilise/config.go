package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is everything the bot is told at start: defaults, then MOBILISE_*
// environment variables, then flags, each overriding the one before.
type Config struct {
	DataDir  string
	Admins   []string
	LogLevel slog.Level
	LogJSON  bool
	TimeZone string
	// ConsoleUser is who types in the terminal chat.
	ConsoleUser string
	// Console forces the terminal chat even when other channels are configured.
	Console bool

	TelegramToken   string
	TelegramAPIURL  string
	TelegramWebhook string
	TelegramListen  string
	TelegramSecret  string

	// WhatsApp asks for the WhatsApp channel, failing if no number is linked.
	WhatsApp bool

	// FloodBurst messages may come at once from one person, refilling one per FloodEvery.
	FloodBurst int
	FloodEvery time.Duration

	logLevelSet bool
}

func defaultConfig() Config {
	return Config{
		DataDir:        "data",
		LogLevel:       slog.LevelInfo,
		TimeZone:       "Asia/Hebron",
		ConsoleUser:    "user",
		TelegramListen: "127.0.0.1:8443",
		FloodBurst:     20,
		FloodEvery:     500 * time.Millisecond,
	}
}

// env lists the environment variables read, for --help.
var envHelp = `Environment (flags override them):
  MOBILISE_DATA            data directory (default ./data)
  MOBILISE_ADMINS          comma-separated admin addresses, e.g. telegram:123456789,whatsapp:970599000000,console:admin
  MOBILISE_LOG_LEVEL       debug, info, warn or error
  MOBILISE_TZ              the coalition's time zone (default Asia/Hebron)
  TELEGRAM_TOKEN           turns the Telegram channel on (also MOBILISE_TELEGRAM_TOKEN)
  TELEGRAM_API_URL         Bot API base URL (default https://api.telegram.org)
  TELEGRAM_WEBHOOK_SECRET  secret for webhook mode (default: generated and kept in the data directory)
`

func loadConfig(args []string, getenv func(string) string, stderr *os.File) (Config, []string, error) {
	cfg := defaultConfig()
	if v := getenv("MOBILISE_DATA"); v != "" {
		cfg.DataDir = v
	}
	if v := getenv("MOBILISE_ADMINS"); v != "" {
		cfg.Admins = splitComma(v)
	}
	if v := getenv("MOBILISE_LOG_LEVEL"); v != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return cfg, nil, fmt.Errorf("MOBILISE_LOG_LEVEL: %w", err)
		}
		cfg.logLevelSet = true
	}
	if v := getenv("MOBILISE_TZ"); v != "" {
		cfg.TimeZone = v
	}
	cfg.TelegramToken = firstNonEmpty(getenv("TELEGRAM_TOKEN"), getenv("MOBILISE_TELEGRAM_TOKEN"))
	cfg.TelegramAPIURL = firstNonEmpty(getenv("TELEGRAM_API_URL"), getenv("MOBILISE_TELEGRAM_API_URL"))
	cfg.TelegramSecret = getenv("TELEGRAM_WEBHOOK_SECRET")

	fs := flag.NewFlagSet("mobilise", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `mobilise: a bot for the coalition's reconciliation campaigns, on Telegram, WhatsApp and the terminal.

Usage:
  mobilise [flags]                  run the bot (the terminal chat when no channel is configured)
  mobilise backup [flags] FILE      write a consistent copy of the database to FILE
  mobilise whatsapp link|status|unlink   pair the bot with a WhatsApp number, or show or remove it

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\n"+envHelp)
	}
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory, holding mobilise.db")
	admins := fs.String("admins", strings.Join(cfg.Admins, ","), "comma-separated admin addresses")
	logLevel := fs.String("log-level", "", "log level: debug, info, warn, error")
	fs.BoolVar(&cfg.LogJSON, "log-json", false, "write logs as JSON")
	fs.StringVar(&cfg.TimeZone, "tz", cfg.TimeZone, "the coalition's time zone")
	fs.StringVar(&cfg.ConsoleUser, "as", cfg.ConsoleUser, "who types in the terminal chat (address console:NAME)")
	fs.BoolVar(&cfg.Console, "console", false, "open the terminal chat even if other channels are configured")
	fs.StringVar(&cfg.TelegramToken, "telegram-token", cfg.TelegramToken, "Telegram bot token (prefer TELEGRAM_TOKEN: flags show in ps)")
	fs.StringVar(&cfg.TelegramAPIURL, "telegram-api-url", cfg.TelegramAPIURL, "Telegram Bot API base URL")
	fs.StringVar(&cfg.TelegramWebhook, "telegram-webhook", "", "public HTTPS URL for webhook mode (default: long polling)")
	fs.StringVar(&cfg.TelegramListen, "telegram-listen", cfg.TelegramListen, "address the webhook server listens on")
	fs.BoolVar(&cfg.WhatsApp, "whatsapp", false, "run the WhatsApp channel (on by itself when a number is linked)")
	fs.IntVar(&cfg.FloodBurst, "flood-burst", cfg.FloodBurst, "messages one person may send at once before being asked to slow down")
	fs.DurationVar(&cfg.FloodEvery, "flood-every", cfg.FloodEvery, "how often one more message is allowed after a burst")
	if err := fs.Parse(args); err != nil {
		return cfg, nil, err
	}
	cfg.Admins = splitComma(*admins)
	if *logLevel != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(*logLevel)); err != nil {
			return cfg, nil, fmt.Errorf("--log-level: %w", err)
		}
		cfg.logLevelSet = true
	}
	return cfg, fs.Args(), cfg.validate()
}

func (c *Config) validate() error {
	var errs []error
	if strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, errors.New("the data directory is empty"))
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("time zone %q: %w", c.TimeZone, err))
	}
	for _, a := range c.Admins {
		ch, id, ok := strings.Cut(a, ":")
		if !ok || ch == "" || id == "" {
			errs = append(errs, fmt.Errorf("admin %q: want channel:id, e.g. telegram:123456789", a))
		}
	}
	if c.ConsoleUser == "" || strings.ContainsAny(c.ConsoleUser, " :") {
		errs = append(errs, fmt.Errorf("--as %q: want a name without spaces or colons", c.ConsoleUser))
	}
	if c.FloodBurst < 0 || c.FloodEvery <= 0 {
		errs = append(errs, errors.New("flood limits must be positive"))
	}
	return errors.Join(errs...)
}

func (c *Config) dbPath() string { return filepath.Join(c.DataDir, "mobilise.db") }

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
