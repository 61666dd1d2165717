package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"mobilise/bot/coalition"
	"mobilise/bot/poster"
	"mobilise/bot/telegram"
	"mobilise/bot/whatsapp"
	"mobilise/messages"
	"mobilise/store"
)

// The coalition's name on a poster when neither a flag nor the environment
// gives one.
const (
	defaultCoalitionAR = "ائتلاف السلم الأهلي"
	defaultCoalitionEN = "Civil Peace Coalition"
)

// runPoster writes a campaign's printable poster as poster-CODE.pdf and
// poster-CODE.png.
func runPoster(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, stderr *os.File) int {
	fset := flag.NewFlagSet("mobilise poster", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprint(fset.Output(), `Usage: mobilise poster [flags] CODE

Writes an A4 poster for the campaign CODE, to print and pin up: poster-CODE.pdf
for the printer and poster-CODE.png for a screen or a chat, both readable by
anyone (mode 0644). It shows the campaign in Arabic (and English when it has
it), its event's date and place, a QR code for each channel the bot runs on,
the code for people who type it, and the coalition's name. Works while the bot
runs.

The Telegram link needs the bot's username: --telegram-bot, or else it is asked
of Telegram when TELEGRAM_TOKEN (or TELEGRAM_TOKEN_FILE) is set. The WhatsApp
link needs the bot's number: --whatsapp, or else the number linked in the data
directory. A channel with neither is left off the poster.

With --institution, CODE is a member institution's share code and the poster
(poster-institution-CODE.pdf and .png) invites people to join its
supporters: its QR codes open the bot at the institution's invitation.

`)
		fset.PrintDefaults()
	}
	out := fset.String("out", ".", "directory to write the poster files to (created if missing)")
	tgBot := fset.String("telegram-bot", "", "the Telegram bot's username, e.g. salam_bot")
	waNumber := fset.String("whatsapp", "", "the bot's WhatsApp number in international form, e.g. +970599123456")
	coalitionAR := fset.String("coalition-ar", "", "the coalition's name in Arabic (default MOBILISE_COALITION_AR, or "+defaultCoalitionAR+")")
	coalitionEN := fset.String("coalition-en", "", "the coalition's name in English (default MOBILISE_COALITION_EN, or "+defaultCoalitionEN+")")
	organisers := fset.String("organisers", "", "the organisers' line (default: the campaign's organisers)")
	institution := fset.Bool("institution", false, "CODE is a member institution's share code: the poster invites people to join its supporters")
	dpi := fset.Float64("dpi", 150, "resolution of the PNG, in dots per inch")
	tz := fset.String("tz", "", "time zone of the event's time (default MOBILISE_TZ, or Asia/Hebron)")
	dataDir := maintenanceFlags(fset, getenv)

	// the code may come before the flags too: mobilise poster peace --out posters
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rest := fset.Args()
	if len(rest) > 0 {
		if err := fset.Parse(rest[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
	}
	if len(rest) == 0 || fset.NArg() != 0 {
		fset.Usage()
		return 2
	}
	code := strings.ToLower(strings.TrimSpace(messages.ToASCIIDigits(rest[0])))
	data, err := dataDir()
	if err != nil {
		fmt.Fprintln(stderr, "mobilise poster:", err)
		return 2
	}
	cfg, err := posterConfig(fset.Lookup("config").Value.String(), data, *tz, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "mobilise poster:", err)
		return 2
	}

	if err := writePoster(ctx, cfg, posterRequest{
		code: code, outDir: *out, dpi: *dpi,
		telegramBot: *tgBot, whatsApp: *waNumber, organisers: *organisers, institution: *institution,
		coalitionAR: firstNonEmpty(*coalitionAR, getenv("MOBILISE_COALITION_AR"), defaultCoalitionAR),
		coalitionEN: firstNonEmpty(*coalitionEN, getenv("MOBILISE_COALITION_EN"), defaultCoalitionEN),
	}, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "mobilise poster:", err)
		return 1
	}
	return 0
}

// posterConfig resolves what the poster takes from the bot's configuration
// (defaults < config file < environment < flags): the data directory, the
// time zone and the Telegram token.
func posterConfig(configFile, dataDir, tz string, getenv func(string) string) (Config, error) {
	cfg := defaultConfig()
	if path := firstNonEmpty(configFile, getenv("MOBILISE_CONFIG")); path != "" {
		if err := cfg.applyConfigFile(path); err != nil {
			return cfg, err
		}
	}
	cfg.DataDir = dataDir
	cfg.TimeZone = firstNonEmpty(tz, getenv("MOBILISE_TZ"), cfg.TimeZone)
	if _, err := time.LoadLocation(cfg.TimeZone); err != nil {
		return cfg, fmt.Errorf("time zone %q: %w", cfg.TimeZone, err)
	}
	if err := cfg.setToken(firstNonEmpty(getenv("TELEGRAM_TOKEN"), getenv("MOBILISE_TELEGRAM_TOKEN")),
		getenv("TELEGRAM_TOKEN_FILE"), "TELEGRAM_TOKEN", "TELEGRAM_TOKEN_FILE"); err != nil {
		return cfg, err
	}
	if err := cfg.readTokenFile(); err != nil {
		return cfg, err
	}
	cfg.TelegramAPIURL = firstNonEmpty(getenv("TELEGRAM_API_URL"), getenv("MOBILISE_TELEGRAM_API_URL"), cfg.TelegramAPIURL)
	return cfg, nil
}

