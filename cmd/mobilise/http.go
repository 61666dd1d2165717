package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mobilise/bot"
	"mobilise/bot/dashboard"
	"mobilise/store"
)

// connector is implemented by channels that know whether they are connected
// (WhatsApp). A channel without it counts as connected: Telegram is started
// only after its getMe check passed, and the console has nothing to lose.
type connector interface{ Connected() bool }

// checkHTTPAddr refuses an address that would expose /metrics beyond this
// machine unless public is set: the figures describe the coalition's work.
func checkHTTPAddr(addr string, public bool) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--http %q: %w", addr, err)
	}
	if public || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--http %q is not a loopback address: use 127.0.0.1:PORT, or add --http-public to serve /metrics to the network", addr)
}

// startOps starts what the person running the bot watches and manages it
// through: the admin socket in the data directory, always, and with --http
// the /healthz and /metrics listener. Both stop when ctx ends or stop is
// called; stop waits for them.
func startOps(ctx context.Context, cfg Config, log *slog.Logger, st store.Backend, reg *prometheus.Registry, channels []bot.Channel, dash http.Handler, leases func() []string) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stop = func() {
		cancel()
		wg.Wait()
	}
	if fi, err := os.Stat(cfg.DataDir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the data directory is open to group or others: chmod 700 it",
			"path", cfg.DataDir, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
	}
	if file, ok := st.(*store.Store); ok {
		// backup, export and stats of the running bot's file; a database
		// server is backed up with its own tools (pg_dump)
		adm, err := listenAdmin(cfg.DataDir, file, log.With("comp", "admin"))
		if err != nil {
			cancel()
			return nil, err
		}
		wg.Go(func() { adm.serve(ctx) })
	}
	if cfg.HTTPAddr == "" {
		return stop, nil
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		stop()
		return nil, fmt.Errorf("listening on --http %s: %w", cfg.HTTPAddr, err)
	}
	hlog := log.With("comp", "http")
	srv := &http.Server{
		Handler:           opsMux(st, reg, channels, hlog, dash, leases),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(hlog.Handler(), slog.LevelWarn),
	}
	hlog.Info("serving /healthz, /metrics and the dashboard", "addr", ln.Addr().String(), "dashboard", cfg.dashboardLogin())
	wg.Go(func() { serveUntil(ctx, srv, ln, hlog) })
	return stop, nil
}

// serveUntil serves srv on ln until ctx ends, then shuts it down gracefully.
func serveUntil(ctx context.Context, srv *http.Server, ln net.Listener, log *slog.Logger) {
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		log.Error("server stopped", "error", err)
		return
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("shutting the server down", "error", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		log.Error("server stopped", "error", err)
	}
}

// opsMux serves /healthz and /metrics, and with dash the dashboard under
// /dashboard/. leases, when the instance shares a database with others,
// lists the leases it holds.
func opsMux(st store.Backend, reg *prometheus.Registry, channels []bot.Channel, log *slog.Logger, dash http.Handler, leases func() []string) *http.ServeMux {
	mux := http.NewServeMux()
	if dash != nil {
		mux.Handle(dashboard.Prefix+"/", dash)
	}
	mux.Handle("GET /healthz", healthHandler(st, channels, leases))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		Registry:          reg,
		EnableOpenMetrics: true,
	}))
	return mux
}

// channelHealth reports, for the dashboard, which channels are connected.
func channelHealth(channels []bot.Channel) func() []dashboard.Health {
	return func() []dashboard.Health {
		out := make([]dashboard.Health, 0, len(channels))
		for _, ch := range channels {
			c, ok := ch.(connector)
			out = append(out, dashboard.Health{Channel: ch.Name(), Connected: !ok || c.Connected()})
		}
		return out
	}
}

// healthHandler answers 200 "ok" when the store is open and every channel is
// connected, else 503 with each reason on a line. On a shared database it
// adds a line naming the leases this instance holds ("leases: outbox
// scheduler", or "leases: none" for an instance on standby).
func healthHandler(st store.Backend, channels []bot.Channel, leases func() []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var problems []string
		// a read fails on a closed or unreachable database
		if err := st.Ping(r.Context()); err != nil {
			problems = append(problems, "store: "+err.Error())
		}
		for _, ch := range channels {
			if c, ok := ch.(connector); ok && !c.Connected() {
				problems = append(problems, string(ch.Name())+": not connected")
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if len(problems) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, strings.Join(problems, "\n"))
			return
		}
		fmt.Fprintln(w, "ok")
		if leases != nil {
			held := leases()
			if len(held) == 0 {
				held = []string{"none"}
			}
			fmt.Fprintln(w, "leases: "+strings.Join(held, " "))
		}
	})
}
