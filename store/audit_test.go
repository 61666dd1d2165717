package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAudit(t *testing.T) {
	s, clock := openTestStore(t)
	require.NoError(t, s.AppendAudit(context.Background(), AuditEntry{ActorID: 1, Action: "approve_institution", Details: map[string]string{"institution_id": "3"}}))
	at := clock.Now().Add(-time.Hour)
	require.NoError(t, s.AppendAudit(context.Background(), AuditEntry{ActorID: 2, Action: "appoint_coordinator", At: at}))

	var got []AuditEntry
	require.NoError(t, s.Audit(context.Background(), func(e *AuditEntry) error {
		got = append(got, *e)
		return nil
	}))
	assert.Equal(t, []AuditEntry{
		{ID: 1, At: clock.Now(), ActorID: 1, Action: "approve_institution", Details: map[string]string{"institution_id": "3"}},
		{ID: 2, At: at, ActorID: 2, Action: "appoint_coordinator"},
	}, got)

	stop := errors.New("stop")
	n := 0
	assert.Equal(t, stop, s.Audit(context.Background(), func(*AuditEntry) error { n++; return stop }))
	assert.Equal(t, 1, n)
}
