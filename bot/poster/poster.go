// Package poster draws a campaign's printable A4 poster, as a PDF for the
// printer and a PNG for a screen or a chat: the campaign's title and call in
// Arabic (and English when it has one), the date and place of its event, a
// QR code for each channel the bot runs on, the campaign code for people who
// type it, and the coalition's name.
//
// Text is set by github.com/go-text/typesetting (see text.go): the Unicode
// bidi algorithm orders it, a Go port of HarfBuzz shapes it, so Arabic
// letters join and mixed Arabic, Latin and digits read in the right order,
// and lines break at spaces. github.com/tdewolff/canvas draws the page and
// writes it as PDF or PNG. The font, IBM Plex Sans Arabic (SIL Open Font
// License, fonts/OFL.txt), covers Arabic and Latin in one file and is
// embedded in the binary, so a server needs no fonts installed. QR codes
// come from rsc.io/qr, drawn as vector squares so they stay sharp at any
// print size.
package poster

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/tdewolff/canvas"
	"github.com/tdewolff/canvas/renderers/pdf"
	"github.com/tdewolff/canvas/renderers/rasterizer"
	"rsc.io/qr"

	"mobilise/messages"
)

// The fonts are the Regular and Bold of IBM Plex Sans Arabic; see fonts/README.md.
var (
	//go:embed fonts/IBMPlexSansArabic-Regular.ttf
	regularTTF []byte
	//go:embed fonts/IBMPlexSansArabic-Bold.ttf
	boldTTF []byte
)

// Poster is what one campaign's poster says. Texts are printed as given:
// the caller formats dates and composes the organisers' line.
type Poster struct {
	// TitleAR and CallAR are the campaign's title and call to action in
	// Arabic; both are required.
	TitleAR, CallAR string
	// TitleEN and CallEN are the English ones; the poster has an English
	// part only when at least one is given.
	TitleEN, CallEN string
	// CoalitionAR and CoalitionEN are the coalition's name, printed at the foot.
	CoalitionAR, CoalitionEN string
	// Code is the campaign code, printed large for people who type it.
	Code string
	// CodeLabel captions the code; empty for a campaign's
	// (messages.PosterCode). A member institution's poster names its own.
	CodeLabel messages.Key
	// Organisers is the line naming who organises the campaign, printed
	// above the foot as given; empty prints nothing.
	Organisers string
	// When is the event's date and time, WhenEN the same in English (used
	// only on a poster with an English part), and Where its place; each
	// may be empty. FormatWhen writes the first two.
	When, WhenEN, Where string
	// TelegramLink is the bot's deep link, https://t.me/<bot>?start=<code>,
	// and WhatsAppLink its click-to-chat link,
	// https://wa.me/<number>?text=start%20<code>. Either may be empty when
	// the bot does not run on that channel, not both.
	TelegramLink, WhatsAppLink string
}

// Errors Layout returns for a poster it cannot draw.
var (
	// ErrMissing means a required text (Arabic title or call, code) is empty.
	ErrMissing = errors.New("poster: missing text")
	// ErrNoLinks means the poster has neither a Telegram nor a WhatsApp link.
	ErrNoLinks = errors.New("poster: no link to the bot")
	// ErrTooLong means the texts do not fit on one page even in the smallest type.
	ErrTooLong = errors.New("poster: texts too long for one page")
)

// The page, in millimetres.
const (
	// PageWidth and PageHeight are A4 portrait.
	PageWidth, PageHeight = 210.0, 297.0
	// Margin is left blank on every side: office printers cannot print to
	// the edge of the sheet, and a noticeboard pin needs somewhere to go.
	Margin = 12.0

	contentW = PageWidth - 2*Margin
)

// Renderer lays out and draws posters. It loads the fonts once. It is safe
// for concurrent use and works on one poster at a time, since the text
// stack keeps caches that are not safe to share.
type Renderer struct {
	mu  sync.Mutex
	ts  *typesetter
	cat *messages.Catalog
}

