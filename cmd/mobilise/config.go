package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"mobilise/bot"
	"mobilise/bot/dashboard"
	"mobilise/bot/schedule"
)

// Config is everything the bot is told at start: defaults, then the config
// file, then MOBILISE_* environment variables, then flags, each overriding
// the one before.
type Config struct {
	DataDir string
	// Store is where the bot keeps its state: empty for the bbolt file in
	// DataDir, or a postgres:// URL.
	Store    string
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

	// QuietHours hold broadcasts and reminders: "22:00-07:00, fri 11:30-13:30", or "off".
	QuietHours string
	// ApprovalThreshold is the audience size above which a broadcast needs an admin's approval.
	ApprovalThreshold int
	// ReminderGrace is how late a reminder may still go out after downtime.
	ReminderGrace time.Duration
	// TelegramPaid uses Telegram's paid broadcast limits (1000 messages a second).
	TelegramPaid bool
	// WhatsAppMinGap and WhatsAppMaxGap space bulk WhatsApp messages; WhatsAppDailyCap bounds them per day.
	WhatsAppMinGap, WhatsAppMaxGap time.Duration
	WhatsAppDailyCap               int

	// FloodBurst messages may come at once from one person, refilling one per FloodEvery.
	FloodBurst int
	FloodEvery time.Duration

	// TelegramTokenFile, if set, is where TelegramToken was read from.
	TelegramTokenFile string
	// HTTPAddr is where /healthz and /metrics are served; empty for none.
	HTTPAddr string
	// HTTPPublic allows an HTTPAddr that is not a loopback address.
	HTTPPublic bool
	// DashboardURL is the dashboard's address as browsers reach it (behind
	// a reverse proxy, its public https:// address); empty for http://HTTPAddr.
	DashboardURL string
	// CoalitionAR and CoalitionEN are the coalition's name, printed on posters made from chat.
	CoalitionAR, CoalitionEN string

	logLevelSet bool
	// secretFiles are files a secret was read from, to check their modes.
	secretFiles []string
}

func defaultConfig() Config {
	return Config{
		DataDir:           "data",
		LogLevel:          slog.LevelInfo,
		TimeZone:          "Asia/Hebron",
		ConsoleUser:       "user",
		TelegramListen:    "127.0.0.1:8443",
		QuietHours:        "22:00-07:00",
		ApprovalThreshold: 500,
		ReminderGrace:     time.Hour,
		WhatsAppMinGap:    8 * time.Second,
		WhatsAppMaxGap:    20 * time.Second,
		WhatsAppDailyCap:  200,
		FloodBurst:        20,
		FloodEvery:        500 * time.Millisecond,
		CoalitionAR:       defaultCoalitionAR,
		CoalitionEN:       defaultCoalitionEN,
	}
}

// env lists the environment variables read, for --help.
var envHelp = `Environment (flags override them; they override the config file):
  MOBILISE_CONFIG          config file (TOML), like --config
  MOBILISE_DATA            data directory (default ./data)
  MOBILISE_STORE           a postgres:// URL to keep the state in PostgreSQL, like --store
  MOBILISE_ADMINS          comma-separated admin addresses, e.g. telegram:123456789,whatsapp:970599000000,console:admin
  MOBILISE_LOG_LEVEL       debug, info, warn or error
  MOBILISE_TZ              the coalition's time zone (default Asia/Hebron)
  MOBILISE_COALITION_AR    the coalition's name in Arabic, on posters (also MOBILISE_COALITION_EN)
  MOBILISE_HTTP            address for /healthz and /metrics, like --http
  MOBILISE_HTTP_PUBLIC     "true" allows a non-loopback MOBILISE_HTTP
  MOBILISE_DASHBOARD_URL   the dashboard's public address, like --dashboard-url
  TELEGRAM_TOKEN           turns the Telegram channel on (also MOBILISE_TELEGRAM_TOKEN)
  TELEGRAM_TOKEN_FILE      read the token from this file instead (mode 0600)
  TELEGRAM_API_URL         Bot API base URL (default https://api.telegram.org)
  TELEGRAM_WEBHOOK_SECRET  secret for webhook mode (default: generated and kept in the data directory)
`