// posterRequest is what one run of mobilise poster was asked for.
type posterRequest struct {
	code, outDir                      string
	dpi                               float64
	telegramBot, whatsApp, organisers string
	coalitionAR, coalitionEN          string
	// institution says code is a member institution's, not a campaign's.
	institution bool
}

// writePoster reads the campaign, finds the bot's links, and writes the files.
func writePoster(ctx context.Context, cfg Config, req posterRequest, stdout, stderr io.Writer) error {
	if req.dpi < 72 || req.dpi > 600 {
		return fmt.Errorf("--dpi %g: use 72 to 600", req.dpi)
	}
	cat, err := messages.New()
	if err != nil {
		return fmt.Errorf("loading messages: %w", err)
	}
	cat = cat.WithLogger(nil)
	if req.institution {
		return writeInstitutionPoster(ctx, cfg, cat, req, stdout)
	}
	var camp *store.Campaign
	var insts []*store.Institution
	var codes []string
	err = readSnapshot(ctx, cfg.DataDir, func(st *store.Store) error {
		var err error
		camp, err = st.CampaignByCode(ctx, req.code)
		if errors.Is(err, store.ErrNotFound) {
			all, lerr := st.Campaigns(ctx)
			for _, c := range all {
				codes = append(codes, c.Code)
			}
			return errors.Join(err, lerr)
		}
		if err != nil {
			return err
		}
		insts, err = organisingInstitutions(ctx, st, camp)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		if len(codes) == 0 {
			return fmt.Errorf("there is no campaign with the code %q, and no campaigns yet", req.code)
		}
		return fmt.Errorf("there is no campaign with the code %q; the codes are: %s", req.code, strings.Join(codes, ", "))
	}
	if err != nil {
		return err
	}
	if camp.Closed {
		fmt.Fprintf(stderr, "mobilise poster: note: the campaign %q is closed; people who scan the poster will be told so\n", camp.Code)
	}

	tgLink, err := telegramLink(ctx, cfg, req.telegramBot, camp.Code)
	if err != nil {
		return err
	}
	waLink, err := whatsAppLink(ctx, cfg.DataDir, req.whatsApp, camp.Code)
	if err != nil {
		return err
	}
	if tgLink == "" && waLink == "" {
		return errors.New("the poster needs a way to reach the bot, and none was found: give --telegram-bot NAME " +
			"(or set TELEGRAM_TOKEN), or --whatsapp +970… (or link a number with: mobilise whatsapp link)")
	}

	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return fmt.Errorf("time zone %q: %w", cfg.TimeZone, err)
	}
	p := poster.Poster{
		TitleAR: camp.TitleAR, CallAR: camp.CallAR, TitleEN: camp.TitleEN, CallEN: camp.CallEN,
		CoalitionAR: req.coalitionAR, CoalitionEN: req.coalitionEN,
		Code:         camp.Code,
		Organisers:   req.organisers,
		Where:        camp.EventPlace,
		TelegramLink: tgLink, WhatsAppLink: waLink,
	}
	if p.CallAR == "" {
		// a campaign made before calls were asked for: its title stands in
		p.CallAR = p.TitleAR
	}
	if camp.Kind.HasEvent() && !camp.EventAt.IsZero() {
		p.When = poster.FormatWhen(cat, messages.Arabic, camp.EventAt.In(loc))
		p.WhenEN = poster.FormatWhen(cat, messages.English, camp.EventAt.In(loc))
	}
	if p.Organisers == "" && len(insts) > 0 {
		var ar, en []string
		for _, inst := range insts {
			ar, en = append(ar, inst.NameAR), append(en, firstNonEmpty(inst.NameEN, inst.NameAR))
		}
		w := coalition.Words{Cat: cat, Loc: loc, Now: time.Now}
		p.Organisers = cat.Text(messages.Arabic, messages.PosterOrganisedBy, map[string]any{"Name": w.List(ar, messages.Arabic)})
		if camp.TitleEN+camp.CallEN != "" {
			p.Organisers += " · " + cat.Text(messages.English, messages.PosterOrganisedBy, map[string]any{"Name": w.List(en, messages.English)})
		}
	}

	return drawPoster(cat, p, req.outDir, "poster-"+camp.Code, req.dpi, stdout)
}