// New loads the embedded fonts and takes the poster's captions from cat.
func New(cat *messages.Catalog) (*Renderer, error) {
	ts, err := newTypesetter()
	if err != nil {
		return nil, err
	}
	return &Renderer{ts: ts, cat: cat}, nil
}

// FormatWhen writes an event's date and time in lang for Poster.When or
// WhenEN, with the week day and month by name: "الجمعة 14 آذار 2026، الساعة
// 16:30". at is shown in its own location.
func FormatWhen(cat *messages.Catalog, lang string, at time.Time) string {
	weekdays := [...]messages.Key{messages.PosterSunday, messages.PosterMonday, messages.PosterTuesday,
		messages.PosterWednesday, messages.PosterThursday, messages.PosterFriday, messages.PosterSaturday}
	months := [...]messages.Key{messages.PosterJanuary, messages.PosterFebruary, messages.PosterMarch,
		messages.PosterApril, messages.PosterMay, messages.PosterJune, messages.PosterJuly, messages.PosterAugust,
		messages.PosterSeptember, messages.PosterOctober, messages.PosterNovember, messages.PosterDecember}
	return cat.Text(lang, messages.PosterWhen, map[string]any{
		"Weekday": cat.Text(lang, weekdays[at.Weekday()], nil),
		"Day":     at.Day(),
		"Month":   cat.Text(lang, months[at.Month()-1], nil),
		"Year":    at.Year(),
		// isolated so that an Arabic sentence keeps "16:30" in its order
		"Time": messages.Isolate(at.Format("15:04")),
	})
}

// Box is where one element of the poster was put, in millimetres from the
// page's top left corner; tests and callers use it to check that nothing
// leaves the page or overlaps.
type Box struct {
	// Name says what the element is: "title_ar", "call_en", "qr_telegram", "code"…
	Name           string
	X0, Y0, X1, Y1 float64
}

// Page is a laid-out poster, ready to be written as PDF or PNG.
type Page struct {
	r     *Renderer
	c     *canvas.Canvas
	boxes []Box
	links []pageLink
	title string
	// Scale is how much the texts of the top half were scaled to fill, or
	// fit, the page: 1 is the design size.
	Scale float64
	// QRSize is the side of each QR code, quiet zone included, in mm.
	QRSize float64
}

// pageLink is a clickable area of the PDF.
type pageLink struct {
	uri string
	box Box
}

// Boxes returns where each element was put.
func (p *Page) Boxes() []Box { return append([]Box(nil), p.boxes...) }

// PDF writes the page as a one-page A4 PDF whose QR codes and links can be
// clicked on a screen. Text is drawn as the font's outlines, so the PDF
// prints the same everywhere.
func (p *Page) PDF() ([]byte, error) {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	var buf bytes.Buffer
	w := pdf.New(&buf, PageWidth, PageHeight, nil)
	w.SetInfo(p.title, "", "", "", "mobilise")
	w.SetLang("ar")
	p.c.RenderTo(w)
	for _, l := range p.links {
		w.AddLink(l.uri, canvas.Rect{X0: l.box.X0, Y0: PageHeight - l.box.Y1, X1: l.box.X1, Y1: PageHeight - l.box.Y0})
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("poster: writing the PDF: %w", err)
	}
	return buf.Bytes(), nil
}

