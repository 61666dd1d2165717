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
	"mobilise/messages"
	"mobilise/store"
)

// Polls are questions put to people, with 2 to 10 options, answered with a
// button or by typing the option's number or words. A coordinator's poll is
// a broadcast that carries the question, so every rule of a bulk send holds
// for it; after an event, the people signed up are asked whether they came.
//
// A poll names its Organiser as a broadcast does, and is checked as one
// (organiserFor, checkReach through its carrier; mayRun to manage it): an
// institution's people ask its supporters, and whoever answers an
// institution's poll is put on its list (store.ViaPoll) unless they left
// it, the answer credited to it as a pledge is.
//
// Answers come through buttons the bot sends rather than Telegram's native
// polls: an anonymous native poll reports counts that cannot be tied to a
// person, so not to a governorate, a language or a campaign; a non-anonymous
// one exists on Telegram alone. Buttons work on every channel (numbered
// lines on WhatsApp), carry who answered, and let one person answer once
// and change their mind.
type Polls struct{ *rules }

// The limits of a poll.
const (
	MinPollOptions = 2
	MaxPollOptions = store.MaxPollOptions
	MaxQuestion    = 500
	// MaxOption keeps an option short enough for a button on a phone.
	MaxOption = 60
)

// Errors of polls.
var (
	// ErrPollClosed: the poll takes no more answers.
	ErrPollClosed = errors.New("poll closed")
	// ErrNotAsked: the poll was not sent to the person who answers it.
	ErrNotAsked = errors.New("poll not sent to this person")
)

// Follow-through after an event.
const (
	// DefaultFollowUpDelay is how long after an event starts its people are
	// asked whether they came.
	DefaultFollowUpDelay = 3 * time.Hour
	// followUpWindow is how late the question may still go out (the bot
	// was down): later, an event long past is not asked about.
	followUpWindow = 48 * time.Hour
	// attendanceOpen is how long the question takes answers.
	attendanceOpen = 7 * 24 * time.Hour
	// pendingPolls is how many of the newest polls a typed answer is read
	// against: older ones are answered with their buttons.
	pendingPolls = 20
)

// WithFollowUpDelay sets how long after an event starts the people signed
// up are asked whether they came.
func WithFollowUpDelay(d time.Duration) Option { return func(r *rules) { r.followUpDelay = d } }

// PollDraft is a poll as a coordinator describes it.
type PollDraft struct {
	CampaignID             uint64
	QuestionAR, QuestionEN string
	Options                []store.PollOption
	Audience               store.Audience
	Urgent                 bool
	// ClosesAt ends the answers; zero keeps the poll open until it is closed.
	ClosesAt time.Time
	// Organiser is who asks: none for the coalition.
	Organiser store.Organiser
}

// PollQuestion is the poll's question in lang, falling back to Arabic.
func PollQuestion(p *store.Poll, lang string) string { return InLang(lang, p.QuestionAR, p.QuestionEN) }

// PollOption is the poll's option i (from 0) in lang, falling back to Arabic.
func PollOption(p *store.Poll, i int, lang string) string {
	if i < 0 || i >= len(p.Options) {
		return ""
	}
	return InLang(lang, p.Options[i].AR, p.Options[i].EN)
}

// clean trims the draft's texts and drops empty options.
func (d PollDraft) clean() PollDraft {
	d.QuestionAR, d.QuestionEN = strings.TrimSpace(d.QuestionAR), strings.TrimSpace(d.QuestionEN)
	var opts []store.PollOption
	for _, o := range d.Options {
		o.AR, o.EN = strings.TrimSpace(o.AR), strings.TrimSpace(o.EN)
		if o.AR != "" || o.EN != "" {
			opts = append(opts, o)
		}
	}
	d.Options = opts
	return d
}

