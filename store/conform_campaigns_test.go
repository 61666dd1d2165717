package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceCampaigns runs the suite's tests of campaigns on a bbolt file.
func TestConformanceCampaigns(t *testing.T) {
	conform.RunCampaigns(t, func(t *testing.T) conform.CampaignsBackend { return openClocked(t) })
}
