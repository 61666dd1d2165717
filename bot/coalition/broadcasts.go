package coalition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/messages"
	"mobilise/store"
)

// approvalSlack is how far an audience may grow past the count a second
// person approved before a send needs approving again: an approval of 600
// people covers 660.
const approvalSlack = 10 // percent

// syncFill is the largest audience queued before the submit or approval
// returns; a larger one is queued by the filler (Broadcasts.Run) in chunks.
const syncFill = 2000

// Broadcasts are coordinators' messages to an audience: drafted, shown,
// approved by a second person when large, sent at the platforms' pace.
type Broadcasts struct{ *rules }

// BroadcastDraft is a broadcast as its author describes it.
type BroadcastDraft struct {
	CampaignID     uint64
	TextAR, TextEN string
	// Audience is who it goes to; an institution's broadcast to its own
	// supporters sets Audience.Institution, and without it reaches the
	// whole coalition's audience, which takes the coalition's approval.
	Audience store.Audience
	Urgent   bool
	// Organiser is whom it is from: none for the coalition.
	Organiser store.Organiser
	// Media is the poster, PDF or video every copy carries (Media.Keep).
	Media *store.Media
}

// ChannelCount is how many people an audience reaches on one channel, and
// how long sending to them takes.
type ChannelCount struct {
	Channel  bot.ChannelName
	Count    int
	Duration time.Duration
}

// Preview is what a broadcast would do if sent now.
type Preview struct {
	Campaign   *store.Campaign
	Total      int
	PerChannel []ChannelCount
	Longest    time.Duration
	// NeedsApproval: a second person must approve it; RecentSends are the
	// author's unapproved bulk sends of the last 24 hours, counted with it.
	NeedsApproval bool
	RecentSends   int
	// StartsAt is when sending would start: the end of quiet hours, unless
	// urgent; zero for now.
	StartsAt time.Time
	// Paused is set when an admin has paused all sending.
	Paused *store.Pause
	// Organiser is whom it is from, as Submit will store it.
	Organiser store.Organiser
	// OutsideScope: it reaches beyond its institution's supporters, so
	// the coalition must approve it, however few it reaches.
	OutsideScope bool
}