// CheckPoll returns the first problem with a draft, as an *InvalidError
// naming the field, or nil.
func (ps *Polls) CheckPoll(d PollDraft) error {
	d = d.clean()
	switch {
	case d.QuestionAR == "":
		return invalid("question_ar", messages.ErrInputEmpty)
	case !HasArabic(d.QuestionAR):
		return invalid("question_ar", messages.ErrNeedArabic)
	case len([]rune(d.QuestionAR)) > MaxQuestion || len([]rune(d.QuestionEN)) > MaxQuestion:
		return invalid("question", messages.ErrInputTooLong)
	case len(d.Options) < MinPollOptions:
		return invalid("options", messages.PollErrTooFew)
	case len(d.Options) > MaxPollOptions:
		return invalid("options", messages.PollErrTooMany)
	case !d.ClosesAt.IsZero() && !d.ClosesAt.After(ps.now()):
		return invalid("closes_at", messages.ErrDatePast)
	}
	seen := map[string]bool{}
	for _, o := range d.Options {
		switch {
		case o.AR == "":
			return invalid("options", messages.PollErrOptionNoArabic)
		case len([]rune(o.AR)) > MaxOption || len([]rune(o.EN)) > MaxOption:
			return invalid("options", messages.PollErrOptionLong)
		case seen[messages.Normalize(o.AR)]:
			return invalid("options", messages.PollErrDuplicate)
		}
		seen[messages.Normalize(o.AR)] = true
	}
	d.Audience.CampaignID = d.CampaignID
	if err := d.Audience.Validate(); err != nil {
		return invalid("audience", messages.ErrChooseOption)
	}
	return nil
}

// PollBody is what a poll says in lang, before its verification line: the
// question, the options numbered, and how to answer until when.
func (w Words) PollBody(p *store.Poll, lang string) string {
	var b strings.Builder
	b.WriteString(PollQuestion(p, lang))
	b.WriteString("\n")
	for i := range p.Options {
		b.WriteString("\n" + w.Cat.Text(lang, messages.PollOptionLine, map[string]any{
			"N": messages.FormatID(lang, uint64(i+1)), "Option": PollOption(p, i, lang),
		}))
	}
	b.WriteString("\n\n")
	if p.ClosesAt.IsZero() {
		b.WriteString(w.Cat.Text(lang, messages.PollHintOpen, nil))
	} else {
		b.WriteString(w.Cat.Text(lang, messages.PollHint, map[string]any{"Until": w.Time(lang, p.ClosesAt)}))
	}
	return b.String()
}

// PollMessage renders one recipient's copy of a poll from its signed texts:
// their language, on WhatsApp their name, and a button per option where
// buttons can be pressed (on WhatsApp people answer with the number).
func (w Words) PollMessage(p *store.Poll, signedAR, signedEN, lang string, channel bot.ChannelName, name string) (string, [][]bot.Button) {
	text := InLang(lang, signedAR, signedEN)
	if channel == bot.WhatsApp {
		if name != "" {
			text = w.Cat.Text(lang, messages.BroadcastGreeting, map[string]any{"Name": name}) + "\n\n" + text
		}
		return text, nil
	}
	return text, PollButtons(p, lang)
}

// PollButtons are a poll's options as buttons, one per row.
func PollButtons(p *store.Poll, lang string) [][]bot.Button {
	rows := make([][]bot.Button, 0, len(p.Options))
	for i := range p.Options {
		rows = append(rows, []bot.Button{{Text: PollOption(p, i, lang), Payload: VotePayload(p.ID, i)}})
	}
	return rows
}

// VotePayload is the command a button of option i (from 0) sends: "/vote 12 2".
func VotePayload(pollID uint64, option int) string {
	return "/vote " + strconv.FormatUint(pollID, 10) + " " + strconv.Itoa(option+1)
}

// pollOf builds the poll a draft describes.
func (ps *Polls) pollOf(by Actor, d PollDraft) *store.Poll {
	d.Audience.CampaignID = d.CampaignID
	return &store.Poll{
		Kind: store.PollQuestion, CampaignID: d.CampaignID, QuestionAR: d.QuestionAR, QuestionEN: d.QuestionEN,
		Options: d.Options, Audience: d.Audience, CreatedBy: by.Person, CreatedAt: ps.now().UTC(), ClosesAt: d.ClosesAt.UTC(),
		Organiser: store.OrganisedBy(d.Organiser.Institutions...),
	}
}

// carrier is the broadcast that carries a poll: its texts are the poll's body.
func (ps *Polls) carrier(p *store.Poll, d PollDraft) BroadcastDraft {
	w := ps.words()
	bd := BroadcastDraft{CampaignID: d.CampaignID, TextAR: w.PollBody(p, messages.Arabic), Audience: d.Audience, Urgent: d.Urgent,
		Organiser: p.Organiser}
	if p.QuestionEN != "" {
		bd.TextEN = w.PollBody(p, messages.English)
	}
	return bd
}

