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
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // the coalition's time zone must load on machines without zoneinfo

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/term"

	"mobilise/bot"
	"mobilise/bot/chat"
	"mobilise/bot/coalition"
	"mobilise/bot/console"
	"mobilise/bot/dashboard"
	"mobilise/bot/engine"
	"mobilise/bot/outbox"
	"mobilise/bot/schedule"
	"mobilise/bot/telegram"
	"mobilise/bot/whatsapp"
	"mobilise/messages"
	"mobilise/store"
	"mobilise/store/postgres"
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
		case "compact":
			return runCompact(args[1:], getenv, stdout, stderr)
		case "migrate":
			return runMigrate(ctx, args[1:], getenv, stdout, stderr)
		case "export":
			return runExport(ctx, args[1:], getenv, stdout, stderr)
		case "stats":
			return runStats(ctx, args[1:], getenv, stdout, stderr)
		case "poster":
			return runPoster(ctx, args[1:], getenv, stdout, stderr)
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
//
// The parts are built in the order they depend on each other: the store and
// the words; the outbox's queue and the pacer of each platform account; the
// channels, which send through the pacers; the coalition's operations,
// which queue messages; the bot (the engine with its conversations), which
// calls the operations; and the dispatcher, which sends what the queue
// holds through the channels, asking the operations what to hold back.
func serve(ctx context.Context, cfg Config, stdin io.Reader, stdout io.Writer, stderr *os.File) error {
	waLinked, err := whatsAppLinked(ctx, cfg)
	if err != nil {
		return err
	}
	consoleMode := cfg.Console || (cfg.TelegramToken == "" && !waLinked && !cfg.WhatsApp)
	log := newLogger(cfg, stderr, consoleMode)
	ctx, log, damage := guardCorruption(ctx, cfg.DataDir, log)
	defer damage.stop()
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return fmt.Errorf("loading time zone: %w", err)
	}
	quiet, err := schedule.ParseQuietHours(cfg.QuietHours)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return damage.explain(err)
	}
	var in *instances
	pg, onPG := st.(*postgres.Store)
	if onPG {
		in = newInstances(pg, log)
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
	// the posters, PDFs and videos of calls to action, beside the database;
	// on PostgreSQL the directory caches the copy in the database, which
	// every instance reads, so the lease holder sends what any kept
	var mediaOpts []store.MediaOption
	if onPG {
		mediaOpts = append(mediaOpts, store.WithSharedMedia(pg))
	}
	files, err := store.OpenMediaFiles(store.MediaDir(cfg.dbPath()), 0, mediaOpts...)
	if err != nil {
		return err
	}
	if onPG {
		shareLocalMedia(ctx, files, log)
	}

	plan := outbox.Plan{bot.Telegram: outbox.TelegramLimits(), bot.WhatsApp: outbox.WhatsAppLimits()}
	if cfg.TelegramPaid {
		plan[bot.Telegram] = outbox.TelegramPaidLimits()
	}
	wa := plan[bot.WhatsApp]
	wa.MinGap, wa.MaxGap, wa.DailyCap = cfg.WhatsAppMinGap, cfg.WhatsAppMaxGap, cfg.WhatsAppDailyCap
	plan[bot.WhatsApp] = wa
	olog := log.With("comp", "outbox")

	var channels []bot.Channel
	var pacers []outbox.Option
	if consoleMode {
		interactive := false
		if f, ok := stdin.(*os.File); ok {
			interactive = term.IsTerminal(int(f.Fd()))
		}
		channels = append(channels, console.New(stdin, stdout, console.WithUser(cfg.ConsoleUser), console.WithEcho(!interactive), console.WithLogger(log.With("comp", "console"))))
		if interactive {
			fmt.Fprintf(stdout, "mobilise — %s (console:%s). /start to begin, Ctrl-D to quit.\n", cfg.dbPath(), cfg.ConsoleUser)
		}
	}
	if cfg.TelegramToken != "" {
		pacer := outbox.NewPacer(st, bot.Telegram, plan.Limits(bot.Telegram), outbox.PacerLogger(olog))
		pacers = append(pacers, outbox.WithPacer(bot.Telegram, pacer))
		tg, err := newTelegram(ctx, cfg, log, st, pacer, plan.Limits(bot.Telegram).Concurrency)
		if err != nil {
			return err
		}
		channels = append(channels, tg)
	}
	if cfg.usesPostgres() && !waLinked && whatsAppFileLinked(ctx, cfg.DataDir) {
		log.Warn("a WhatsApp number is linked in " + whatsapp.DBFile + ", but on PostgreSQL the device is kept in the database: " +
			"stop the bot and copy it with `mobilise whatsapp copy`, or link again with `mobilise whatsapp link`")
	}
	if waLinked || cfg.WhatsApp {
		d, err := openWhatsAppDevice(ctx, cfg, log.With("comp", "whatsapp"))
		if err != nil {
			return fmt.Errorf("opening the WhatsApp session: %w", err)
		}
		defer d.Close()
		wa, err := whatsapp.New(d, whatsapp.WithLogger(log.With("comp", "whatsapp")), whatsapp.WithUploads(st))
		if err != nil {
			return fmt.Errorf("starting WhatsApp (link a number with: mobilise whatsapp link): %w", err)
		}
		channels = append(channels, wa)
	}

	reg := prometheus.NewRegistry()
	m := instrument(reg, st)
	names := make([]bot.ChannelName, 0, len(channels))
	senders := map[bot.ChannelName]bot.Sender{}
	coOpts := []coalition.Option{
		coalition.WithLogger(log.With("comp", "coalition")),
		coalition.WithLocation(loc),
		coalition.WithAdmins(cfg.adminAddresses()...),
		coalition.WithQuietHours(quiet),
		coalition.WithApprovalThreshold(cfg.ApprovalThreshold),
		coalition.WithReminderGrace(cfg.ReminderGrace),
		coalition.WithEstimator(plan),
		coalition.WithDashboard(cfg.dashboardLogin()),
		// posters asked for in chat go beside the exports, in the data directory
		coalition.WithPosters(filepath.Join(cfg.DataDir, "exports"), cfg.CoalitionAR, cfg.CoalitionEN),
		coalition.WithMedia(files),
	}
	for _, ch := range channels {
		names = append(names, ch.Name())
		senders[ch.Name()] = m.sender(ch)
		if l, ok := bot.LinkerOf(ch); ok {
			coOpts = append(coOpts, coalition.WithLinker(ch.Name(), l))
		}
		if _, ok := bot.EditorOf(ch); ok {
			coOpts = append(coOpts, coalition.WithEditor(ch.Name()))
		}
	}
	queue := outbox.NewQueue(st, names...)
	co := coalition.New(st, cat, queue, coOpts...)
	engineOpts := []engine.Option{
		engine.WithLogger(log.With("comp", "bot")),
		engine.WithLocation(loc),
		engine.WithFloodLimit(cfg.FloodBurst, cfg.FloodEvery),
		// a script typing into the terminal is the operator, not a flood
		engine.WithoutFloodLimit(bot.Console),
	}
	b := chat.New(st, cat, co, queue, engineOpts...)
	disp := outbox.NewDispatcher(queue, senders, append(pacers,
		outbox.WithLogger(olog),
		outbox.WithLocation(loc),
		outbox.WithPlan(plan),
		outbox.WithGate(co.Sending),
		outbox.WithReporter(co),
		outbox.WithMedia(files, co.Words()),
	)...)
	sched := newScheduler(loc, log.With("comp", "scheduler"), co)
	// the channels as they run and as the health checks see them: on a
	// shared database a leased channel runs only on the lease holder, and
	// the health checks keep the channel itself unless its lease wrapper
	// knows better (WhatsApp on standby is no fault)
	running, health := channels, channels
	if in != nil {
		running, health = slices.Clone(channels), slices.Clone(channels)
		for i, ch := range channels {
			running[i] = in.channel(ch, cfg.TelegramWebhook != "")
			if _, ok := running[i].(connector); ok {
				health[i] = running[i]
			}
		}
	}
	dash, err := dashboard.New(dashboard.Config{Co: co, Cat: cat, Loc: loc, Log: log.With("comp", "dashboard"), Health: channelHealth(health)})
	if err != nil {
		return fmt.Errorf("building the dashboard: %w", err)
	}
	var leases func() []string
	if in != nil {
		leases = in.Held
		in.metrics(reg)
	}
	stopOps, err := startOps(ctx, cfg, log, st, reg, health, dash.Handler(), leases)
	if err != nil {
		return err
	}
	defer stopOps()
	h := m.handler(b)
	background := []func(context.Context) error{disp.Run, sched.run, co.Broadcasts.Run, co.Posters.Run}
	if in != nil {
		// several instances may share the database: the loops run under leases
		background = []func(context.Context) error{
			in.singleton("outbox", disp.Run), in.singleton("scheduler", sched.run),
			in.singleton("broadcasts", co.Broadcasts.Run), in.singleton("posters", co.Posters.Run),
			in.wakeOnNotify(queue),
		}
	}
	return damage.explain(runChannels(ctx, log, func(ch bot.Channel) bot.Handler {
		if ch.Name() == bot.Console {
			return disp.Flushed(bot.Console, h)
		}
		return h
	}, running, consoleMode, background...))
}

