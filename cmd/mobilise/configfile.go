package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"mobilise/bot/whatsapp"
)

// configFileHelp documents the config file, for --help and deploy/README.md.
const configFileHelp = `Config file (--config FILE or MOBILISE_CONFIG; optional, TOML). Every key is optional:
  data = "/var/lib/mobilise"            # data directory
  store = "postgres://…"                # keep the state in PostgreSQL (a password in it is a secret too)
  admins = ["telegram:123456789"]       # admin addresses
  log_level = "info"                    # debug, info, warn, error
  log_json = false
  tz = "Asia/Hebron"
  http = "127.0.0.1:9090"               # /healthz and /metrics; off when empty
  http_public = false                   # allow a non-loopback http address
  whatsapp = false
  flood_burst = 20
  flood_every = "500ms"
  quiet_hours = "22:00-07:00"           # broadcasts and reminders wait; "off" for none
  approval_threshold = 500
  reminder_grace = "1h"
  whatsapp_min_gap = "8s"
  whatsapp_max_gap = "20s"
  whatsapp_daily_cap = 200
  [telegram]
  token = "…"                           # a secret: keep the file mode 0600
  token_file = "/run/secrets/telegram"  # or read the token from this file
  api_url = "https://api.telegram.org"
  webhook = "https://bot.example.org/telegram"
  listen = "127.0.0.1:8443"
  webhook_secret = "…"                  # a secret too
  paid_broadcasts = false

Precedence, lowest first: built-in defaults < config file < environment < flags.
The Telegram token is read from the last of these that sets either it or a
token file. Files holding a secret (this file when it sets token,
webhook_secret or a store URL with a password, the token file, whatsapp.db,
telegram-webhook-secret) must be
readable by their owner only (chmod 600): mobilise refuses to start otherwise.
It never prints a token.
`

// fileConfig is the TOML config file. Pointers tell a key that is absent
// from one set to its zero value, so only keys present override defaults.
type fileConfig struct {
	Data       *string        `toml:"data"`
	Store      *string        `toml:"store"`
	Admins     *[]string      `toml:"admins"`
	LogLevel   *string        `toml:"log_level"`
	LogJSON    *bool          `toml:"log_json"`
	TimeZone   *string        `toml:"tz"`
	HTTP       *string        `toml:"http"`
	HTTPPublic *bool          `toml:"http_public"`
	WhatsApp   *bool          `toml:"whatsapp"`
	FloodBurst *int           `toml:"flood_burst"`
	FloodEvery *time.Duration `toml:"flood_every"`

	QuietHours        *string        `toml:"quiet_hours"`
	ApprovalThreshold *int           `toml:"approval_threshold"`
	ReminderGrace     *time.Duration `toml:"reminder_grace"`
	WhatsAppMinGap    *time.Duration `toml:"whatsapp_min_gap"`
	WhatsAppMaxGap    *time.Duration `toml:"whatsapp_max_gap"`
	WhatsAppDailyCap  *int           `toml:"whatsapp_daily_cap"`

	Telegram struct {
		Token          *string `toml:"token"`
		TokenFile      *string `toml:"token_file"`
		APIURL         *string `toml:"api_url"`
		Webhook        *string `toml:"webhook"`
		Listen         *string `toml:"listen"`
		WebhookSecret  *string `toml:"webhook_secret"`
		PaidBroadcasts *bool   `toml:"paid_broadcasts"`
	} `toml:"telegram"`
}

// configPath finds the config file's path before the flags are parsed, since
// the file sits below the environment and the flags: --config in args wins
// over MOBILISE_CONFIG.
func configPath(args []string, getenv func(string) string) string {
	path := getenv("MOBILISE_CONFIG")
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if hasValue {
			path = value
		} else if i+1 < len(args) {
			path = args[i+1]
			i++
		}
	}
	return path
}

