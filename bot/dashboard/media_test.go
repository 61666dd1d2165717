package dashboard_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/bot/bottest"
	"mobilise/bot/dashboard"
	"mobilise/messages"
	"mobilise/store"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signInHTTP signs chat in over plain HTTP and returns its client and the
// CSRF secret of its forms.
func signInHTTP(t *testing.T, w *world, chat string) (*http.Client, string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar}
	u, err := url.Parse(w.loginLink(t, chat))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, w.srv.URL+dashboard.LoginPath, strings.NewReader(url.Values{"t": {u.Query().Get("t")}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = client.Get(w.srv.URL + dashboard.Prefix + "/broadcasts")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindStringSubmatch(string(page))
	require.NotNil(t, m, "the composer has its CSRF secret")
	return client, m[1]
}

// postCompose posts the composer as the browser does, multipart, with
// file (named name) if not nil.
func postCompose(t *testing.T, w *world, client *http.Client, fields map[string]string, name string, file []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	if file != nil {
		fw, err := mw.CreateFormFile("media", name)
		require.NoError(t, err)
		_, err = fw.Write(file)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, w.srv.URL+dashboard.Prefix+"/broadcasts", &body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(page)
}

// TestComposerUploadsAFile: a coordinator previews a broadcast with a
// poster uploaded in the composer, gets a test copy with it, and sends it
// with the file kept from the preview; a file that is no picture, one too
// large and a form without its CSRF secret are refused.
func TestComposerUploadsAFile(t *testing.T) {
	files, err := store.OpenMediaFiles(filepath.Join(t.TempDir(), "media"), 64<<10)
	require.NoError(t, err)
	w := newWorld(t, 100, func(c *bottest.Config) { c.Media = files })
	w.person(t, coord, "Omar", "en", "nablus")
	_, err = w.st.UpdateContact(context.Background(), mustContact(t, w, coord), func(c *store.Contact) error {
		c.Role = store.RoleCoordinator
		return nil
	})
	require.NoError(t, err)
	w.person(t, citizen1, "Lina", "ar", "nablus")
	client, csrf := signInHTTP(t, w, coord)
	var pic bytes.Buffer
	require.NoError(t, png.Encode(&pic, image.NewGray(image.Rect(0, 0, 30, 40))))
	fields := map[string]string{"csrf": csrf, "text_ar": "انضموا إلينا", "text_en": "Join us", "audience": "everyone", "action": "preview"}

	code, page := postCompose(t, w, client, fields, "walk poster.png", pic.Bytes())
	require.Equal(t, http.StatusOK, code, page)
	assert.Contains(t, page, `id="media-kept"`, "the preview names the file")
	assert.Contains(t, page, "walk poster.png")
	sha := regexp.MustCompile(`name="media_sha" value="([0-9a-f]{64})"`).FindStringSubmatch(page)
	require.NotNil(t, sha, "the form carries the file to the next step")
	assert.True(t, files.Has(sha[1]))

	// the test copy goes as a photo
	fields["action"], fields["media_sha"], fields["media_name"] = "test", sha[1], "walk poster.png"
	code, page = postCompose(t, w, client, fields, "", nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Eventually(t, func() bool {
		for _, text := range w.api.texts(coord) {
			if strings.HasPrefix(text, "sendPhoto: Join us") {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "the test copy is the photo with its caption: %q", w.api.texts(coord))

	// the send, with the file named by the form only: its type is read again from the file
	fields["action"] = "submit"
	code, page = postCompose(t, w, client, fields, "", nil)
	require.Equal(t, http.StatusOK, code, page)
	all, err := w.st.Broadcasts(context.Background())
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.NotNil(t, all[0].Media)
	assert.Equal(t, sha[1], all[0].Media.SHA256)
	assert.Equal(t, "image/png", all[0].Media.MIME)
	assert.Equal(t, "walk poster.png", all[0].Media.Name)

	// refusals: nothing new is stored
	fields["action"] = "submit"
	delete(fields, "media_sha")
	code, page = postCompose(t, w, client, fields, "poster.png", []byte("<html><script>alert(1)</script>"))
	assert.Equal(t, http.StatusUnprocessableEntity, code)
	assert.Contains(t, page, w.stack.Cat.Text("ar", messages.MediaBadType, nil), "a page named like a picture is refused")
	assert.Contains(t, page, `<div class="field bad"><label for="media">`, "the file's field is marked")
	code, page = postCompose(t, w, client, fields, "big.png", append(pic.Bytes(), make([]byte, 70<<10)...))
	assert.Equal(t, http.StatusUnprocessableEntity, code)
	assert.Contains(t, page, w.stack.Cat.Text("ar", messages.MediaTooLargeShort, nil))
	code, _ = postCompose(t, w, client, fields, "huge.png", make([]byte, 2<<20))
	assert.Equal(t, http.StatusRequestEntityTooLarge, code, "a body over the limit is refused before it is read")
	fields["csrf"] = "forged"
	code, _ = postCompose(t, w, client, fields, "poster.png", pic.Bytes())
	assert.Equal(t, http.StatusForbidden, code, "an upload without the form's secret is refused")
	all, err = w.st.Broadcasts(context.Background())
	require.NoError(t, err)
	assert.Len(t, all, 1)
	list, err := files.List()
	require.NoError(t, err)
	assert.Len(t, list, 1, "no refused file was kept")
}

func mustContact(t *testing.T, w *world, chat string) uint64 {
	t.Helper()
	c, err := w.st.ContactByAddress(context.Background(), tgAddr(chat))
	require.NoError(t, err)
	return c.ID
}
