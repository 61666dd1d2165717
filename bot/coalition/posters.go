package coalition

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"mobilise/bot"
	"mobilise/bot/outbox"
	"mobilise/bot/poster"
	"mobilise/messages"
	"mobilise/store"
)

// ErrNoPosters: the bot was started without a directory for posters.
var ErrNoPosters = errors.New("posters are not configured")

// ErrBusy: too many posters are being made; the person asks again in a moment.
var ErrBusy = errors.New("busy")

// posterQueue bounds the posters waiting to be drawn.
const posterQueue = 16

// posterConfig is where posters go and what they print besides the campaign.
type posterConfig struct {
	dir            string
	nameAR, nameEN string
	requests       chan posterRequest

	once     sync.Once
	renderer *poster.Renderer
	err      error
}

// posterRequest is a poster asked for in chat, made by Posters.Run.
type posterRequest struct {
	person uint64
	from   bot.Address
	code   string
}

// WithPosters sets the directory posters made from chat are written to
// (the data directory's exports), and the coalition's name they print at
// their foot. Without it, Posters.Request is ErrNoPosters.
func WithPosters(dir, nameAR, nameEN string) Option {
	return func(r *rules) { r.posters.dir, r.posters.nameAR, r.posters.nameEN = dir, nameAR, nameEN }
}

// Posters make a campaign's printable poster (bot/poster) from chat. A
// channel sends text only, so the poster is written to the server, beside
// the exports, and the coordinator is told where: the people who print
// have the server's files (or, later, the dashboard offers them).
type Posters struct{ *rules }

// PosterFiles are the files of one poster.
type PosterFiles struct {
	Campaign *store.Campaign
	PDF, PNG string
}

// Request asks for a campaign's poster. The coalition's coordinators and
// admins ask for any; an institution's people for the campaigns it
// organises. It is
// drawn by Run, outside the unit of work: drawing takes a second of work
// that must not hold the store's one writer. The person is told where the
// files are once they are written.
func (ps *Posters) Request(ctx context.Context, by Actor, code string) (*store.Campaign, error) {
	c, err := ps.campaignFor(ctx, by, code)
	if err != nil {
		return c, err
	}
	if ps.posters.dir == "" {
		return c, ErrNoPosters
	}
	if len(ps.posters.requests) == cap(ps.posters.requests) {
		return c, ErrBusy
	}
	req := posterRequest{person: by.Person, from: by.From, code: c.Code}
	store.AfterCommit(ctx, func() {
		select {
		case ps.posters.requests <- req:
		default:
			ps.log.Warn("poster request dropped: queue full", "campaign_id", c.ID)
		}
	})
	return c, nil
}

// Run draws the posters asked for until ctx ends, one at a time, and tells
// each person where theirs is, or why it could not be made.
func (ps *Posters) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case req := <-ps.posters.requests:
			if err := ps.serve(ctx, req); err != nil && ctx.Err() == nil {
				ps.log.Error("making a poster", "code", req.code, "error", err)
			}
		}
	}
}

// serve makes one poster asked for and tells its person.
func (ps *Posters) serve(ctx context.Context, req posterRequest) error {
	by, err := ps.co.Members.Actor(ctx, req.person, req.from)
	if errors.Is(err, ErrNotFound) {
		return nil // forgotten meanwhile
	}
	if err != nil {
		return err
	}
	files, made := ps.Make(ctx, by, req.code)
	var key messages.Key
	switch {
	case made == nil:
		key = messages.ChatPosterReady
	case errors.Is(made, poster.ErrNoLinks):
		key = messages.ChatPosterNoLinks
	case errors.Is(made, poster.ErrTooLong):
		key = messages.ChatPosterTooLong
	case errors.Is(made, ErrNotAllowed):
		key = messages.ErrNotAllowed
	default:
		ps.log.Error("making a poster", "code", req.code, "error", made)
		key = messages.ChatPosterFailed
	}
	title := func(lang string) string {
		if files.Campaign == nil {
			return messages.Isolate(req.code)
		}
		return Title(files.Campaign, lang)
	}
	return ps.st.InTx(ctx, func(ctx context.Context) error {
		return ps.out.Notify(ctx, outbox.Notice{ContactID: by.Person, Kind: "poster", Render: func(lang string) (string, [][]bot.Button) {
			return ps.cat.Text(lang, key, map[string]any{
				"Title": title(lang), "PDF": messages.Isolate(files.PDF), "PNG": messages.Isolate(files.PNG),
			}), nil
		}})
	})
}

