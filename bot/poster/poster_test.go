package poster

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-text/typesetting/di"
	"github.com/makiuchi-d/gozxing"
	multiqr "github.com/makiuchi-d/gozxing/multi/qrcode"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/messages"
)

// keep saves the rendered posters in testdata/out (ignored by git) instead
// of the test's temporary directory, to look at them: go test ./bot/poster -keep
var keep = flag.Bool("keep", false, "save the rendered posters in testdata/out")

// outDir is where a test saves what it rendered.
func outDir(t *testing.T) string {
	t.Helper()
	if !*keep {
		return t.TempDir()
	}
	dir := filepath.Join("testdata", "out")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

func newRenderer(t testing.TB) *Renderer {
	t.Helper()
	cat, err := messages.New()
	require.NoError(t, err)
	r, err := New(cat)
	require.NoError(t, err)
	return r
}

const (
	tgLink = "https://t.me/salam_coalition_bot?start=peacewalk"
	waLink = "https://wa.me/970599123456?text=start%20peacewalk"
)

// realistic is a campaign as a coordinator writes one: an Arabic call with
// a Latin name, digits and punctuation, and an English version.
func realistic(t testing.TB) Poster {
	cat, err := messages.New()
	require.NoError(t, err)
	at := time.Date(2026, 3, 13, 16, 30, 0, 0, time.UTC)
	return Poster{
		TitleAR:      "مسيرة السلم الأهلي في نابلس",
		CallAR:       "انضموا إلينا يوم الجمعة في مسيرة صامتة من دوار الشهداء إلى البلدة القديمة، تأكيدًا على أن خلافاتنا تُحلّ بالحوار لا بالسلاح. شارك 1200 شخص العام الماضي مع جمعية Peace Center، فلنكن أكثر هذا العام!",
		TitleEN:      "Civil peace march in Nablus",
		CallEN:       "Join us on Friday for a silent march from Martyrs' Square to the Old City: our disputes are settled by dialogue, not by weapons. 1,200 people walked last year; let us be more this year!",
		CoalitionAR:  "ائتلاف السلم الأهلي",
		CoalitionEN:  "Civil Peace Coalition",
		Code:         "peacewalk",
		Organisers:   "تنظيم: مركز السلام للحوار · Organised by the Peace Center for Dialogue",
		When:         FormatWhen(cat, messages.Arabic, at),
		WhenEN:       FormatWhen(cat, messages.English, at),
		Where:        "دوار الشهداء، نابلس",
		TelegramLink: tgLink,
		WhatsAppLink: waLink,
	}
}

// decodeQRs finds and decodes every QR code in img.
func decodeQRs(t *testing.T, img image.Image) []string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	results, err := multiqr.NewQRCodeMultiReader().DecodeMultiple(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true})
	require.NoError(t, err)
	var out []string
	for _, r := range results {
		out = append(out, r.GetText())
	}
	return out
}

// decodeEach decodes the QR code inside each box of the page's image, one
// by one, so that a code is known to be where the layout says.
func decodeEach(t *testing.T, pg *Page, img image.Image, dpi float64) map[string]string {
	t.Helper()
	px := dpi / 25.4
	out := map[string]string{}
	for _, b := range pg.Boxes() {
		if !strings.HasPrefix(b.Name, "qr_") {
			continue
		}
		r := image.Rect(int(b.X0*px), int(b.Y0*px), int(b.X1*px+1), int(b.Y1*px+1))
		sub := img.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(r)
		bmp, err := gozxing.NewBinaryBitmapFromImage(sub)
		require.NoError(t, err)
		res, err := gzqr.NewQRCodeReader().Decode(bmp, nil)
		require.NoError(t, err, b.Name)
		out[strings.TrimPrefix(b.Name, "qr_")] = res.GetText()
	}
	return out
}

