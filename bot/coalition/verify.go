package coalition

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"mobilise/bot"
	"mobilise/messages"
	"mobilise/store"
)

// A verification code is 10 characters from an alphabet without
// look-alikes (no I, L, O, 0 or 1): 31^10 ≈ 8.2e14 codes, 49.5 bits. One
// code is drawn per call (a broadcast, a reminder's firing, a poll's
// follow-through), and every copy of the call ends with it.
//
// The code does not make a message genuine by itself: it is printed on
// every copy, so anyone who received the call can copy it onto other
// words. What is checked is the code together with the words: a message is
// genuine only if it says what the coalition sent under its code. The
// code's length is against guessing: a guessed code would show the words
// of a call its guesser was not sent (a message to the members only, say).
// An address gets maxVerifyFailures codes the coalition never sent per
// hour, counted under its mark as /link's wrong codes are, so that /forget
// does not reset them: with 10,000 calls on record, a guess hits one in
// 8e10 times, and an attacker with a hundred accounts guessing all year
// long finds one with a probability of about 1 in 10,000.
const (
	codeAlphabet      = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	codeLen           = 10
	maxVerifyFailures = 10
)

// ErrNoCode: a code was wanted and the text has none.
var ErrNoCode = errors.New("no verification code")

// codePattern finds a code in a message as the code line writes it: two
// groups of five capitals and digits. Ten letters in a row are a word as
// often as a code ("DEPARTMENT"), so only a code typed on its own is read
// without the dash (ParseCode).
var codePattern = regexp.MustCompile(`(?:^|[^A-Za-z0-9])([A-HJKMNP-Z2-9]{5})-([A-HJKMNP-Z2-9]{5})(?:$|[^A-Za-z0-9])`)

// lockedReader makes a reader safe for the concurrent draws of operations
// running in several goroutines (crypto/rand is; a test's seeded source is not).
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// WithRandom sets where verification codes are drawn from; the default is
// crypto/rand. Tests give a seeded source, so codes are the same each run.
func WithRandom(r io.Reader) Option {
	return func(rs *rules) { rs.rand = &lockedReader{r: r} }
}

// newCallCode draws a code, each character uniformly from codeAlphabet.
func (r *rules) newCallCode() (string, error) {
	out := make([]byte, 0, codeLen)
	buf := make([]byte, 16)
	// 248 = 8 × 31: bytes above it are dropped so that each character is equally likely
	for len(out) < codeLen {
		if _, err := io.ReadFull(r.rand, buf); err != nil {
			return "", fmt.Errorf("drawing a verification code: %w", err)
		}
		for _, b := range buf {
			if b < 248 && len(out) < codeLen {
				out = append(out, codeAlphabet[int(b)%len(codeAlphabet)])
			}
		}
	}
	return string(out), nil
}

// issue records a call under a fresh code and returns the code.
func (r *rules) issue(ctx context.Context, c store.Call) (string, error) {
	for range 3 {
		code, err := r.newCallCode()
		if err != nil {
			return "", err
		}
		c.Code = code
		if c.At.IsZero() {
			c.At = r.now().UTC()
		}
		err = r.st.PutCall(ctx, &c)
		if errors.Is(err, store.ErrCodeTaken) {
			continue // one in 8e14 per call on record: draw again
		}
		return code, err
	}
	return "", fmt.Errorf("recording the %s %d's code: %w", c.Kind, c.RefID, store.ErrCodeTaken)
}

// SampleCode is a code of the right shape, for previews of what a call will
// look like: the real one is drawn when it is sent.
const SampleCode = "ABCDEFGHJK"

// FormatCode writes a code as people read it: two groups of five, "K7P2Q-X9MRT".
func FormatCode(code string) string {
	if len(code) != codeLen {
		return code
	}
	return code[:5] + "-" + code[5:]
}

