package messages

// Polls, the follow-through after an event, the codes that prove a call
// genuine, and posters made from chat. Their texts are in
// locales/polls.ar.json and locales/polls.en.json.

// Commands.
const (
	CmdPoll   Key = "cmd.poll"
	CmdVerify Key = "cmd.verify"
	CmdPoster Key = "cmd.poster"
)

// A poll as people receive and answer it.
const (
	// PollOptionLine is one option in the poll's text: {{.N}}, {{.Option}}.
	PollOptionLine Key = "poll.option_line"
	// PollHint ends the poll's text: how to answer, and {{.Until}} when it closes.
	PollHint Key = "poll.hint"
	// PollHintOpen is PollHint for a poll open until it is closed.
	PollHintOpen Key = "poll.hint_open"
	// PollThanks, PollSame and PollChanged answer an answer: {{.Option}},
	// and for a change {{.Previous}}.
	PollThanks  Key = "poll.thanks"
	PollSame    Key = "poll.same"
	PollChanged Key = "poll.changed"
	// PollChangeUntil and PollChangeOpen say the answer can still change.
	PollChangeUntil Key = "poll.change_until"
	PollChangeOpen  Key = "poll.change_open"
	PollClosedNote  Key = "poll.closed_note"
	PollNotAsked    Key = "poll.not_asked"
	// PollNotFound: {{.ID}}.
	PollNotFound  Key = "poll.not_found"
	PollVoteUsage Key = "poll.vote_usage"
)

// The poll wizard.
const (
	PollIntro         Key = "poll.intro"
	PollAskQuestionAR Key = "poll.ask_question_ar"
	PollAskQuestionEN Key = "poll.ask_question_en"
	// PollAskOptionsAR: {{.Max}} options at most.
	PollAskOptionsAR Key = "poll.ask_options_ar"
	// PollAskOptionsEN: {{.Count}} options, as in Arabic.
	PollAskOptionsEN      Key = "poll.ask_options_en"
	PollErrTooFew         Key = "poll.err_too_few"
	PollErrTooMany        Key = "poll.err_too_many"
	PollErrOptionLong     Key = "poll.err_option_long"
	PollErrOptionNoArabic Key = "poll.err_option_no_arabic"
	PollErrDuplicate      Key = "poll.err_duplicate"
	// PollErrCount is plural in the options wanted, as many as in Arabic.
	PollErrCount        Key = "poll.err_count"
	PollAskDuration     Key = "poll.ask_duration"
	PollForDay          Key = "poll.for_day"
	PollForThreeDays    Key = "poll.for_three_days"
	PollForWeek         Key = "poll.for_week"
	PollUntilClosed     Key = "poll.until_closed"
	PollSend            Key = "poll.send"
	PollFieldQuestion   Key = "poll.field_question"
	PollFieldQuestionEN Key = "poll.field_question_en"
	PollFieldOptions    Key = "poll.field_options"
	PollFieldOptionsEN  Key = "poll.field_options_en"
	PollFieldDuration   Key = "poll.field_duration"
	// PollCreated: poll {{.ID}}, its results with {{.Command}}.
	PollCreated Key = "poll.created"
)

// A poll's results, for coordinators.
const (
	// PollResultsTitle: {{.ID}}, {{.Question}}.
	PollResultsTitle Key = "poll.results_title"
	// PollResultsLine: {{.N}}. {{.Option}}: {{.Count}} ({{.Percent}} percent).
	PollResultsLine Key = "poll.results_line"
	// PollAnswered is plural in the answers, with {{.Asked}} the number of
	// people asked.
	PollAnswered Key = "poll.answered"
	// PollAnswers is plural: "3 answers".
	PollAnswers Key = "poll.answers"
	// PollTallyPart is one option's count in a breakdown: {{.N}}, {{.Count}}, {{.Percent}} percent.
	PollTallyPart       Key = "poll.tally_part"
	PollOpenUntil       Key = "poll.open_until"
	PollOpenUntilClosed Key = "poll.open_until_closed"
	// PollClosedOn: {{.When}}.
	PollClosedOn      Key = "poll.closed_on"
	PollByGovernorate Key = "poll.by_governorate"
	PollByLang        Key = "poll.by_lang"
	PollByChannel     Key = "poll.by_channel"
	PollByCampaign    Key = "poll.by_campaign"
	// PollFollowButton: {{.Option}}.
	PollFollowButton  Key = "poll.follow_button"
	PollCloseButton   Key = "poll.close_button"
	PollRefreshButton Key = "poll.refresh_button"
	// PollResultsButton: {{.ID}}.
	PollResultsButton Key = "poll.results_button"
	// PollFollowHow: {{.People}} who answered {{.Option}}.
	PollFollowHow    Key = "poll.follow_how"
	PollFollowNow    Key = "poll.follow_now"
	PollFollowRemind Key = "poll.follow_remind"
	// PollClosedDone: {{.ID}}.
	PollClosedDone Key = "poll.closed_done"
	PollList       Key = "poll.list"
	// PollListLine: {{.ID}}, {{.Question}}, {{.Answers}}, {{.State}}.
	PollListLine    Key = "poll.list_line"
	PollNone        Key = "poll.none"
	PollStateOpen   Key = "poll.state_open"
	PollStateClosed Key = "poll.state_closed"
	// AudiencePollAnswer describes the people who chose answer {{.N}} in poll {{.ID}}.
	AudiencePollAnswer Key = "audience.poll_answer"
	// AudiencePollAnswerNamed names the answer, {{.Option}}, of poll {{.ID}}.
	AudiencePollAnswerNamed Key = "audience.poll_answer_named"
	// MyDataPollAnswers is plural: the person's answers to polls.
	MyDataPollAnswers Key = "mydata.poll_answers"
)