// campaignOf loads a draft's campaign; nil for none.
func (b *Broadcasts) campaignOf(ctx context.Context, id uint64) (*store.Campaign, error) {
	if id == 0 {
		return nil, nil
	}
	c, err := b.st.Campaign(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	return c, nil
}

// recipients lists who an audience reaches now, on the channels the bot runs.
func (r *rules) recipients(ctx context.Context, aud store.Audience) ([]store.Recipient, error) {
	rs, err := r.st.Recipients(ctx, aud, r.out.Has)
	if err != nil {
		return nil, fmt.Errorf("selecting the audience: %w", notFound(err))
	}
	return rs, nil
}

// count counts who an audience reaches now, on the channels the bot runs,
// from the store's audience counters: as quick for everyone as for a few.
func (r *rules) count(ctx context.Context, aud store.Audience) (store.AudienceCount, error) {
	n, err := r.st.CountAudience(ctx, aud, r.out.Has)
	if err != nil {
		return store.AudienceCount{}, fmt.Errorf("counting the audience: %w", notFound(err))
	}
	return n, nil
}

// recentUnapproved counts the people the author's unapproved bulk sends of
// the last 24 hours reached.
func (r *rules) recentUnapproved(ctx context.Context, author uint64, self sendRef) (int, error) {
	sends, err := r.st.BulkSentSince(ctx, author, r.now().Add(-24*time.Hour))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range sends {
		if !s.Approved && (s.Kind != self.kind || s.ID != self.id) {
			n += s.Recipients
		}
	}
	return n, nil
}

// sendRef names a bulk send in the ledger: a recurring reminder's own
// earlier firings reached the same people and do not count against it.
type sendRef struct {
	kind string
	id   uint64
}

// needsApproval is the rule of the second person: a bulk send to more than
// the threshold, counted with its author's unapproved sends of the last 24
// hours (so splitting an audience does not avoid it), takes an admin other
// than its author. It holds for admins too: an admin's account can be
// stolen. A send by an institution's people beyond its own supporters
// (beyondScope) takes the same approval whatever its size.
func (r *rules) needsApproval(ctx context.Context, author uint64, aud store.Audience, n int, self sendRef) (bool, int, error) {
	beyond, err := r.beyondScope(ctx, author, aud)
	if err != nil {
		return false, 0, err
	}
	if r.threshold <= 0 && !beyond {
		return false, 0, nil
	}
	recent, err := r.recentUnapproved(ctx, author, self)
	if err != nil {
		return false, 0, err
	}
	return beyond || n+recent > r.threshold, recent, nil
}

// covered reports whether an approval of approved people covers n.
func covered(approved, n int) bool {
	return approved > 0 && n*100 <= approved*(100+approvalSlack)
}

// pauseState returns the kill switch if it is on.
func (r *rules) pauseState(ctx context.Context) (*store.Pause, error) {
	p, err := r.st.Pause(ctx)
	if err != nil {
		return nil, err
	}
	if !p.Paused {
		return nil, nil
	}
	return &p, nil
}

// Preview says who a broadcast reaches, on which channels, how long it
// takes, whether it needs a second person and when it would start. The
// coalition's coordinators and admins send in the coalition's name; an
// institution's people in their institution's (checkDraft).
func (b *Broadcasts) Preview(ctx context.Context, by Actor, d BroadcastDraft) (Preview, error) {
	var p Preview
	var err error
	if p.Organiser, p.Campaign, err = b.checkDraft(ctx, by, &d); err != nil {
		return Preview{}, err
	}
	n, err := b.count(ctx, d.Audience)
	if err != nil {
		return p, err
	}
	p.Total = n.Total
	// in the order the bot's channels are configured
	for _, ch := range b.out.Channels() {
		if n.PerChannel[ch] == 0 {
			continue
		}
		dur := b.estimate(ch, n.PerChannel[ch])
		p.Longest = max(p.Longest, dur)
		p.PerChannel = append(p.PerChannel, ChannelCount{Channel: ch, Count: n.PerChannel[ch], Duration: dur})
	}
	if p.NeedsApproval, p.RecentSends, err = b.needsApproval(ctx, by.Person, d.Audience, p.Total, sendRef{}); err != nil {
		return p, err
	}
	if p.OutsideScope, err = b.beyondScope(ctx, by.Person, d.Audience); err != nil {
		return p, err
	}
	if !d.Urgent {
		p.StartsAt = b.quiet.HoldUntil(b.now(), b.loc)
	}
	p.Paused, err = b.pauseState(ctx)
	return p, err
}

// estimate says how long n bulk messages on channel take.
func (r *rules) estimate(ch bot.ChannelName, n int) time.Duration {
	if r.estimator != nil {
		return r.estimator.Estimate(ch, n)
	}
	return time.Duration(n) * time.Second / 30
}

// TestCopy is the broadcast as one recipient would get it, in the
// author's language and on their channel: a test send to themself.
func (b *Broadcasts) TestCopy(ctx context.Context, by Actor, d BroadcastDraft) (string, [][]bot.Button, error) {
	org, c, err := b.checkDraft(ctx, by, &d)
	if err != nil {
		return "", nil, err
	}
	me, err := b.st.Contact(ctx, by.Person)
	if err != nil {
		return "", nil, notFound(err)
	}
	from, err := b.from(ctx, org)
	if err != nil {
		return "", nil, err
	}
	text, buttons := b.words().Message(from, d.TextAR, d.TextEN, c, by.Lang, by.From.Channel, me.Name, "")
	return text, buttons, nil
}

// checkDraft checks who may send a draft, in whose name and to whom
// (organiserFor, checkReach), and returns its organiser and campaign.
func (b *Broadcasts) checkDraft(ctx context.Context, by Actor, d *BroadcastDraft) (store.Organiser, *store.Campaign, error) {
	if ok, err := b.mayOrganise(ctx, by); err != nil || !ok {
		return store.Organiser{}, nil, errors.Join(err, notAllowedUnless(ok))
	}
	org, err := b.organiserFor(ctx, by, d.Organiser)
	if err != nil {
		return org, nil, err
	}
	c, err := b.campaignOf(ctx, d.CampaignID)
	if err != nil {
		return org, nil, err
	}
	d.Audience.CampaignID = d.CampaignID
	return org, c, b.checkReach(ctx, by, org, d.Audience, c)
}

// Submitted is what Submit did.
type Submitted struct {
	Broadcast *store.Broadcast
	Preview   Preview
	// AwaitingApproval: it waits for an admin other than its author.
	AwaitingApproval bool
}

// Submit stores a broadcast and either queues it or, when it needs a second
// person, holds it and asks every admin but its author, showing everything
// that will go out. Every text goes into the audit log. It is the only way
// a broadcast leaves.
func (b *Broadcasts) Submit(ctx context.Context, by Actor, d BroadcastDraft) (Submitted, error) {
	return b.submit(ctx, by, d, nil)
}

// submit is Submit; attach, if given, runs in the unit of work once the
// broadcast is stored and before anything is queued: a poll is tied to the
// broadcast that carries it there.
func (b *Broadcasts) submit(ctx context.Context, by Actor, d BroadcastDraft, attach func(ctx context.Context, bc *store.Broadcast) error) (Submitted, error) {
	if ok, err := b.mayOrganise(ctx, by); err != nil || !ok {
		return Submitted{}, errors.Join(err, notAllowedUnless(ok))
	}
	d.TextAR, d.TextEN = messages.CleanText(d.TextAR), messages.CleanText(d.TextEN)
	switch {
	case strings.TrimSpace(d.TextAR) == "":
		return Submitted{}, invalid("text_ar", messages.ErrInputEmpty)
	case !HasArabic(d.TextAR):
		// an emoji or a Latin text is no message for the Arabic readers
		return Submitted{}, invalid("text_ar", messages.ErrNeedArabic)
	}
	d.Audience.CampaignID = d.CampaignID
	if err := d.Audience.Validate(); err != nil {
		return Submitted{}, invalid("audience", messages.ErrChooseOption)
	}
	if err := b.checkMedia(d.Media); err != nil {
		return Submitted{}, err
	}
	p, err := b.Preview(ctx, by, d)
	if err != nil {
		return Submitted{}, err
	}
	if p.Total == 0 {
		return Submitted{Preview: p}, ErrNobody
	}
	bc := &store.Broadcast{
		CampaignID: d.CampaignID, TextAR: d.TextAR, TextEN: d.TextEN, Audience: d.Audience, Urgent: d.Urgent,
		CreatedBy: by.Person, CreatedAt: b.now().UTC(), Status: store.BroadcastAwaitingApproval, Recipients: p.Total,
		Organiser: p.Organiser,
		Media:     d.Media,
	}
	out := Submitted{Broadcast: bc, Preview: p, AwaitingApproval: p.NeedsApproval}
	err = b.st.InTx(ctx, func(ctx context.Context) error {
		if err := b.st.CreateBroadcast(ctx, bc); err != nil {
			return fmt.Errorf("storing broadcast: %w", err)
		}
		if attach != nil {
			if err := attach(ctx, bc); err != nil {
				return err
			}
		}
		if err := b.audit(ctx, by.Person, "broadcast_created", map[string]string{
			"broadcast_id": strconv.FormatUint(bc.ID, 10), "audience": string(d.Audience.Kind), "recipients": strconv.Itoa(p.Total),
			"governorate": d.Audience.Governorate, "lang": d.Audience.Lang, "campaign_id": strconv.FormatUint(d.CampaignID, 10),
			"urgent": strconv.FormatBool(d.Urgent), "text_ar": d.TextAR, "text_en": d.TextEN,
			"needs_approval": strconv.FormatBool(p.NeedsApproval), "organiser": joinIDs(p.Organiser.Institutions),
			"institution": idDetail(d.Audience.Institution), "outside_scope": strconv.FormatBool(p.OutsideScope), "media": mediaSHA(d.Media),
		}); err != nil {
			return err
		}
		if p.NeedsApproval {
			return b.requestApproval(ctx, bc, p.Total)
		}
		return b.queue(ctx, bc.ID, 0, p.Total)
	})
	return out, err
}

// requestApproval asks every admin but the broadcast's author to approve
// it, showing every language's text, whether it is urgent, its campaign
// and button, and its audience with the number of people.
func (b *Broadcasts) requestApproval(ctx context.Context, bc *store.Broadcast, total int) error {
	c, err := b.campaignOf(ctx, bc.CampaignID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	author, err := b.st.Contact(ctx, bc.CreatedBy)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	poll, err := b.pollOfBroadcast(ctx, bc.ID)
	if err != nil {
		return err
	}
	audience, err := b.DescribeAudience(ctx, bc.Audience, c)
	if err != nil {
		return err
	}
	from, err := b.from(ctx, bc.Organiser)
	if err != nil {
		return err
	}
	w := b.words()
	id := strconv.FormatUint(bc.ID, 10)
	return b.notifyAdminsWith(ctx, bc.CreatedBy, "broadcast_approval", bc.Media, func(lang string) (string, [][]bot.Button) {
		content := w.Content(from, bc.TextAR, bc.TextEN, bc.Urgent, c, lang)
		if poll != nil {
			content = w.PollContent(from, poll, bc.TextAR, bc.TextEN, bc.Urgent, c, lang)
		}
		content = w.withMediaLine(content, lang, bc.Media)
		return b.cat.Text(lang, messages.BroadcastApprovalRequest, map[string]any{
				"ID": messages.FormatID(lang, bc.ID), "Who": w.Person(author, lang), "Audience": audience(lang),
				"Total": messages.FormatNumber(lang, total), "Covers": messages.FormatNumber(lang, total*(100+approvalSlack)/100),
				"Content": content,
			}), [][]bot.Button{{
				{Text: b.cat.Text(lang, messages.BroadcastApproveButton, nil), Payload: "/approvebroadcast " + id},
				{Text: b.cat.Text(lang, messages.BroadcastRejectButton, nil), Payload: "/rejectbroadcast " + id},
			}}
	})
}

// Content shows everything a bulk message carries, for the second person
// who approves it: every language's text, urgent or not, the campaign and
// the button people will see, and whom it says it is from.
func (w Words) Content(from From, textAR, textEN string, urgent bool, c *store.Campaign, lang string) string {
	none := w.Cat.Text(lang, messages.CommonNone, nil)
	en := textEN
	if strings.TrimSpace(en) == "" {
		en = w.Cat.Text(lang, messages.ApprovalNoEnglish, nil)
	}
	campaign, button := none, none
	if c != nil {
		campaign = Title(c, lang) + " (" + messages.Isolate(c.Code) + ")"
		button = w.Cat.Text(lang, messages.BroadcastOpenCampaign, nil)
	}
	urgency := w.Cat.Text(lang, messages.CommonNo, nil)
	if urgent {
		urgency = w.Cat.Text(lang, messages.CommonYes, nil)
	}
	return w.Cat.Text(lang, messages.ApprovalContent, map[string]any{
		"TextAR": textAR, "TextEN": en, "Urgent": urgency, "Campaign": campaign, "Button": button,
	}) + "\n" + w.approvalFrom(from, lang)
}

// approvalFrom is the line of an approval request that says in whose name
// the message goes out.
func (w Words) approvalFrom(from From, lang string) string {
	return w.Cat.Text(lang, messages.OrgApprovalFrom, map[string]any{"Organiser": w.Organiser(from, lang)})
}

// PollContent is Content for a broadcast that carries a poll: its body,
// which lists the options, the options as the buttons people press, and
// whom it says it is from.
func (w Words) PollContent(from From, p *store.Poll, textAR, textEN string, urgent bool, c *store.Campaign, lang string) string {
	var options []string
	for i := range p.Options {
		options = append(options, PollOption(p, i, lang))
	}
	en := textEN
	if strings.TrimSpace(en) == "" {
		en = w.Cat.Text(lang, messages.ApprovalNoEnglish, nil)
	}
	campaign := w.Cat.Text(lang, messages.CommonNone, nil)
	if c != nil {
		campaign = Title(c, lang) + " (" + messages.Isolate(c.Code) + ")"
	}
	urgency := w.Cat.Text(lang, messages.CommonNo, nil)
	if urgent {
		urgency = w.Cat.Text(lang, messages.CommonYes, nil)
	}
	return w.Cat.Text(lang, messages.ApprovalContent, map[string]any{
		"TextAR": textAR, "TextEN": en, "Urgent": urgency, "Campaign": campaign,
		"Button": strings.Join(options, w.Cat.Text(lang, messages.CommonListSep, nil)),
	}) + "\n" + w.approvalFrom(from, lang)
}

// queue moves an approved or small broadcast to queued and writes its
// messages: in the caller's unit of work when the audience is small,
// else by the filler once the unit commits. approver is the second person,
// 0 when none was needed; the send goes into the ledger.
func (b *Broadcasts) queue(ctx context.Context, id, approver uint64, total int) error {
	bc, err := b.st.UpdateBroadcast(ctx, id, func(bc *store.Broadcast) error {
		if bc.Status != store.BroadcastAwaitingApproval {
			return errClaimed
		}
		bc.ApprovedBy, bc.Status = approver, store.BroadcastQueued
		return nil
	})
	if errors.Is(err, errClaimed) {
		return ErrDecided
	}
	if err != nil {
		return fmt.Errorf("queueing broadcast %d: %w", id, err)
	}
	if err := b.st.RecordBulkSend(ctx, store.BulkSend{Author: bc.CreatedBy, Kind: "broadcast", ID: id, Recipients: total, Approved: approver != 0}); err != nil {
		return err
	}
	if bc, err = b.sign(ctx, bc); err != nil {
		return err
	}
	if total <= syncFill {
		if _, err := b.fill(ctx, bc); err != nil {
			return err
		}
		return nil
	}
	store.AfterCommit(ctx, b.wakeFiller)
	return nil
}

// sign gives a broadcast being queued the line that names whom it is from
// and its verification code, once: the call is recorded with the words as
// written and signed by the organiser, and the broadcast's texts get both
// lines, so every copy carries them and still refers to its broadcast's
// text in the outbox.
func (b *Broadcasts) sign(ctx context.Context, bc *store.Broadcast) (*store.Broadcast, error) {
	if _, err := b.st.CallOf(ctx, "broadcast", bc.ID); err == nil {
		return bc, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	from, err := b.from(ctx, bc.Organiser)
	if err != nil {
		return nil, err
	}
	w := b.words()
	byAR, byEN := w.Attributed(from, bc.TextAR, messages.Arabic), w.Attributed(from, bc.TextEN, messages.English)
	code, err := b.issue(ctx, store.Call{Kind: "broadcast", RefID: bc.ID, CampaignID: bc.CampaignID, TextAR: byAR, TextEN: byEN})
	if err != nil {
		return nil, err
	}
	signed, err := b.st.UpdateBroadcast(ctx, bc.ID, func(x *store.Broadcast) error {
		x.TextAR = w.Signed(byAR, code, messages.Arabic)
		if byEN != "" {
			x.TextEN = w.Signed(byEN, code, messages.English)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("signing broadcast %d: %w", bc.ID, err)
	}
	return signed, nil
}

// fill writes one outbox entry per person the audience reaches now, and
// wakes the dispatcher. The store reads the audience a chunk at a time and
// each chunk's messages are rendered and written before the next is read,
// in a transaction of its own unless ctx carries one, so memory holds one
// chunk whatever the audience, and a stop resumes where it was. The people
// a poll's broadcast reaches are recorded as asked before their chunk is
// written, so that none whose copy is queued has their answer refused.
func (b *Broadcasts) fill(ctx context.Context, bc *store.Broadcast) (int, error) {
	c, err := b.campaignOf(ctx, bc.CampaignID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	poll, err := b.pollOfBroadcast(ctx, bc.ID)
	if err != nil {
		return 0, err
	}
	w := b.words()
	written := false
	n, err := b.st.QueueBroadcastStream(ctx, bc.ID, b.out.Has, func(rs []store.Recipient) ([]store.OutboxEntry, error) {
		if written {
			// the chunk before is written: its messages go out while the rest is
			store.AfterCommit(ctx, b.out.Wake)
		}
		entries := make([]store.OutboxEntry, 0, len(rs))
		var asked []uint64
		for _, r := range rs {
			lang := messages.NormalizeLang(r.Lang)
			var text string
			var buttons [][]bot.Button
			if poll != nil {
				text, buttons = w.PollMessage(poll, bc.TextAR, bc.TextEN, lang, r.Address.Channel, r.Name)
				asked = append(asked, r.ContactID)
			} else {
				text, buttons = w.Copy(InLang(lang, bc.TextAR, bc.TextEN), c, lang, r.Address.Channel, r.Name)
			}
			entries = append(entries, store.OutboxEntry{
				To: r.Address, ContactID: r.ContactID, Text: text, Buttons: buttons,
				Lang: lang, Kind: store.KindBroadcast, Urgent: bc.Urgent, Media: bc.Media,
			})
		}
		if len(asked) > 0 {
			if err := b.st.MarkAsked(ctx, poll.ID, asked, b.askedAt(bc.Urgent)); err != nil {
				return nil, err
			}
		}
		written = len(entries) > 0
		return entries, nil
	})
	if err != nil {
		return n, fmt.Errorf("queueing broadcast %d: %w", bc.ID, notFound(err))
	}
	b.log.Info("broadcast queued", "broadcast_id", bc.ID, "recipients", n, "urgent", bc.Urgent)
	store.AfterCommit(ctx, b.out.Wake)
	return n, nil
}

// wakeFiller asks the filler to queue what is waiting.
func (r *rules) wakeFiller() {
	select {
	case r.filler <- struct{}{}:
	default:
	}
}

// Run queues the messages of large broadcasts, in chunks that resume after a
// crash, until ctx ends: at start (what a stop interrupted), when woken, and
// every minute.
func (b *Broadcasts) Run(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if err := b.Resume(ctx); err != nil && ctx.Err() == nil {
			b.log.Error("queueing broadcasts", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-b.filler:
		case <-t.C:
		}
	}
}

// Resume finishes queueing the broadcasts a stop interrupted; the store
// skips the recipients already queued.
func (b *Broadcasts) Resume(ctx context.Context) error {
	all, err := b.st.Broadcasts(ctx)
	if err != nil {
		return fmt.Errorf("listing broadcasts: %w", err)
	}
	var errs []error
	for i := range all {
		bc := &all[i]
		if bc.AllQueued || (bc.Status != store.BroadcastQueued && bc.Status != store.BroadcastSending) {
			continue
		}
		n, err := b.fill(ctx, bc)
		if err != nil && !errors.Is(err, store.ErrBroadcastClosed) {
			errs = append(errs, err)
			continue
		}
		b.log.Info("broadcast queueing resumed", "broadcast_id", bc.ID, "recipients", n)
	}
	return errors.Join(errs...)
}

// Approve is the second person's yes to a large broadcast: an admin who is
// not its author, across linked accounts too. It is queued at once.
func (b *Broadcasts) Approve(ctx context.Context, by Actor, id uint64) (*store.Broadcast, error) {
	return b.decide(ctx, by, id, true)
}

// Reject is the second person's no: the broadcast is cancelled and its author told.
func (b *Broadcasts) Reject(ctx context.Context, by Actor, id uint64) (*store.Broadcast, error) {
	return b.decide(ctx, by, id, false)
}

func (b *Broadcasts) decide(ctx context.Context, by Actor, id uint64, approve bool) (*store.Broadcast, error) {
	if !by.can(store.RoleAdmin) {
		return nil, ErrNotAllowed
	}
	bc, err := b.st.Broadcast(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if bc.Status != store.BroadcastAwaitingApproval {
		return bc, ErrDecided
	}
	author, err := b.st.Identity(ctx, bc.CreatedBy)
	if err != nil {
		return nil, err
	}
	if author == by.Person {
		return bc, ErrOwnApproval
	}
	if approve {
		grew, err := b.askAgainIfGrown(ctx, by, bc)
		if err != nil {
			return bc, err
		}
		if grew {
			return bc, ErrAudienceGrew
		}
	}
	err = b.st.InTx(ctx, func(ctx context.Context) error {
		action, key := "broadcast_rejected", messages.BroadcastRejected
		if approve {
			action, key = "broadcast_approved", messages.BroadcastApproved
			if err := b.queue(ctx, id, by.Person, bc.Recipients); err != nil {
				return err
			}
		} else {
			_, err := b.st.UpdateBroadcast(ctx, id, func(bc *store.Broadcast) error {
				if bc.Status != store.BroadcastAwaitingApproval {
					return errClaimed
				}
				bc.Status, bc.FinishedAt = store.BroadcastCancelled, b.now().UTC()
				return nil
			})
			if errors.Is(err, errClaimed) {
				return ErrDecided
			}
			if err != nil {
				return fmt.Errorf("rejecting broadcast %d: %w", id, err)
			}
		}
		if err := b.audit(ctx, by.Person, action, map[string]string{
			"broadcast_id": strconv.FormatUint(id, 10), "author": strconv.FormatUint(author, 10),
		}); err != nil {
			return err
		}
		return b.out.Notify(ctx, outbox.Notice{ContactID: author, Kind: "broadcast_decided", Render: func(lang string) (string, [][]bot.Button) {
			return b.cat.Text(lang, key, map[string]any{"ID": messages.FormatID(lang, id)}), nil
		}})
	})
	if err != nil {
		return bc, err
	}
	bc, err = b.st.Broadcast(ctx, id)
	return bc, err
}

// askAgainIfGrown counts a broadcast's audience at its approval: past what
// the request showed (and the slack an approval covers), it is not sent on
// that approval; it waits for the count it reaches now, and every admin but
// its author is asked again.
func (b *Broadcasts) askAgainIfGrown(ctx context.Context, by Actor, bc *store.Broadcast) (bool, error) {
	n, err := b.count(ctx, bc.Audience)
	if err != nil {
		return false, err
	}
	if covered(bc.Recipients, n.Total) {
		return false, nil
	}
	err = b.st.InTx(ctx, func(ctx context.Context) error {
		grown, err := b.st.UpdateBroadcast(ctx, bc.ID, func(x *store.Broadcast) error {
			if x.Status != store.BroadcastAwaitingApproval {
				return errClaimed
			}
			x.Recipients = n.Total
			return nil
		})
		if errors.Is(err, errClaimed) {
			return ErrDecided
		}
		if err != nil {
			return fmt.Errorf("recounting broadcast %d: %w", bc.ID, err)
		}
		if err := b.audit(ctx, by.Person, "broadcast_audience_grew", map[string]string{
			"broadcast_id": strconv.FormatUint(bc.ID, 10), "requested": strconv.Itoa(bc.Recipients), "recipients": strconv.Itoa(n.Total),
		}); err != nil {
			return err
		}
		return b.requestApproval(ctx, grown, n.Total)
	})
	return err == nil, err
}

// Cancel stops a broadcast: the one given, or with id 0 the actor's latest
// still running. A coordinator stops their own; an institution's
// representative stops its broadcasts; an admin stops anyone's. It returns
// the broadcast and how many unsent messages it removed.
func (b *Broadcasts) Cancel(ctx context.Context, by Actor, id uint64) (*store.Broadcast, int, error) {
	if ok, err := b.mayOrganise(ctx, by); err != nil || !ok {
		return nil, 0, errors.Join(err, notAllowedUnless(ok))
	}
	all, err := b.st.Broadcasts(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("listing broadcasts: %w", err)
	}
	var target *store.Broadcast
	for i := len(all) - 1; i >= 0; i-- {
		bc := &all[i]
		if bc.Closed() || (id != 0 && bc.ID != id) || (id == 0 && bc.CreatedBy != by.Person) {
			continue
		}
		target = bc
		break
	}
	if target == nil {
		return nil, 0, ErrNotFound
	}
	if target.CreatedBy != by.Person {
		rep, err := b.represents(ctx, by, target.Organiser.Lead())
		if err != nil {
			return target, 0, err
		}
		if !by.can(store.RoleAdmin) && !(rep && !target.Organiser.IsCoalition()) {
			return target, 0, ErrNotAllowed
		}
	}
	var removed int
	err = b.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		if removed, err = b.st.CancelBroadcast(ctx, target.ID); err != nil {
			return fmt.Errorf("cancelling broadcast %d: %w", target.ID, err)
		}
		return b.audit(ctx, by.Person, "broadcast_cancelled", map[string]string{"broadcast_id": strconv.FormatUint(target.ID, 10), "removed": strconv.Itoa(removed)})
	})
	return target, removed, err
}

// Recent returns the latest broadcasts, newest first, at most n: all of
// them for the coalition's staff, an institution's for its people.
func (b *Broadcasts) Recent(ctx context.Context, by Actor, n int) ([]store.Broadcast, error) {
	if ok, err := b.mayOrganise(ctx, by); err != nil || !ok {
		return nil, errors.Join(err, notAllowedUnless(ok))
	}
	all, err := b.st.Broadcasts(ctx)
	if err != nil {
		return nil, err
	}
	if !by.staff() {
		mine := all[:0]
		for _, bc := range all {
			ok, err := b.mayRun(ctx, by, bc.Organiser)
			if err != nil {
				return nil, err
			}
			if ok {
				mine = append(mine, bc)
			}
		}
		all = mine
	}
	slices.Reverse(all)
	if len(all) > n {
		all = all[:n]
	}
	return all, nil
}

// ReportProgress shows a broadcast's author how it is going: one status
// message, edited in place where the channel can, and a final report,
// once, whose counts also go into the audit log. A report not yet sent is
// brought up to date rather than followed by another.
func (b *Broadcasts) ReportProgress(ctx context.Context, id uint64) error {
	return b.st.InTx(ctx, func(ctx context.Context) error {
		bc, err := b.st.Broadcast(ctx, id)
		if err != nil {
			return fmt.Errorf("loading broadcast %d: %w", id, err)
		}
		if bc.Reported {
			return nil
		}
		done := bc.Status == store.BroadcastDone
		author, err := b.st.Identity(ctx, bc.CreatedBy)
		if err != nil {
			return err
		}
		if done {
			if _, err := b.st.UpdateBroadcast(ctx, id, func(bc *store.Broadcast) error {
				bc.Reported = true
				return nil
			}); err != nil {
				return fmt.Errorf("claiming the report of broadcast %d: %w", id, err)
			}
			if err := b.audit(ctx, author, "broadcast_finished", map[string]string{
				"broadcast_id": strconv.FormatUint(id, 10), "total": strconv.Itoa(bc.Total), "sent": strconv.Itoa(bc.Sent),
				"failed": strconv.Itoa(bc.Failed), "blocked": strconv.Itoa(bc.Blocked), "cancelled": strconv.Itoa(bc.Cancelled),
			}); err != nil {
				return err
			}
		}
		c, err := b.st.Contact(ctx, author)
		if errors.Is(err, store.ErrNotFound) {
			return nil // the author is gone: there is no one to report to
		}
		if err != nil {
			return err
		}
		to, ok := c.ReachableAddress(b.out.Has)
		if !ok {
			return nil
		}
		editable := b.editors[to.Channel]
		if !done && !editable {
			// without editing, only the final report is sent: no stream of messages
			return nil
		}
		lang := messages.NormalizeLang(c.Lang)
		text, buttons := b.progressText(bc, lang, done)
		if bc.StatusEntry != 0 && !done {
			if replaced, err := b.st.ReplaceQueued(ctx, bc.StatusEntry, text, buttons); err != nil || replaced {
				return err
			}
		}
		e := store.OutboxEntry{To: to, ContactID: c.ID, Text: text, Buttons: buttons, Lang: lang, Kind: "broadcast_progress"}
		if !done {
			e.Edit, e.StatusOf = bc.StatusMessage[to.String()], bc.ID
		}
		queued := []store.OutboxEntry{e}
		if err := b.st.Enqueue(ctx, queued...); err != nil {
			return err
		}
		e = queued[0] // with its ID
		store.AfterCommit(ctx, b.out.Wake)
		_, err = b.st.UpdateBroadcast(ctx, id, func(bc *store.Broadcast) error {
			bc.StatusEntry = e.ID
			return nil
		})
		return err
	})
}

// progressText is the author's view of a broadcast's progress.
func (b *Broadcasts) progressText(bc *store.Broadcast, lang string, done bool) (string, [][]bot.Button) {
	data := map[string]any{
		"ID": messages.FormatID(lang, bc.ID), "Sent": messages.FormatNumber(lang, bc.Sent),
		"Failed": messages.FormatNumber(lang, bc.Failed), "Blocked": messages.FormatNumber(lang, bc.Blocked),
		"Left": messages.FormatNumber(lang, bc.Left()),
	}
	if done {
		return b.cat.Text(lang, messages.BroadcastDone, data), nil
	}
	text := b.cat.Text(lang, messages.BroadcastProgress, data)
	finished := bc.Sent + bc.Failed + bc.Blocked
	if elapsed := b.now().Sub(bc.QueuedAt); finished > 0 && elapsed > 0 && !bc.QueuedAt.IsZero() {
		perMinute := float64(finished) / elapsed.Minutes()
		left := time.Duration(float64(bc.Left()) / perMinute * float64(time.Minute))
		text += "\n" + b.cat.Count(lang, messages.BroadcastRate, int(perMinute+0.5), map[string]any{"Left": b.words().About(lang, left)})
	}
	return text, [][]bot.Button{{{Text: b.cat.Text(lang, messages.BroadcastCancelButton, nil), Payload: "/broadcast cancel " + strconv.FormatUint(bc.ID, 10)}}}
}

// Threshold is how many people a bulk send may reach before a second person must approve it.
func (b *Broadcasts) Threshold() int { return b.threshold }
