package whatsapp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow"
)

// fakeMediaServer stands in for WhatsApp's media servers, over TLS on
// loopback: it takes uploads as whatsmeow makes them (POST
// /mms/<type>/<token>, the token the SHA-256 of the encrypted body) and
// serves what it took back at the URL it answers with. A real
// *whatsmeow.Client uploads to it, so the encryption, hashes and request
// are whatsmeow's own; downloading with whatsmeow decrypts and checks them.
type fakeMediaServer struct {
	*httptest.Server
	cli *whatsmeow.Client

	mu      sync.Mutex
	blobs   map[string][]byte
	uploads []fakeMediaUpload
	bad     []string
}

// fakeMediaUpload is one upload the server took.
type fakeMediaUpload struct {
	mmsType string
	size    int
}

func newFakeMediaServer(t *testing.T) *fakeMediaServer {
	t.Helper()
	s := &fakeMediaServer{blobs: map[string][]byte{}}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		require.Empty(t, s.bad, "requests WhatsApp's media servers would refuse")
	})
	s.cli = whatsmeow.NewClient(nil, nil)
	s.cli.SetMediaHTTPClient(s.Client())
	setMediaConn(t, s.cli, &whatsmeow.MediaConn{Auth: "fake-auth", TTL: 3600, AuthTTL: 3600, FetchedAt: time.Now(),
		Hosts: []whatsmeow.MediaConnHost{{Hostname: s.Listener.Addr().String()}}})
	return s
}

// setMediaConn gives the client the media servers it would otherwise ask
// WhatsApp for over its (here absent) connection. whatsmeow keeps them in
// an unexported field; if a new version renames it, this fails loudly
// rather than let the upload test pass without uploading.
func setMediaConn(t *testing.T, cli *whatsmeow.Client, mc *whatsmeow.MediaConn) {
	t.Helper()
	f := reflect.ValueOf(cli).Elem().FieldByName("mediaConnCache")
	require.True(t, f.IsValid(), "whatsmeow.Client has no mediaConnCache field any more")
	require.Equal(t, reflect.TypeOf(mc), f.Type())
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Set(reflect.ValueOf(mc))
}

func (s *fakeMediaServer) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/mms/"):
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/mms/"), "/")
		body, err := io.ReadAll(r.Body)
		sum := sha256.Sum256(body)
		token := base64.URLEncoding.EncodeToString(sum[:])
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case err != nil || len(parts) != 2:
			s.bad = append(s.bad, fmt.Sprintf("upload %s: %v", r.URL.Path, err))
			http.Error(w, "bad upload", http.StatusBadRequest)
			return
		case parts[1] != token || r.URL.Query().Get("token") != token:
			s.bad = append(s.bad, "upload whose token is not the SHA-256 of its body")
			http.Error(w, "hash mismatch", http.StatusBadRequest)
			return
		case r.URL.Query().Get("auth") != "fake-auth":
			s.bad = append(s.bad, "upload without the media connection's auth")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		id := fmt.Sprintf("%d-%x", len(s.uploads)+1, sum[:6])
		s.blobs[id] = body
		s.uploads = append(s.uploads, fakeMediaUpload{mmsType: parts[0], size: len(body)})
		fmt.Fprintf(w, `{"url":%q,"direct_path":%q}`, s.URL+"/d/"+id+".enc", "/v/t62.7118-24/"+id+".enc?ccb=11-4&oe=6A1B2C3D")
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/d/"):
		s.mu.Lock()
		blob, ok := s.blobs[strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/d/"), ".enc")]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(blob)
	default:
		s.mu.Lock()
		s.bad = append(s.bad, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		http.NotFound(w, r)
	}
}

func (s *fakeMediaServer) uploaded() []fakeMediaUpload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]fakeMediaUpload(nil), s.uploads...)
}

// Upload implements client for fakeClient: recorded, then made by the real client.
func (f *fakeClient) Upload(ctx context.Context, plaintext []byte, appInfo whatsmeow.MediaType) (whatsmeow.UploadResponse, error) {
	f.mu.Lock()
	f.uploadCalls = append(f.uploadCalls, uploadCall{size: len(plaintext), kind: appInfo})
	srv, err := f.media, f.uploadErr
	f.mu.Unlock()
	if err != nil {
		return whatsmeow.UploadResponse{}, err
	}
	if srv == nil {
		return whatsmeow.UploadResponse{}, fmt.Errorf("no media server in this test")
	}
	return srv.cli.Upload(ctx, plaintext, appInfo)
}

// Download implements client for fakeClient, through the real client.
func (f *fakeClient) Download(ctx context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error) {
	f.mu.Lock()
	srv := f.media
	f.mu.Unlock()
	if srv == nil {
		return nil, fmt.Errorf("no media server in this test")
	}
	return srv.cli.Download(ctx, msg)
}

// uploadCall is one Upload the channel made.
type uploadCall struct {
	size int
	kind whatsmeow.MediaType
}

func (f *fakeClient) uploads() []uploadCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uploadCall(nil), f.uploadCalls...)
}
