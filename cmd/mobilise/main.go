// Command mobilise runs the coalition's campaign bot.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // the coalition's time zone must load on machines without zoneinfo

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/term"

	"mobilise/bot"
	"mobilise/bot/console"
	"mobilise/bot/outbox"
	"mobilise/bot/telegram"
	"mobilise/bot/whatsapp"
	"mobilise/messages"
	"mobilise/store"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// run is main with its dependencies passed in, returning the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer, stderr *os.File) int {
	if len(args) > 0 {
		switch args[0] {
		case "backup":
			return runBackup(args[1:], getenv, stdout, stderr)
		case "export":
			return runExport(ctx, args[1:], getenv, stdout, stderr)
		case "stats":
			return runStats(ctx, args[1:], getenv, stdout, stderr)
		case "whatsapp":
			return runWhatsApp(ctx, args[1:], getenv, stdout, stderr)
		case "run":
			args = args[1:]
		}
	}
	cfg, rest, err := loadConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "mobilise:", err)
		return 2
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "mobilise: unknown command %q (see mobilise --help)\n", rest[0])
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, stdin, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "mobilise:", err)
		return 1
	}
	return 0
}

func newLogger(cfg Config, w io.Writer, consoleMode bool) *slog.Logger {
	level := cfg.LogLevel
	if consoleMode && !cfg.logLevelSet {
		// in the terminal chat, routine logs would bury the conversation
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogJSON {
		return slog.New(redactingHandler{slog.NewJSONHandler(w, opts)})
	}
	return slog.New(redactingHandler{slog.NewTextHandler(w, opts)})
}

// serve runs the bot until ctx is cancelled or, in the terminal chat, the input ends.
func serve(ctx context.Context, cfg Config, stdin io.Reader, stdout io.Writer, stderr *os.File) error {
	waLinked := whatsAppLinked(cfg)
	consoleMode := cfg.Console || (cfg.TelegramToken == "" && !waLinked && !cfg.WhatsApp)
	log := newLogger(cfg, stderr, consoleMode)
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return fmt.Errorf("loading time zone: %w", err)
	}
	st, err := store.Open(cfg.dbPath())
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the database", "error", err)
		}
	}()
	cat, err := messages.New()
	if err != nil {
		return fmt.Errorf("loading messages: %w", err)
	}

	// channels that show per-person command menus refresh them when a role changes
	var refreshers []interface{ RefreshCommands(context.Context) error }
	// the dispatcher needs the channels, which need the engine: it is assigned before anything runs
	var disp *outbox.Dispatcher
	quiet, err := bot.ParseQuietHours(cfg.QuietHours)
	if err != nil {
		return err
	}
	opts := []bot.Option{
		bot.WithLogger(log.With("comp", "bot")),
		bot.WithLocation(loc),
		bot.WithAdmins(cfg.Admins...),
		bot.WithFloodLimit(cfg.FloodBurst, cfg.FloodEvery),
		bot.WithQuietHours(quiet),
		bot.WithApprovalThreshold(cfg.ApprovalThreshold),
		bot.WithReminderGrace(cfg.ReminderGrace),
		bot.WithSendPlan(bot.SendPlan{
			Estimate: func(ch string, n int) time.Duration { return disp.Limits(ch).Estimate(n) },
			Wake:     func() { disp.Wake() },
			Resume:   func() { disp.Resume() },
		}),
		bot.WithRoleChangeHook(func(ctx context.Context) {
			for _, r := range refreshers {
				if err := r.RefreshCommands(ctx); err != nil {
					log.Warn("refreshing command menus", "error", err)
				}
			}
		}),
	}
	if !consoleMode {
		// notices go through the outbox, at the platforms' pace; the terminal
		// chat prints them at once, in the order of the conversation
		opts = append(opts, bot.WithNotifier(func(ctx context.Context, n []bot.Notice) error { return disp.Notify(ctx, n) }))
	}
	svc := bot.New(st, cat, opts...)

	var channels []bot.Channel
	if consoleMode {
		interactive := false
		if f, ok := stdin.(*os.File); ok {
			interactive = term.IsTerminal(int(f.Fd()))
		}
		channels = append(channels, console.New(stdin, stdout, console.WithUser(cfg.ConsoleUser), console.WithEcho(!interactive)))
		if interactive {
			fmt.Fprintf(stdout, "mobilise — %s (console:%s). /start to begin, Ctrl-D to quit.\n", cfg.dbPath(), cfg.ConsoleUser)
		}
	}
	outSenders := map[string]bot.Sender{}
	if cfg.TelegramToken != "" {
		tg, err := newTelegram(ctx, cfg, log, st, svc)
		if err != nil {
			return err
		}
		channels = append(channels, tg)
		refreshers = append(refreshers, tg)
		// the outbox paces Telegram itself: its sender hands every 429 back at once
		// and keeps a connection per send in flight, not the default two
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = max(outbox.TelegramLimits().Concurrency, outbox.TelegramPaidLimits().Concurrency)
		tgOut, err := telegram.New(cfg.TelegramToken, telegramOptions(cfg, log,
			telegram.WithMaxThrottleWait(0),
			telegram.WithHTTPClient(&http.Client{Timeout: time.Minute, Transport: tr}))...)
		if err != nil {
			return fmt.Errorf("telegram: %w", err)
		}
		outSenders[tgOut.Name()] = tgOut
	}
	if waLinked || cfg.WhatsApp {
		d, err := whatsapp.OpenDevice(ctx, cfg.DataDir, log.With("comp", "whatsapp"))
		if err != nil {
			return fmt.Errorf("opening the WhatsApp session: %w", err)
		}
		defer d.Close()
		wa, err := whatsapp.New(d,
			whatsapp.WithLogger(log.With("comp", "whatsapp")),
			whatsapp.WithAlerts(func(ctx context.Context, a whatsapp.Alert) {
				if err := svc.AlertAdmins(ctx, whatsAppAlert(a.Kind), a.Detail, a.Expires); err != nil {
					log.Error("alerting admins", "error", err)
				}
			}))
		if err != nil {
			return fmt.Errorf("starting WhatsApp (link a number with: mobilise whatsapp link): %w", err)
		}
		channels = append(channels, wa)
	}
	reg := prometheus.NewRegistry()
	m := instrument(reg, st)
	for _, ch := range channels {
		svc.AddSender(m.sender(ch))
		if _, ok := outSenders[ch.Name()]; !ok {
			outSenders[ch.Name()] = ch
		}
	}
	// the outbox's sends are counted too
	for name, snd := range outSenders {
		outSenders[name] = m.sender(snd)
	}
	telegramLimits := outbox.TelegramLimits()
	if cfg.TelegramPaid {
		telegramLimits = outbox.TelegramPaidLimits()
	}
	waLimits := outbox.WhatsAppLimits()
	waLimits.MinGap, waLimits.MaxGap, waLimits.DailyCap = cfg.WhatsAppMinGap, cfg.WhatsAppMaxGap, cfg.WhatsAppDailyCap
	disp = outbox.New(st, outSenders,
		outbox.WithLogger(log.With("comp", "outbox")),
		outbox.WithLocation(loc),
		outbox.WithLimits("telegram", telegramLimits),
		outbox.WithLimits("whatsapp", waLimits),
		outbox.WithGate(func(now time.Time, e *store.OutboxEntry) time.Time { return svc.Hold(now, e.Urgent, e.Bulk) }),
		outbox.WithOnGone(svc.MarkUnreachable),
		outbox.WithOnProgress(func(id uint64) {
			if err := svc.BroadcastProgress(context.WithoutCancel(ctx), id); err != nil {
				log.Warn("reporting broadcast progress", "broadcast_id", id, "error", err)
			}
		}),
	)
	if err := svc.ResumeBroadcasts(); err != nil {
		log.Error("resuming broadcasts", "error", err)
	}
	sched := newScheduler(loc, log.With("comp", "scheduler"), svc)
	stopOps, err := startOps(ctx, cfg, log, st, reg, channels)
	if err != nil {
		return err
	}
	defer stopOps()
	return runChannels(ctx, log, m.handler(svc), channels, consoleMode, disp.Run, sched.run)
}

