package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessions(t *testing.T) {
	s, clock := openTestStore(t)
	_, err := s.Session(context.Background(), 1)
	assert.ErrorIs(t, err, ErrNotFound)
	require.NoError(t, s.DeleteSession(context.Background(), 1), "deleting nothing is fine")

	sess := &Session{Flow: "register", Step: "name", Data: map[string]string{"name_ar": "جمعية"}, Menu: &Menu{ID: "m1", Options: []string{"yes", "no"}}}
	require.NoError(t, s.PutSession(context.Background(), 1, sess))
	assert.Equal(t, clock.Now(), sess.UpdatedAt, "a zero UpdatedAt is stamped")
	got, err := s.Session(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, sess, got)

	set := clock.Now().Add(-time.Hour)
	require.NoError(t, s.PutSession(context.Background(), 1, &Session{Flow: "pledge", UpdatedAt: set}))
	got, err = s.Session(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, &Session{Flow: "pledge", UpdatedAt: set}, got, "the caller's UpdatedAt is kept")

	require.NoError(t, s.DeleteSession(context.Background(), 1))
	_, err = s.Session(context.Background(), 1)
	assert.ErrorIs(t, err, ErrNotFound)
}
