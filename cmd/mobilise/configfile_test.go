package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const opsToken = "654321:AAF-config-test-token_zz"

// loadConfigT runs loadConfig with env as the whole environment and returns
// the config and what it wrote to stderr.
func loadConfigT(t *testing.T, args []string, env map[string]string) (Config, string, error) {
	t.Helper()
	errFile, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	defer errFile.Close()
	cfg, _, err := loadConfig(args, func(k string) string { return env[k] }, errFile)
	out, rerr := os.ReadFile(errFile.Name())
	require.NoError(t, rerr)
	return cfg, string(out), err
}

// writeFile writes content to a new file of the given mode in a temporary directory.
func writeFile(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), mode))
	require.NoError(t, os.Chmod(path, mode)) // past the umask
	return path
}

func TestConfigPrecedence(t *testing.T) {
	file := writeFile(t, "mobilise.toml", `
data = "/from/file"
admins = ["telegram:1"]
log_level = "warn"
tz = "Europe/London"
http = "127.0.0.1:9001"
flood_every = "2s"
flood_burst = 7
log_json = true
whatsapp = true
quiet_hours = "off"
approval_threshold = 50
reminder_grace = "10m"
whatsapp_daily_cap = 40
[telegram]
api_url = "http://file.example"
listen = "127.0.0.1:9443"
webhook = "https://bot.example.org/tg"
paid_broadcasts = true
`, 0o644)
	cases := []struct {
		label string
		args  []string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{"defaults alone", nil, nil, func(t *testing.T, c Config) {
			assert.Equal(t, "data", c.DataDir)
			assert.Equal(t, slog.LevelInfo, c.LogLevel)
			assert.Empty(t, c.HTTPAddr, "the HTTP listener is off by default")
			assert.Equal(t, 500*time.Millisecond, c.FloodEvery)
		}},
		{"the file over the defaults", []string{"--config", file}, nil, func(t *testing.T, c Config) {
			assert.Equal(t, "/from/file", c.DataDir)
			assert.Equal(t, []string{"telegram:1"}, c.Admins)
			assert.Equal(t, slog.LevelWarn, c.LogLevel)
			assert.True(t, c.logLevelSet)
			assert.Equal(t, "Europe/London", c.TimeZone)
			assert.Equal(t, "127.0.0.1:9001", c.HTTPAddr)
			assert.Equal(t, 2*time.Second, c.FloodEvery)
			assert.Equal(t, 7, c.FloodBurst)
			assert.Equal(t, "http://file.example", c.TelegramAPIURL)
			assert.Equal(t, "127.0.0.1:9443", c.TelegramListen)
			assert.True(t, c.LogJSON, "a boolean the file sets survives the flags' defaults")
			assert.True(t, c.WhatsApp)
			assert.Equal(t, "https://bot.example.org/tg", c.TelegramWebhook)
			assert.Equal(t, "off", c.QuietHours)
			assert.Equal(t, 50, c.ApprovalThreshold)
			assert.Equal(t, 10*time.Minute, c.ReminderGrace)
			assert.Equal(t, 40, c.WhatsAppDailyCap)
			assert.True(t, c.TelegramPaid)
			assert.Equal(t, 8*time.Second, c.WhatsAppMinGap, "keys left out keep their defaults")
			assert.Equal(t, "user", c.ConsoleUser)
		}},
		{"MOBILISE_CONFIG names the file", nil, map[string]string{"MOBILISE_CONFIG": file}, func(t *testing.T, c Config) {
			assert.Equal(t, "/from/file", c.DataDir)
		}},
		{"the environment over the file", []string{"-config=" + file}, map[string]string{
			"MOBILISE_DATA": "/from/env", "MOBILISE_LOG_LEVEL": "debug", "MOBILISE_HTTP": "[::1]:9002",
			"TELEGRAM_API_URL": "http://env.example", "MOBILISE_ADMINS": "console:admin",
		}, func(t *testing.T, c Config) {
			assert.Equal(t, "/from/env", c.DataDir)
			assert.Equal(t, slog.LevelDebug, c.LogLevel)
			assert.Equal(t, "[::1]:9002", c.HTTPAddr)
			assert.Equal(t, "http://env.example", c.TelegramAPIURL)
			assert.Equal(t, []string{"console:admin"}, c.Admins)
			assert.Equal(t, "Europe/London", c.TimeZone, "what the environment leaves out comes from the file")
		}},
		{"flags over the environment", []string{"--config", file, "--data", "/from/flag", "--log-level", "error", "--http", "localhost:9003", "--flood-every", "3s"},
			map[string]string{"MOBILISE_DATA": "/from/env", "MOBILISE_LOG_LEVEL": "debug"}, func(t *testing.T, c Config) {
				assert.Equal(t, "/from/flag", c.DataDir)
				assert.Equal(t, slog.LevelError, c.LogLevel)
				assert.Equal(t, "localhost:9003", c.HTTPAddr)
				assert.Equal(t, 3*time.Second, c.FloodEvery)
				assert.Equal(t, 7, c.FloodBurst)
				assert.True(t, c.LogJSON)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			cfg, _, err := loadConfigT(t, tc.args, tc.env)
			require.NoError(t, err)
			tc.check(t, cfg)
		})
	}
}