// telegramOptions are the options every Telegram client of the bot shares.
func telegramOptions(cfg Config, log *slog.Logger, more ...telegram.Option) []telegram.Option {
	opts := []telegram.Option{telegram.WithLogger(log.With("comp", "telegram"))}
	if cfg.TelegramAPIURL != "" {
		opts = append(opts, telegram.WithServerURL(cfg.TelegramAPIURL))
	}
	return append(opts, more...)
}

func newTelegram(ctx context.Context, cfg Config, log *slog.Logger, st *store.Store, svc *bot.Service) (*telegram.Channel, error) {
	opts := telegramOptions(cfg, log, telegram.WithState(st), telegram.WithCommands(svc))
	if cfg.TelegramWebhook != "" {
		secret, err := webhookSecret(cfg)
		if err != nil {
			return nil, err
		}
		opts = append(opts, telegram.WithWebhook(cfg.TelegramWebhook, cfg.TelegramListen, secret))
	}
	tg, err := telegram.New(cfg.TelegramToken, opts...)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	checkCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	name, err := tg.Check(checkCtx)
	if err != nil {
		return nil, err
	}
	log.Info("telegram bot ready", "username", name)
	return tg, nil
}

func whatsAppAlert(k whatsapp.AlertKind) bot.AlertKind {
	switch k {
	case whatsapp.AlertLoggedOut:
		return bot.AlertWhatsAppLoggedOut
	case whatsapp.AlertBanned:
		return bot.AlertWhatsAppBanned
	case whatsapp.AlertStreamReplaced:
		return bot.AlertWhatsAppReplaced
	case whatsapp.AlertSendBlocked:
		return bot.AlertWhatsAppBlocked
	default:
		return bot.AlertWhatsAppConnect
	}
}

// runChannels runs every channel, and the background loops beside them,
// until ctx ends. In the terminal chat the end of input ends the program.
func runChannels(ctx context.Context, log *slog.Logger, h bot.Handler, channels []bot.Channel, consoleMode bool, background ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(channels)+len(background))
	for _, run := range background {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errs <- err
				cancel()
			}
		}()
	}
	for _, ch := range channels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := ch.Run(ctx, h)
			if errors.Is(err, whatsapp.ErrLoggedOut) {
				// the admins have been told; the other channels go on
				log.Error("whatsapp channel stopped: logged out")
				err = nil
			}
			if err != nil {
				err = fmt.Errorf("%s: %w", ch.Name(), err)
				cancel()
			}
			if ch.Name() == "console" && consoleMode {
				cancel()
			}
			errs <- err
		}()
	}
	<-ctx.Done()
	// a stuck handler must not keep the process alive forever
	watchdog := time.AfterFunc(30*time.Second, func() {
		log.Error("channels did not stop within 30s; exiting")
		os.Exit(1)
	})
	defer watchdog.Stop()
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		if err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}