// checkPDF checks the PDF's header and that it has exactly one A4 page.
func checkPDF(t *testing.T, data []byte) {
	t.Helper()
	require.True(t, bytes.HasPrefix(data, []byte("%PDF-")), "starts with %%PDF-")
	assert.True(t, bytes.Contains(data[len(data)-64:], []byte("%%EOF")), "ends with %%EOF")
	pages := regexp.MustCompile(`/Type\s*/Page\b`).FindAll(data, -1)
	assert.Len(t, pages, 1, "one page")
	m := regexp.MustCompile(`/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]`).FindSubmatch(data)
	require.NotNil(t, m, "a MediaBox")
	w, err := strconv.ParseFloat(string(m[1]), 64)
	require.NoError(t, err)
	h, err := strconv.ParseFloat(string(m[2]), 64)
	require.NoError(t, err)
	// A4 is 595.28 × 841.89 points
	assert.InDelta(t, 595.28, w, 0.1)
	assert.InDelta(t, 841.89, h, 0.1)
}

// checkInside checks that every box lies within the margins, and that no
// two texts overlap (boxes drawn behind texts, such as bands, may).
func checkInside(t *testing.T, pg *Page) {
	t.Helper()
	const eps = 0.01
	boxes := pg.Boxes()
	for _, b := range boxes {
		assert.GreaterOrEqual(t, b.X0, Margin-eps, "%s left of the margin", b.Name)
		assert.GreaterOrEqual(t, b.Y0, Margin-eps, "%s above the margin", b.Name)
		assert.LessOrEqual(t, b.X1, PageWidth-Margin+eps, "%s right of the margin", b.Name)
		assert.LessOrEqual(t, b.Y1, PageHeight-Margin+eps, "%s below the margin", b.Name)
		assert.Less(t, b.X0, b.X1, "%s has a width", b.Name)
		assert.Less(t, b.Y0, b.Y1, "%s has a height", b.Name)
	}
	background := map[string]bool{"header": true, "footer": true, "event": true, "code_box": true, "rule": true}
	for i, a := range boxes {
		for _, b := range boxes[i+1:] {
			if background[a.Name] || background[b.Name] {
				continue
			}
			overlap := a.X0 < b.X1-eps && b.X0 < a.X1-eps && a.Y0 < b.Y1-eps && b.Y0 < a.Y1-eps
			assert.False(t, overlap, "%s %v overlaps %s %v", a.Name, a, b.Name, b)
		}
	}
}

// checkMargins checks on the rendered image that nothing was drawn in the
// margins: every pixel there is white.
func checkMargins(t *testing.T, img *image.RGBA, dpi float64) {
	t.Helper()
	// a pixel's worth less than the margin, for anti-aliasing at its edge
	m := int(Margin*dpi/25.4) - 1
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if x >= m && x < b.Max.X-m && y >= m && y < b.Max.Y-m {
				continue
			}
			c := img.RGBAAt(x, y)
			if c.R != 0xff || c.G != 0xff || c.B != 0xff {
				t.Fatalf("pixel (%d, %d) in the margin is %v, not white", x, y, c)
			}
		}
	}
}

// boxNamed returns the box of the element name, or fails.
func boxNamed(t *testing.T, pg *Page, name string) Box {
	t.Helper()
	for _, b := range pg.Boxes() {
		if b.Name == name {
			return b
		}
	}
	t.Fatalf("no element %s in %v", name, pg.Boxes())
	return Box{}
}

