package messages

// Member institutions as participants: who organises what, their people,
// supporters, directory, membership and numbers. Their texts are in
// locales/institutions.ar.json and locales/institutions.en.json.
const (
	// CmdInstitutions describes /institutions, the directory of member institutions.
	CmdInstitutions Key = "cmd.institutions"
	// CmdMyInstitution describes /myinstitution, the panel of an institution's people.
	CmdMyInstitution Key = "cmd.myinstitution"
	// CmdOverview describes /overview, the coalition's numbers by institution.
	CmdOverview Key = "cmd.overview"
	// OrgRoleRepresentative names an institution's representative.
	OrgRoleRepresentative Key = "org.role.representative"
	// OrgRoleCoordinator names an institution's coordinator.
	OrgRoleCoordinator Key = "org.role.coordinator"
	// OrgStatusActive is an active membership.
	OrgStatusActive Key = "org.status_active"
	// StatusSuspended is a suspended membership.
	StatusSuspended Key = "status.suspended"
	// StatusEnded is an ended membership.
	StatusEnded Key = "status.ended"
	// OrgCoalition is the coalition's name as the organiser of what it sends.
	OrgCoalition Key = "org.coalition"
	// OrgAnd joins the last name of a list: {{.A}} and {{.B}}.
	OrgAnd Key = "org.and"
	// OrgSignature ends a bulk message with whom it is from: {{.Organiser}}.
	OrgSignature Key = "org.signature"
	// OrgOrganisedBy says who organises a campaign: {{.Organiser}}.
	OrgOrganisedBy Key = "org.organised_by"
	// OrgApprovalFrom tells the approving admin whose name a send carries: {{.Organiser}}.
	OrgApprovalFrom Key = "org.approval_from"
	// OrgWhichOrganiser asks in whose name a campaign or message goes.
	OrgWhichOrganiser Key = "org.which_organiser"
	// OrgAudienceSupporters is the audience of all of an institution's supporters: {{.Name}}.
	OrgAudienceSupporters Key = "org.audience_supporters"
	// OrgAudienceWithin limits {{.Audience}} to the supporters of {{.Name}}.
	OrgAudienceWithin Key = "org.audience_within"
	// OrgAudienceGovernorate is an institution's supporters in one governorate.
	OrgAudienceGovernorate Key = "org.audience_governorate"
	// OrgAudienceLang is an institution's supporters who chose one language.
	OrgAudienceLang Key = "org.audience_lang"
	// OrgAudienceWide is the whole coalition's audience, for an institution.
	OrgAudienceWide Key = "org.audience_wide"
	// OrgWillNeedApproval warns that a send beyond the institution's supporters waits for the coalition.
	OrgWillNeedApproval Key = "org.will_need_approval"
	// OrgAwaitingCoalition says a send beyond the institution's supporters waits: {{.ID}}, {{.Total}}.
	OrgAwaitingCoalition Key = "org.awaiting_coalition"
	// OrgOutsideScope refuses a send to another institution's supporters.
	OrgOutsideScope Key = "org.outside_scope"
	// OrgNotActive says the institution is not an active member now.
	OrgNotActive Key = "org.not_active"
	// OrgJointCoalition explains that the coalition's own campaigns take no partners.
	OrgJointCoalition Key = "org.joint_coalition"
	// OrgInvited invites {{.Name}} to co-organise {{.Title}} ({{.Code}}) of {{.Organiser}}.
	OrgInvited Key = "org.invited"
	// OrgAcceptButton accepts an invitation to co-organise.
	OrgAcceptButton Key = "org.accept_button"
	// OrgDeclineButton declines an invitation to co-organise.
	OrgDeclineButton Key = "org.decline_button"
	// OrgPartnerAccepted tells the lead that {{.Name}} accepted to co-organise {{.Title}}.
	OrgPartnerAccepted Key = "org.partner_accepted"
	// OrgPartnerDeclined tells the lead that {{.Name}} declined {{.Title}}.
	OrgPartnerDeclined Key = "org.partner_declined"
	// OrgInviteSent confirms an invitation went to {{.Name}}.
	OrgInviteSent Key = "org.invite_sent"
	// OrgAlreadyPartner says {{.Name}} co-organises already or is invited.
	OrgAlreadyPartner Key = "org.already_partner"
	// OrgAlreadyInvited says the institution is a partner already or invited.
	OrgAlreadyInvited Key = "org.already_invited"
	// OrgNoInvitation says there is no invitation to answer.
	OrgNoInvitation Key = "org.no_invitation"
	// OrgAccepted confirms co-organising {{.Title}}.
	OrgAccepted Key = "org.accepted"
	// OrgDeclined confirms declining {{.Title}}.
	OrgDeclined Key = "org.declined"
	// OrgSharesTitle heads each organiser's share of a joint campaign.
	OrgSharesTitle Key = "org.shares_title"
	// OrgShareBelow says the figures that follow are {{.Name}}'s share.
	OrgShareBelow Key = "org.share_below"
	// OrgOnList tells a supporter {{.Name}} may write to them and how to leave ({{.Code}}).
	OrgOnList Key = "org.on_list"
	// OrgYourRole tells a person their new role {{.Role}} in {{.Name}}.
	OrgYourRole Key = "org.your_role"
	// OrgRoleRemoved tells a person they are no longer {{.Role}} of {{.Name}}.
	OrgRoleRemoved Key = "org.role_removed"
	// OrgMenuButton opens the panel of the person's institution.
	OrgMenuButton Key = "org.menu_button"
	// OrgRoleGiven confirms {{.Who}} is now {{.Role}} of {{.Name}}.
	OrgRoleGiven Key = "org.role_given"
	// OrgRoleTaken confirms {{.Who}} has no role in {{.Name}} now.
	OrgRoleTaken Key = "org.role_taken"
	// OrgRoleUnchanged says {{.Who}} already is {{.Role}} of {{.Name}}.
	OrgRoleUnchanged Key = "org.role_unchanged"
	// OrgLastRepresentative refuses to remove an institution's last representative.
	OrgLastRepresentative Key = "org.last_representative"
	// OrgNotInInstitution says the person has no role in the institution.
	OrgNotInInstitution Key = "org.not_in_institution"
	// OrgPeopleTitle heads the people of {{.Name}}.
	OrgPeopleTitle Key = "org.people_title"
	// OrgAppointHint says how to appoint and remove: {{.Coordinator}}, {{.Representative}}, {{.Remove}}.
	OrgAppointHint Key = "org.appoint_hint"
	// OrgPersonSendsStopped tells the admins what {{.Who}} had still to send in the name of {{.Name}}: {{.Items}}.
	OrgPersonSendsStopped Key = "org.person_sends_stopped"
	// OrgMyDataRole is a /mydata line: {{.Role}} of {{.Name}}.
	OrgMyDataRole Key = "org.mydata_role"
	// OrgMyDataLists is a /mydata line: the lists {{.Names}} and {{.Leave}}.
	OrgMyDataLists Key = "org.mydata_lists"
	// OrgDirectoryIntro opens the directory of {{.Count}} listed institutions and asks for a governorate.
	OrgDirectoryIntro Key = "org.directory_intro"
	// OrgDirectoryAll is the choice of every governorate.
	OrgDirectoryAll Key = "org.directory_all"
	// OrgDirectoryField asks for a field of work.
	OrgDirectoryField Key = "org.directory_field"
	// OrgDirectoryAllFields is the choice of every field.
	OrgDirectoryAllFields Key = "org.directory_all_fields"
	// OrgDirectoryEmpty says no institution is listed yet.
	OrgDirectoryEmpty Key = "org.directory_empty"
	// OrgDirectoryNone says none matches.
	OrgDirectoryNone Key = "org.directory_none"
	// OrgDirectoryFound heads the {{.Count}} institutions found.
	OrgDirectoryFound Key = "org.directory_found"
	// OrgOpenCampaigns counts an institution's {{.Count}} open campaigns.
	OrgOpenCampaigns Key = "org.open_campaigns"
	// OrgOpenCampaignsTitle heads an institution's open campaigns.
	OrgOpenCampaignsTitle Key = "org.open_campaigns_title"
	// OrgDirectoryButton goes back to the directory.
	OrgDirectoryButton Key = "org.directory_button"
	// OrgPhone shows a published phone: {{.Phone}}.
	OrgPhone Key = "org.phone"
	// OrgEmail shows a published e-mail: {{.Email}}.
	OrgEmail Key = "org.email"
	// OrgJoinLink gives the link to join its supporters: {{.Link}}.
	OrgJoinLink Key = "org.join_link"
	// OrgYouSupport says the person is on its list.
	OrgYouSupport Key = "org.you_support"
	// OrgJoinButton joins an institution's supporters.
	OrgJoinButton Key = "org.join_button"
	// OrgLeaveButton leaves an institution's list.
	OrgLeaveButton Key = "org.leave_button"
	// OrgNotFound says no active member institution has the code {{.Code}}.
	OrgNotFound Key = "org.not_found"
	// OrgConsent is the welcome's consent for someone who came through {{.Name}}'s link.
	OrgConsent Key = "org.consent"
	// OrgJoinAsk asks whether {{.Name}} may write to the person.
	OrgJoinAsk Key = "org.join_ask"
	// OrgJoinNo confirms the person did not join.
	OrgJoinNo Key = "org.join_no"
	// OrgJoined confirms joining {{.Name}}; leaving is {{.Code}}.
	OrgJoined Key = "org.joined"
	// OrgLeft confirms leaving {{.Name}}; coming back is {{.Code}}.
	OrgLeft Key = "org.left"
	// OrgLeaveNone says the person is on no institution's list.
	OrgLeaveNone Key = "org.leave_none"
	// OrgLeaveWhich asks which list to leave.
	OrgLeaveWhich Key = "org.leave_which"
	// OrgNoneOfYours says the person acts for no institution.
	OrgNoneOfYours Key = "org.none_of_yours"
	// OrgWhichInstitution asks which of their institutions.
	OrgWhichInstitution Key = "org.which_institution"
	// OrgYourRoleLine shows the person's role: {{.Role}}.
	OrgYourRoleLine Key = "org.your_role_line"
	// OrgStatusLine shows the membership's standing: {{.Status}}.
	OrgStatusLine Key = "org.status_line"
	// OrgRenameWaiting says a new name {{.Name}} waits for approval.
	OrgRenameWaiting Key = "org.rename_waiting"
	// OrgShareLink gives the institution's share link {{.Link}} and code {{.Code}}.
	OrgShareLink Key = "org.share_link"
	// OrgSendButton sends a message to the institution's supporters.
	OrgSendButton Key = "org.send_button"
	// OrgNumbersButton shows the institution's numbers.
	OrgNumbersButton Key = "org.numbers_button"
	// OrgPeopleButton shows the institution's people.
	OrgPeopleButton Key = "org.people_button"
	// OrgEditButton changes the institution's details.
	OrgEditButton Key = "org.edit_button"
	// OrgSupportersLine counts {{.Count}} supporters.
	OrgSupportersLine Key = "org.supporters_line"
	// OrgReferralsLine counts {{.Count}} people its link brought.
	OrgReferralsLine Key = "org.referrals_line"
	// OrgLeftLine counts {{.Count}} who left its list.
	OrgLeftLine Key = "org.left_line"
	// OrgCampaignsLine counts {{.Count}} campaigns.
	OrgCampaignsLine Key = "org.campaigns_line"
	// OrgPledgesLine counts {{.Count}} pledges credited.
	OrgPledgesLine Key = "org.pledges_line"
	// OrgSignupsLine counts {{.Count}} sign-ups credited.
	OrgSignupsLine Key = "org.signups_line"
	// OrgAnswersLine counts {{.Count}} answers to polls credited.
	OrgAnswersLine Key = "org.answers_line"
	// OrgByGovernorate heads the numbers by governorate.
	OrgByGovernorate Key = "org.by_governorate"
	// OrgByMonth heads the numbers by month.
	OrgByMonth Key = "org.by_month"
	// OrgOverviewTitle heads the coalition's numbers by organiser.
	OrgOverviewTitle Key = "org.overview_title"
	// OrgEditWhat shows {{.Summary}} and asks what to change.
	OrgEditWhat Key = "org.edit_what"
	// OrgFieldPhone names the phone field.
	OrgFieldPhone Key = "org.field_phone"
	// OrgFieldEmail names the e-mail field.
	OrgFieldEmail Key = "org.field_email"
	// OrgFieldCode names the share code field.
	OrgFieldCode Key = "org.field_code"
	// OrgFieldListing names what the institution publishes.
	OrgFieldListing Key = "org.field_listing"
	// OrgListingLine shows the code {{.Code}} and what is published: {{.Listed}}, {{.Phone}}, {{.Email}}.
	OrgListingLine Key = "org.listing_line"
	// OrgEditPhone asks for the phone number.
	OrgEditPhone Key = "org.edit_phone"
	// OrgEditEmail asks for the e-mail.
	OrgEditEmail Key = "org.edit_email"
	// OrgEditCode asks for a new share code.
	OrgEditCode Key = "org.edit_code"
	// OrgEditGovernorates asks for every governorate at once.
	OrgEditGovernorates Key = "org.edit_governorates"
	// OrgEditListed asks whether to appear in the directory.
	OrgEditListed Key = "org.edit_listed"
	// OrgEditPublishPhone asks whether to publish the phone.
	OrgEditPublishPhone Key = "org.edit_publish_phone"
	// OrgEditPublishEmail asks whether to publish the e-mail.
	OrgEditPublishEmail Key = "org.edit_publish_email"
	// OrgEditAboutAR asks for a few public words in Arabic.
	OrgEditAboutAR Key = "org.edit_about_ar"
	// OrgEditAboutEN asks for a few public words in English.
	OrgEditAboutEN Key = "org.edit_about_en"
	// OrgSaved confirms a change saved.
	OrgSaved Key = "org.saved"
	// OrgNothingChanged says nothing changed.
	OrgNothingChanged Key = "org.nothing_changed"
	// OrgRenameSent says a new name went to the admins.
	OrgRenameSent Key = "org.rename_sent"
	// OrgCodeTaken says another institution has that code.
	OrgCodeTaken Key = "org.code_taken"
	// OrgRenameRequest asks the admins to approve renaming {{.ID}} {{.Old}} to {{.NameAR}} / {{.NameEN}}.
	OrgRenameRequest Key = "org.rename_request"
	// OrgRenamed tells the institution {{.Old}} is now {{.Name}}.
	OrgRenamed Key = "org.renamed"
	// OrgRenameRejected tells the institution the name {{.Requested}} was refused; it stays {{.Name}}.
	OrgRenameRejected Key = "org.rename_rejected"
	// OrgNoRename says institution {{.ID}} has no change of name waiting.
	OrgNoRename Key = "org.no_rename"
	// OrgNoRenameWaiting says no change of name waits.
	OrgNoRenameWaiting Key = "org.no_rename_waiting"
	// OrgRenameApprovedDone confirms the new name {{.Name}}.
	OrgRenameApprovedDone Key = "org.rename_approved_done"
	// OrgRenameRejectedDone confirms the name stays {{.Name}}.
	OrgRenameRejectedDone Key = "org.rename_rejected_done"
	// OrgNeedReason asks for the reason of a decision.
	OrgNeedReason Key = "org.need_reason"
	// OrgStandingUsage shows how to write a decision about a membership: {{.Example}} is the command and a code.
	OrgStandingUsage Key = "org.standing_usage"
	// OrgSendsStopped tells the admins what {{.Name}} had still to send: {{.Items}}.
	OrgSendsStopped Key = "org.sends_stopped"
	// OrgSuspendedNotice tells {{.Name}}'s people it is suspended for {{.Reason}}.
	OrgSuspendedNotice Key = "org.suspended_notice"
	// OrgReinstatedNotice tells {{.Name}}'s people it is reinstated: {{.Reason}}.
	OrgReinstatedNotice Key = "org.reinstated_notice"
	// OrgEndedNotice tells {{.Name}}'s people the membership ended: {{.Reason}}.
	OrgEndedNotice Key = "org.ended_notice"
	// OrgSuspendedDone confirms {{.Name}} is suspended.
	OrgSuspendedDone Key = "org.suspended_done"
	// OrgReinstatedDone confirms {{.Name}} is reinstated.
	OrgReinstatedDone Key = "org.reinstated_done"
	// OrgEndedDone confirms {{.Name}}'s membership ended.
	OrgEndedDone Key = "org.ended_done"
	// OrgStandingUnchanged says {{.Name}} is {{.Status}} already.
	OrgStandingUnchanged Key = "org.standing_unchanged"
	// OrgResumed says {{.Count}} stopped sends go on.
	OrgResumed Key = "org.resumed"
	// OrgPosterCode captions the code on an institution's poster.
	OrgPosterCode Key = "org.poster_code"
	// OrgPosterCall is the call of an institution's poster to join {{.Name}}.
	OrgPosterCall Key = "org.poster_call"
)

// OrgRoleKey names a role in an institution ("representative", "coordinator").
func OrgRoleKey(role string) Key {
	if role == "representative" {
		return OrgRoleRepresentative
	}
	return OrgRoleCoordinator
}

// InstitutionStatusKey names a membership's standing: under review,
// rejected, active, suspended or ended.
func InstitutionStatusKey(status string) Key {
	switch status {
	case "suspended":
		return StatusSuspended
	case "ended":
		return StatusEnded
	case "approved":
		return OrgStatusActive
	}
	return StatusKey(status)
}
