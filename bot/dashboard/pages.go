package dashboard

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"mobilise/bot"
	"mobilise/bot/coalition"
	"mobilise/bot/schedule"
	"mobilise/messages"
	"mobilise/store"
)

// One handler per page. Each reads its form, calls one operation and
// shows what came of it; none decides anything itself.

// campaignCard is an open campaign with its figures and charts.
type campaignCard struct {
	Campaign *store.Campaign
	Counts   store.Counts
	Stats    store.Stats
	Days     []store.DayCount
	Timeline template.HTML
	ByGov    template.HTML
	Active   bool
}

// GovCounts are the counts by governorate the card's chart shows: pledges,
// or sign-ups for a campaign without pledges.
func (c campaignCard) GovCounts() map[string]int {
	if c.Campaign.Kind.HasPledge() {
		return c.Stats.PledgesByGovernorate
	}
	return c.Stats.SignupsByGovernorate
}

// card gathers a campaign's figures and draws its charts.
func (s *Server) card(q *request, c *store.Campaign) (campaignCard, error) {
	card := campaignCard{Campaign: c, Active: s.co.Campaigns.Active(c)}
	var err error
	if card.Stats, err = s.co.Campaigns.Stats(q.ctx(), q.by, c); err != nil {
		return card, err
	}
	card.Counts = card.Stats.Counts
	if card.Days, err = s.co.Campaigns.Activity(q.ctx(), q.by, c); err != nil {
		return card, err
	}
	title := coalition.Title(c, q.lang)
	signups := !c.Kind.HasPledge()
	timeKey, govKey := messages.DashChartPledgesOverTime, messages.DashChartPledgesByGov
	byGov := card.Stats.PledgesByGovernorate
	if signups {
		timeKey, govKey, byGov = messages.DashChartSignupsOverTime, messages.DashChartSignupsByGov, card.Stats.SignupsByGovernorate
	}
	if card.Timeline, err = s.charts.pledgesOverTime(card.Days, signups, q.lang, s.loc, s.cat.Text(q.lang, timeKey, map[string]any{"Title": title})); err != nil {
		return card, err
	}
	name := func(g string) string {
		if g == "" {
			return s.cat.Text(q.lang, messages.DashUnknown, nil)
		}
		return s.cat.Text(q.lang, messages.GovernorateKey(g), nil)
	}
	card.ByGov, err = s.charts.byGovernorate(byGov, name, q.lang, s.cat.Text(q.lang, govKey, map[string]any{"Title": title}))
	return card, err
}

// overviewData is the overview page.
type overviewData struct {
	Cards   []campaignCard
	Sending coalition.SendingStatus
	Health  map[bot.ChannelName]bool
}

func (s *Server) overview(q *request) error {
	open, err := s.co.Campaigns.Open(q.ctx())
	if err != nil {
		return err
	}
	var d overviewData
	for _, oc := range open {
		card, err := s.card(q, oc.Campaign)
		if err != nil {
			return err
		}
		d.Cards = append(d.Cards, card)
	}
	if d.Sending, err = s.co.Sending.Status(q.ctx(), q.by); err != nil {
		return err
	}
	d.Health = map[bot.ChannelName]bool{}
	for _, h := range s.health() {
		d.Health[h.Channel] = h.Connected
	}
	q.pageWith(s, "overview", d, q.flash(s), "")
	return nil
}

func (s *Server) pause(q *request) error {
	return s.act(q, s.co.Sending.Pause(q.ctx(), q.by), Prefix+"/", messages.DashPaused)
}

func (s *Server) resume(q *request) error {
	return s.act(q, s.co.Sending.Resume(q.ctx(), q.by), Prefix+"/", messages.DashResumed)
}

// act ends an action that has no form to show again: back to path, with
// its news or why it did not happen.
func (s *Server) act(q *request, err error, path string, done messages.Key) error {
	if err != nil {
		if text, _, ok := s.explain(q.lang, err); ok {
			http.Error(q.w, text, http.StatusUnprocessableEntity)
			return nil
		}
		return err
	}
	q.done(path, string(done))
	return nil
}

// campaignRow is one campaign in the list.
type campaignRow struct {
	Campaign *store.Campaign
	Counts   store.Counts
	Active   bool
}

