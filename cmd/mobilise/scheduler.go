package main

import (
	"context"
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
	if err := s.co.Reminders.FireDue(ctx); err != nil {
		s.log.Error("firing reminders", "error", err)
	}
	if err := s.co.Campaigns.RunLifecycle(ctx); err != nil {
		s.log.Error("opening and closing campaigns", "error", err)
	}
	if err := s.co.Polls.RunFollowUps(ctx); err != nil {
		s.log.Error("asking after events whether people came", "error", err)
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