// telegramOptions are the options every Telegram client of the bot shares.
func telegramOptions(cfg Config, log *slog.Logger, more ...telegram.Option) []telegram.Option {
	opts := []telegram.Option{telegram.WithLogger(log.With("comp", "telegram"))}
	if cfg.TelegramAPIURL != "" {
		opts = append(opts, telegram.WithServerURL(cfg.TelegramAPIURL))
	}
	return append(opts, more...)
}

// newTelegram builds the one Telegram channel that both receives and sends:
// every 429 goes back to the outbox at once (the pacer waits it out for
// every call on the token), and it keeps a connection per send in flight
// and one for the long poll.
func newTelegram(ctx context.Context, cfg Config, log *slog.Logger, st store.Backend, throttle bot.Throttle, sends int) (*telegram.Channel, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = sends + 2
	opts := telegramOptions(cfg, log, telegram.WithState(st), telegram.WithUploads(st), telegram.WithThrottle(throttle),
		telegram.WithMaxThrottleWait(0), telegram.WithHTTPClient(&http.Client{Timeout: 2 * time.Minute, Transport: tr}))
	if cfg.TelegramWebhook != "" {
		secret, err := instancesWebhookSecret(ctx, cfg, st)
		if err != nil {
			return nil, err
		}
		opts = append(opts, telegram.WithWebhook(cfg.TelegramWebhook, cfg.TelegramListen, secret))
	}
	tg, err := telegram.New(cfg.TelegramToken, opts...)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	// started inside a 429's retry_after (kept in the store), the first
	// call waits it out; the check's timeout starts after that
	if err := throttle.Wait(ctx); err != nil {
		return nil, fmt.Errorf("telegram: waiting out a 429 from before the restart: %w", err)
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

// runChannels runs every channel with the handler handlerFor gives it, and
// the background loops beside them, until ctx ends. In the terminal chat the
// end of input ends the program.
func runChannels(ctx context.Context, log *slog.Logger, handlerFor func(bot.Channel) bot.Handler, channels []bot.Channel, consoleMode bool, background ...func(context.Context) error) error {
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
			err := ch.Run(ctx, handlerFor(ch))
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

// openStore opens where the state is kept: the bbolt file in the data
// directory, or the PostgreSQL database of --store (applying its
// migrations). The posters and files stay in the data directory either way.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (store.Backend, error) {
	if !cfg.usesPostgres() {
		return store.Open(cfg.dbPath())
	}
	st, err := postgres.Open(ctx, cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("opening the PostgreSQL store: %w", err)
	}
	// before anything is written: mobilise migrate then refuses to copy over it
	host, err := os.Hostname()
	if err != nil {
		host = "an unnamed host"
	}
	if err := st.RecordStart(ctx, fmt.Sprintf("%s, pid %d", host, os.Getpid())); err != nil {
		return nil, errors.Join(err, st.Close())
	}
	log.Info("the state is kept in PostgreSQL", "schema_version", postgres.SchemaVersion)
	return st, nil
}

// shareLocalMedia puts into the database the files of the media directory
// it lacks: those kept before the instance ran on PostgreSQL, or by a
// version that kept them on disk only. One that cannot be shared is
// logged, and the bot starts: only that file is missing elsewhere.
func shareLocalMedia(ctx context.Context, files *store.MediaFiles, log *slog.Logger) {
	start := time.Now()
	n, err := files.ShareLocal(ctx)
	if err != nil {
		log.Error("sharing the media directory's files through the database", "shared", n, "error", err)
		return
	}
	if n > 0 {
		log.Info("media files shared through the database", "files", n, "took", time.Since(start).Round(time.Millisecond))
	}
}