// PNG draws the page at dpi dots per inch on a white background (150 gives
// 1240×1754 pixels).
func (p *Page) PNG(dpi float64) ([]byte, error) {
	img, err := p.Image(dpi)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("poster: writing the PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// Image draws the page at dpi dots per inch on a white background.
func (p *Page) Image(dpi float64) (*image.RGBA, error) {
	if dpi < 36 || dpi > 1200 {
		return nil, fmt.Errorf("poster: resolution %g dpi out of range 36–1200", dpi)
	}
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	res := canvas.DPI(dpi)
	img := image.NewRGBA(image.Rect(0, 0, int(PageWidth*res.DPMM()+0.5), int(PageHeight*res.DPMM()+0.5)))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	ras := rasterizer.FromImage(img, res, canvas.DefaultColorSpace)
	p.c.RenderTo(ras)
	ras.Close()
	return img, nil
}

// Colours: a deep olive green for the bands, near-black text, a grey for
// secondary lines and a pale tint behind the code. All print well in
// black and white too.
var (
	accent    = color.RGBA{0x1f, 0x5c, 0x3a, 0xff}
	ink       = color.RGBA{0x1a, 0x1a, 0x1a, 0xff}
	secondary = color.RGBA{0x4a, 0x4a, 0x4a, 0xff}
	tint      = color.RGBA{0xe8, 0xf0, 0xea, 0xff}
)

// Layout lays out the poster on an A4 page. The top half (titles, calls,
// event) is scaled to fill the space the bottom half (QR codes, code,
// organisers, coalition) leaves, shrinking for long texts; when the top
// half does not fit even in small type the QR codes shrink too, down to a
// size phones still read from arm's length, and past that the poster is
// ErrTooLong.
func (r *Renderer) Layout(p Poster) (*Page, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	l := &layout{r: r, p: p, english: strings.TrimSpace(p.TitleEN+p.CallEN) != ""}
	codes, err := p.qrCodes()
	if err != nil {
		return nil, err
	}
	// the sizes the bottom half is tried at, largest first: at the smallest
	// a QR code is 37 mm wide, modules of 0.9 mm, which a phone still reads
	// from a step away
	for _, q := range []float64{1, 0.85, 0.72} {
		bottom := l.bottom(codes, q)
		room := bottom.top - topStart - minGap
		// find the largest scale at which the top half fits, by bisection
		lo, hi := minScale, maxScale
		if l.top(lo).height > room {
			continue
		}
		if l.top(hi).height <= room {
			lo = hi
		}
		for hi-lo > 0.01 {
			mid := (lo + hi) / 2
			if l.top(mid).height <= room {
				lo = mid
			} else {
				hi = mid
			}
		}
		return l.page(l.top(lo), bottom, lo, qrSize*q), nil
	}
	return nil, fmt.Errorf("%w (%d characters)", ErrTooLong, len([]rune(p.TitleAR+p.CallAR+p.TitleEN+p.CallEN+p.When+p.WhenEN+p.Where)))
}

// The range of the top half's scale: at 0.35 the Arabic call is 7.7 pt,
// still legible at arm's length, which the longest call the bot accepts
// (1,500 characters in each language) needs; past 1.3 a short call would
// shout.
const (
	minScale = 0.35
	maxScale = 1.3
	// latinChunk is the longest Latin phrase inside Arabic that is kept on
	// one line (see newText).
	latinChunk = 40
	// minGap is the least space between the top and the bottom half.
	minGap = 6.0
	// The font's lines are 1.5 em apart, room for Arabic marks above and
	// below; paragraphs are set a little tighter, titles tighter still.
	bodyLeading  = -0.08
	titleLeading = -0.15
	// topStart is where the titles start, below the header band.
	topStart = Margin + headerH + 7
	headerH  = 3.0
)

func (p Poster) check() error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"Arabic title", p.TitleAR}, {"Arabic call", p.CallAR}, {"code", p.Code}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrMissing, strings.Join(missing, ", "))
	}
	if p.TelegramLink == "" && p.WhatsAppLink == "" {
		return ErrNoLinks
	}
	return nil
}

// qrCode is one channel's link and its code.
type qrCode struct {
	channel, link string
	code          *qr.Code
}