func (s *Server) campaigns(q *request) error {
	all, err := s.co.Campaigns.All(q.ctx())
	if err != nil {
		return err
	}
	rows := make([]campaignRow, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		n, err := s.co.Campaigns.Counts(q.ctx(), all[i].ID)
		if err != nil {
			return err
		}
		rows = append(rows, campaignRow{Campaign: &all[i], Counts: n, Active: s.co.Campaigns.Active(&all[i])})
	}
	q.pageWith(s, "campaigns", rows, q.flash(s), "")
	return nil
}

// campaignForm is a campaign being written, with the field that is wrong.
type campaignForm struct {
	Draft  coalition.Draft
	Field  string
	Edit   *store.Campaign
	Kinds  []store.CampaignKind
	Target string
}

func (s *Server) newCampaign(q *request) error {
	now := s.now()
	q.page(s, "campaign_form", campaignForm{Draft: coalition.Draft{Kind: store.KindPledge, StartAt: now}, Kinds: kinds()})
	return nil
}

func kinds() []store.CampaignKind {
	return []store.CampaignKind{store.KindPledge, store.KindEvent, store.KindBoth}
}

// localTime reads a datetime-local field in the coalition's zone; empty is zero.
func (s *Server) localTime(v string) (time.Time, bool) {
	v = strings.TrimSpace(messages.ToASCIIDigits(v))
	if v == "" {
		return time.Time{}, true
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", v, s.loc)
	return t, err == nil
}

// draftOf reads a campaign form; a field that cannot be read is named.
func (s *Server) draftOf(q *request) (coalition.Draft, string) {
	f := q.r.PostFormValue
	d := coalition.Draft{
		Code: strings.TrimSpace(f("code")), TitleAR: strings.TrimSpace(f("title_ar")), TitleEN: strings.TrimSpace(f("title_en")),
		CallAR: strings.TrimSpace(f("call_ar")), CallEN: strings.TrimSpace(f("call_en")),
		Kind: store.CampaignKind(f("kind")), EventPlace: strings.TrimSpace(f("place")),
	}
	if t := strings.TrimSpace(f("target")); t != "" {
		n, ok := messages.ParseNumber(t)
		if !ok {
			return d, "target"
		}
		d.Target = n
	}
	var ok bool
	for _, field := range []struct {
		name string
		into *time.Time
	}{{"start", &d.StartAt}, {"end", &d.EndAt}, {"event_at", &d.EventAt}} {
		if *field.into, ok = s.localTime(f(field.name)); !ok {
			return d, field.name
		}
	}
	if d.StartAt.IsZero() {
		d.StartAt = s.now()
	}
	return d, ""
}

func (s *Server) createCampaign(q *request) error {
	d, bad := s.draftOf(q)
	form := campaignForm{Draft: d, Kinds: kinds(), Target: q.r.PostFormValue("target")}
	if bad != "" {
		form.Field = bad
		q.pageWith(s, "campaign_form", form, "", s.cat.Text(q.lang, messages.DashBadValue, nil))
		return nil
	}
	c, err := s.co.Campaigns.Create(q.ctx(), q.by, d)
	if err != nil {
		text, field, ok := s.explain(q.lang, err)
		if !ok {
			return err
		}
		form.Field = field
		q.pageWith(s, "campaign_form", form, "", text)
		return nil
	}
	q.done(Prefix+"/campaigns/"+strconv.FormatUint(c.ID, 10), string(messages.DashCampaignCreated))
	return nil
}

// pathID reads the {id} of the path.
func pathID(q *request) (uint64, error) {
	id, err := strconv.ParseUint(q.r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, coalition.ErrNotFound
	}
	return id, nil
}

// campaignPage is one campaign's page.
type campaignPage struct {
	Card campaignCard
	Form campaignForm
	Link string
}

func (s *Server) campaignPage(q *request, c *store.Campaign, form campaignForm, problem string) error {
	card, err := s.card(q, c)
	if err != nil {
		return err
	}
	form.Edit, form.Kinds = c, kinds()
	flash := q.flash(s)
	q.pageWith(s, "campaign", campaignPage{Card: card, Form: form, Link: s.co.Campaigns.StartLink(bot.Telegram, c.Code)}, flash, problem)
	return nil
}

func (s *Server) campaign(q *request) error {
	id, err := pathID(q)
	if err != nil {
		return err
	}
	c, err := s.co.Campaigns.Get(q.ctx(), id)
	if err != nil {
		return err
	}
	d := coalition.Draft{Code: c.Code, TitleAR: c.TitleAR, TitleEN: c.TitleEN, CallAR: c.CallAR, CallEN: c.CallEN, Kind: c.Kind,
		Target: c.Target, StartAt: c.StartAt, EndAt: c.EndAt, EventAt: c.EventAt, EventPlace: c.EventPlace}
	return s.campaignPage(q, c, campaignForm{Draft: d, Target: strconv.Itoa(c.Target)}, "")
}

func (s *Server) editCampaign(q *request) error {
	id, err := pathID(q)
	if err != nil {
		return err
	}
	c, err := s.co.Campaigns.Get(q.ctx(), id)
	if err != nil {
		return err
	}
	d, bad := s.draftOf(q)
	form := campaignForm{Draft: d, Field: bad, Target: q.r.PostFormValue("target")}
	if bad != "" {
		return s.campaignPage(q, c, form, s.cat.Text(q.lang, messages.DashBadValue, nil))
	}
	ch := coalition.Change{TitleAR: &d.TitleAR, TitleEN: &d.TitleEN, CallAR: &d.CallAR, CallEN: &d.CallEN, EndAt: &d.EndAt}
	if c.Kind.HasPledge() {
		ch.Target = &d.Target
	}
	if c.Kind.HasEvent() {
		ch.EventAt, ch.EventPlace = &d.EventAt, &d.EventPlace
	}
	if _, err := s.co.Campaigns.Edit(q.ctx(), q.by, c.Code, ch); err != nil {
		text, field, ok := s.explain(q.lang, err)
		if !ok {
			return err
		}
		form.Field = field
		return s.campaignPage(q, c, form, text)
	}
	q.done(Prefix+"/campaigns/"+strconv.FormatUint(id, 10), string(messages.DashCampaignSaved))
	return nil
}

func (s *Server) closeCampaign(q *request) error {
	id, err := pathID(q)
	if err != nil {
		return err
	}
	c, err := s.co.Campaigns.Get(q.ctx(), id)
	if err != nil {
		return err
	}
	_, err = s.co.Campaigns.Close(q.ctx(), q.by, c.Code)
	return s.act(q, err, Prefix+"/campaigns/"+strconv.FormatUint(id, 10), messages.DashCampaignClosed)
}

func (s *Server) reopenCampaign(q *request) error {
	id, err := pathID(q)
	if err != nil {
		return err
	}
	c, err := s.co.Campaigns.Get(q.ctx(), id)
	if err != nil {
		return err
	}
	end, ok := s.localTime(q.r.PostFormValue("end"))
	if !ok {
		http.Error(q.w, s.cat.Text(q.lang, messages.DashBadValue, nil), http.StatusUnprocessableEntity)
		return nil
	}
	_, err = s.co.Campaigns.Reopen(q.ctx(), q.by, c.Code, end)
	return s.act(q, err, Prefix+"/campaigns/"+strconv.FormatUint(id, 10), messages.DashCampaignReopened)
}

// broadcastsPage is the broadcasts page: the composer, the queue, the history.
type broadcastsPage struct {
	Draft     coalition.BroadcastDraft
	Campaigns []store.Campaign
	Field     string
	Preview   *coalition.Preview
	Copies    []copyPreview
	Awaiting  []store.Broadcast
	History   []store.Broadcast
	Campaign  map[uint64]*store.Campaign
	Threshold int
	// MediaLine names the draft's file, if it has one.
	MediaLine string
}

// copyPreview is a draft as one channel shows it in one language.
type copyPreview struct {
	Channel bot.ChannelName
	Lang    string
	Text    string
	Button  string
}

// broadcastDraftOf reads the composer's form.
func broadcastDraftOf(q *request) coalition.BroadcastDraft {
	f := q.r.FormValue
	cid, _ := strconv.ParseUint(f("campaign"), 10, 64)
	return coalition.BroadcastDraft{
		CampaignID: cid, TextAR: strings.TrimSpace(f("text_ar")), TextEN: strings.TrimSpace(f("text_en")),
		Audience: store.Audience{Kind: store.AudienceKind(f("audience")), Governorate: f("governorate"), Lang: f("aud_lang"), CampaignID: cid},
		Urgent:   f("urgent") == "on",
	}
}

func (s *Server) broadcastsData(q *request, d coalition.BroadcastDraft) (broadcastsPage, error) {
	p := broadcastsPage{Draft: d, Campaign: map[uint64]*store.Campaign{}, Threshold: s.co.Broadcasts.Threshold()}
	all, err := s.co.Campaigns.All(q.ctx())
	if err != nil {
		return p, err
	}
	for i := range all {
		p.Campaign[all[i].ID] = &all[i]
		if !all[i].Closed {
			p.Campaigns = append(p.Campaigns, all[i])
		}
	}
	if q.admin() {
		if p.Awaiting, err = s.co.Broadcasts.Awaiting(q.ctx(), q.by); err != nil {
			return p, err
		}
	}
	p.History, err = s.co.Broadcasts.Recent(q.ctx(), q.by, 50)
	return p, err
}

func (s *Server) broadcasts(q *request) error {
	p, err := s.broadcastsData(q, coalition.BroadcastDraft{Audience: store.Audience{Kind: store.AudienceEveryone}})
	if err != nil {
		return err
	}
	q.pageWith(s, "broadcasts", p, q.flash(s), "")
	return nil
}

// composeBroadcast previews, test-sends or submits the composer's draft,
// as its button says.
func (s *Server) composeBroadcast(q *request) error {
	d := broadcastDraftOf(q)
	p, err := s.broadcastsData(q, d)
	if err != nil {
		return err
	}
	refuse := func(err error) error {
		text, field, ok := s.explain(q.lang, err)
		if !ok {
			return err
		}
		p.Field = field
		q.pageWith(s, "broadcasts", p, "", text)
		return nil
	}
	m, err := s.uploadedMedia(q)
	if err != nil {
		return refuse(err)
	}
	d.Media, p.Draft.Media = m, m
	if m != nil {
		p.MediaLine = s.co.Words().MediaLine(q.lang, m)
	}
	switch q.r.PostFormValue("action") {
	case "test":
		if err := s.co.Broadcasts.SendTest(q.ctx(), q.by, d); err != nil {
			return refuse(err)
		}
		if err := s.preview(q, &p); err != nil {
			return refuse(err)
		}
		q.pageWith(s, "broadcasts", p, s.cat.Text(q.lang, messages.DashTestSent, nil), "")
		return nil
	case "submit":
		res, err := s.co.Broadcasts.Submit(q.ctx(), q.by, d)
		if err != nil {
			return refuse(err)
		}
		done := messages.DashBroadcastQueued
		if res.AwaitingApproval {
			done = messages.DashBroadcastAwaiting
		}
		q.done(Prefix+"/broadcasts/"+strconv.FormatUint(res.Broadcast.ID, 10), string(done))
		return nil
	}
	if err := s.preview(q, &p); err != nil {
		return refuse(err)
	}
	q.page(s, "broadcasts", p)
	return nil
}

// preview fills the counts of the draft and its copies as each channel shows them.
func (s *Server) preview(q *request, p *broadcastsPage) error {
	if err := p.Draft.Audience.Validate(); err != nil {
		return &coalition.InvalidError{Field: "audience", Reason: messages.ErrChooseOption}
	}
	pv, err := s.co.Broadcasts.Preview(q.ctx(), q.by, p.Draft)
	if err != nil {
		return err
	}
	p.Preview = &pv
	from, err := s.co.OrganiserOf(q.ctx(), pv.Organiser)
	if err != nil {
		return err
	}
	for _, lang := range messages.Langs() {
		for _, ch := range []bot.ChannelName{bot.Telegram, bot.WhatsApp} {
			text, buttons := s.words.Message(from, p.Draft.TextAR, p.Draft.TextEN, pv.Campaign, lang, ch, s.cat.Text(lang, messages.DashSampleName, nil), coalition.SampleCode)
			cp := copyPreview{Channel: ch, Lang: lang, Text: text}
			if len(buttons) > 0 && len(buttons[0]) > 0 {
				cp.Button = buttons[0][0].Text
			}
			p.Copies = append(p.Copies, cp)
		}
	}
	return nil
}

// countAudience answers the composer's script: who the audience reaches,
// per channel, and how long sending takes.
func (s *Server) countAudience(q *request) error {
	d := broadcastDraftOf(q)
	type channelCount struct {
		Channel, Name, Count, Time string
	}
	out := struct {
		Total         string         `json:"total"`
		Channels      []channelCount `json:"channels"`
		NeedsApproval bool           `json:"needs_approval"`
		Note          string         `json:"note"`
	}{}
	if d.Audience.Validate() == nil {
		pv, err := s.co.Broadcasts.Preview(q.ctx(), q.by, d)
		if err != nil && !errors.Is(err, coalition.ErrNotFound) {
			return err
		}
		out.Total = messages.FormatNumber(q.lang, pv.Total)
		for _, c := range pv.PerChannel {
			out.Channels = append(out.Channels, channelCount{string(c.Channel), s.cat.Text(q.lang, messages.ChannelKey(string(c.Channel)), nil),
				messages.FormatNumber(q.lang, c.Count), s.words.About(q.lang, c.Duration)})
		}
		out.NeedsApproval = pv.NeedsApproval
		out.Note = s.cat.Count(q.lang, messages.DashRecipients, pv.Total, nil) + " — " + s.words.About(q.lang, pv.Longest)
		if pv.NeedsApproval {
			out.Note += " · " + s.cat.Text(q.lang, messages.DashNeedsApproval, nil)
		}
	}
	q.w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(q.w).Encode(out)
}

// broadcastPage is one broadcast with its progress.
type broadcastPage struct {
	B        *store.Broadcast
	Campaign *store.Campaign
	Mine     bool
}

func (s *Server) getBroadcast(q *request) (*store.Broadcast, error) {
	id, err := pathID(q)
	if err != nil {
		return nil, err
	}
	return s.co.Broadcasts.Get(q.ctx(), q.by, id)
}

func (s *Server) broadcast(q *request) error {
	b, err := s.getBroadcast(q)
	if err != nil {
		return err
	}
	p := broadcastPage{B: b, Mine: b.CreatedBy == q.by.Person}
	if b.CampaignID != 0 {
		if p.Campaign, err = s.co.Campaigns.Get(q.ctx(), b.CampaignID); err != nil && !errors.Is(err, coalition.ErrNotFound) {
			return err
		}
	}
	q.pageWith(s, "broadcast", p, q.flash(s), "")
	return nil
}

// broadcastProgress answers the broadcast page's script.
func (s *Server) broadcastProgress(q *request) error {
	b, err := s.getBroadcast(q)
	if err != nil {
		return err
	}
	n := func(v int) string { return messages.FormatNumber(q.lang, v) }
	q.w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(q.w).Encode(map[string]any{
		"status": s.cat.Text(q.lang, messages.Key("dash.status."+string(b.Status)), nil), "closed": b.Closed(),
		"total": b.Total, "done": b.Sent + b.Failed + b.Blocked,
		"sent": n(b.Sent), "failed": n(b.Failed), "blocked": n(b.Blocked), "left": n(b.Left()),
	})
}

func (s *Server) decideBroadcast(q *request) error {
	id, err := pathID(q)
	if err != nil {
		return err
	}
	path := Prefix + "/broadcasts/" + strconv.FormatUint(id, 10)
	switch q.r.PathValue("verb") {
	case "approve":
		_, err = s.co.Broadcasts.Approve(q.ctx(), q.by, id)
		return s.act(q, err, path, messages.DashBroadcastApproved)
	case "reject":
		_, err = s.co.Broadcasts.Reject(q.ctx(), q.by, id)
		return s.act(q, err, path, messages.DashBroadcastRejected)
	case "cancel":
		_, _, err = s.co.Broadcasts.Cancel(q.ctx(), q.by, id)
		return s.act(q, err, path, messages.DashBroadcastCancelled)
	}
	return coalition.ErrNotFound
}

// reminderRow is a reminder with its schedule in words and next times.
type reminderRow struct {
	R        store.Reminder
	When     string
	Next     []time.Time
	Campaign *store.Campaign
}

// remindersPage is the reminders page.
type remindersPage struct {
	Rows      []reminderRow
	Campaigns []store.Campaign
	Draft     coalition.BroadcastDraft
	When      string
	Field     string
}

func (s *Server) remindersData(q *request) (remindersPage, error) {
	var p remindersPage
	rs, err := s.co.Reminders.Upcoming(q.ctx(), q.by)
	if err != nil {
		return p, err
	}
	all, err := s.co.Campaigns.All(q.ctx())
	if err != nil {
		return p, err
	}
	byID := map[uint64]*store.Campaign{}
	for i := range all {
		byID[all[i].ID] = &all[i]
		if !all[i].Closed {
			p.Campaigns = append(p.Campaigns, all[i])
		}
	}
	for i := range rs {
		p.Rows = append(p.Rows, reminderRow{R: rs[i], When: s.co.Reminders.Describe(&rs[i], q.lang), Next: s.co.Reminders.NextTimes(&rs[i], 3), Campaign: byID[rs[i].CampaignID]})
	}
	return p, nil
}

func (s *Server) reminders(q *request) error {
	p, err := s.remindersData(q)
	if err != nil {
		return err
	}
	p.Draft.Audience.Kind = store.AudienceEveryone
	q.pageWith(s, "reminders", p, q.flash(s), "")
	return nil
}

func (s *Server) createReminder(q *request) error {
	p, err := s.remindersData(q)
	if err != nil {
		return err
	}
	b := broadcastDraftOf(q)
	p.Draft, p.When = b, q.r.PostFormValue("repeat")
	d := coalition.ReminderDraft{CampaignID: b.CampaignID, TextAR: b.TextAR, TextEN: b.TextEN, Audience: b.Audience}
	problem := func(field string, text string) error {
		p.Field = field
		q.pageWith(s, "reminders", p, "", text)
		return nil
	}
	if p.When != "" {
		sch, err := schedule.Parse(p.When, s.now(), s.loc)
		if err != nil {
			return problem("repeat", s.cat.Text(q.lang, messages.DashBadSchedule, nil))
		}
		d.Schedule = &sch
	} else {
		at, ok := s.localTime(q.r.PostFormValue("at"))
		if !ok || at.IsZero() {
			return problem("at", s.cat.Text(q.lang, messages.DashBadValue, nil))
		}
		d.At = at
	}
	res, err := s.co.Reminders.Create(q.ctx(), q.by, d)
	if err != nil {
		text, field, ok := s.explain(q.lang, err)
		if !ok {
			return err
		}
		return problem(field, text)
	}
	done := messages.DashReminderCreated
	if res.AwaitingApproval {
		done = messages.DashReminderAwaiting
	}
	q.done(Prefix+"/reminders", string(done))
	return nil
}

func (s *Server) decideReminder(q *request) error {
	id, err := pathID(q)
	if err != nil {
		return err
	}
	switch q.r.PathValue("verb") {
	case "cancel":
		_, err = s.co.Reminders.Cancel(q.ctx(), q.by, id)
		return s.act(q, err, Prefix+"/reminders", messages.DashReminderCancelled)
	case "approve":
		_, err = s.co.Reminders.Approve(q.ctx(), q.by, id)
		return s.act(q, err, Prefix+"/reminders", messages.DashReminderApproved)
	case "reject":
		_, err = s.co.Reminders.Reject(q.ctx(), q.by, id)
		return s.act(q, err, Prefix+"/reminders", messages.DashReminderRejected)
	}
	return coalition.ErrNotFound
}

// institutionsPage is the admins' page of institutions and staff.
type institutionsPage struct {
	Pending   []store.Institution
	Staff     coalition.Staff
	Appointed map[uint64]time.Time
}

func (s *Server) institutions(q *request) error {
	var p institutionsPage
	var err error
	if p.Pending, err = s.co.Institutions.Pending(q.ctx(), q.by); err != nil {
		return err
	}
	if p.Staff, err = s.co.Members.Staff(q.ctx(), q.by); err != nil {
		return err
	}
	// when each coordinator was appointed, from the audit log
	log, err := s.co.Members.AuditLog(q.ctx(), q.by, coalition.AuditFilter{Action: "coordinator_appointed", Limit: 1000})
	if err != nil {
		return err
	}
	p.Appointed = map[uint64]time.Time{}
	for _, e := range log.Entries {
		id, _ := strconv.ParseUint(e.Details["contact_id"], 10, 64)
		if _, seen := p.Appointed[id]; !seen {
			p.Appointed[id] = e.At
		}
	}
	q.pageWith(s, "institutions", p, q.flash(s), "")
	return nil
}

func (s *Server) decideInstitution(q *request) error {
	id, err := pathID(q)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(q.r.PostFormValue("reason"))
	switch q.r.PathValue("verb") {
	case "approve":
		_, err = s.co.Institutions.Approve(q.ctx(), q.by, id, reason)
		return s.act(q, err, Prefix+"/institutions", messages.DashInstitutionApproved)
	case "reject":
		_, err = s.co.Institutions.Reject(q.ctx(), q.by, id, reason)
		return s.act(q, err, Prefix+"/institutions", messages.DashInstitutionRejected)
	}
	return coalition.ErrNotFound
}

func (s *Server) changeRole(q *request) error {
	who, err := s.co.Members.FindPerson(q.ctx(), q.r.PostFormValue("person"))
	if errors.Is(err, coalition.ErrNotFound) {
		http.Error(q.w, s.cat.Text(q.lang, messages.AdminNoPerson, map[string]any{"Who": messages.Isolate(q.r.PostFormValue("person"))}), http.StatusUnprocessableEntity)
		return nil
	}
	if err != nil {
		return err
	}
	switch q.r.PathValue("verb") {
	case "appoint":
		_, err = s.co.Members.Appoint(q.ctx(), q.by, who)
		return s.act(q, err, Prefix+"/institutions", messages.DashAppointed)
	case "dismiss":
		_, err = s.co.Members.Dismiss(q.ctx(), q.by, who)
		return s.act(q, err, Prefix+"/institutions", messages.DashDismissed)
	}
	return coalition.ErrNotFound
}

// auditPage is the audit log with its filter.
type auditPage struct {
	Log                        coalition.AuditPage
	Person, Action, From, To   string
	PersonProblem, DateProblem bool
}

func (s *Server) audit(q *request) error {
	v := q.r.URL.Query()
	p := auditPage{Person: v.Get("person"), Action: v.Get("action"), From: v.Get("from"), To: v.Get("to")}
	f := coalition.AuditFilter{Action: p.Action}
	if p.Person != "" {
		c, err := s.co.Members.FindPerson(q.ctx(), p.Person)
		if err != nil {
			p.PersonProblem = true
			f.Person = ^uint64(0) // no one: an unknown person did nothing
		} else {
			f.Person = c.ID
		}
	}
	for _, d := range []struct {
		v    string
		into *time.Time
		next bool
	}{{p.From, &f.From, false}, {p.To, &f.To, true}} {
		if d.v == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, messages.ToASCIIDigits(d.v), s.loc)
		if err != nil {
			p.DateProblem = true
			continue
		}
		if d.next {
			t = t.AddDate(0, 0, 1) // "to" includes its day
		}
		*d.into = t
	}
	var err error
	if p.Log, err = s.co.Members.AuditLog(q.ctx(), q.by, f); err != nil {
		return err
	}
	q.page(s, "audit", p)
	return nil
}

func (s *Server) exports(q *request) error {
	q.page(s, "exports", s.co.Exports.Files())
	return nil
}

// download sends one CSV file.
func (s *Server) download(q *request) error {
	file := q.r.PostFormValue("file")
	personal := q.r.PostFormValue("personal") == "on"
	if !q.admin() && personal {
		return coalition.ErrNotAllowed
	}
	if !slices.Contains(s.co.Exports.Files(), file) {
		return coalition.ErrNotFound
	}
	name := strings.TrimSuffix(file, ".csv")
	if personal {
		name += "-personal"
	}
	h := q.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+"-"+s.now().In(s.loc).Format("2006-01-02")+`.csv"`)
	_, err := s.co.Exports.Write(q.ctx(), q.by, file, personal, q.w)
	return err
}