// drawPoster lays out p and writes it as name.pdf and name.png in outDir,
// readable by all, saying on stdout what it wrote and where its codes lead.
func drawPoster(cat *messages.Catalog, p poster.Poster, outDir, name string, dpi float64, stdout io.Writer) error {
	r, err := poster.New(cat)
	if err != nil {
		return err
	}
	start := time.Now()
	page, err := r.Layout(p)
	if err != nil {
		return fmt.Errorf("laying out the poster of %q: %w", p.Code, err)
	}
	pdfData, err := page.PDF()
	if err != nil {
		return err
	}
	pngData, err := page.PNG(dpi)
	if err != nil {
		return err
	}
	took := time.Since(start)

	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("cannot write the poster to %s: %w", outDir, err)
	}
	base := filepath.Join(outDir, name)
	for _, f := range []struct {
		path string
		data []byte
	}{{base + ".pdf", pdfData}, {base + ".png", pngData}} {
		if err := writePublicFile(f.path, f.data); err != nil {
			return fmt.Errorf("cannot write the poster to %s: %w", outDir, err)
		}
		fmt.Fprintf(stdout, "%s: %d KB\n", f.path, (len(f.data)+1023)/1024)
	}
	for _, l := range []struct{ name, link string }{{"Telegram", p.TelegramLink}, {"WhatsApp", p.WhatsAppLink}} {
		if l.link != "" {
			fmt.Fprintf(stdout, "%s: %s\n", l.name, l.link)
		} else {
			fmt.Fprintf(stdout, "%s: not on the poster\n", l.name)
		}
	}
	fmt.Fprintf(stdout, "drawn in %s\n", took.Round(time.Millisecond))
	return nil
}

// organisingInstitutions returns the member institutions that organise
// the campaign, lead first; none for the coalition's own.
func organisingInstitutions(ctx context.Context, st *store.Store, c *store.Campaign) ([]*store.Institution, error) {
	var out []*store.Institution
	for _, id := range c.Organiser.Institutions {
		inst, err := st.Institution(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, inst)
	}
	return out, nil
}

// telegramUsername is what Telegram allows in a bot's username.
var telegramUsername = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{3,31}$`)

// telegramLink returns the bot's deep link to the campaign: the username
// from the flag, or else from getMe when a token is configured; "" when
// there is neither.
func telegramLink(ctx context.Context, cfg Config, name, code string) (string, error) {
	name = strings.TrimPrefix(strings.TrimSpace(name), "@")
	if name == "" && cfg.TelegramToken != "" {
		tg, err := telegram.New(cfg.TelegramToken, telegramOptions(cfg, slog.New(slog.DiscardHandler))...)
		if err != nil {
			return "", fmt.Errorf("telegram: %w", err)
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if name, err = tg.Check(ctx); err != nil {
			return "", fmt.Errorf("asking Telegram for the bot's username (or give it with --telegram-bot): %w", err)
		}
	}
	if name == "" {
		return "", nil
	}
	if !telegramUsername.MatchString(name) {
		return "", fmt.Errorf("--telegram-bot %q: a Telegram username has 5 to 32 Latin letters, digits or _", name)
	}
	// the same link telegram.Channel.ShareLink makes
	return "https://t.me/" + name + "?start=" + url.QueryEscape(code), nil
}

// whatsAppLink returns the bot's click-to-chat link to the campaign: the
// number from the flag, or else the number linked in the data directory;
// "" when there is neither.
func whatsAppLink(ctx context.Context, dataDir, number, code string) (string, error) {
	if strings.TrimSpace(number) != "" {
		digits := strings.Map(func(r rune) rune {
			switch {
			case r >= '0' && r <= '9':
				return r
			case r == '+' || r == ' ' || r == '-' || r == '(' || r == ')':
				return -1
			}
			return 'x'
		}, messages.ToASCIIDigits(number))
		if len(digits) < 8 || len(digits) > 15 || strings.Contains(digits, "x") {
			return "", fmt.Errorf("--whatsapp %q: give the number in international form, e.g. +970599123456", number)
		}
		number = digits
	} else {
		var err error
		if number, err = linkedNumber(ctx, dataDir); err != nil {
			return "", err
		}
		if number == "" {
			return "", nil
		}
	}
	// the same link whatsapp.Channel.ShareLink makes: wa.me reads "+" literally
	text := strings.ReplaceAll(url.QueryEscape("start "+code), "+", "%20")
	return "https://wa.me/" + number + "?text=" + text, nil
}

// linkedNumber returns the WhatsApp number linked in dataDir, or "" when
// none is. It opens the session only if its file exists, so as not to
// create one.
func linkedNumber(ctx context.Context, dataDir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dataDir, whatsapp.DBFile)); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	d, err := whatsapp.OpenDevice(ctx, dataDir, slog.New(slog.DiscardHandler))
	if err != nil {
		return "", fmt.Errorf("reading the linked WhatsApp number (or give it with --whatsapp): %w", err)
	}
	number := d.PhoneNumber()
	return number, d.Close()
}

// writePublicFile writes data to path, readable by all (mode 0644, whatever
// the umask): through a temporary file renamed into place, so a reader
// never sees half a poster.
func writePublicFile(path string, data []byte) (err error) {
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
