package postgres

import (
	"testing"

	"mobilise/store/storetest/conform"
)

// TestConformancePause runs the suite's tests of pause on PostgreSQL.
func TestConformancePause(t *testing.T) {
	conform.RunPause(t, func(t *testing.T) conform.PauseBackend { return openConform(t) })
}