// qrCodes encodes the links, Telegram first: in an Arabic page it goes on
// the right, where the eye starts.
func (p Poster) qrCodes() ([]qrCode, error) {
	var out []qrCode
	for _, l := range []struct{ channel, link string }{{"telegram", p.TelegramLink}, {"whatsapp", p.WhatsAppLink}} {
		if l.link == "" {
			continue
		}
		// level Q restores a quarter of the code: a poster gets scuffed, folded and rained on
		c, err := qr.Encode(l.link, qr.Q)
		if err != nil {
			return nil, fmt.Errorf("poster: QR code for %s: %w", l.link, err)
		}
		out = append(out, qrCode{channel: l.channel, link: l.link, code: c})
	}
	return out, nil
}

// quietZone is the white border the QR standard asks for, in modules.
const quietZone = 4

// layout builds one poster's page.
type layout struct {
	r       *Renderer
	p       Poster
	english bool
}

// element is one thing drawn on the page, at its final place.
type element struct {
	name string
	box  Box
	draw func(ctx *canvas.Context)
	// lines is how many lines a text took
	lines int
}

// stack is a column of elements laid out from a y downwards.
type stack struct {
	els    []element
	height float64
	// top is the stack's top edge, for a stack laid out upwards
	top float64
}

// style returns a text style.
func style(size float64, bold bool, col color.RGBA, lang string, leading float64) textStyle {
	return textStyle{size: size, bold: bold, col: col, lang: lang, leading: leading}
}

// textBlock sets s in a box of width w at (x, y) on the page.
func (l *layout) textBlock(name, s string, st textStyle, x, y, w float64, al align) element {
	b := l.r.ts.set(s, st, w, al)
	box := Box{Name: name, X0: x + b.x0, Y0: y, X1: x + b.x1, Y1: y + b.height}
	if len(b.lines) == 0 {
		box.X0, box.X1 = x, x
	}
	return element{name: name, box: box, lines: len(b.lines), draw: func(ctx *canvas.Context) {
		ctx.SetFillColor(b.col)
		ctx.DrawPath(0, 0, b.path(x, y))
	}}
}

// top lays out the titles, calls and event at scale s from topStart.
func (l *layout) top(s float64) stack {
	p := l.p
	var st stack
	y := topStart
	add := func(e element, gapAfter float64) {
		st.els = append(st.els, e)
		y = e.box.Y1 + gapAfter
	}
	// the Arabic title, at most three lines, keeps its full size (readable
	// across a room) until the texts under it are down to three quarters
	// of theirs
	titleSize := min(max(46*s/0.75, 24), 50)
	title := l.textBlock("title_ar", p.TitleAR, style(titleSize, true, ink, messages.Arabic, titleLeading), Margin, y, contentW, alignStart)
	for title.lines > 3 && titleSize > 24 {
		titleSize *= 0.92
		title = l.textBlock("title_ar", p.TitleAR, style(titleSize, true, ink, messages.Arabic, titleLeading), Margin, y, contentW, alignStart)
	}
	add(title, 5*s)
	add(l.textBlock("call_ar", p.CallAR, style(22*s, false, ink, messages.Arabic, bodyLeading), Margin, y, contentW, alignStart), 0)
	if l.english {
		y += 6 * s
		rule := Box{Name: "rule", X0: Margin, Y0: y, X1: Margin + 30, Y1: y + 0.8}
		add(element{name: "rule", box: rule, draw: fillBox(rule, accent)}, 5*s)
		if p.TitleEN != "" {
			add(l.textBlock("title_en", p.TitleEN, style(28*s, true, ink, messages.English, titleLeading), Margin, y, contentW, alignStart), 3*s)
		}
		if p.CallEN != "" {
			add(l.textBlock("call_en", p.CallEN, style(17*s, false, secondary, messages.English, bodyLeading), Margin, y, contentW, alignStart), 0)
		}
	}
	if p.When != "" || p.Where != "" {
		y += 8 * s
		pad := 4 * s
		inner := contentW - 2*pad
		start := y
		var lines []element
		y += pad
		if p.When != "" {
			e := l.textBlock("when", p.When, style(20*s, true, ink, messages.Arabic, 0), Margin+pad, y, inner, alignCenter)
			lines = append(lines, e)
			y = e.box.Y1 + 1.5*s
		}
		if l.english && p.WhenEN != "" {
			e := l.textBlock("when_en", p.WhenEN, style(14*s, false, secondary, messages.English, 0), Margin+pad, y, inner, alignCenter)
			lines = append(lines, e)
			y = e.box.Y1 + 1.5*s
		}
		if p.Where != "" {
			e := l.textBlock("where", p.Where, style(18*s, false, ink, paragraphLang(p.Where), bodyLeading), Margin+pad, y, inner, alignCenter)
			lines = append(lines, e)
			y = e.box.Y1
		}
		y += pad
		band := Box{Name: "event", X0: Margin, Y0: start, X1: Margin + contentW, Y1: y}
		st.els = append(st.els, element{name: "event", box: band, draw: roundedBox(band, 3, tint)})
		st.els = append(st.els, lines...)
	}
	st.height = y - topStart
	return st
}

