package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"mobilise/bot/coalition"
)

// scheduler runs the engine's periodic jobs: due reminders, the opening
// and closing of campaigns, and the question after an event. The schedules themselves live in the store, so a
// restart loses nothing: the jobs run once at start-up, then every minute.
type scheduler struct {
	cron *cron.Cron
	log  *slog.Logger
	co   *coalition.Coalition
}

func newScheduler(loc *time.Location, log *slog.Logger, co *coalition.Coalition) *scheduler {
	cl := cronLogger{log}
	return &scheduler{
		cron: cron.New(cron.WithLocation(loc), cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl))),
		log:  log,
		co:   co,
	}
}

func (s *scheduler) tick(ctx context.Context) {
	s.report(ctx, "firing reminders", s.co.Reminders.FireDue(ctx))
	s.report(ctx, "opening and closing campaigns", s.co.Campaigns.RunLifecycle(ctx))
	s.report(ctx, "asking after events whether people came", s.co.Polls.RunFollowUps(ctx))
}

// report logs a tick's failure. One cut short because the bot is stopping
// is no fault: what it did not do is due again at the next start.
func (s *scheduler) report(ctx context.Context, what string, err error) {
	switch {
	case err == nil:
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		s.log.Debug("stopped while "+what, "error", err)
	default:
		s.log.Error(what, "error", err)
	}
}

// run ticks once now, then every minute until ctx ends, and waits for a running tick.
func (s *scheduler) run(ctx context.Context) error {
	s.tick(ctx)
	if _, err := s.cron.AddFunc("@every 1m", func() { s.tick(ctx) }); err != nil {
		return err
	}
	s.cron.Start()
	<-ctx.Done()
	<-s.cron.Stop().Done()
	return nil
}

// cronLogger sends robfig/cron's logs to slog.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug(msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error(msg, append(kv, "error", err)...)
}
