package messages

// Files with calls to action: the poster, PDF or short video a coordinator
// attaches to a broadcast or a campaign, how the bot asks for it, what it
// says when a file is refused, and the line that names a file where a
// channel cannot show it. Their texts are in locales/media.ar.json and
// locales/media.en.json.
const (
	// MediaLine names a file on a channel that cannot show it: {{.Kind}}
	// (MediaKindImage…), {{.Name}} (isolated) and {{.Size}} (MediaSizeKB/MB).
	MediaLine Key = "media.line"
	// MediaKindImage, MediaKindDocument and MediaKindVideo name the kinds of files.
	MediaKindImage    Key = "media.kind.image"
	MediaKindDocument Key = "media.kind.document"
	MediaKindVideo    Key = "media.kind.video"
	// MediaSizeKB and MediaSizeMB are a size: {{.N}} kilobytes, megabytes.
	MediaSizeKB Key = "media.size.kb"
	MediaSizeMB Key = "media.size.mb"
	// MediaAsk asks for the file of a broadcast; {{.Limit}} is the largest size.
	MediaAsk Key = "media.ask"
	// MediaAskCampaign asks for the file of the campaign {{.Title}}.
	MediaAskCampaign Key = "media.ask_campaign"
	// MediaAskNewCampaign asks, in the new campaign's wizard, for the file
	// people will see with it; {{.Limit}} is the largest size.
	MediaAskNewCampaign Key = "media.ask_new_campaign"
	// MediaNone is the option of sending no file; MediaCampaign of sending
	// the campaign's own.
	MediaNone     Key = "media.none"
	MediaCampaign Key = "media.campaign"
	// MediaKept confirms the file: {{.File}} is its MediaLine.
	MediaKept Key = "media.kept"
	// MediaTooLarge: the file is over {{.Limit}}.
	MediaTooLarge Key = "media.too_large"
	// MediaBadType: not a JPEG, PNG, PDF or MP4, whatever its name says.
	MediaBadType Key = "media.bad_type"
	// MediaFetchFailed: the file could not be fetched from the platform.
	MediaFetchFailed Key = "media.fetch_failed"
	// MediaNeedFile: words came where a file, or the option of none, was asked for.
	MediaNeedFile Key = "media.need_file"
	// MediaPreview is the preview's and the approval's line about the
	// file: {{.File}} is its MediaLine.
	MediaPreview Key = "media.preview"
	// MediaField labels the file among the fields to edit.
	MediaField Key = "media.field"
	// MediaAttached: the campaign {{.Title}} now carries {{.File}}, shown
	// to whoever opens it.
	MediaAttached Key = "media.attached"
	// MediaRemoved: the campaign {{.Title}} carries no file any more.
	MediaRemoved Key = "media.removed"
	// MediaAttachUsage tells how to attach a file: {{.Command}} is "/attach CODE".
	MediaAttachUsage Key = "media.attach_usage"
	// MediaTooLargeShort: the file uploaded on the dashboard is over the limit.
	MediaTooLargeShort Key = "media.too_large_short"
	// DashMediaLabel labels the dashboard's file field; DashMediaKept says
	// which file the draft carries ({{.File}}), kept across previews.
	DashMediaLabel Key = "dash.media_label"
	DashMediaKept  Key = "dash.media_kept"
	// CmdAttach describes /attach in the command menus.
	CmdAttach Key = "cmd.attach"
	// FlowAttach names the conversation of attaching a file to a campaign.
	FlowAttach Key = "flow.attach"
)