func TestConfigFileErrors(t *testing.T) {
	cases := []struct{ label, content, want string }{
		{"misspelt key", "dta = \"x\"\n", "unknown keys dta"},
		{"misspelt table key", "[telegram]\ntokn = \"x\"\n", "unknown keys telegram.tokn"},
		{"not TOML", "data = \n", "config file"},
		{"wrong type", "flood_burst = \"many\"\n", "flood_burst"},
		{"bad level", "log_level = \"loud\"\n", "log_level"},
		{"bad duration", "flood_every = \"soon\"\n", "flood_every"},
		{"token and token file", "[telegram]\ntoken = \"a\"\ntoken_file = \"b\"\n", "both telegram.token and telegram.token_file"},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			file := writeFile(t, "mobilise.toml", tc.content, 0o600)
			_, _, err := loadConfigT(t, []string{"--config", file}, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, _, err := loadConfigT(t, []string{"--config", filepath.Join(t.TempDir(), "missing.toml")}, nil)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestTelegramTokenSources(t *testing.T) {
	tokenFile := writeFile(t, "token", opsToken+"\n", 0o600)
	otherFile := writeFile(t, "other", "111:from-the-other-file\n", 0o600)
	fileWithToken := writeFile(t, "mobilise.toml", "[telegram]\ntoken = \"222:from-config\"\n", 0o600)
	fileWithTokenFile := writeFile(t, "mobilise2.toml", "[telegram]\ntoken_file = \""+otherFile+"\"\n", 0o600)
	cases := []struct {
		label   string
		args    []string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"environment", nil, map[string]string{"TELEGRAM_TOKEN": opsToken}, opsToken, ""},
		{"environment, old name", nil, map[string]string{"MOBILISE_TELEGRAM_TOKEN": opsToken}, opsToken, ""},
		{"token file from the environment", nil, map[string]string{"TELEGRAM_TOKEN_FILE": tokenFile}, opsToken, ""},
		{"token file flag", []string{"--telegram-token-file", tokenFile}, nil, opsToken, ""},
		{"config file", []string{"--config", fileWithToken}, nil, "222:from-config", ""},
		{"config file's token file", []string{"--config", fileWithTokenFile}, nil, "111:from-the-other-file", ""},
		{"environment over the config file", []string{"--config", fileWithToken}, map[string]string{"TELEGRAM_TOKEN_FILE": tokenFile}, opsToken, ""},
		{"a token file flag over a token in the environment", []string{"--telegram-token-file", tokenFile}, map[string]string{"TELEGRAM_TOKEN": "333:env"}, opsToken, ""},
		{"a token flag over a token file in the environment", []string{"--telegram-token", "444:flag"}, map[string]string{"TELEGRAM_TOKEN_FILE": tokenFile}, "444:flag", ""},
		{"both in the environment", nil, map[string]string{"TELEGRAM_TOKEN": "a", "TELEGRAM_TOKEN_FILE": tokenFile}, "", "both TELEGRAM_TOKEN and TELEGRAM_TOKEN_FILE"},
		{"both flags", []string{"--telegram-token", "a", "--telegram-token-file", tokenFile}, nil, "", "both --telegram-token and --telegram-token-file"},
		{"missing token file", []string{"--telegram-token-file", filepath.Join(t.TempDir(), "nope")}, nil, "", "reading the Telegram token"},
		{"empty token file", []string{"--telegram-token-file", writeFile(t, "empty", "\n", 0o600)}, nil, "", "is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			cfg, stderr, err := loadConfigT(t, tc.args, tc.env)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.NotContains(t, err.Error(), opsToken)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, cfg.TelegramToken)
			assert.Empty(t, stderr, "files of mode 0600 raise no warning")
		})
	}
}

// TestSecretFilesMustBePrivate checks that the bot refuses to start on a
// secret file that group or others may read, with the chmod that fixes it,
// and starts once the file is private.
func TestSecretFilesMustBePrivate(t *testing.T) {
	cases := []struct {
		label string
		// setUp writes the secret file of the given mode and returns its
		// path and the arguments and environment that make the bot read it.
		setUp func(t *testing.T, mode os.FileMode) (path string, args []string, env map[string]string)
	}{
		{"token file", func(t *testing.T, mode os.FileMode) (string, []string, map[string]string) {
			path := writeFile(t, "token", opsToken+"\n", mode)
			return path, []string{"--telegram-token-file", path}, nil
		}},
		{"config file with the token", func(t *testing.T, mode os.FileMode) (string, []string, map[string]string) {
			path := writeFile(t, "mobilise.toml", "[telegram]\ntoken = \""+opsToken+"\"\n", mode)
			return path, []string{"--config", path}, nil
		}},
		{"config file with the webhook secret", func(t *testing.T, mode os.FileMode) (string, []string, map[string]string) {
			path := writeFile(t, "mobilise.toml", "[telegram]\nwebhook_secret = \"s3cret-value\"\n", mode)
			return path, nil, map[string]string{"MOBILISE_CONFIG": path}
		}},
		{"config file with a database password", func(t *testing.T, mode os.FileMode) (string, []string, map[string]string) {
			path := writeFile(t, "mobilise.toml", "store = \"postgres://mobilise:s3cret-value@db.internal/mobilise\"\n", mode)
			return path, []string{"--config", path}, nil
		}},
		{"WhatsApp session", func(t *testing.T, mode os.FileMode) (string, []string, map[string]string) {
			data := t.TempDir()
			path := filepath.Join(data, "whatsapp.db")
			require.NoError(t, os.WriteFile(path, []byte("device keys"), mode))
			require.NoError(t, os.Chmod(path, mode))
			return path, []string{"--data", data}, nil
		}},
		{"WhatsApp session's write-ahead log", func(t *testing.T, mode os.FileMode) (string, []string, map[string]string) {
			data := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(data, "whatsapp.db"), nil, 0o600))
			path := filepath.Join(data, "whatsapp.db-wal")
			require.NoError(t, os.WriteFile(path, []byte("newest keys"), mode))
			require.NoError(t, os.Chmod(path, mode))
			return path, nil, map[string]string{"MOBILISE_DATA": data}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o602} {
				path, args, env := tc.setUp(t, mode)
				_, stderr, err := loadConfigT(t, args, env)
				require.Error(t, err, "mode %04o", mode)
				assert.Contains(t, err.Error(), "chmod 600 "+path)
				assert.Contains(t, err.Error(), fmt.Sprintf("mode is %04o", mode))
				assert.NotContains(t, err.Error()+stderr, opsToken)
				assert.NotContains(t, err.Error()+stderr, "s3cret-value")
			}
			for _, mode := range []os.FileMode{0o600, 0o400} {
				_, args, env := tc.setUp(t, mode)
				_, stderr, err := loadConfigT(t, args, env)
				require.NoError(t, err, "mode %04o", mode)
				assert.Empty(t, stderr)
			}
		})
	}

	// the refusal as the person starting the bot sees it
	path := writeFile(t, "token", opsToken+"\n", 0o644)
	code, _, stderr := opsRun(t, []string{"--telegram-token-file", path}, nil)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "mobilise: "+path+" holds a secret but its mode is 0644")
	assert.Contains(t, stderr, "chmod 600 "+path)

	plain := writeFile(t, "plain.toml", "data = \"/srv\"\n", 0o644)
	_, stderr, err := loadConfigT(t, []string{"--config", plain}, nil)
	require.NoError(t, err)
	assert.Empty(t, stderr, "a config file without secrets may be readable")
}

