package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"mobilise/bot/coalition"
	"mobilise/messages"
	"mobilise/store"
)

// formSlack is what a form's fields may take besides its file.
const formSlack = 1 << 20

// limitUpload bounds the body of a form that carries a file: the largest
// file the bot keeps and the form's fields. A body said to be larger is
// refused before it is read; one that grows past it unannounced is cut
// off, and its form then fails its CSRF check like any broken form.
func (s *Server) limitUpload(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.co.Media.Limit() + formSlack
		if r.ContentLength > limit {
			http.Error(w, s.cat.Text(langOf(r), messages.MediaTooLargeShort, nil), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		h.ServeHTTP(w, r)
	})
}

var shaField = regexp.MustCompile(`^[0-9a-f]{64}$`)

// uploadedMedia is the file a form carries: one uploaded with it (field
// "media"), else the one kept at an earlier step, named by its SHA-256
// ("media_sha", "media_name"); nil for none. A file refused is an
// *coalition.InvalidError of the field "media".
func (s *Server) uploadedMedia(q *request) (*store.Media, error) {
	f, fh, err := q.r.FormFile("media")
	switch {
	case errors.Is(err, http.ErrMissingFile), errors.Is(err, http.ErrNotMultipart):
		sha := q.r.PostFormValue("media_sha")
		if sha == "" {
			return nil, nil
		}
		if !shaField.MatchString(sha) {
			return nil, &coalition.InvalidError{Field: "media", Reason: messages.MediaFetchFailed}
		}
		m, err := s.co.Media.Recall(q.ctx(), q.by, sha, q.r.PostFormValue("media_name"))
		return m, mediaRefusal(err)
	case err != nil:
		return nil, fmt.Errorf("reading the uploaded file: %w", err)
	}
	defer f.Close()
	if fh.Size == 0 {
		return nil, nil // the field left empty
	}
	m, err := s.co.Media.Keep(q.ctx(), q.by, fh.Filename, f)
	return m, mediaRefusal(err)
}

// mediaRefusal turns a file's refusal into the field's error.
func mediaRefusal(err error) error {
	switch {
	case errors.Is(err, store.ErrMediaTooLarge):
		return &coalition.InvalidError{Field: "media", Reason: messages.MediaTooLargeShort}
	case errors.Is(err, store.ErrMediaType):
		return &coalition.InvalidError{Field: "media", Reason: messages.MediaBadType}
	case errors.Is(err, store.ErrMediaMissing), errors.Is(err, coalition.ErrNoMedia):
		return &coalition.InvalidError{Field: "media", Reason: messages.MediaFetchFailed}
	}
	return err
}
