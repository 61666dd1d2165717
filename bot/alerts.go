package bot

import (
	"context"
	"time"

	"mobilise/messages"
)

// AlertKind names a problem with a channel that the admins must hear of.
type AlertKind string

// The alerts channels raise.
const (
	AlertWhatsAppLoggedOut AlertKind = "whatsapp_logged_out"
	AlertWhatsAppBanned    AlertKind = "whatsapp_banned"
	AlertWhatsAppReplaced  AlertKind = "whatsapp_replaced"
	AlertWhatsAppConnect   AlertKind = "whatsapp_connect"
	AlertWhatsAppBlocked   AlertKind = "whatsapp_blocked"
)

// AlertAdmins tells every admin, in their language and on whatever channel
// still reaches them, that something needs their attention.
func (s *Service) AlertAdmins(ctx context.Context, kind AlertKind, detail string, until time.Time) error {
	key := map[AlertKind]messages.Key{
		AlertWhatsAppLoggedOut: messages.AlertWhatsAppLoggedOut,
		AlertWhatsAppBanned:    messages.AlertWhatsAppBanned,
		AlertWhatsAppReplaced:  messages.AlertWhatsAppReplaced,
		AlertWhatsAppConnect:   messages.AlertWhatsAppConnect,
		AlertWhatsAppBlocked:   messages.AlertWhatsAppBlocked,
	}[kind]
	if key == "" {
		key = messages.AlertWhatsAppConnect
	}
	s.log.Warn("alerting admins", "alert", string(kind), "detail", detail)
	notices, err := s.adminNotices("alert", func(lang string) (string, [][]Button) {
		return s.cat.Text(lang, key, map[string]any{
			"Detail": messages.Isolate(detail),
			"Until":  messages.Isolate(until.In(s.loc).Format("2006-01-02 15:04")),
		}), nil
	})
	if err != nil {
		return err
	}
	// the channel in trouble cannot carry news of its own trouble
	for i := range notices {
		notices[i].AvoidChannel = "whatsapp"
	}
	return s.notify(ctx, notices)
}
