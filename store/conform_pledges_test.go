package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformancePledges runs the suite's tests of pledges on a bbolt file.
func TestConformancePledges(t *testing.T) {
	conform.RunPledges(t, func(t *testing.T) conform.PledgesBackend { return openClocked(t) })
}