// Preview says who a poll would reach, how long sending takes, whether a
// second person must approve it and when it would start, as for a
// broadcast; and the poll's body in the author's language.
func (ps *Polls) Preview(ctx context.Context, by Actor, d PollDraft) (Preview, string, error) {
	if ok, err := ps.mayOrganise(ctx, by); err != nil || !ok {
		return Preview{}, "", errors.Join(err, notAllowedUnless(ok))
	}
	d = d.clean()
	if err := ps.CheckPoll(d); err != nil {
		return Preview{}, "", err
	}
	p := ps.pollOf(by, d)
	bd := ps.carrier(p, d)
	pv, err := ps.co.Broadcasts.Preview(ctx, by, bd)
	return pv, InLang(by.Lang, bd.TextAR, bd.TextEN), err
}

// PollSubmitted is what Submit did: the poll, and the broadcast that carries it.
type PollSubmitted struct {
	Poll *store.Poll
	Submitted
}

// Submit puts a question to an audience. It is a broadcast whose text is
// the question and whose buttons are its options, so it follows every rule
// of one: whoever may send a broadcast sends it, in the same name and to
// the same people; over the threshold (with the author's unapproved sends
// of the day) or beyond an institution's supporters it waits for a second person;
// pause and quiet hours hold it (an urgent one goes through quiet hours);
// it goes out through the outbox, with a verification code. The poll is
// stored in the same unit of work as its broadcast.
func (ps *Polls) Submit(ctx context.Context, by Actor, d PollDraft) (PollSubmitted, error) {
	if ok, err := ps.mayOrganise(ctx, by); err != nil || !ok {
		return PollSubmitted{}, errors.Join(err, notAllowedUnless(ok))
	}
	d = d.clean()
	if err := ps.CheckPoll(d); err != nil {
		return PollSubmitted{}, err
	}
	p := ps.pollOf(by, d)
	out := PollSubmitted{Poll: p}
	err := ps.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		out.Submitted, err = ps.co.Broadcasts.submit(ctx, by, ps.carrier(p, d), func(ctx context.Context, bc *store.Broadcast) error {
			// the organiser as the carrier's checks settled it
			p.BroadcastID, p.Organiser = bc.ID, bc.Organiser
			if err := ps.st.CreatePoll(ctx, p); err != nil {
				return err
			}
			return ps.audit(ctx, by.Person, "poll_created", map[string]string{
				"poll_id": strconv.FormatUint(p.ID, 10), "broadcast_id": strconv.FormatUint(bc.ID, 10),
				"question_ar": p.QuestionAR, "question_en": p.QuestionEN, "options": strconv.Itoa(len(p.Options)),
				"closes_at": timeDetail(p.ClosesAt), "organiser": joinIDs(p.Organiser.Institutions),
			})
		})
		return err
	})
	return out, err
}

