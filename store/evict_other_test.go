//go:build !linux

package store

import "testing"

// evict cannot drop a file from the page cache here: "cold" runs are warm.
func evict(tb testing.TB, _ string) {
	tb.Log("cannot evict the file from the page cache on this system")
}
