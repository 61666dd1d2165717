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

// IsDone reports whether s says the person has finished choosing: "done", "انتهيت", "خلص".
func IsDone(s string) bool { return oneOf(s, doneWords()) }

// IsNow reports whether s means "now": "now", "الآن", "هلأ".
func IsNow(s string) bool { return oneOf(s, nowWords()) }

func doneWords() []string {
	return []string{"done", "finished", "finish", "that's all", "انتهيت", "خلصت", "خلص", "تم", "بس", "كفى", "انتهى"}
}

func nowWords() []string {
	return []string{"now", "right now", "الان", "حالا", "هلا", "هلق", "هلاء", "فورا"}
}