// pollOfBroadcast returns the poll a broadcast carries, nil for none.
func (r *rules) pollOfBroadcast(ctx context.Context, broadcastID uint64) (*store.Poll, error) {
	p, err := r.st.PollOfBroadcast(ctx, broadcastID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return p, err
}

// askedAt is when a bulk message queued now reaches people, for telling a
// typed answer to it from an answer to what they were shown before: the
// end of quiet hours unless it is urgent.
func (r *rules) askedAt(urgent bool) time.Time {
	now := r.now()
	if !urgent {
		if until := r.quiet.HoldUntil(now, r.loc); until.After(now) {
			return until
		}
	}
	return now
}

// Answered is what Answer did.
type Answered struct {
	Poll *store.Poll
	// Option is the option chosen, Previous the one chosen before (-1 for none).
	Option, Previous int
	Counts           store.PollCounts
}

// Answer records the acting person's answer to a poll (option from 0),
// replacing any answer they gave before. Anyone the poll was sent to
// answers, once, while it is open; an answer to a poll not sent to them is
// ErrNotAsked, to a closed one ErrPollClosed. The answer keeps the
// person's governorate, language, channel and campaigns of the moment, for
// the results. An answer to an institution's poll is credited to one of its
// organisers (creditIn) and puts the person on its list unless they left
// it, in the same unit of work.
func (ps *Polls) Answer(ctx context.Context, by Actor, pollID uint64, option int) (Answered, error) {
	p, err := ps.st.Poll(ctx, pollID)
	if err != nil {
		return Answered{}, notFound(err)
	}
	out := Answered{Poll: p, Option: option, Previous: -1}
	switch {
	case option < 0 || option >= len(p.Options):
		return out, invalid("option", messages.ErrChooseOption)
	case !p.Open(ps.now()):
		return out, ErrPollClosed
	}
	if _, asked, err := ps.st.Asked(ctx, p.ID, by.Person); err != nil {
		return out, err
	} else if !asked {
		return out, ErrNotAsked
	}
	me, err := ps.st.Contact(ctx, by.Person)
	if err != nil {
		return out, notFound(err)
	}
	campaigns, err := ps.campaignsOf(ctx, me.ID)
	if err != nil {
		return out, err
	}
	credit, err := ps.creditIn(ctx, p.Organiser, me)
	if err != nil {
		return out, err
	}
	var res store.PollAnswered
	err = ps.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		res, err = ps.st.AnswerPoll(ctx, store.PollAnswer{
			PollID: p.ID, ContactID: me.ID, Option: option, At: ps.now().UTC(),
			Channel: by.From.Channel, Governorate: me.Governorate, Lang: by.Lang, Campaigns: campaigns,
			Institution: credit,
		})
		if err != nil {
			return notFound(err)
		}
		return ps.support(ctx, credit, me, store.ViaPoll)
	})
	if err != nil {
		return out, err
	}
	out.Previous, out.Counts = res.Previous, res.Counts
	ps.log.Info("poll answered", "poll_id", p.ID, "answered", res.Counts.Answered(), "changed", res.Previous >= 0)
	return out, nil
}

