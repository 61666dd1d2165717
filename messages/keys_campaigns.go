package messages

// Keys of a campaign's lifecycle: scheduled, open, closed, reopened, edited.
const (
	// CampaignOpenNow tells someone who asked that a campaign has opened.
	CampaignOpenNow Key = "campaign.open_now"
	// CampaignOpenNowPledge and CampaignOpenNowEvent tell it of a campaign
	// that asks for pledges only, or for sign-ups to its event only.
	CampaignOpenNowPledge Key = "campaign.open_now_pledge"
	CampaignOpenNowEvent  Key = "campaign.open_now_event"
	// CampaignOpenButton opens the campaign.
	CampaignOpenButton Key = "campaign.open_button"
	// CampaignEventChanged tells the people signed up that the event moved.
	CampaignEventChanged Key = "campaign.event_changed"
	// CampaignTargetBelowPledges refuses a target below the pledges made.
	CampaignTargetBelowPledges    Key = "campaign.target_below_pledges"
	CommonSave                    Key = "common.save"
	CampaignOpensOn               Key = "campaign.opens_on"
	CampaignWatchButton           Key = "campaign.watch_button"
	CampaignWatching              Key = "campaign.watching"
	CampaignWatchDone             Key = "campaign.watch_done"
	CampaignWithdrawButton        Key = "campaign.withdraw_button"
	PledgeWithdrawn               Key = "pledge.withdrawn"
	PledgeNone                    Key = "pledge.none"
	CampaignCloseAsk              Key = "campaign.close_ask"
	CampaignCloseNobodyTold       Key = "campaign.close_nobody_told"
	CampaignCloseTellReached      Key = "campaign.close_tell_reached"
	CampaignCloseTellMissed       Key = "campaign.close_tell_missed"
	CampaignCloseEventStays       Key = "campaign.close_event_stays"
	CampaignCloseButton           Key = "campaign.close_button"
	CampaignCloseKept             Key = "campaign.close_kept"
	CampaignReopenEnd             Key = "campaign.reopen_end"
	CampaignReopened              Key = "campaign.reopened"
	CampaignNotClosed             Key = "campaign.not_closed"
	CampaignNoEnd                 Key = "campaign.no_end"
	CampaignEditClosed            Key = "campaign.edit_closed"
	CampaignEditChoose            Key = "campaign.edit_choose"
	CampaignEditTarget            Key = "campaign.edit_target"
	CampaignEditAsk               Key = "campaign.edit_ask"
	CampaignEditWillTell          Key = "campaign.edit_will_tell"
	CampaignEditSaved             Key = "campaign.edit_saved"
	CampaignEditNothing           Key = "campaign.edit_nothing"
	CampaignEditTold              Key = "campaign.edit_told"
	CampaignEndsBeforeEvent       Key = "campaign.ends_before_event"
	CampaignEventClock            Key = "campaign.event_clock"
	CampaignEventClockBad         Key = "campaign.event_clock_bad"
	CampaignEventMorningOrEvening Key = "campaign.event_morning_or_evening"
	CmdEditCampaign               Key = "cmd.editcampaign"
	CmdReopenCampaign             Key = "cmd.reopencampaign"
)