// The bottom half at its full size, in mm.
const (
	footerH = 18.0
	qrSize  = 52.0
	// colGap separates the two QR columns
	colGap = 8.0
)

// bottom lays out at scale q, upwards from the foot of the page: the
// coalition band, the organisers, the code, and the QR codes with their
// captions.
func (l *layout) bottom(codes []qrCode, q float64) stack {
	p := l.p
	var st stack
	y := PageHeight - Margin
	langs := []string{messages.Arabic}
	if l.english {
		langs = append(langs, messages.English)
	}

	// the foot: the coalition's name, Arabic on the right, English on the left
	foot := Box{Name: "footer", X0: Margin, Y0: y - footerH*q, X1: Margin + contentW, Y1: y}
	st.els = append(st.els, element{name: "footer", box: foot, draw: fillBox(foot, accent)})
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	pad := 6.0
	half := contentW/2 - pad
	if p.CoalitionAR == "" || p.CoalitionEN == "" {
		half = contentW - 2*pad
	}
	if p.CoalitionAR != "" {
		e := l.textBlock("coalition_ar", p.CoalitionAR, style(17*q, true, white, messages.Arabic, 0), Margin+contentW-pad-half, 0, half, alignStart)
		st.els = append(st.els, centreIn(e, foot))
	}
	if p.CoalitionEN != "" {
		e := l.textBlock("coalition_en", p.CoalitionEN, style(12*q, false, white, messages.English, 0), Margin+pad, 0, half, alignStart)
		st.els = append(st.els, centreIn(e, foot))
	}
	y = foot.Y0 - 4*q

	if p.Organisers != "" {
		e := l.textBlock("organisers", p.Organisers, style(12*q, false, secondary, paragraphLang(p.Organisers), bodyLeading), Margin, 0, contentW, alignCenter)
		e = moveBy(e, 0, y-e.box.Y1)
		st.els = append(st.els, e)
		y = e.box.Y0 - 4*q
	}

	// the code, in a tinted box: its label, the code large, and what to type
	labelKey := messages.PosterCode
	if p.CodeLabel != "" {
		labelKey = p.CodeLabel
	}
	label := l.r.cat.Text(messages.Arabic, labelKey, nil)
	if l.english {
		label += " · " + l.r.cat.Text(messages.English, labelKey, nil)
	}
	inside := []element{l.textBlock("code_label", label, style(11*q, true, secondary, messages.Arabic, 0), Margin, 0, contentW, alignCenter)}
	iy := inside[0].box.Y1
	// a 30-letter code still fits in one line: the size gives way to the width
	codeSize := 34 * q
	code := l.textBlock("code", p.Code, style(codeSize, true, ink, messages.English, 0), Margin, iy, contentW, alignCenter)
	for code.box.X1-code.box.X0 > contentW-50 && codeSize > 14 {
		codeSize *= 0.9
		code = l.textBlock("code", p.Code, style(codeSize, true, ink, messages.English, 0), Margin, iy, contentW, alignCenter)
	}
	inside = append(inside, code)
	iy = code.box.Y1
	command := "start " + p.Code
	for _, lang := range langs {
		cmd := command
		if lang == messages.Arabic {
			cmd = messages.Isolate(command)
		}
		s := l.r.cat.Text(lang, messages.PosterSendCode, map[string]any{"Command": cmd})
		e := l.textBlock("send_code_"+lang, s, style(10.5*q, false, secondary, lang, 0), Margin, iy, contentW, alignCenter)
		inside = append(inside, e)
		iy = e.box.Y1
	}
	padY := 3 * q
	codeBox := Box{Name: "code_box", X0: Margin + 20, Y0: y - iy - 2*padY, X1: Margin + contentW - 20, Y1: y}
	st.els = append(st.els, element{name: "code_box", box: codeBox, draw: roundedBox(codeBox, 4, tint)})
	for _, e := range inside {
		st.els = append(st.els, moveBy(e, 0, codeBox.Y0+padY))
	}
	y = codeBox.Y0 - 5*q

	// the QR codes side by side, each with its captions and link below it
	side := qrSize * q
	colW := contentW
	if len(codes) == 2 {
		colW = (contentW - colGap) / 2
	}
	var cols [][]element
	colH := 0.0
	for _, c := range codes {
		var col []element
		cy := side + 1
		for i, lang := range langs {
			caption := l.r.cat.Text(lang, messages.PosterTelegram, nil)
			if c.channel == "whatsapp" {
				caption = l.r.cat.Text(lang, messages.PosterWhatsApp, nil)
			}
			size := 16.0
			if i > 0 {
				size = 12
			}
			e := l.textBlock("caption_"+c.channel+"_"+lang, caption, style(size*q, true, ink, lang, 0), 0, cy, colW, alignCenter)
			col = append(col, e)
			cy = e.box.Y1
		}
		// the link in small type, shrunk to the column's width if it must
		linkSize := 8.5 * q
		link := l.textBlock("link_"+c.channel, c.link, style(linkSize, false, secondary, messages.English, 0), 0, cy+0.5, colW, alignCenter)
		for link.lines > 1 && linkSize > 5 {
			linkSize *= 0.92
			link = l.textBlock("link_"+c.channel, c.link, style(linkSize, false, secondary, messages.English, 0), 0, cy+0.5, colW, alignCenter)
		}
		col = append(col, link)
		colH = math.Max(colH, link.box.Y1)
		cols = append(cols, col)
	}
	colTop := y - colH
	for i, c := range codes {
		// right to left: the first code in the right-hand column
		x := Margin + contentW - float64(i+1)*colW - float64(i)*colGap
		b := Box{Name: "qr_" + c.channel, X0: x + (colW-side)/2, Y0: colTop, X1: x + (colW+side)/2, Y1: colTop + side}
		st.els = append(st.els, element{name: b.Name, box: b, draw: drawQR(c.code, b)})
		for _, e := range cols[i] {
			st.els = append(st.els, moveBy(e, x, colTop))
		}
	}
	y = colTop - 3*q

	// the heading over the codes
	var heading []element
	hy := 0.0
	for i, lang := range langs {
		size := 15.0
		if i > 0 {
			size = 11
		}
		e := l.textBlock("scan_"+lang, l.r.cat.Text(lang, messages.PosterScan, nil), style(size*q, i == 0, ink, lang, 0), Margin, hy, contentW, alignCenter)
		heading = append(heading, e)
		hy = e.box.Y1
	}
	for _, e := range heading {
		st.els = append(st.els, moveBy(e, 0, y-hy))
	}
	st.top = y - hy
	st.height = PageHeight - Margin - st.top
	return st
}