func TestRealisticPoster(t *testing.T) {
	r := newRenderer(t)
	pg, err := r.Layout(realistic(t))
	require.NoError(t, err)
	dir := outDir(t)

	pdfData, err := pg.PDF()
	require.NoError(t, err)
	checkPDF(t, pdfData)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "realistic.pdf"), pdfData, 0o644))
	assert.True(t, bytes.Contains(pdfData, []byte("/URI("+tgLink+")")), "the Telegram code is a link in the PDF")
	assert.True(t, bytes.Contains(pdfData, []byte("/URI("+waLink+")")), "the WhatsApp code is a link in the PDF")

	const dpi = 150
	img, err := pg.Image(dpi)
	require.NoError(t, err)
	assert.Equal(t, image.Pt(1240, 1754), img.Bounds().Size(), "A4 at 150 dpi")
	pngData, err := pg.PNG(dpi)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "realistic.png"), pngData, 0o644))
	decoded, err := png.Decode(bytes.NewReader(pngData))
	require.NoError(t, err)

	// the codes read back, from the whole page and one by one where the layout put them
	assert.ElementsMatch(t, []string{tgLink, waLink}, decodeQRs(t, decoded))
	assert.Equal(t, map[string]string{"telegram": tgLink, "whatsapp": waLink}, decodeEach(t, pg, decoded, dpi))

	checkInside(t, pg)
	checkMargins(t, img, dpi)
	// Arabic first: the Arabic title above the English one, the Telegram code on the right
	assert.Less(t, boxNamed(t, pg, "title_ar").Y1, boxNamed(t, pg, "title_en").Y0)
	assert.Less(t, boxNamed(t, pg, "call_ar").Y1, boxNamed(t, pg, "call_en").Y0)
	assert.Greater(t, boxNamed(t, pg, "qr_telegram").X0, boxNamed(t, pg, "qr_whatsapp").X1)
	// the codes at their full size; the texts not squeezed
	assert.Equal(t, 52.0, pg.QRSize)
	assert.GreaterOrEqual(t, pg.Scale, 0.55)
	t.Logf("scale %.2f, QR %.0f mm, PDF %d bytes, PNG %d bytes", pg.Scale, pg.QRSize, len(pdfData), len(pngData))
}

func TestOneLink(t *testing.T) {
	r := newRenderer(t)
	p := realistic(t)
	p.TelegramLink = ""
	pg, err := r.Layout(p)
	require.NoError(t, err)
	const dpi = 150
	img, err := pg.Image(dpi)
	require.NoError(t, err)
	if *keep {
		data, err := pg.PNG(dpi)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(outDir(t), "whatsapp-only.png"), data, 0o644))
	}

	assert.Equal(t, []string{waLink}, decodeQRs(t, img), "one code, WhatsApp's")
	assert.Equal(t, map[string]string{"whatsapp": waLink}, decodeEach(t, pg, img, dpi))
	for _, b := range pg.Boxes() {
		assert.NotContains(t, b.Name, "telegram")
	}
	// alone, the code is centred on the page
	qr := boxNamed(t, pg, "qr_whatsapp")
	assert.InDelta(t, PageWidth/2, (qr.X0+qr.X1)/2, 0.01)
	checkInside(t, pg)
	checkMargins(t, img, dpi)
}

func TestArabicOnly(t *testing.T) {
	r := newRenderer(t)
	p := realistic(t)
	p.TitleEN, p.CallEN, p.CoalitionEN = "", "", ""
	pg, err := r.Layout(p)
	require.NoError(t, err)
	for _, b := range pg.Boxes() {
		assert.NotContains(t, b.Name, "_en", "no English part on an Arabic-only poster")
	}
	img, err := pg.Image(150)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{tgLink, waLink}, decodeQRs(t, img))
	checkInside(t, pg)
	checkMargins(t, img, 150)
}

