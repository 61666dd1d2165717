package poster

import (
	"bytes"
	"fmt"
	"image/color"
	"slices"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"github.com/tdewolff/canvas"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/bidi"

	"mobilise/messages"
)

// Text is set by go-text/typesetting, the text stack Gio and Fyne use:
// its Segmenter splits a paragraph into runs by bidi level (the Unicode
// bidi algorithm of golang.org/x/text) and script, its HarfBuzz port shapes
// each run into joined glyphs, and its LineWrapper breaks the runs into
// lines at UAX #14 break opportunities (the spaces, in Arabic) and orders
// each line's runs for display. This file only places the glyphs it returns
// and turns their outlines into paths for canvas to draw.
//
// (canvas can set text itself, but its version of 2025-07 reverses the
// words of a right-to-left line in several cases.)

// typesetter holds the faces and the reusable state of the text stack.
// It is not safe for concurrent use; the Renderer's lock guards it.
type typesetter struct {
	regular, bold *font.Face
	seg           shaping.Segmenter
	shaper        shaping.HarfbuzzShaper
	wrapper       shaping.LineWrapper
}

func newTypesetter() (*typesetter, error) {
	regular, err := font.ParseTTF(bytes.NewReader(regularTTF))
	if err != nil {
		return nil, fmt.Errorf("poster: loading the regular font: %w", err)
	}
	bold, err := font.ParseTTF(bytes.NewReader(boldTTF))
	if err != nil {
		return nil, fmt.Errorf("poster: loading the bold font: %w", err)
	}
	return &typesetter{regular: regular, bold: bold}, nil
}

// textStyle is how a block of text is set.
type textStyle struct {
	// size is in points
	size float64
	bold bool
	col  color.RGBA
	// lang is the paragraph's language, messages.Arabic or English: it
	// gives the direction the paragraph runs in
	lang string
	// leading is added to the font's line spacing, as a fraction of it
	leading float64
}

// align is where lines sit in their box.
type align int

const (
	alignStart align = iota // right for Arabic, left for English
	alignCenter
)

// block is a paragraph set in lines.
type block struct {
	lines []line
	// height is from the top of the first line to the bottom of the last,
	// and x0, x1 how far the lines reach, in mm from the box's left edge
	height, x0, x1 float64
	col            color.RGBA
	// text is what was set, runs index into it; rtl is the paragraph's direction
	text []rune
	rtl  bool
}

// line is one line of a block: its runs in visual order, left to right.
type line struct {
	// baseline is in mm below the block's top, x is the line's left edge
	baseline, x float64
	runs        []shaping.Output
}

// singleFace resolves every rune to one face: the embedded font covers
// Arabic, Latin and digits, so there is nothing to fall back to.
type singleFace struct{ face *font.Face }

func (f singleFace) ResolveFace(rune) *font.Face { return f.face }

// The text stack measures in 26.6 fixed-point units, and compares line
// widths in whole units: a unit is a hundredth of a millimetre.
const unitsPerMM = 100

// toUnits and toMM convert between millimetres and the text stack's units.
func toUnits(mm float64) fixed.Int26_6 { return fixed.Int26_6(mm * unitsPerMM * 64) }
func toMM(v fixed.Int26_6) float64     { return float64(v) / (unitsPerMM * 64) }

// paragraphLang tells which way a text typed by people runs, a place or
// the organisers' line: as its first letter, by the bidi class the Unicode
// tables give it (rule P2 of the bidi algorithm); Arabic when it has none.
func paragraphLang(s string) string {
	for _, r := range s {
		switch p, _ := bidi.LookupRune(r); p.Class() {
		case bidi.L:
			return messages.English
		case bidi.R, bidi.AL:
			return messages.Arabic
		}
	}
	return messages.Arabic
}

