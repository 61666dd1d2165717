package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceLinkCodes runs the suite's tests of link codes on a bbolt file.
func TestConformanceLinkCodes(t *testing.T) {
	conform.RunLinkCodes(t, func(t *testing.T) conform.LinkCodesBackend { return openClocked(t) })
}