// TestWhatsAppCommandRefusesAnOpenSession checks the same refusal in
// `mobilise whatsapp`, which opens the session without the bot's config.
func TestWhatsAppCommandRefusesAnOpenSession(t *testing.T) {
	data := t.TempDir()
	path := filepath.Join(data, "whatsapp.db")
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	require.NoError(t, os.Chmod(path, 0o644))
	code, _, stderr := opsRun(t, []string{"whatsapp", "status", "--data", data}, nil)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "chmod 600 "+path)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "the bot does not change the file behind the admin's back")
}

// TestWebhookSecretFile checks the secret the bot keeps for webhook mode: a
// new one is private even under a umask that allows everything, a private
// one is kept, and one that others could read is refused.
func TestWebhookSecretFile(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	cfg := defaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	path := filepath.Join(cfg.DataDir, webhookSecretName)

	secret, err := webhookSecret(cfg)
	require.NoError(t, err)
	assert.Len(t, secret, 48)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	again, err := webhookSecret(cfg)
	require.NoError(t, err)
	assert.Equal(t, secret, again, "the kept secret is used again")

	require.NoError(t, os.Chmod(path, 0o644))
	_, err = webhookSecret(cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "chmod 600 "+path)
	assert.Contains(t, err.Error(), "delete it")
	assert.NotContains(t, err.Error(), secret)

	// a secret too short to trust is replaced by a private new one
	require.NoError(t, os.WriteFile(path, []byte("short\n"), 0o600))
	require.NoError(t, os.Chmod(path, 0o600))
	renewed, err := webhookSecret(cfg)
	require.NoError(t, err)
	assert.NotEqual(t, secret, renewed)
	fi, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	leftovers, err := filepath.Glob(path + ".tmp*")
	require.NoError(t, err)
	assert.Empty(t, leftovers)

	cfg.TelegramSecret = "from-the-environment"
	got, err := webhookSecret(cfg)
	require.NoError(t, err)
	assert.Equal(t, "from-the-environment", got)
}

