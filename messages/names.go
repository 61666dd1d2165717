package messages

// LangKey names a language ("ar", "en") in the reader's language.
func LangKey(lang string) Key {
	if NormalizeLang(lang) == English {
		return LangEN
	}
	return LangAR
}

// RoleKey names a role ("citizen", "member", "coordinator", "admin").
func RoleKey(role string) Key {
	switch role {
	case "member":
		return RoleMember
	case "coordinator":
		return RoleCoordinator
	case "admin":
		return RoleAdmin
	default:
		return RoleCitizen
	}
}

// StatusKey names the state of an institution's application.
func StatusKey(status string) Key {
	switch status {
	case "approved":
		return StatusApproved
	case "rejected":
		return StatusRejected
	default:
		return StatusPending
	}
}

// IsDone reports whether s says the person has finished choosing: "done",
// "انتهيت", "خلص", "هيك بكفي", "✅" — Understand(s).Is(IntentDone).
func IsDone(s string) bool {
	m := Understand(s)
	return m.Is(IntentDone) && !m.Typo
}

// IsNow reports whether s means "now": "now", "الآن", "هلأ", "هلق" —
// Understand(s).Is(IntentNow).
func IsNow(s string) bool { return Understand(s).Is(IntentNow) }

// ChannelKey is the catalog key of a channel's name as people know it:
// «تيليجرام», "Telegram".
func ChannelKey(channel string) Key { return Key("channel." + channel) }