// applyConfigFile reads the TOML file at path into cfg. Unknown keys are an
// error, so a misspelt key does not silently leave a default in place.
func (c *Config) applyConfigFile(path string) error {
	var fc fileConfig
	md, err := toml.DecodeFile(path, &fc)
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return fmt.Errorf("config file %s: unknown keys %s", path, strings.Join(keys, ", "))
	}
	setIf(&c.DataDir, fc.Data)
	setIf(&c.Store, fc.Store)
	setIf(&c.Admins, fc.Admins)
	setIf(&c.TimeZone, fc.TimeZone)
	setIf(&c.LogJSON, fc.LogJSON)
	setIf(&c.HTTPAddr, fc.HTTP)
	setIf(&c.HTTPPublic, fc.HTTPPublic)
	setIf(&c.WhatsApp, fc.WhatsApp)
	setIf(&c.FloodBurst, fc.FloodBurst)
	setIf(&c.FloodEvery, fc.FloodEvery)
	setIf(&c.QuietHours, fc.QuietHours)
	setIf(&c.ApprovalThreshold, fc.ApprovalThreshold)
	setIf(&c.ReminderGrace, fc.ReminderGrace)
	setIf(&c.WhatsAppMinGap, fc.WhatsAppMinGap)
	setIf(&c.WhatsAppMaxGap, fc.WhatsAppMaxGap)
	setIf(&c.WhatsAppDailyCap, fc.WhatsAppDailyCap)
	setIf(&c.TelegramAPIURL, fc.Telegram.APIURL)
	setIf(&c.TelegramWebhook, fc.Telegram.Webhook)
	setIf(&c.TelegramListen, fc.Telegram.Listen)
	setIf(&c.TelegramSecret, fc.Telegram.WebhookSecret)
	setIf(&c.TelegramPaid, fc.Telegram.PaidBroadcasts)
	if fc.LogLevel != nil {
		if err := c.LogLevel.UnmarshalText([]byte(*fc.LogLevel)); err != nil {
			return fmt.Errorf("config file %s: log_level: %w", path, err)
		}
		c.logLevelSet = true
	}
	tok, tokFile := fc.Telegram.Token, fc.Telegram.TokenFile
	if err := c.setToken(deref(tok), deref(tokFile), "telegram.token", "telegram.token_file"); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if tok != nil || fc.Telegram.WebhookSecret != nil || urlHasPassword(deref(fc.Store)) {
		c.secretFiles = append(c.secretFiles, path)
	}
	return nil
}

// urlHasPassword reports whether a database URL carries a password.
func urlHasPassword(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return strings.Contains(raw, "password=") // unparsable: judge by the word
	}
	_, set := u.User.Password()
	return set || u.Query().Has("password")
}

// setToken applies one layer's Telegram token or token file; a layer that
// sets either replaces what the layers below said.
func (c *Config) setToken(token, file, tokenName, fileName string) error {
	switch {
	case token != "" && file != "":
		return fmt.Errorf("both %s and %s are set: use one", tokenName, fileName)
	case token != "":
		c.TelegramToken, c.TelegramTokenFile = token, ""
	case file != "":
		c.TelegramToken, c.TelegramTokenFile = "", file
	}
	return nil
}

// readTokenFile reads the Telegram token from TelegramTokenFile, if set.
func (c *Config) readTokenFile() error {
	if c.TelegramTokenFile == "" {
		return nil
	}
	b, err := os.ReadFile(c.TelegramTokenFile)
	if err != nil {
		return fmt.Errorf("reading the Telegram token: %w", err)
	}
	c.TelegramToken = strings.TrimSpace(string(b))
	if c.TelegramToken == "" {
		return fmt.Errorf("reading the Telegram token: %s is empty", c.TelegramTokenFile)
	}
	c.secretFiles = append(c.secretFiles, c.TelegramTokenFile)
	return nil
}

// checkSecretFiles refuses to go on when a file holding a secret may be
// read by anyone but its owner: the files a secret was read from (the config
// file, the token file) and the WhatsApp session, whose device keys let
// anyone who copies them send as the coalition's number. A secret that
// others could read may have been read already, so the bot does not start
// until the file is private; the message says how.
func (c *Config) checkSecretFiles() error {
	files := append([]string(nil), c.secretFiles...)
	files = append(files, whatsAppSessionFiles(c.DataDir)...)
	var errs []error
	for _, path := range files {
		errs = append(errs, checkSecretFile(path))
	}
	return errors.Join(errs...)
}

// whatsAppSessionFiles are the files of the WhatsApp session in dataDir:
// the SQLite file and its write-ahead log, which holds the newest keys.
func whatsAppSessionFiles(dataDir string) []string {
	db := filepath.Join(dataDir, whatsapp.DBFile)
	return []string{db, db + "-wal", db + "-shm"}
}

// checkSecretFile returns an error saying the chmod to run if group or
// others have any permission on path. A missing file passes: whoever needs
// it says so.
func checkSecretFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking the mode of %s: %w", path, err)
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		return fmt.Errorf("%s holds a secret but its mode is %04o: group or others can read it. Make it private, then start again: chmod 600 %s",
			path, mode, shellQuote(path))
	}
	return nil
}

// setIf sets *dst to *v when the file has the key.
func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