// page puts the top and bottom halves on a canvas; the space left between
// them goes above the bottom half, so the codes sit together at the foot.
func (l *layout) page(top, bottom stack, scale, side float64) *Page {
	c := canvas.New(PageWidth, PageHeight)
	ctx := canvas.NewContext(c)
	pg := &Page{r: l.r, c: c, title: l.p.TitleAR, Scale: scale, QRSize: side}
	header := Box{Name: "header", X0: Margin, Y0: Margin, X1: Margin + contentW, Y1: Margin + headerH}
	for _, e := range append(append([]element{{name: "header", box: header, draw: fillBox(header, accent)}}, top.els...), bottom.els...) {
		e.draw(ctx)
		pg.boxes = append(pg.boxes, e.box)
		if strings.HasPrefix(e.name, "qr_") || strings.HasPrefix(e.name, "link_") {
			link := l.p.TelegramLink
			if strings.HasSuffix(e.name, "whatsapp") {
				link = l.p.WhatsAppLink
			}
			pg.links = append(pg.links, pageLink{uri: link, box: e.box})
		}
	}
	return pg
}

// centreIn centres e vertically in band, keeping its x.
func centreIn(e element, band Box) element {
	h := e.box.Y1 - e.box.Y0
	return moveBy(e, 0, band.Y0+(band.Y1-band.Y0-h)/2-e.box.Y0)
}

