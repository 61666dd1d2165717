package coalition

import (
	"context"
	"time"

	"mobilise/bot"
	"mobilise/messages"
	"mobilise/store"
)

// Sending is the coalition's kill switch and its quiet hours: what holds
// every message back, whoever sent it.
type Sending struct{ *rules }

// Pause stops all sending on every channel at once, until Resume. Only
// admins pause; the other admins are told who paused. A pause while
// paused changes nothing (ErrAlreadyPaused): it keeps who paused first
// and when, and tells no one again.
func (s *Sending) Pause(ctx context.Context, by Actor) error {
	return s.set(ctx, by, true)
}

// Resume lifts the pause, restarts channels that were down, and tells the
// other admins.
func (s *Sending) Resume(ctx context.Context, by Actor) error {
	return s.set(ctx, by, false)
}

func (s *Sending) set(ctx context.Context, by Actor, paused bool) error {
	if !by.can(store.RoleAdmin) {
		return ErrNotAllowed
	}
	return s.st.InTx(ctx, func(ctx context.Context) error {
		if paused {
			was, err := s.st.Pause(ctx)
			if err != nil {
				return err
			}
			if was.Paused {
				return ErrAlreadyPaused
			}
		}
		p := store.Pause{}
		action, key := "sending_resumed", messages.ResumeNotice
		if paused {
			p = store.Pause{Paused: true, By: by.Person, At: s.now().UTC()}
			action, key = "sending_paused", messages.PauseNotice
		}
		if err := s.st.SetPause(ctx, p); err != nil {
			return err
		}
		if err := s.audit(ctx, by.Person, action, nil); err != nil {
			return err
		}
		if paused {
			s.log.Warn("all sending paused", "by", by.Person)
		} else {
			s.log.Warn("sending resumed", "by", by.Person)
			store.AfterCommit(ctx, func() {
				s.out.Resume()
				s.out.Wake()
			})
		}
		who, err := s.st.Contact(ctx, by.Person)
		if err != nil {
			return notFound(err)
		}
		w := s.words()
		return s.notifyAdmins(ctx, by.Person, "sending_"+store.MessageKind(map[bool]string{true: "paused", false: "resumed"}[paused]), func(lang string) (string, [][]bot.Button) {
			return s.cat.Text(lang, key, map[string]any{"Who": w.Person(who, lang)}), nil
		})
	})
}

// Paused returns the kill switch if sending is paused, nil if not.
func (s *Sending) Paused(ctx context.Context) (*store.Pause, error) { return s.pauseState(ctx) }

// Hold implements outbox.Gate: when a queued message may go out.
// Bulk messages (broadcasts, reminders, news to many people) wait while an
// admin has paused sending, urgent or not; the answers to what people
// write and the notices to one person (the other admins hearing of the
// pause, an approval asked for) go on, since a notice held would hold back
// the answers queued after it to the same person. Bulk messages that are
// not urgent wait out quiet hours.
func (s *Sending) Hold(now time.Time, e *store.OutboxEntry) time.Time {
	if e.Kind == store.KindReply || !e.Bulk {
		return time.Time{}
	}
	// when the switch cannot be read, hold rather than risk sending through a pause
	if p, err := s.st.Pause(context.Background()); err != nil || p.Paused {
		return now.Add(30 * time.Second)
	}
	if e.Urgent {
		return time.Time{}
	}
	if !e.Before.IsZero() {
		// an event's reminder waits out quiet hours only if it still arrives before the event
		if at := s.quiet.DeliverBefore(now, e.Before, now, s.loc); at.After(now) {
			return at
		}
		return time.Time{}
	}
	return s.quiet.HoldUntil(now, s.loc)
}
