package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformancePledges runs the suite's tests of pledges on PostgreSQL.
func TestConformancePledges(t *testing.T) {
	conform.RunPledges(t, func(t *testing.T) conform.PledgesBackend { return openConform(t) })
}