func TestHelpNeverPrintsTheToken(t *testing.T) {
	tokenFile := writeFile(t, "token", opsToken, 0o600)
	for _, env := range []map[string]string{{"TELEGRAM_TOKEN": opsToken}, {"TELEGRAM_TOKEN_FILE": tokenFile}} {
		errFile, err := os.CreateTemp(t.TempDir(), "stderr")
		require.NoError(t, err)
		code := run(t.Context(), []string{"--help"}, func(k string) string { return env[k] }, strings.NewReader(""), &strings.Builder{}, errFile)
		require.NoError(t, errFile.Close())
		assert.Equal(t, 0, code)
		out, err := os.ReadFile(errFile.Name())
		require.NoError(t, err)
		assert.NotContains(t, string(out), opsToken)
		assert.NotContains(t, string(out), "AAF-config")
		assert.Contains(t, string(out), "Precedence, lowest first: built-in defaults < config file < environment < flags")
		assert.Contains(t, string(out), "-telegram-token-file")
		assert.Contains(t, string(out), "mobilise export")
	}
}

func TestConfigPath(t *testing.T) {
	env := func(k string) string { return map[string]string{"MOBILISE_CONFIG": "env.toml"}[k] }
	assert.Equal(t, "env.toml", configPath(nil, env))
	assert.Equal(t, "a.toml", configPath([]string{"--config", "a.toml"}, env))
	assert.Equal(t, "b.toml", configPath([]string{"-config=b.toml", "--data", "x"}, env))
	assert.Equal(t, "env.toml", configPath([]string{"--data", "--config"}, env), "a flag value that looks like --config is no config")
	assert.Equal(t, "env.toml", configPath([]string{"--", "--config", "c.toml"}, env))
	assert.Equal(t, "", configPath([]string{"--configure"}, func(string) string { return "" }))
}

func TestCheckHTTPAddr(t *testing.T) {
	for _, ok := range []string{"", "127.0.0.1:9090", "localhost:9090", "[::1]:9090", "127.1.2.3:80"} {
		assert.NoError(t, checkHTTPAddr(ok, false), ok)
	}
	for _, refused := range []string{":9090", "0.0.0.0:9090", "192.168.1.10:9090", "[::]:9090", "example.org:9090"} {
		err := checkHTTPAddr(refused, false)
		require.Error(t, err, refused)
		assert.Contains(t, err.Error(), "--http-public")
		assert.NoError(t, checkHTTPAddr(refused, true), "allowed with --http-public: %s", refused)
	}
	assert.ErrorContains(t, checkHTTPAddr("9090", true), "missing port")

	_, _, err := loadConfigT(t, []string{"--http", "0.0.0.0:9090"}, nil)
	assert.ErrorContains(t, err, "not a loopback address")
	cfg, _, err := loadConfigT(t, []string{"--http", "0.0.0.0:9090", "--http-public"}, nil)
	require.NoError(t, err)
	assert.True(t, cfg.HTTPPublic)
	cfg, _, err = loadConfigT(t, nil, map[string]string{"MOBILISE_HTTP": "0.0.0.0:9090", "MOBILISE_HTTP_PUBLIC": "true"})
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0:9090", cfg.HTTPAddr)
	_, _, err = loadConfigT(t, nil, map[string]string{"MOBILISE_HTTP_PUBLIC": "sure"})
	assert.ErrorContains(t, err, "MOBILISE_HTTP_PUBLIC")
}
