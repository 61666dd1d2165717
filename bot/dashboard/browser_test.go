package dashboard_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot/dashboard"
	"mobilise/store"
)

// browser starts headless Chromium, or skips the test when it is absent.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("browser tests need Chromium (apt-get install -y chromium); CI installs it")
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("lang", "ar"), chromedp.WindowSize(1200, 900))...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")), "starting Chromium")
	return ctx
}

// tab is another browser context (cookies of its own), as a second person's browser.
func tab(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// the first run opens the tab, and lives as long as its context: no timeout on it
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")))
	return ctx
}

// shots is where screenshots go: $MOBILISE_SCREENSHOTS, else the test's temporary folder.
func shots(t *testing.T) string {
	dir := os.Getenv("MOBILISE_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// shoot saves a full-page screenshot of what ctx shows.
func shoot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(tctx, steps...))
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err, sel)
	return s
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	require.NoError(t, err, js)
	return v
}

// signIn opens a sign-in link and presses the button.
func signIn(t *testing.T, ctx context.Context, link string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#sign-in")), chromedp.Click(chromedp.CSS("#sign-in")))
}

func TestDashboardInTheBrowser(t *testing.T) {
	ctx := browser(t)
	dir := shots(t)
	t.Logf("screenshots in %s", dir)
	w := newWorld(t, 2) // more than two recipients needs a second admin
	base := w.srv.URL + dashboard.Prefix
	w.person(t, adminA, "Amal", "ar", "ramallah")
	w.person(t, adminB, "Basel", "en", "gaza")
	w.person(t, citizen1, "Citizen", "ar", "hebron")
	for i, gov := range []string{"nablus", "nablus", "gaza"} {
		w.person(t, "40"+string(rune('1'+i)), "Person", []string{"ar", "en", "ar"}[i], gov)
	}
	c := w.person(t, coord, "Coordinator", "ar", "jenin")
	w.say(t, adminA, "Amal", "ar", "/appoint #"+itoa(c.ID))
	c2 := w.person(t, coord2, "Second", "ar", "jenin")
	w.say(t, adminA, "Amal", "ar", "/appoint #"+itoa(c2.ID))

	// a citizen gets no link from the bot
	w.say(t, citizen1, "", "", "/dashboard")
	for _, s := range w.api.texts(citizen1) {
		assert.NotContains(t, s, dashboard.LoginPath, "a citizen gets no link")
	}

	// sign in by the bot's one-time link
	link := w.loginLink(t, coord)
	do(t, ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#sign-in")))
	shoot(t, ctx, dir, "login-ar")
	signIn(t, ctx, link)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#sending")))
	assert.Equal(t, "rtl", eval[string](t, ctx, `document.documentElement.dir`), "Arabic first, right to left")

	// a link used twice is refused
	other := tab(t, ctx)
	signIn(t, other, link)
	do(t, other, chromedp.WaitVisible(chromedp.CSS("#refused")))
	shoot(t, other, dir, "link-used-twice-ar")
	assert.Contains(t, text(t, other, "#refused"), "استُخدم")

	// create a campaign as the coordinator
	do(t, ctx, chromedp.Navigate(base+"/campaigns/new"), chromedp.WaitVisible(chromedp.CSS("#campaign-form")))
	shoot(t, ctx, dir, "campaign-new-ar")
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#code"), "olive"),
		chromedp.SendKeys(chromedp.CSS("#title_ar"), "موسم الزيتون"),
		chromedp.SendKeys(chromedp.CSS("#title_en"), "Olive season"),
		chromedp.SendKeys(chromedp.CSS("#call_ar"), "تعهّدوا بيوم قطاف مع المزارعين"),
		chromedp.SendKeys(chromedp.CSS("#call_en"), "Pledge a day of harvest with the farmers"),
		chromedp.SetValue(chromedp.CSS("#target"), "10"),
		chromedp.Click(chromedp.CSS("#create")),
		chromedp.WaitVisible(chromedp.CSS("#campaign")))
	camp, err := w.stack.Co.Campaigns.Find(context.Background(), "olive")
	require.NoError(t, err, "the campaign was created")

	// pledges from the bot, then the chart shows them
	for _, chat := range []string{"401", "402", "403"} {
		w.say(t, chat, "", "", "/pledge olive")
	}
	n, err := w.stack.Co.Campaigns.Counts(context.Background(), camp.ID)
	require.NoError(t, err)
	require.Equal(t, 3, n.Pledges)
	do(t, ctx, chromedp.Navigate(base+"/campaigns/"+itoa(camp.ID)), chromedp.WaitVisible(chromedp.CSS(`[data-chart="governorates"] svg`)))
	shoot(t, ctx, dir, "campaign-ar")
	govChart := eval[string](t, ctx, `document.querySelector('[data-chart="governorates"] svg').textContent`)
	assert.Contains(t, govChart, "نابلس", "the chart names the governorates")
	assert.Contains(t, govChart, "٢", "two pledges from Nablus, in Arabic digits")
	line := eval[string](t, ctx, `document.querySelector('[data-chart="timeline"] svg').textContent`)
	assert.Contains(t, line, "٣", "the running total is three")

	// compose a broadcast in two languages; too many people for one person to send alone
	do(t, ctx, chromedp.Navigate(base+"/broadcasts"), chromedp.WaitVisible(chromedp.CSS("#compose")),
		chromedp.SendKeys(chromedp.CSS("#text_ar"), "غدًا يوم القطاف، نلتقي الساعة السابعة"),
		chromedp.SendKeys(chromedp.CSS("#text_en"), "Harvest day tomorrow, we meet at seven"),
		chromedp.Click(chromedp.CSS("#preview")), chromedp.WaitVisible(chromedp.CSS("main h1")))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#preview-panel")))
	shoot(t, ctx, dir, "broadcast-preview-ar")
	do(t, ctx, poll(`document.querySelector('#live-count').textContent.length > 0`))
	assert.Contains(t, text(t, ctx, "#live-count"), "أشخاص", "a live count of recipients")
	do(t, ctx, chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#broadcast")))
	shoot(t, ctx, dir, "broadcast-awaiting-ar")
	all, err := w.st.Broadcasts(context.Background())
	require.NoError(t, err)
	require.Len(t, all, 1)
	bc := all[0]
	require.Equal(t, store.BroadcastAwaitingApproval, bc.Status)

	// a second admin approves it in a second browser context, in English
	admin := tab(t, ctx)
	do(t, admin, chromedp.Navigate(base+"/lang/en"))
	signIn(t, admin, w.loginLink(t, adminB))
	do(t, admin, chromedp.WaitVisible(chromedp.CSS("#sending")))
	assert.Equal(t, "ltr", eval[string](t, admin, `document.documentElement.dir`))
	shoot(t, admin, dir, "overview-en")
	do(t, admin, chromedp.Navigate(base+"/broadcasts"), chromedp.WaitVisible(chromedp.CSS("#awaiting-"+itoa(bc.ID))))
	shoot(t, admin, dir, "broadcasts-queue-en")
	do(t, admin, chromedp.Click(chromedp.CSS("#approve-"+itoa(bc.ID))), chromedp.WaitVisible(chromedp.CSS("#broadcast")))
	require.Eventually(t, func() bool {
		got, err := w.st.Broadcast(context.Background(), bc.ID)
		return err == nil && got.Status == store.BroadcastDone
	}, 20*time.Second, 100*time.Millisecond, "the broadcast went out")
	do(t, admin, poll(`document.getElementById('status').textContent === 'done'`))
	shoot(t, admin, dir, "broadcast-done-en")
	// the recipients got it through the Bot API, each in their language
	assert.Contains(t, strings.Join(w.api.texts("401"), "\n"), "غدًا يوم القطاف")
	assert.Contains(t, strings.Join(w.api.texts("402"), "\n"), "Harvest day tomorrow")

	// an export downloaded, and recorded
	do(t, admin, chromedp.Navigate(base+"/exports"), chromedp.WaitVisible(chromedp.CSS("#download-pledges\\.csv")))
	shoot(t, admin, dir, "exports-en")
	csv := eval[string](t, admin, `(async () => {
		const f = document.getElementById('download-pledges.csv').form;
		const r = await fetch(f.action, {method: 'POST', body: new FormData(f)});
		return r.headers.get('Content-Disposition') + '\n' + await r.text();
	})()`)
	assert.Contains(t, csv, `attachment; filename="pledges-`)
	assert.Contains(t, csv, "olive")
	assert.Equal(t, 3, strings.Count(csv, "olive"), "a row for each of the three pledges")

	// a POST without the form's CSRF secret is refused
	status := eval[float64](t, ctx, `fetch('`+dashboard.Prefix+`/campaigns/new', {method: 'POST', body: new URLSearchParams({code: 'sneaky', title_ar: 'حملة', call_ar: 'x', kind: 'pledge'})}).then(r => r.status)`)
	assert.Equal(t, float64(403), status)
	_, err = w.stack.Co.Campaigns.Find(context.Background(), "sneaky")
	assert.Error(t, err, "nothing was created")

	// every page, in Arabic and in English
	pages := []string{"", "/campaigns", "/campaigns/" + itoa(camp.ID), "/broadcasts", "/broadcasts/" + itoa(bc.ID), "/reminders", "/institutions", "/audit", "/exports"}
	for _, lang := range []string{"ar", "en"} {
		do(t, admin, chromedp.Navigate(base+"/lang/"+lang))
		for _, p := range pages {
			do(t, admin, chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS("main h1")))
			name := strings.Trim(strings.ReplaceAll(p, "/", "-"), "-")
			if name == "" {
				name = "overview"
			}
			shoot(t, admin, dir, "page-"+name+"-"+lang)
		}
	}
	// phones: the overview and the composer on a narrow screen
	phone := tab(t, ctx)
	signIn(t, phone, w.loginLink(t, adminA))
	do(t, phone, chromedp.EmulateViewport(390, 844), chromedp.WaitVisible(chromedp.CSS("#sending")))
	shoot(t, phone, dir, "phone-overview-ar")
	do(t, phone, chromedp.Navigate(base+"/broadcasts"), chromedp.WaitVisible(chromedp.CSS("#compose")))
	shoot(t, phone, dir, "phone-broadcasts-ar")
	assert.LessOrEqual(t, eval[float64](t, phone, `document.documentElement.scrollWidth`), float64(400), "nothing wider than the phone")

	// a coordinator dismissed is signed out at once, and their unused link refused
	second := tab(t, ctx)
	unused := w.loginLink(t, coord2)
	w.say(t, adminA, "Amal", "ar", "/dismiss #"+itoa(c.ID))
	do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#signed-out")))
	shoot(t, ctx, dir, "dismissed-signed-out-ar")
	w.say(t, adminA, "Amal", "ar", "/dismiss #"+itoa(c2.ID))
	signIn(t, second, unused)
	do(t, second, chromedp.WaitVisible(chromedp.CSS("#refused")))
	assert.Contains(t, text(t, second, "#refused"), "للمنسّقين")

	// the audit log shows what was done through the dashboard
	do(t, admin, chromedp.Navigate(base+"/audit?action=export_downloaded"), chromedp.WaitVisible(chromedp.CSS("#audit-log")))
	assert.Contains(t, text(t, admin, "#audit-log"), "export_downloaded")
	do(t, admin, chromedp.Navigate(base+"/audit?action=broadcast_approved"), chromedp.WaitVisible(chromedp.CSS("#audit-log")))
	assert.Contains(t, text(t, admin, "#audit-log"), "broadcast_approved")

	// an admin signs everyone out
	do(t, admin, chromedp.Navigate(base+"/institutions"), chromedp.WaitVisible(chromedp.CSS("#logout-everyone")),
		chromedp.Click(chromedp.CSS("#logout-everyone")), chromedp.WaitVisible(chromedp.CSS("#signed-out")))
	do(t, phone, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#signed-out")))
}

// poll waits until the expression is true.
func poll(js string) chromedp.Action[chromedp.Void] {
	p := chromedp.Poll[bool](js)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := p(ctx, t)
		return chromedp.Void{}, err
	}
}

func itoa(v uint64) string { return strconvFormat(v) }
