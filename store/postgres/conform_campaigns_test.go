package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceCampaigns runs the suite's tests of campaigns on PostgreSQL.
func TestConformanceCampaigns(t *testing.T) {
	conform.RunCampaigns(t, func(t *testing.T) conform.CampaignsBackend { return openConform(t) })
}