// moveBy shifts e by (dx, dy).
func moveBy(e element, dx, dy float64) element {
	draw := e.draw
	e.box.X0, e.box.X1, e.box.Y0, e.box.Y1 = e.box.X0+dx, e.box.X1+dx, e.box.Y0+dy, e.box.Y1+dy
	e.draw = func(ctx *canvas.Context) {
		ctx.Push()
		// canvas's y axis points up
		ctx.Translate(dx, -dy)
		draw(ctx)
		ctx.Pop()
	}
	return e
}

// fillBox draws b as a filled rectangle.
func fillBox(b Box, col color.RGBA) func(*canvas.Context) {
	return func(ctx *canvas.Context) {
		ctx.SetFillColor(col)
		ctx.DrawPath(b.X0, PageHeight-b.Y1, canvas.Rectangle(b.X1-b.X0, b.Y1-b.Y0))
	}
}

// roundedBox draws b as a filled rectangle with rounded corners of radius r.
func roundedBox(b Box, r float64, col color.RGBA) func(*canvas.Context) {
	return func(ctx *canvas.Context) {
		ctx.SetFillColor(col)
		ctx.DrawPath(b.X0, PageHeight-b.Y1, canvas.RoundedRectangle(b.X1-b.X0, b.Y1-b.Y0, r))
	}
}

// drawQR draws code in b, quiet zone included, one path of black squares
// (runs of a row merged) so a PDF viewer shows no seams between modules.
func drawQR(code *qr.Code, b Box) func(*canvas.Context) {
	n := code.Size + 2*quietZone
	m := (b.X1 - b.X0) / float64(n)
	path := &canvas.Path{}
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; {
			if !code.Black(x, y) {
				x++
				continue
			}
			end := x
			for end < code.Size && code.Black(end, y) {
				end++
			}
			x0 := b.X0 + float64(x+quietZone)*m
			x1 := b.X0 + float64(end+quietZone)*m
			y0 := PageHeight - (b.Y0 + float64(y+quietZone)*m)
			y1 := y0 - m
			path.MoveTo(x0, y1)
			path.LineTo(x1, y1)
			path.LineTo(x1, y0)
			path.LineTo(x0, y0)
			path.Close()
			x = end
		}
	}
	return func(ctx *canvas.Context) {
		ctx.SetFillColor(canvas.White)
		ctx.DrawPath(b.X0, PageHeight-b.Y1, canvas.Rectangle(b.X1-b.X0, b.Y1-b.Y0))
		ctx.SetFillColor(canvas.Black)
		ctx.DrawPath(0, 0, path)
	}
}