// set lays s out in lines at most w mm wide.
func (ts *typesetter) set(s string, st textStyle, w float64, al align) *block {
	face := ts.regular
	if st.bold {
		face = ts.bold
	}
	b := &block{col: st.col}
	dir, lang := di.DirectionLTR, language.NewLanguage("en")
	if st.lang == messages.Arabic {
		// the right-to-left mark makes the paragraph right-to-left even
		// when it opens with a Latin word or a number
		dir, lang, s = di.DirectionRTL, language.NewLanguage("ar"), "\u200f"+s
	}
	runes := []rune(s)
	b.text, b.rtl = runes, dir == di.DirectionRTL
	if len(runes) == 0 {
		return b
	}
	sizeMM := st.size * 25.4 / 72
	in := shaping.Input{
		Text: runes, RunStart: 0, RunEnd: len(runes),
		Direction: dir, Face: face, Size: toUnits(sizeMM), Language: lang,
	}
	var outs []shaping.Output
	for _, run := range ts.seg.Split(in, singleFace{face}) {
		outs = append(outs, ts.shaper.Shape(run))
	}
	wrapped, _ := ts.wrapper.WrapParagraph(shaping.WrapConfig{Direction: dir}, int(w*unitsPerMM), runes, shaping.NewSliceIterator(outs))

	ext, _ := face.FontHExtents()
	scale := sizeMM / float64(face.Upem())
	ascent, descent := float64(ext.Ascender)*scale, -float64(ext.Descender)*scale
	spacing := (ascent + descent + float64(ext.LineGap)*scale) * (1 + st.leading)
	b.x0, b.x1 = w, 0
	for i, l := range wrapped {
		runs := slices.Clone(l)
		slices.SortFunc(runs, func(a, b shaping.Output) int { return int(a.VisualIndex - b.VisualIndex) })
		width := 0.0
		for _, r := range runs {
			width += toMM(r.Advance)
		}
		x := 0.0
		switch {
		case al == alignCenter:
			x = (w - width) / 2
		case dir == di.DirectionRTL:
			x = w - width
		}
		b.lines = append(b.lines, line{baseline: ascent + float64(i)*spacing, x: x, runs: runs})
		b.x0, b.x1 = min(b.x0, x), max(b.x1, x+width)
	}
	b.height = ascent + descent + float64(len(b.lines)-1)*spacing
	return b
}

// path returns the block's glyph outlines, its top left corner at (x, y)
// on the page (mm from the top left), in canvas's coordinates (y up).
func (b *block) path(x, y float64) *canvas.Path {
	p := &canvas.Path{}
	for _, l := range b.lines {
		pen := x + l.x
		base := PageHeight - (y + l.baseline)
		for _, run := range l.runs {
			scale := toMM(run.Size) / float64(run.Face.Upem())
			for _, g := range run.Glyphs {
				gx, gy := pen+toMM(g.XOffset), base+toMM(g.YOffset)
				if outline, ok := run.Face.GlyphData(g.GlyphID).(font.GlyphOutline); ok {
					addOutline(p, outline, gx, gy, scale)
				}
				pen += toMM(g.XAdvance)
			}
		}
	}
	return p
}

// addOutline appends a glyph's outline, in font units with y up, scaled and
// moved to (x, y).
func addOutline(p *canvas.Path, o font.GlyphOutline, x, y, scale float64) {
	pt := func(a font.SegmentPoint) (float64, float64) {
		return x + float64(a.X)*scale, y + float64(a.Y)*scale
	}
	open := false
	for _, seg := range o.Segments {
		switch seg.Op {
		case ot.SegmentOpMoveTo:
			if open {
				p.Close()
			}
			p.MoveTo(pt(seg.Args[0]))
			open = true
		case ot.SegmentOpLineTo:
			p.LineTo(pt(seg.Args[0]))
		case ot.SegmentOpQuadTo:
			cx, cy := pt(seg.Args[0])
			ex, ey := pt(seg.Args[1])
			p.QuadTo(cx, cy, ex, ey)
		case ot.SegmentOpCubeTo:
			c1x, c1y := pt(seg.Args[0])
			c2x, c2y := pt(seg.Args[1])
			ex, ey := pt(seg.Args[2])
			p.CubeTo(c1x, c1y, c2x, c2y, ex, ey)
		}
	}
	if open {
		p.Close()
	}
}