func loadConfig(args []string, getenv func(string) string, stderr *os.File) (Config, []string, error) {
	cfg := defaultConfig()
	if path := configPath(args, getenv); path != "" {
		if err := cfg.applyConfigFile(path); err != nil {
			return cfg, nil, err
		}
	}
	if v := getenv("MOBILISE_DATA"); v != "" {
		cfg.DataDir = v
	}
	if v := getenv("MOBILISE_STORE"); v != "" {
		cfg.Store = v
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
	cfg.CoalitionAR = firstNonEmpty(getenv("MOBILISE_COALITION_AR"), cfg.CoalitionAR)
	cfg.CoalitionEN = firstNonEmpty(getenv("MOBILISE_COALITION_EN"), cfg.CoalitionEN)
	if err := cfg.setToken(firstNonEmpty(getenv("TELEGRAM_TOKEN"), getenv("MOBILISE_TELEGRAM_TOKEN")),
		getenv("TELEGRAM_TOKEN_FILE"), "TELEGRAM_TOKEN", "TELEGRAM_TOKEN_FILE"); err != nil {
		return cfg, nil, err
	}
	if v := firstNonEmpty(getenv("TELEGRAM_API_URL"), getenv("MOBILISE_TELEGRAM_API_URL")); v != "" {
		cfg.TelegramAPIURL = v
	}
	if v := getenv("TELEGRAM_WEBHOOK_SECRET"); v != "" {
		cfg.TelegramSecret = v
	}
	if v := getenv("MOBILISE_HTTP"); v != "" {
		cfg.HTTPAddr = v
	}
	if v := getenv("MOBILISE_DASHBOARD_URL"); v != "" {
		cfg.DashboardURL = v
	}
	if v := getenv("MOBILISE_HTTP_PUBLIC"); v != "" {
		public, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, nil, fmt.Errorf("MOBILISE_HTTP_PUBLIC: %w", err)
		}
		cfg.HTTPPublic = public
	}

	fs := flag.NewFlagSet("mobilise", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `mobilise: a bot for the coalition's reconciliation campaigns, on Telegram, WhatsApp and the terminal.

Usage:
  mobilise [flags]                  run the bot (the terminal chat when no channel is configured)
  mobilise backup [flags] [FILE]    write a compacted copy of the database to FILE, or to DATA/backups/
  mobilise compact [flags]          rewrite the stopped bot's database with its live records only
  mobilise migrate --from FILE --to postgres://…   copy a bbolt database into PostgreSQL
  mobilise export [flags]           write institutions, campaigns, pledges and sign-ups as CSV files
  mobilise stats [flags]            show campaign, contact, institution and outbox figures
  mobilise poster [flags] CODE      write a printable A4 poster of a campaign, as PDF and PNG
  mobilise whatsapp link|status|unlink|copy   pair the bot with a WhatsApp number, show or remove it, or copy it into PostgreSQL

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\n"+envHelp+"\n"+configFileHelp)
	}
	fs.String("config", "", "config file (TOML); see below")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory, holding mobilise.db")
	fs.StringVar(&cfg.Store, "store", cfg.Store, "keep the state in PostgreSQL instead of DATA/mobilise.db: a postgres:// URL (default the bbolt file)")
	admins := fs.String("admins", strings.Join(cfg.Admins, ","), "comma-separated admin addresses")
	logLevel := fs.String("log-level", "", "log level: debug, info, warn, error")
	fs.BoolVar(&cfg.LogJSON, "log-json", cfg.LogJSON, "write logs as JSON")
	fs.StringVar(&cfg.TimeZone, "tz", cfg.TimeZone, "the coalition's time zone")
	fs.StringVar(&cfg.ConsoleUser, "as", cfg.ConsoleUser, "who types in the terminal chat (address console:NAME)")
	fs.BoolVar(&cfg.Console, "console", false, "open the terminal chat even if other channels are configured")
	// no defaults from the layers below: --help prints defaults, and a token must never be printed
	token := fs.String("telegram-token", "", "Telegram bot token (prefer TELEGRAM_TOKEN or a token file: flags show in ps)")
	tokenFile := fs.String("telegram-token-file", "", "read the Telegram bot token from this file (mode 0600)")
	fs.StringVar(&cfg.TelegramAPIURL, "telegram-api-url", cfg.TelegramAPIURL, "Telegram Bot API base URL")
	fs.StringVar(&cfg.TelegramWebhook, "telegram-webhook", cfg.TelegramWebhook, "public HTTPS URL for webhook mode (default: long polling)")
	fs.StringVar(&cfg.TelegramListen, "telegram-listen", cfg.TelegramListen, "address the webhook server listens on")
	fs.StringVar(&cfg.QuietHours, "quiet-hours", cfg.QuietHours, `when broadcasts and reminders wait: "22:00-07:00, fri 11:30-13:30", or "off"`)
	fs.IntVar(&cfg.ApprovalThreshold, "approval-threshold", cfg.ApprovalThreshold, "a broadcast to more people than this needs an admin's approval (0: never)")
	fs.DurationVar(&cfg.ReminderGrace, "reminder-grace", cfg.ReminderGrace, "how late a reminder may still go out after the bot was down")
	fs.BoolVar(&cfg.TelegramPaid, "telegram-paid-broadcasts", cfg.TelegramPaid, "send at Telegram's paid broadcast rate (1000/s) instead of 30/s")
	fs.DurationVar(&cfg.WhatsAppMinGap, "whatsapp-min-gap", cfg.WhatsAppMinGap, "shortest gap between two bulk WhatsApp messages")
	fs.DurationVar(&cfg.WhatsAppMaxGap, "whatsapp-max-gap", cfg.WhatsAppMaxGap, "longest gap between two bulk WhatsApp messages")
	fs.IntVar(&cfg.WhatsAppDailyCap, "whatsapp-daily-cap", cfg.WhatsAppDailyCap, "bulk WhatsApp messages per day at most")
	fs.BoolVar(&cfg.WhatsApp, "whatsapp", cfg.WhatsApp, "run the WhatsApp channel (on by itself when a number is linked)")
	fs.IntVar(&cfg.FloodBurst, "flood-burst", cfg.FloodBurst, "messages one person may send at once before being asked to slow down")
	fs.DurationVar(&cfg.FloodEvery, "flood-every", cfg.FloodEvery, "how often one more message is allowed after a burst")
	fs.StringVar(&cfg.HTTPAddr, "http", cfg.HTTPAddr, "serve /healthz, /metrics and the dashboard (/dashboard/) on this address, e.g. 127.0.0.1:9090 (default off)")
	fs.BoolVar(&cfg.HTTPPublic, "http-public", cfg.HTTPPublic, "allow --http on an address other than loopback")
	fs.StringVar(&cfg.DashboardURL, "dashboard-url", cfg.DashboardURL, "the dashboard's address as browsers reach it, e.g. https://dash.example.org (default http://ADDR of --http)")
	if err := fs.Parse(args); err != nil {
		return cfg, nil, err
	}
	if err := cfg.setToken(*token, *tokenFile, "--telegram-token", "--telegram-token-file"); err != nil {
		return cfg, nil, err
	}
	if err := cfg.readTokenFile(); err != nil {
		return cfg, nil, err
	}
	cfg.Admins = splitComma(*admins)
	if *logLevel != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(*logLevel)); err != nil {
			return cfg, nil, fmt.Errorf("--log-level: %w", err)
		}
		cfg.logLevelSet = true
	}
	if err := cfg.validate(); err != nil {
		return cfg, nil, err
	}
	if err := cfg.checkSecretFiles(); err != nil {
		return cfg, nil, err
	}
	return cfg, fs.Args(), nil
}

func (c *Config) validate() error {
	var errs []error
	if c.Store != "" && !c.usesPostgres() {
		errs = append(errs, errors.New("--store: want a postgres:// URL, or nothing for the bbolt file in --data"))
	}
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
	if _, err := schedule.ParseQuietHours(c.QuietHours); err != nil {
		errs = append(errs, fmt.Errorf("--quiet-hours: %w", err))
	}
	if c.ApprovalThreshold < 0 || c.ReminderGrace < 0 || c.WhatsAppDailyCap < 0 {
		errs = append(errs, errors.New("--approval-threshold, --reminder-grace and --whatsapp-daily-cap cannot be negative"))
	}
	if c.WhatsAppMinGap <= 0 || c.WhatsAppMaxGap < c.WhatsAppMinGap {
		errs = append(errs, errors.New("--whatsapp-min-gap must be positive and at most --whatsapp-max-gap"))
	}
	if c.FloodBurst < 0 || c.FloodEvery <= 0 {
		errs = append(errs, errors.New("flood limits must be positive"))
	}
	if err := checkHTTPAddr(c.HTTPAddr, c.HTTPPublic); err != nil {
		errs = append(errs, err)
	}
	if c.DashboardURL != "" {
		if u, err := url.Parse(c.DashboardURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--dashboard-url %q: want an address such as https://dash.example.org", c.DashboardURL))
		}
	}
	return errors.Join(errs...)
}

// dashboardLogin is the address of the dashboard's sign-in page that the
// bot's links point to; empty when the dashboard is off (no --http).
func (c *Config) dashboardLogin() string {
	if c.HTTPAddr == "" {
		return ""
	}
	base := c.DashboardURL
	if base == "" {
		base = "http://" + c.HTTPAddr
	}
	return strings.TrimSuffix(base, "/") + dashboard.LoginPath
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

// adminAddresses are the configured admins' addresses; validate has
// checked that each parses.
func (c Config) adminAddresses() []bot.Address {
	var out []bot.Address
	for _, a := range c.Admins {
		if addr, err := bot.ParseAddress(a); err == nil {
			out = append(out, addr)
		}
	}
	return out
}

// usesPostgres reports whether the state is kept in PostgreSQL.
func (c Config) usesPostgres() bool {
	return strings.HasPrefix(c.Store, "postgres://") || strings.HasPrefix(c.Store, "postgresql://")
}
