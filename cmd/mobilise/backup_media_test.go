package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mobilise/store"
)

// TestBackupCopiesMedia: the files of calls to action go into the
// directory media beside the backup, from a stopped bot and a running one;
// a second backup into the same directory copies only what is new.
func TestBackupCopiesMedia(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st)
	files, err := store.OpenMediaFiles(store.MediaDir(filepath.Join(data, dbFileName)), 0)
	require.NoError(t, err)
	var pic bytes.Buffer
	require.NoError(t, png.Encode(&pic, image.NewGray(image.Rect(0, 0, 5, 5))))
	poster, err := files.Put(bytes.NewReader(pic.Bytes()), "poster.png")
	require.NoError(t, err)
	require.NoError(t, st.Close())

	dst := filepath.Join(t.TempDir(), "offsite.db")
	code, stdout, stderr := opsRun(t, []string{"backup", "--data", data, dst}, nil)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "media: 1 new files")
	copied, err := store.OpenMediaFiles(filepath.Join(filepath.Dir(dst), "media"), 0)
	require.NoError(t, err)
	assert.True(t, copied.Has(poster.SHA256), "the poster is beside the database copy")
	r, err := copied.Open(poster.SHA256)
	require.NoError(t, err)
	var got bytes.Buffer
	_, err = got.ReadFrom(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	assert.Equal(t, pic.Bytes(), got.Bytes())
	require.NoError(t, store.VerifyCopy(dst))

	// from the running bot, with one more file: only that one is copied
	st, err = store.Open(filepath.Join(data, dbFileName))
	require.NoError(t, err)
	defer st.Close()
	runningBot(t, st, data)
	pdf, err := files.Put(bytes.NewReader([]byte("%PDF-1.4\n%%EOF\n")), "statement.pdf")
	require.NoError(t, err)
	code, stdout, stderr = opsRun(t, []string{"backup", "--data", data, filepath.Join(filepath.Dir(dst), "second.db")}, nil)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "(from the running bot)")
	assert.Contains(t, stdout, "media: 1 new files")
	assert.True(t, copied.Has(pdf.SHA256))
	list, err := copied.List()
	require.NoError(t, err)
	assert.Len(t, list, 2)

	// a file damaged in the data directory fails the backup rather than being copied
	p := filepath.Join(files.Dir(), poster.SHA256[:2], poster.SHA256)
	require.NoError(t, os.WriteFile(p, []byte("damaged"), 0o600))
	code, _, stderr = opsRun(t, []string{"backup", "--data", data, filepath.Join(t.TempDir(), "third.db")}, nil)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "copying media")
}