// The follow-through after an event.
const (
	// PollAttendanceQuestion: {{.Title}}, {{.When}} (the event's day).
	PollAttendanceQuestion Key = "poll.attendance_question"
	PollAttendanceYes      Key = "poll.attendance_yes"
	PollAttendanceNo       Key = "poll.attendance_no"
	// PollAttendanceStats heads /stats' answers: {{.People}} asked, counted.
	PollAttendanceStats Key = "poll.attendance_stats"
	// PollAttendanceLater: {{.When}} they will be asked; {{.Code}} to switch it off.
	PollAttendanceLater Key = "poll.attendance_later"
	// PollAttendanceOff: switched off; {{.Code}} to switch it on.
	PollAttendanceOff Key = "poll.attendance_off"
	// PollFollowUpOn and PollFollowUpOff: {{.Title}}.
	PollFollowUpOn    Key = "poll.followup_on"
	PollFollowUpOff   Key = "poll.followup_off"
	PollFollowUpUsage Key = "poll.followup_usage"
	// PollFollowUpAsked: they were asked already; {{.Code}}.
	PollFollowUpAsked Key = "poll.followup_asked"
)

// Proof that a call is genuine.
const (
	// VerifyLine ends every copy of a call: {{.Code}}.
	VerifyLine Key = "verify.line"
	VerifyHow  Key = "verify.how"
	// VerifyGenuine answers /verify: {{.When}}, {{.Campaign}} and the words sent, {{.Text}}.
	VerifyGenuine Key = "verify.genuine"
	// VerifyForwardGenuine answers a forward of the bot's own call: {{.When}}, {{.Campaign}}.
	VerifyForwardGenuine Key = "verify.forward_genuine"
	// VerifyCopied: the words of a genuine call, not from the bot: {{.When}}, {{.Campaign}}.
	VerifyCopied Key = "verify.copied"
	// VerifyAltered: the code {{.Code}} is genuine, the words not; {{.When}}, {{.Text}}.
	VerifyAltered Key = "verify.altered"
	// VerifyUnknown: {{.Code}} was never sent.
	VerifyUnknown Key = "verify.unknown"
	// VerifyForCampaign is the campaign part of a verdict: {{.Title}}.
	VerifyForCampaign Key = "verify.for_campaign"
	VerifyBadCode     Key = "verify.bad_code"
	VerifyTooMany     Key = "verify.too_many"
	VerifyBotNotCall  Key = "verify.bot_not_call"
	// VerifyNoCodeNote: a message without a code is no call of ours.
	VerifyNoCodeNote Key = "verify.no_code"
	VerifyWarnOffer  Key = "verify.warn_offer"
	VerifyWarnButton Key = "verify.warn_button"
	// VerifyFakeWarning is the warning sent about a fake: {{.Quote}}.
	VerifyFakeWarning Key = "verify.fake_warning"
)

// Posters made from chat.
const (
	ChatPosterUsage Key = "chatposter.usage"
	// ChatPosterPreparing, ChatPosterReady...: {{.Title}}; Ready also {{.PDF}} and {{.PNG}}.
	ChatPosterPreparing Key = "chatposter.preparing"
	ChatPosterReady     Key = "chatposter.ready"
	ChatPosterNoLinks   Key = "chatposter.no_links"
	ChatPosterTooLong   Key = "chatposter.too_long"
	ChatPosterFailed    Key = "chatposter.failed"
	ChatPosterOff       Key = "chatposter.off"
	ChatPosterBusy      Key = "chatposter.busy"
)
