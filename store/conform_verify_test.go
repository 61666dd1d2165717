package store_test

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformanceVerify runs the suite's tests of verification codes on a
// bbolt file.
func TestConformanceVerify(t *testing.T) {
	conform.RunVerify(t, func(t *testing.T) conform.VerifyBackend { return openBboltBackend(t) })
}