func TestConcurrentUse(t *testing.T) {
	r := newRenderer(t)
	p := realistic(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			pg, err := r.Layout(p)
			if err == nil {
				_, err = pg.PNG(72)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

// repeat returns s repeated until it is n runes long, cut at a space.
func repeat(s string, n int) string {
	var b strings.Builder
	for len([]rune(b.String())) < n {
		b.WriteString(s)
		b.WriteString(" ")
	}
	out := []rune(b.String())[:n]
	return strings.TrimSpace(string(out))
}

func TestLongTextsFit(t *testing.T) {
	r := newRenderer(t)
	p := realistic(t)
	// the longest the bot accepts: a 120-character title and a 1,500-character call in each language
	p.TitleAR = repeat("حملة وطنية للسلم الأهلي والحوار بين العائلات في المحافظات الشمالية", 120)
	p.TitleEN = repeat("A national campaign for civil peace and dialogue between families", 120)
	p.CallAR = repeat("ندعو كل أهالي المدينة إلى الوقوف معًا ضد العنف، وحل الخلافات بالحوار والقانون، ودعم لجان الإصلاح في 12 حيًّا مع شركائنا في Peace Center.", 1500)
	p.CallEN = repeat("We call on everyone in the city to stand together against violence, to settle disputes by dialogue and the law, and to support the reconciliation committees in 12 neighbourhoods.", 1500)
	p.Where = repeat("قاعة بلدية نابلس الكبرى، الطابق الثاني، مقابل دوار الشهداء", 200)
	p.Organisers = repeat("تنظيم: مركز السلام للحوار وجمعية الشبان المسيحية ولجنة الإصلاح العشائري", 150)
	p.Code = "abcdefghijklmnopqrstuvwxyz0123" // the longest code, 30 characters

	pg, err := r.Layout(p)
	require.NoError(t, err)
	const dpi = 150
	img, err := pg.Image(dpi)
	require.NoError(t, err)
	if *keep {
		data, err := pg.PNG(dpi)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(outDir(t), "long.png"), data, 0o644))
	}
	checkInside(t, pg)
	checkMargins(t, img, dpi)
	assert.ElementsMatch(t, []string{tgLink, waLink}, decodeQRs(t, img), "the codes still read")
	// shrunk, but not below the smallest type
	assert.Less(t, pg.Scale, 0.6)
	assert.GreaterOrEqual(t, pg.Scale, minScale)
	t.Logf("scale %.2f, QR %.0f mm", pg.Scale, pg.QRSize)

	// past the bot's limits, a clear error rather than text off the page
	p.CallAR = repeat(p.CallAR, 6000)
	_, err = r.Layout(p)
	assert.ErrorIs(t, err, ErrTooLong)
}

func TestLayoutErrors(t *testing.T) {
	r := newRenderer(t)
	p := realistic(t)
	p.TitleAR, p.Code = " ", ""
	_, err := r.Layout(p)
	assert.ErrorIs(t, err, ErrMissing)
	assert.ErrorContains(t, err, "Arabic title, code")

	p = realistic(t)
	p.TelegramLink, p.WhatsAppLink = "", ""
	_, err = r.Layout(p)
	assert.ErrorIs(t, err, ErrNoLinks)

	pg, err := r.Layout(realistic(t))
	require.NoError(t, err)
	_, err = pg.PNG(10)
	assert.ErrorContains(t, err, "out of range")
}

// readBack reads each line of a block the way it is seen: in an Arabic
// paragraph from the right, each left-to-right run (a Latin name, a number)
// from its left end. It also checks that within every run the glyphs are
// drawn in the run's direction. Read so, the lines give back the text as
// it was written.
func readBack(t *testing.T, b *block) []string {
	t.Helper()
	var lines []string
	for _, l := range b.lines {
		for _, run := range l.runs {
			for i := 1; i < len(run.Glyphs); i++ {
				prev, cur := run.Glyphs[i-1].ClusterIndex, run.Glyphs[i].ClusterIndex
				if run.Direction.Progression() == di.TowardTopLeft {
					require.LessOrEqual(t, cur, prev, "a right-to-left run is drawn from its end on the left")
				} else {
					require.GreaterOrEqual(t, cur, prev, "a left-to-right run is drawn from its start")
				}
			}
		}
		runs := slices.Clone(l.runs)
		if b.rtl {
			slices.Reverse(runs)
			// put each sequence of left-to-right runs back in reading order
			for i := 0; i < len(runs); {
				j := i
				for j < len(runs) && runs[j].Direction.Progression() == di.FromTopLeft {
					j++
				}
				slices.Reverse(runs[i:j])
				i = max(j, i+1)
			}
		}
		var sb strings.Builder
		for _, run := range runs {
			sb.WriteString(string(b.text[run.Runes.Offset : run.Runes.Offset+run.Runes.Count]))
		}
		lines = append(lines, strings.Join(strings.Fields(strings.TrimPrefix(sb.String(), "\u200f")), " "))
	}
	return lines
}

func TestArabicWordOrder(t *testing.T) {
	r := newRenderer(t)
	cases := []struct {
		label, text string
		width       float64
		want        []string
	}{
		{label: "Arabic words", text: "مسيرة السلم الأهلي في نابلس", width: 180, want: []string{"مسيرة السلم الأهلي في نابلس"}},
		{label: "a Latin name and digits inside Arabic", text: "شارك 1200 شخص مع جمعية Peace Center هنا", width: 180,
			want: []string{"شارك 1200 شخص مع جمعية Peace Center هنا"}},
		{label: "an isolated command", text: "أو أرسل " + messages.Isolate("start peace walk") + " إلى البوت", width: 180,
			want: []string{"أو أرسل \u2068start peace walk\u2069 إلى البوت"}},
		{label: "a line that opens with Latin", text: "Peace Center يدعوكم إلى الحوار", width: 180,
			want: []string{"Peace Center يدعوكم إلى الحوار"}},
		{label: "broken at spaces", text: "انضموا إلينا يوم الجمعة في مسيرة صامتة من دوار الشهداء", width: 70,
			want: []string{"انضموا إلينا يوم الجمعة في مسيرة", "صامتة من دوار الشهداء"}},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			b := r.ts.set(tc.text, style(14, false, ink, messages.Arabic, 0), tc.width, alignStart)
			assert.Equal(t, tc.want, readBack(t, b))
			// Arabic lines hang from the right edge
			for _, l := range b.lines {
				w := 0.0
				for _, run := range l.runs {
					w += toMM(run.Advance)
				}
				assert.InDelta(t, tc.width, l.x+w, 0.01)
			}
		})
	}
}

