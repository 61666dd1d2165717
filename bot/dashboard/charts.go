package dashboard

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"sort"
	"time"

	"golang.org/x/image/font/opentype"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"

	"mobilise/messages"
	"mobilise/store"
)

// Charts are drawn on the server by gonum/plot as SVG and put in the page
// as they are: no script draws them, they print, and they need nothing
// from the network. Their words are measured with the dashboard's own font
// (IBM Plex Sans Arabic, embedded), the one the page gives their text, so
// labels in Arabic and English fit; numbers and dates on the axes are
// written the reader's way. Every chart also carries its figures as text
// (values at the bars, the total at the line's end) and a table beside it,
// for screen readers.

// chartFont is the typeface the charts' text is measured and drawn in.
const chartFont = "IBM Plex Sans Arabic"

// charts draws the dashboard's charts with its font.
type charts struct {
	handler text.Handler
}

// The colours of the charts: the dashboard's green, and the grid.
var (
	chartGreen = color.RGBA{R: 0x1b, G: 0x6e, B: 0x4b, A: 0xff}
	chartGrid  = color.RGBA{R: 0xd8, G: 0xdd, B: 0xd9, A: 0xff}
)

func newCharts() (*charts, error) {
	ttf, err := assetFS.ReadFile("assets/fonts/IBMPlexSansArabic-Regular.ttf")
	if err != nil {
		return nil, fmt.Errorf("reading the charts' font: %w", err)
	}
	face, err := opentype.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("parsing the charts' font: %w", err)
	}
	cache := font.NewCache(font.Collection{{Font: font.Font{Typeface: chartFont}, Face: face}})
	return &charts{handler: text.Plain{Fonts: cache}}, nil
}

// newPlot is a plot whose every text uses the charts' font.
func (c *charts) newPlot() *plot.Plot {
	p := plot.New()
	f := font.Font{Typeface: chartFont}
	p.TextHandler = c.handler
	for _, st := range []*text.Style{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle,
		&p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle} {
		st.Handler = c.handler
		st.Font = font.From(f, st.Font.Size)
	}
	p.BackgroundColor = color.Transparent
	return p
}

// numberTicks labels a numeric axis with whole numbers written the reader's way.
type numberTicks struct{ lang string }

func (t numberTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for _, tk := range (plot.DefaultTicks{}).Ticks(min, max) {
		if tk.Label != "" {
			if tk.Value != math.Trunc(tk.Value) {
				continue // a half pledge means nothing
			}
			tk.Label = messages.FormatNumber(t.lang, int(tk.Value))
		}
		out = append(out, tk)
	}
	return out
}

// dayTicks labels a time axis (Unix seconds) with a few days, written the reader's way.
type dayTicks struct {
	lang string
	loc  *time.Location
}

func (t dayTicks) Ticks(min, max float64) []plot.Tick {
	first := time.Unix(int64(min), 0).In(t.loc)
	last := time.Unix(int64(max), 0).In(t.loc)
	days := int(last.Sub(first).Hours()/24) + 1
	step := max1(days / 5)
	var out []plot.Tick
	for d := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, t.loc); !d.After(last); d = d.AddDate(0, 0, step) {
		if d.Before(first) {
			continue
		}
		label := messages.FormatNumber(t.lang, d.Day()) + " " + messages.MonthName(t.lang, d.Month())
		out = append(out, plot.Tick{Value: float64(d.Unix()), Label: label})
	}
	return out
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// svgHead matches what gonum's SVG writes before the drawing: the XML
// declaration, a comment and the fixed size, which the page replaces so
// the chart fits the screen it is on.
var svgHead = regexp.MustCompile(`(?s)^.*?<svg width="[^"]*" height="[^"]*"`)

