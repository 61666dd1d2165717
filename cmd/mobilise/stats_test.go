package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStats(t *testing.T) {
	st, data := opsStore(t)
	opsSeed(t, st)
	require.NoError(t, st.Close())
	env := map[string]string{"MOBILISE_DATA": data}

	code, stdout, stderr := opsRun(t, []string{"stats", "--json"}, env)
	require.Equal(t, 0, code, stderr)
	var rep statsReport
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	assert.Equal(t, []campaignFigures{
		{Code: "peace", Title: "عهد السلام", Pledges: 3, Signups: 1, Referred: 1},
		{Code: "quiet", Title: "هدوء", Closed: true},
	}, rep.Campaigns)
	// the forgotten person is gone; of the two left one consented and one said /stop
	assert.Equal(t, contactFigures{Total: 2, Consented: 1, Stopped: 1}, rep.Contacts)
	assert.Equal(t, map[string]int{"pending": 1, "approved": 1, "rejected": 0}, rep.Institutions)
	assert.Equal(t, map[string]int{"whatsapp": 1}, rep.Outbox)

	code, stdout, stderr = opsRun(t, []string{"stats"}, env)
	require.Equal(t, 0, code, stderr)
	for _, want := range []string{
		"CAMPAIGN  PLEDGES  SIGN-UPS  REFERRED  STATUS  TITLE",
		"peace     3        1         1         open    عهد السلام",
		"quiet     0        0         0         closed  هدوء",
		"CONTACTS      2", "  consented   1", "  no consent  0", "  stopped     1",
		"INSTITUTIONS\n  approved  1\n  pending   1\n  rejected  0\n",
		"OUTBOX (waiting)\n  whatsapp  1\n",
	} {
		assert.Contains(t, stdout, want)
	}
	assert.NotContains(t, stdout, opsPhone)
	assert.NotContains(t, stdout, opsPersonName)
}
