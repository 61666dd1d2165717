package messages

// The conversation around the questions: leaving a wizard and coming back
// to its draft, a «إلغاء» at a menu, what the bot says to pictures, voice
// notes, locations and contacts it was not asked for, a governorate
// suggested from a shared location, and what a wizard is called. Their
// texts are in locales/talk.ar.json and locales/talk.en.json.
const (
	// DraftLeaveAsk asks whether to leave {{.What}} (a flow title) for
	// {{.Command}}, isolated.
	DraftLeaveAsk Key = "draft.leave_ask"
	// DraftLeave and DraftStay are its answers.
	DraftLeave Key = "draft.leave"
	DraftStay  Key = "draft.stay"
	// DraftKept says the draft of {{.What}} is kept, and how to resume it.
	DraftKept Key = "draft.kept"
	// DraftResumed opens the question a resumed draft of {{.What}} was at.
	DraftResumed Key = "draft.resumed"
	// DraftNone answers /continue with nothing to continue.
	DraftNone Key = "draft.none"
	// MenuContinue is the main menu's option that resumes {{.What}}.
	MenuContinue Key = "menu.continue"
	// CmdContinue describes /continue.
	CmdContinue Key = "cmd.continue"

	// MenuClosed answers a «إلغاء» at a list.
	MenuClosed Key = "menu.closed"
	// StopAsk asks, after a «إلغاء» at the main menu, whether to stop all messages.
	StopAsk    Key = "stop.ask"
	StopAskYes Key = "stop.ask_yes"
	StopAskNo  Key = "stop.ask_no"
	// StopKept answers no to StopAsk.
	StopKept Key = "stop.kept"

	// The answers to what the bot cannot read, by what it was.
	MediaVoice    Key = "media.voice"
	MediaPicture  Key = "media.picture"
	MediaSticker  Key = "media.sticker"
	MediaLocation Key = "media.location"
	MediaContact  Key = "media.contact"

	// GovSuggest asks whether {{.Governorate}}, the nearest to a shared
	// location, is the person's governorate.
	GovSuggest Key = "location.suggest"
	// GovFar answers a shared location outside the West Bank and Gaza.
	GovFar Key = "location.far"

	// GroupPrivateReply is sent privately to someone who wrote a command in
	// a WhatsApp group, where the bot does not answer: {{.Command}} is what
	// to send here.
	GroupPrivateReply Key = "group.private_reply"

	// What each wizard is, as "you are in the middle of …" names it.
	FlowNewCampaign Key = "flow.newcampaign"
	FlowRegister    Key = "flow.register"
	FlowBroadcast   Key = "flow.broadcast"
	FlowRemind      Key = "flow.remind"
	FlowPoll        Key = "flow.poll"
)