// campaignsOf lists the campaigns a person pledged to or signed up for.
func (ps *Polls) campaignsOf(ctx context.Context, contactID uint64) ([]uint64, error) {
	pledges, err := ps.st.ContactPledges(ctx, contactID)
	if err != nil {
		return nil, err
	}
	signups, err := ps.st.ContactSignups(ctx, contactID)
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for _, p := range pledges {
		ids = append(ids, p.CampaignID)
	}
	for _, s := range signups {
		ids = append(ids, s.CampaignID)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// Pending returns the newest open poll sent to the acting person that they
// have not answered, and when it reached them; nil if there is none. A
// person's typed words are read as its answer before the menu they were
// shown earlier.
func (ps *Polls) Pending(ctx context.Context, by Actor) (*store.Poll, time.Time, error) {
	recent, err := ps.st.RecentPolls(ctx, pendingPolls)
	if err != nil {
		return nil, time.Time{}, err
	}
	now := ps.now()
	for i := range recent {
		p := &recent[i]
		if !p.Open(now) {
			continue
		}
		at, asked, err := ps.st.Asked(ctx, p.ID, by.Person)
		if err != nil {
			return nil, time.Time{}, err
		}
		if !asked {
			continue
		}
		if _, err := ps.st.PollAnswerOf(ctx, p.ID, by.Person); err == nil {
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, time.Time{}, err
		}
		return p, at, nil
	}
	return nil, time.Time{}, nil
}

// Get returns a poll, for whoever was sent it or may read its results.
func (ps *Polls) Get(ctx context.Context, id uint64) (*store.Poll, error) {
	p, err := ps.st.Poll(ctx, id)
	return p, notFound(err)
}

// AnswerOf returns the acting person's answer to a poll, nil for none.
func (ps *Polls) AnswerOf(ctx context.Context, by Actor, id uint64) (*store.PollAnswer, error) {
	a, err := ps.st.PollAnswerOf(ctx, id, by.Person)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return a, err
}

// PollResults are a poll's answers with what the front ends show beside
// them; the dashboard reads the same.
type PollResults struct {
	Poll *store.Poll
	store.PollResults
	// Campaigns names the campaigns of ByCampaign's keys (those still there).
	Campaigns map[uint64]*store.Campaign
	// Broadcast is the broadcast that carries a question poll (its progress
	// says how many copies went out); nil for an event's follow-through.
	Broadcast *store.Broadcast
}

// Percent is the share of answers that chose option, in whole percent.
func (r PollResults) Percent(option int) int { return Percent(r.Counts.Options, option) }

// Percent is counts[i]'s share of the sum of counts, rounded to whole percent.
func Percent(counts []int, i int) int { return store.PollCounts{Options: counts}.Percent(i) }

// Results are a poll's live results: counts and shares per option, and
// the same by governorate, language, channel and the campaigns the people
// who answered take part in. The coalition's coordinators and admins read
// any; an institution's people those of the polls it organises.
func (ps *Polls) Results(ctx context.Context, by Actor, id uint64) (PollResults, error) {
	if ok, err := ps.mayOrganise(ctx, by); err != nil || !ok {
		return PollResults{}, errors.Join(err, notAllowedUnless(ok))
	}
	p, err := ps.st.Poll(ctx, id)
	if err != nil {
		return PollResults{}, notFound(err)
	}
	if _, ok, err := ps.partnerIn(ctx, by, p.Organiser); err != nil || !ok {
		return PollResults{}, errors.Join(err, notAllowedUnless(ok))
	}
	return ps.results(ctx, p)
}

func (ps *Polls) results(ctx context.Context, p *store.Poll) (PollResults, error) {
	out := PollResults{Poll: p, Campaigns: map[uint64]*store.Campaign{}}
	var err error
	if out.PollResults, err = ps.st.PollResults(ctx, p.ID); err != nil {
		return out, err
	}
	for key := range out.ByCampaign {
		id, perr := strconv.ParseUint(key, 10, 64)
		if perr != nil {
			continue
		}
		if c, err := ps.st.Campaign(ctx, id); err == nil {
			out.Campaigns[id] = c
		} else if !errors.Is(err, store.ErrNotFound) {
			return out, err
		}
	}
	if p.BroadcastID != 0 {
		if out.Broadcast, err = ps.st.Broadcast(ctx, p.BroadcastID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return out, err
		}
	}
	return out, nil
}

// Recent returns the newest polls, newest first, at most n: all of them
// for the coalition's staff, an institution's for its people.
func (ps *Polls) Recent(ctx context.Context, by Actor, n int) ([]store.Poll, error) {
	if ok, err := ps.mayOrganise(ctx, by); err != nil || !ok {
		return nil, errors.Join(err, notAllowedUnless(ok))
	}
	if by.staff() {
		return ps.st.RecentPolls(ctx, n)
	}
	all, err := ps.st.Polls(ctx)
	if err != nil {
		return nil, err
	}
	slices.Reverse(all)
	var out []store.Poll
	for _, p := range all {
		if len(out) == n {
			break
		}
		if _, ok, err := ps.partnerIn(ctx, by, p.Organiser); err != nil {
			return nil, err
		} else if ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// Counts returns a poll's totals.
func (ps *Polls) Counts(ctx context.Context, id uint64) (store.PollCounts, error) {
	return ps.st.PollCounts(ctx, id)
}

// Close stops a poll taking answers; its results stay. A coordinator
// closes their own; an institution's representative its polls; an admin
// anyone's.
func (ps *Polls) Close(ctx context.Context, by Actor, id uint64) (*store.Poll, error) {
	if ok, err := ps.mayOrganise(ctx, by); err != nil || !ok {
		return nil, errors.Join(err, notAllowedUnless(ok))
	}
	p, err := ps.st.Poll(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	author, err := ps.st.Identity(ctx, p.CreatedBy)
	if err != nil {
		return nil, err
	}
	if author != by.Person && !by.can(store.RoleAdmin) {
		rep, err := ps.represents(ctx, by, p.Organiser.Lead())
		if err != nil {
			return p, err
		}
		if !rep || p.Organiser.IsCoalition() {
			return p, ErrNotAllowed
		}
	}
	if !p.Open(ps.now()) {
		return p, ErrDecided
	}
	err = ps.st.InTx(ctx, func(ctx context.Context) error {
		p, err = ps.st.UpdatePoll(ctx, id, func(x *store.Poll) error {
			if x.Closed {
				return errClaimed
			}
			x.Closed, x.ClosedBy, x.ClosedAt = true, by.Person, ps.now().UTC()
			return nil
		})
		if errors.Is(err, errClaimed) {
			return ErrDecided
		}
		if err != nil {
			return err
		}
		return ps.audit(ctx, by.Person, "poll_closed", map[string]string{"poll_id": strconv.FormatUint(id, 10)})
	})
	return p, err
}

// DescribeAudience describes an audience in every language as Words.Audience
// does, naming the answer of a poll's answerers as the poll words it, and
// the institution whose supporters it is limited to (Words.AudienceOf).
func (r *rules) DescribeAudience(ctx context.Context, aud store.Audience, c *store.Campaign) (func(lang string) string, error) {
	w := r.words()
	inst, err := r.audienceInstitution(ctx, aud)
	if err != nil {
		return nil, err
	}
	generic := func(lang string) string { return w.AudienceOf(aud, c, inst, lang) }
	if aud.Kind != store.AudiencePollAnswer {
		return generic, nil
	}
	p, err := r.st.Poll(ctx, aud.PollID)
	if errors.Is(err, store.ErrNotFound) {
		return generic, nil
	}
	if err != nil {
		return nil, err
	}
	return func(lang string) string {
		return w.within(r.cat.Text(lang, messages.AudiencePollAnswerNamed, map[string]any{
			"Option": PollOption(p, aud.Option, lang), "ID": messages.FormatID(lang, p.ID),
		}), aud, inst, lang)
	}, nil
}

// AnswerAudience is the people whose answer to p is option (from 0): an
// audience for broadcasts and reminders.
func AnswerAudience(p *store.Poll, option int) store.Audience {
	return store.Audience{Kind: store.AudiencePollAnswer, PollID: p.ID, Option: option, CampaignID: p.CampaignID}
}

// FollowUpState is where a campaign's question after its event stands.
type FollowUpState struct {
	// On: the people signed up are (or were) asked whether they came.
	On bool
	// At is when they are asked: the event's start and the delay.
	At time.Time
	// Poll is the question once asked, nil before.
	Poll *store.Poll
}

// FollowUp says whether and when c's people are asked whether they came.
func (ps *Polls) FollowUp(ctx context.Context, c *store.Campaign) (FollowUpState, error) {
	var st FollowUpState
	if !c.Kind.HasEvent() || c.EventAt.IsZero() {
		return st, nil
	}
	var err error
	if st.On, err = ps.st.FollowUp(ctx, c.ID); err != nil {
		return st, err
	}
	st.At = c.EventAt.Add(ps.followUpDelay)
	p, err := ps.st.AttendancePoll(ctx, c.ID)
	switch {
	case err == nil:
		st.Poll, st.On = p, true
	case !errors.Is(err, store.ErrNotFound):
		return st, err
	}
	return st, nil
}

// SetFollowUp switches on or off the question to a campaign's people,
// after its event, whether they came. Whoever may change the campaign
// (Campaigns.Close) switches it; once asked, it cannot be taken back
// (ErrDecided).
func (ps *Polls) SetFollowUp(ctx context.Context, by Actor, code string, on bool) (*store.Campaign, error) {
	c, err := ps.co.Campaigns.managed(ctx, by, code)
	if err != nil {
		return c, err
	}
	if !c.Kind.HasEvent() {
		return c, ErrNoEvent
	}
	if _, err := ps.st.AttendancePoll(ctx, c.ID); err == nil {
		return c, ErrDecided
	} else if !errors.Is(err, store.ErrNotFound) {
		return c, err
	}
	err = ps.st.InTx(ctx, func(ctx context.Context) error {
		if err := ps.st.SetFollowUp(ctx, c.ID, on); err != nil {
			return notFound(err)
		}
		return ps.audit(ctx, by.Person, "follow_up_set", map[string]string{
			"campaign_id": strconv.FormatUint(c.ID, 10), "on": strconv.FormatBool(on),
		})
	})
	return c, err
}

// RunFollowUps asks, once per campaign, the people signed up for an event
// that has taken place whether they came: a poll with a verification code,
// queued as bulk messages, so a pause and quiet hours hold it. Like the
// event's reminders it needs no second person: the people asked signed up
// for the event's news. A campaign that switched it off is not asked, nor
// one whose event passed more than two days before the bot saw it. The
// scheduler calls it every minute; the question is claimed in the store,
// in the unit of work that queues it.
func (ps *Polls) RunFollowUps(ctx context.Context) error {
	all, err := ps.st.Campaigns(ctx)
	if err != nil {
		return fmt.Errorf("listing campaigns: %w", err)
	}
	now := ps.now()
	var errs []error
	for i := range all {
		c := &all[i]
		if !c.Kind.HasEvent() || c.EventAt.IsZero() {
			continue
		}
		due := c.EventAt.Add(ps.followUpDelay)
		if now.Before(due) || now.Sub(due) > followUpWindow {
			continue
		}
		st, err := ps.FollowUp(ctx, c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !st.On || st.Poll != nil {
			continue
		}
		if err := ps.st.InTx(ctx, func(ctx context.Context) error { return ps.followUp(ctx, c) }); err != nil {
			errs = append(errs, fmt.Errorf("asking the people of campaign %d whether they came: %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}

// followUp claims and queues c's question after its event.
func (ps *Polls) followUp(ctx context.Context, c *store.Campaign) error {
	w := ps.words()
	question := func(lang string) string {
		return ps.cat.Text(lang, messages.PollAttendanceQuestion, map[string]any{"Title": Title(c, lang), "When": w.Date(lang, c.EventAt)})
	}
	option := func(key messages.Key) store.PollOption {
		return store.PollOption{AR: ps.cat.Text(messages.Arabic, key, nil), EN: ps.cat.Text(messages.English, key, nil)}
	}
	p := &store.Poll{
		Kind: store.PollAttendance, CampaignID: c.ID, QuestionAR: question(messages.Arabic), QuestionEN: question(messages.English),
		Options:  []store.PollOption{option(messages.PollAttendanceYes), option(messages.PollAttendanceNo)},
		Audience: store.Audience{Kind: store.AudienceSignups, CampaignID: c.ID}, CreatedBy: c.CreatedBy,
		CreatedAt: ps.now().UTC(), ClosesAt: ps.now().Add(attendanceOpen).UTC(), Organiser: c.Organiser,
	}
	if err := ps.st.CreatePoll(ctx, p); errors.Is(err, store.ErrPollExists) {
		return nil // asked already
	} else if err != nil {
		return err
	}
	from, err := ps.from(ctx, p.Organiser)
	if err != nil {
		return err
	}
	// whom the question is from, as every bulk copy says: part of the words its code vouches for
	bodyAR, bodyEN := w.Attributed(from, w.PollBody(p, messages.Arabic), messages.Arabic), w.Attributed(from, w.PollBody(p, messages.English), messages.English)
	code, err := ps.issue(ctx, store.Call{Kind: "follow_up", RefID: p.ID, CampaignID: c.ID, TextAR: bodyAR, TextEN: bodyEN})
	if err != nil {
		return err
	}
	signedAR, signedEN := w.Signed(bodyAR, code, messages.Arabic), w.Signed(bodyEN, code, messages.English)
	rs, err := ps.recipients(ctx, p.Audience)
	if err != nil {
		return err
	}
	entries := make([]store.OutboxEntry, 0, len(rs))
	ids := make([]uint64, 0, len(rs))
	for _, r := range rs {
		lang := messages.NormalizeLang(r.Lang)
		text, buttons := w.PollMessage(p, signedAR, signedEN, lang, r.Address.Channel, r.Name)
		entries = append(entries, store.OutboxEntry{To: r.Address, ContactID: r.ContactID, Text: text, Buttons: buttons,
			Lang: lang, Kind: "follow_up", Bulk: true})
		ids = append(ids, r.ContactID)
	}
	if err := ps.st.MarkAsked(ctx, p.ID, ids, ps.askedAt(false)); err != nil {
		return err
	}
	if err := ps.st.Enqueue(ctx, entries...); err != nil {
		return fmt.Errorf("queueing the question: %w", err)
	}
	store.AfterCommit(ctx, ps.out.Wake)
	ps.log.Info("event follow-through queued", "campaign_id", c.ID, "poll_id", p.ID, "recipients", len(entries))
	return nil
}

// Attendance is the follow-through of a campaign's event, for /stats.
type Attendance struct {
	FollowUpState
	// Results are the answers once the people were asked.
	Results *PollResults
}

// Attendance says whether a campaign's people are or were asked whether
// they came, and what they answered. The coalition's staff and the
// campaign's organisers read it.
func (ps *Polls) Attendance(ctx context.Context, by Actor, c *store.Campaign) (Attendance, error) {
	if _, ok, err := ps.partnerIn(ctx, by, c.Organiser); err != nil || !ok {
		return Attendance{}, errors.Join(err, notAllowedUnless(ok))
	}
	st, err := ps.FollowUp(ctx, c)
	if err != nil || st.Poll == nil {
		return Attendance{FollowUpState: st}, err
	}
	r, err := ps.results(ctx, st.Poll)
	return Attendance{FollowUpState: st, Results: &r}, err
}
