package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot/dashboard"
)

// TestPagesRender signs an admin in over plain HTTP and opens every page in
// both languages: no template fails, and each says its language.
func TestPagesRender(t *testing.T) {
	w := newWorld(t, 100)
	w.person(t, adminA, "Amal", "ar", "ramallah")
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar}
	link := w.loginLink(t, adminA)
	u, err := url.Parse(link)
	require.NoError(t, err)
	// a form post from the page itself
	req, err := http.NewRequest(http.MethodPost, w.srv.URL+dashboard.LoginPath, strings.NewReader(url.Values{"t": {u.Query().Get("t")}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = w.stack.Co.Campaigns.All(context.Background())
	require.NoError(t, err)
	for _, lang := range []string{"ar", "en"} {
		resp, err := client.Get(w.srv.URL + dashboard.Prefix + "/lang/" + lang)
		require.NoError(t, err)
		resp.Body.Close()
		for _, p := range []string{"/", "/campaigns", "/campaigns/new", "/broadcasts", "/reminders", "/institutions", "/audit", "/exports"} {
			resp, err := client.Get(w.srv.URL + dashboard.Prefix + p)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %s", lang, p, body)
			assert.Contains(t, string(body), `<html lang="`+lang+`"`, p)
		}
	}
}