// ParseCode reads a code as people type or paste it: in either case, with
// or without the dash or spaces, in Arabic-Indic digits, with bidi marks
// around it. ok is false when s is not a code.
func ParseCode(s string) (string, bool) {
	var b strings.Builder
	for _, r := range messages.ToASCIIDigits(s) {
		switch {
		case r == '-' || unicode.IsSpace(r) || isBidiMark(r):
		default:
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	code := b.String()
	if len(code) != codeLen {
		return "", false
	}
	for _, r := range code {
		if !strings.ContainsRune(codeAlphabet, r) {
			return "", false
		}
	}
	return code, true
}

// FindCode returns the first code a message carries, if any.
func FindCode(text string) (string, bool) {
	for _, m := range codePattern.FindAllStringSubmatch(stripBidi(messages.ToASCIIDigits(text)), -1) {
		if code, ok := ParseCode(m[1] + m[2]); ok {
			return code, true
		}
	}
	return "", false
}

func isBidiMark(r rune) bool {
	return r >= '\u2066' && r <= '\u2069' || r == '\u200e' || r == '\u200f' || r >= '\u202a' && r <= '\u202e'
}

func stripBidi(s string) string {
	return strings.Map(func(r rune) rune {
		if isBidiMark(r) {
			return -1
		}
		return r
	}, s)
}

// sameText compares two texts as a platform may have carried them: bidi
// marks, the form of composed letters and runs of white space do not count;
// every word, digit and sign does.
func sameText(a, b string) bool { return canonical(a) == canonical(b) }

func canonical(s string) string {
	return strings.Join(strings.Fields(norm.NFC.String(stripBidi(s))), " ")
}

// Signed is text with the verification line at its end, in lang: every
// copy of a call ends so.
func (w Words) Signed(text, code, lang string) string {
	if code == "" {
		return text
	}
	return text + "\n\n" + w.Cat.Text(lang, messages.VerifyLine, map[string]any{"Code": messages.Isolate(FormatCode(code))})
}

// Verification answers whether a message is a genuine call of the
// coalition, and warns people of fakes.
type Verification struct{ *rules }

// VerdictKind is what Verification found.
type VerdictKind int

// The verdicts.
const (
	// VerdictGenuine: the coalition sent it. For a code asked about alone,
	// the call's words are shown to compare with; for a message, it was
	// forwarded from the bot and says what the call said.
	VerdictGenuine VerdictKind = iota
	// VerdictCopied: its words and code are a genuine call's, but the
	// message did not come from the bot: someone copied it.
	VerdictCopied
	// VerdictAltered: the code is one the coalition sent, on other words.
	VerdictAltered
	// VerdictUnknown: the coalition never sent a message with the code.
	VerdictUnknown
	// VerdictNoCode: the message carries no code, so it is no call of the
	// coalition's (FromBot says whether the bot sent it all the same).
	VerdictNoCode
)

// Fake reports whether the verdict is that of a message the coalition did
// not send as it reads.
func (k VerdictKind) Fake() bool { return k == VerdictAltered || k == VerdictUnknown }

// Verdict is what Check or Message found.
type Verdict struct {
	Kind VerdictKind
	// Code is the code asked about or found in the message.
	Code string
	// Call is what the coalition sent under Code, when it sent anything.
	Call *store.Call
	// Campaign is the call's campaign, nil for none or one since deleted.
	Campaign *store.Campaign
	// FromBot: the message was forwarded from this bot.
	FromBot bool
}

// limited refuses an address that asked about too many codes never sent.
func (v *Verification) limited(ctx context.Context, by Actor) ([]byte, error) {
	mark, err := v.st.AddressMark(ctx, by.From)
	if err != nil {
		return nil, err
	}
	fails, err := v.st.VerifyFailures(ctx, mark, v.now())
	if err != nil {
		return nil, err
	}
	if len(fails) >= maxVerifyFailures {
		return nil, ErrTooManyTries
	}
	return mark, nil
}

// lookup finds the call of code, counting a code never sent against the address.
func (v *Verification) lookup(ctx context.Context, by Actor, code string) (Verdict, error) {
	out := Verdict{Code: code}
	mark, err := v.limited(ctx, by)
	if err != nil {
		return out, err
	}
	call, err := v.st.Call(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		v.log.Info("verification of an unknown code", "contact_id", by.Person)
		out.Kind = VerdictUnknown
		return out, v.st.AddVerifyFailure(ctx, mark, v.now())
	}
	if err != nil {
		return out, err
	}
	out.Call = call
	if call.CampaignID != 0 {
		if c, err := v.st.Campaign(ctx, call.CampaignID); err == nil {
			out.Campaign = c
		} else if !errors.Is(err, store.ErrNotFound) {
			return out, err
		}
	}
	return out, nil
}

// Check says whether the coalition sent a message with code, when, for
// which campaign and with what words. Anyone may ask; a code that is not
// one in form is an *InvalidError, and an address that asked about too
// many codes the coalition never sent gets ErrTooManyTries for an hour.
func (v *Verification) Check(ctx context.Context, by Actor, code string) (Verdict, error) {
	parsed, ok := ParseCode(code)
	if !ok {
		return Verdict{}, invalid("code", messages.VerifyBadCode)
	}
	return v.lookup(ctx, by, parsed)
}

// Message says whether a message someone forwarded (fwd, nil for one they
// pasted) is a genuine call: its code must be one the coalition sent, with
// the same words; and only a forward from the bot itself is the
// coalition's own copy. The same limit as Check applies.
func (v *Verification) Message(ctx context.Context, by Actor, text string, fwd *bot.Forward) (Verdict, error) {
	fromBot := fwd != nil && fwd.FromBot
	code, ok := FindCode(text)
	if !ok {
		return Verdict{Kind: VerdictNoCode, FromBot: fromBot}, nil
	}
	out, err := v.lookup(ctx, by, code)
	out.FromBot = fromBot
	if err != nil || out.Kind == VerdictUnknown {
		return out, err
	}
	switch {
	case !v.words().says(text, out.Call):
		v.log.Info("verification of altered words", "contact_id", by.Person, "kind", out.Call.Kind, "ref_id", out.Call.RefID)
		out.Kind = VerdictAltered
	case fromBot:
		out.Kind = VerdictGenuine
	default:
		out.Kind = VerdictCopied
	}
	return out, nil
}

// says reports whether text is a copy of call: its words in one language
// with the code line, on WhatsApp after the greeting of one recipient.
func (w Words) says(text string, call *store.Call) bool {
	got := canonical(text)
	for _, lang := range []string{messages.Arabic, messages.English} {
		body := InLang(lang, call.TextAR, call.TextEN)
		if body == "" {
			continue
		}
		want := canonical(w.Signed(body, call.Code, lang))
		if got == want {
			return true
		}
		if prefix, ok := strings.CutSuffix(got, " "+want); ok && w.isGreeting(prefix, lang) {
			return true
		}
	}
	return false
}

// isGreeting reports whether s is the greeting a WhatsApp copy starts with, to any name.
func (w Words) isGreeting(s, lang string) bool {
	const marker = "\x00"
	before, after, ok := strings.Cut(canonical(w.Cat.Text(lang, messages.BroadcastGreeting, map[string]any{"Name": marker})), marker)
	if !ok || len(s) > len(before)+len(after)+100 {
		return false
	}
	name, ok := strings.CutPrefix(s, before)
	if !ok {
		return false
	}
	name, ok = strings.CutSuffix(name, after)
	return ok && name != ""
}

// FakeWarning is a warning to an audience about a fake call: its text is
// quoted in a message from the coalition, which carries a code of its own.
type FakeWarning struct {
	Quote      string
	CampaignID uint64
	Audience   store.Audience
	Urgent     bool
}

// MaxQuote bounds the text of a fake quoted in a warning.
const MaxQuote = 1000

// draft is the broadcast that carries the warning, in both languages.
func (v *Verification) draft(fw FakeWarning) (BroadcastDraft, error) {
	quote := strings.TrimSpace(stripBidi(fw.Quote))
	// the fake's code lines are left out: people would read them as ours
	var kept []string
	for _, line := range strings.Split(quote, "\n") {
		if _, ok := FindCode(line); !ok {
			kept = append(kept, line)
		}
	}
	quote = strings.TrimSpace(strings.Join(kept, "\n"))
	switch {
	case quote == "":
		return BroadcastDraft{}, invalid("quote", messages.ErrInputEmpty)
	case len([]rune(quote)) > MaxQuote:
		quote = string([]rune(quote)[:MaxQuote]) + "…"
	}
	text := func(lang string) string {
		return v.cat.Text(lang, messages.VerifyFakeWarning, map[string]any{"Quote": quote})
	}
	return BroadcastDraft{CampaignID: fw.CampaignID, TextAR: text(messages.Arabic), TextEN: text(messages.English),
		Audience: fw.Audience, Urgent: fw.Urgent}, nil
}

// PreviewWarning is what warning of a fake would do, as Broadcasts.Preview says.
func (v *Verification) PreviewWarning(ctx context.Context, by Actor, fw FakeWarning) (Preview, BroadcastDraft, error) {
	if !by.can(store.RoleCoordinator) {
		return Preview{}, BroadcastDraft{}, ErrNotAllowed
	}
	d, err := v.draft(fw)
	if err != nil {
		return Preview{}, d, err
	}
	p, err := v.co.Broadcasts.Preview(ctx, by, d)
	return p, d, err
}

// Warn sends everyone in the warning's audience a message from the
// coalition quoting the fake. It is a broadcast, under every rule of one:
// coordinators and admins send it; over the threshold it waits for a second
// person; pause and quiet hours hold it (an urgent one goes through quiet
// hours); it goes out through the outbox with a code of its own.
func (v *Verification) Warn(ctx context.Context, by Actor, fw FakeWarning) (Submitted, error) {
	if !by.can(store.RoleCoordinator) {
		return Submitted{}, ErrNotAllowed
	}
	d, err := v.draft(fw)
	if err != nil {
		return Submitted{}, err
	}
	var out Submitted
	err = v.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		if out, err = v.co.Broadcasts.Submit(ctx, by, d); err != nil {
			return err
		}
		return v.audit(ctx, by.Person, "fake_warning", map[string]string{
			"broadcast_id": fmt.Sprint(out.Broadcast.ID), "quote": fw.Quote,
		})
	})
	return out, err
}
