package store

import (
	"context"
	"testing"

	"mobilise/bot"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

func TestCheckFindsInconsistencies(t *testing.T) {
	path := t.TempDir() + "/mobilise.db"
	s, err := Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	c := &Campaign{Code: "peace"}
	require.NoError(t, s.CreateCampaign(context.Background(), c))
	a, _, err := s.EnsureContact(context.Background(), bot.MustParseAddress("telegram:1"), "", "")
	require.NoError(t, err)
	_, err = s.AddPledge(context.Background(), Pledge{CampaignID: c.ID, ContactID: a.ID})
	require.NoError(t, err)
	require.NoError(t, s.Check())

	require.NoError(t, s.DB().Update(func(tx *bbolt.Tx) error {
		// an address pointing nowhere, a counter off by one, a stray session
		require.NoError(t, tx.Bucket(bucketAddresses).Put([]byte("telegram:2"), itob(77)))
		require.NoError(t, putJSON(tx.Bucket(bucketCounters), itob(c.ID), Counts{Pledges: 5}))
		require.NoError(t, tx.Bucket(bucketSessions).Put(itob(78), []byte(`{}`)))
		require.NoError(t, putJSON(tx.Bucket(bucketPledges), pairKey(c.ID, 79), Pledge{CampaignID: c.ID, ContactID: 79}))
		return nil
	}))
	err = s.Check()
	require.Error(t, err)
	for _, want := range []string{"address telegram:2", "counters say", "session of missing contact 78", "contact 79"} {
		assert.Contains(t, err.Error(), want)
	}
}