// TestArabicReadingOrder sets a long mixed paragraph at many sizes and
// widths and reads every line back in visual order: together they must give
// the text as written, and no line may pass the edges.
func TestArabicReadingOrder(t *testing.T) {
	r := newRenderer(t)
	text := repeat("ندعو كل أهالي المدينة إلى الوقوف معًا ضد العنف، ودعم لجان الإصلاح في 12 حيًّا مع شركائنا في Peace Center for Dialogue، وأرسلوا "+
		messages.Isolate("start peace")+" إلى البوت.", 600)
	want := strings.Join(strings.Fields(text), " ")
	for size := 9.0; size <= 30; size += 7 {
		for w := 50.0; w <= 190; w += 9 {
			b := r.ts.set(text, style(size, false, ink, messages.Arabic, 0), w, alignStart)
			require.Equal(t, want, strings.Join(readBack(t, b), " "), "%g pt in %g mm", size, w)
			require.GreaterOrEqual(t, b.x0, -0.01, "%g pt in %g mm", size, w)
			require.LessOrEqual(t, b.x1, w+0.01, "%g pt in %g mm", size, w)
		}
	}
}

func TestParagraphLang(t *testing.T) {
	assert.Equal(t, messages.English, paragraphLang("Martyrs' Square, Nablus"))
	assert.Equal(t, messages.English, paragraphLang("12 Main Street"), "a number is not a letter")
	assert.Equal(t, messages.Arabic, paragraphLang("دوار الشهداء، Nablus"))
	assert.Equal(t, messages.Arabic, paragraphLang("2026"))
}

func TestFormatWhen(t *testing.T) {
	cat, err := messages.New()
	require.NoError(t, err)
	loc, err := time.LoadLocation("Asia/Hebron")
	require.NoError(t, err)
	at := time.Date(2026, 3, 13, 14, 30, 0, 0, time.UTC).In(loc)
	assert.Equal(t, "الجمعة 13 آذار 2026، الساعة "+messages.Isolate("16:30"), FormatWhen(cat, messages.Arabic, at))
	assert.Equal(t, "Friday 13 March 2026, "+messages.Isolate("16:30"), FormatWhen(cat, messages.English, at))
	assert.Equal(t, "الأحد 3 كانون الثاني 2027، الساعة "+messages.Isolate("09:05"),
		FormatWhen(cat, messages.Arabic, time.Date(2027, 1, 3, 9, 5, 0, 0, loc)))
}

func BenchmarkLayout(b *testing.B) {
	r := newRenderer(b)
	p := realistic(b)
	for b.Loop() {
		if _, err := r.Layout(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPDF(b *testing.B) {
	r := newRenderer(b)
	p := realistic(b)
	for b.Loop() {
		pg, err := r.Layout(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := pg.PDF(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPNG150dpi(b *testing.B) {
	r := newRenderer(b)
	p := realistic(b)
	for b.Loop() {
		pg, err := r.Layout(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := pg.PNG(150); err != nil {
			b.Fatal(err)
		}
	}
}
