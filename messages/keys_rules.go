package messages

// The coalition's rules at work: approvals that show everything, linked
// accounts, sends stopped when their author loses the right to send, and
// the kill switch heard by every admin.
const (
	// ApprovalContent lists everything a bulk message carries, for its approver.
	ApprovalContent Key = "approval.content"
	// ApprovalNoEnglish stands for an English text that was not given.
	ApprovalNoEnglish Key = "approval.no_english"

	RemindApprovalRequest Key = "remind.approval_request"
	RemindApprovalGrown   Key = "remind.approval_grown"
	RemindApproved        Key = "remind.approved"
	RemindRejected        Key = "remind.rejected"
	RemindWaits           Key = "remind.waits"
	RemindAwaiting        Key = "remind.awaiting"
	RemindTooMany         Key = "remind.too_many"
	RemindNotWaiting      Key = "remind.not_waiting"

	LinkConfirmOwner     Key = "link.confirm_owner"
	LinkConfirmRequester Key = "link.confirm_requester"
	LinkConfirmYes       Key = "link.confirm_yes"
	LinkConfirmNo        Key = "link.confirm_no"
	LinkRefused          Key = "link.refused"
	LinkWaiting          Key = "link.waiting"
	LinkSameChannel      Key = "link.same_channel"
	LinkKept             Key = "link.kept"
	LinkAdminNotice      Key = "link.admin_notice"

	SuspendedDismissed     Key = "suspended.dismissed"
	SuspendedForgotten     Key = "suspended.forgotten"
	SuspendedBroadcastLine Key = "suspended.broadcast_line"
	SuspendedReminderLine  Key = "suspended.reminder_line"
	SuspendedTakeOver      Key = "suspended.take_over"
	SuspendedDrop          Key = "suspended.drop"
	SuspendedTakenOver     Key = "suspended.taken_over"
	SuspendedDropped       Key = "suspended.dropped"
	SuspendedNothing       Key = "suspended.nothing"
	SuspendedNeedArg       Key = "suspended.need_arg"
	AdminRoleUnchanged     Key = "admin.role_unchanged"
	AdminStopped           Key = "admin.stopped"

	AdminInstitutionNeedsContact Key = "admin.institution_needs_contact"

	PauseNotice  Key = "pause.notice"
	ResumeNotice Key = "resume.notice"
	// PausedNote tells whoever sends while sending is paused.
	PausedNote Key = "pause.note"
)

// Replies of the conversations that call the rules.
const (
	BroadcastNeedNumber       Key = "broadcast.need_number"
	BroadcastStatusSuspended  Key = "broadcast.status_suspended"
	BroadcastWillNeedApproval Key = "broadcast.will_need_approval"
	ErrNotFoundGeneric        Key = "error.not_found"
	ForwardedNote             Key = "forward.note"
	MediaNote                 Key = "media.note"
	MyDataApplication         Key = "mydata.application"
	MyDataApplicationContact  Key = "mydata.application_contact"
	MyDataWatching            Key = "mydata.watching"
	RegisterSharePhone        Key = "register.share_phone"
	RemindWhichTime           Key = "remind.which_time"
	RemindNeedNumber          Key = "remind.need_number"
	ChannelTelegram           Key = "channel.telegram"
	ChannelWhatsApp           Key = "channel.whatsapp"
	ChannelConsole            Key = "channel.console"
	MessageCount              Key = "message.count"
	// TimeAbout is a rough duration: "about {{.Duration}}".
	TimeAbout Key = "time.about"
)