// inline turns a plot into SVG to put in a page, labelled for screen readers.
func inline(p *plot.Plot, w, h vg.Length, label string) (template.HTML, error) {
	wt, err := p.WriterTo(w, h, "svg")
	if err != nil {
		return "", fmt.Errorf("drawing a chart: %w", err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("drawing a chart: %w", err)
	}
	head := `<svg class="chart" role="img" aria-label="` + template.HTMLEscapeString(label) + `"`
	// gonum escapes every text it writes (html.EscapeString), so the SVG is safe to inline
	return template.HTML(svgHead.ReplaceAllLiteralString(buf.String(), head)), nil //nolint:gosec // see above
}

// pledgesOverTime draws the running total of a campaign's pledges, or of
// its sign-ups for an event, day by day; the last point carries the total.
func (c *charts) pledgesOverTime(days []store.DayCount, signups bool, lang string, loc *time.Location, label string) (template.HTML, error) {
	if len(days) == 0 {
		return "", nil
	}
	p := c.newPlot()
	pts := make(plotter.XYs, 0, len(days)+1)
	total := 0
	// the line starts at zero the day before the first pledge
	pts = append(pts, plotter.XY{X: float64(days[0].Day.AddDate(0, 0, -1).Unix()), Y: 0})
	for _, d := range days {
		if signups {
			total += d.Signups
		} else {
			total += d.Pledges
		}
		pts = append(pts, plotter.XY{X: float64(d.Day.Unix()), Y: float64(total)})
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return "", fmt.Errorf("drawing a chart: %w", err)
	}
	line.Color, line.Width = chartGreen, vg.Points(2.5)
	line.FillColor = color.NRGBA{R: 0x1b, G: 0x6e, B: 0x4b, A: 0x22}
	last := pts[len(pts)-1]
	labels, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{last}, Labels: []string{messages.FormatNumber(lang, total)}})
	if err != nil {
		return "", fmt.Errorf("drawing a chart: %w", err)
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].Handler = c.handler
		labels.TextStyle[i].Font = font.From(font.Font{Typeface: chartFont}, 12)
		labels.TextStyle[i].XAlign = -1 // ends at the point: stays inside the plot
		labels.TextStyle[i].YAlign = 0.2
	}
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = color.Transparent, chartGrid
	p.Add(grid, line, labels)
	p.Y.Min = 0
	p.Y.Max = math.Max(float64(total)*1.15, 1)
	p.Y.Tick.Marker = numberTicks{lang}
	p.X.Tick.Marker = dayTicks{lang: lang, loc: loc}
	return inline(p, 16*vg.Centimeter, 7*vg.Centimeter, label)
}

// byGovernorate draws one horizontal bar per governorate, largest first,
// each with its number at its end; names is the governorate's name in the reader's language.
func (c *charts) byGovernorate(counts map[string]int, names func(string) string, lang, label string) (template.HTML, error) {
	type row struct {
		key string
		n   int
	}
	var rows []row
	for k, n := range counts {
		if n > 0 {
			rows = append(rows, row{k, n})
		}
	}
	if len(rows) == 0 {
		return "", nil
	}
	// largest at the top: bars are drawn from the bottom up
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].n != rows[j].n {
			return rows[i].n < rows[j].n
		}
		return rows[i].key > rows[j].key
	})
	p := c.newPlot()
	vals := make(plotter.Values, len(rows))
	nameList := make([]string, len(rows))
	xys := make(plotter.XYs, len(rows))
	nums := make([]string, len(rows))
	most := 0
	for i, r := range rows {
		vals[i], nameList[i] = float64(r.n), names(r.key)
		xys[i] = plotter.XY{X: float64(r.n), Y: float64(i)}
		nums[i] = " " + messages.FormatNumber(lang, r.n)
		most = max(most, r.n)
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(14))
	if err != nil {
		return "", fmt.Errorf("drawing a chart: %w", err)
	}
	bars.Horizontal, bars.Color, bars.LineStyle.Width = true, chartGreen, 0
	labels, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: nums})
	if err != nil {
		return "", fmt.Errorf("drawing a chart: %w", err)
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].Handler = c.handler
		labels.TextStyle[i].Font = font.From(font.Font{Typeface: chartFont}, 11)
		labels.TextStyle[i].YAlign = -0.5
	}
	p.Add(bars, labels)
	p.NominalY(nameList...)
	p.X.Min = 0
	p.X.Max = float64(most) * 1.2
	p.X.Tick.Marker = numberTicks{lang}
	h := vg.Length(len(rows))*0.75*vg.Centimeter + 2*vg.Centimeter
	return inline(p, 16*vg.Centimeter, h, label)
}