// Make draws a campaign's poster and writes it as poster-CODE.pdf and
// poster-CODE.png (readable by all, replaced whole) in the posters'
// directory: the campaign in Arabic and English, its event, a QR code per
// channel that makes links, the code, the institutions that organise it
// and the coalition. Whoever may ask for it (Request) makes it.
func (ps *Posters) Make(ctx context.Context, by Actor, code string) (PosterFiles, error) {
	c, err := ps.campaignFor(ctx, by, code)
	if err != nil {
		return PosterFiles{Campaign: c}, err
	}
	out := PosterFiles{Campaign: c}
	if ps.posters.dir == "" {
		return out, ErrNoPosters
	}
	p := poster.Poster{
		TitleAR: c.TitleAR, CallAR: c.CallAR, TitleEN: c.TitleEN, CallEN: c.CallEN,
		CoalitionAR: ps.posters.nameAR, CoalitionEN: ps.posters.nameEN, Code: c.Code, Where: c.EventPlace,
	}
	if l, ok := ps.linkers[bot.Telegram]; ok {
		p.TelegramLink = l.ShareLink(c.Code)
	}
	if l, ok := ps.linkers[bot.WhatsApp]; ok {
		p.WhatsAppLink = l.ShareLink(c.Code)
	}
	if p.CallAR == "" {
		p.CallAR = p.TitleAR
	}
	if c.Kind.HasEvent() && !c.EventAt.IsZero() {
		p.When = poster.FormatWhen(ps.cat, messages.Arabic, c.EventAt.In(ps.loc))
		p.WhenEN = poster.FormatWhen(ps.cat, messages.English, c.EventAt.In(ps.loc))
	}
	from, err := ps.from(ctx, c.Organiser)
	if err != nil {
		return out, err
	}
	if !from.Coalition() {
		w := ps.words()
		p.Organisers = ps.cat.Text(messages.Arabic, messages.PosterOrganisedBy, map[string]any{"Name": w.List(from.NamesAR, messages.Arabic)})
		if c.TitleEN+c.CallEN != "" {
			p.Organisers += " · " + ps.cat.Text(messages.English, messages.PosterOrganisedBy, map[string]any{"Name": w.List(from.NamesEN, messages.English)})
		}
	}
	ps.posters.once.Do(func() { ps.posters.renderer, ps.posters.err = poster.New(ps.cat) })
	if ps.posters.err != nil {
		return out, ps.posters.err
	}
	page, err := ps.posters.renderer.Layout(p)
	if err != nil {
		return out, fmt.Errorf("laying out the poster of %q: %w", c.Code, err)
	}
	pdf, err := page.PDF()
	if err != nil {
		return out, err
	}
	png, err := page.PNG(150)
	if err != nil {
		return out, err
	}
	if err := os.MkdirAll(ps.posters.dir, 0o700); err != nil {
		return out, fmt.Errorf("writing the poster of %q: %w", c.Code, err)
	}
	base := filepath.Join(ps.posters.dir, "poster-"+c.Code)
	for _, f := range []struct {
		path string
		data []byte
	}{{base + ".pdf", pdf}, {base + ".png", png}} {
		if err := writePublic(f.path, f.data); err != nil {
			return out, fmt.Errorf("writing the poster of %q: %w", c.Code, err)
		}
	}
	out.PDF, out.PNG = base+".pdf", base+".png"
	ps.log.Info("poster made", "campaign_id", c.ID, "by", by.Person)
	return out, ps.audit(ctx, by.Person, "poster_made", map[string]string{"campaign_id": fmt.Sprint(c.ID), "pdf": out.PDF})
}

// campaignFor finds the campaign with code for someone who would have its
// poster: the coalition's staff, or the people of an institution that
// organises it.
func (ps *Posters) campaignFor(ctx context.Context, by Actor, code string) (*store.Campaign, error) {
	if ok, err := ps.mayOrganise(ctx, by); err != nil || !ok {
		return nil, errors.Join(err, notAllowedUnless(ok))
	}
	c, err := ps.co.Campaigns.Find(ctx, code)
	if err != nil {
		return nil, err
	}
	if _, ok, err := ps.partnerIn(ctx, by, c.Organiser); err != nil || !ok {
		return c, errors.Join(err, notAllowedUnless(ok))
	}
	return c, nil
}

// writePublic writes data to path, readable by all, through a temporary
// file renamed into place, so a reader never sees half a poster.
func writePublic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".poster-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(f.Name()))
		}
	}()
	if _, err := f.Write(data); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Chmod(0o644); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
