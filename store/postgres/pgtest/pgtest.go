// Package pgtest gives tests a database of their own on a PostgreSQL
// server: MOBILISE_TEST_POSTGRES, else the local one. It skips a test when
// no server answers, unless MOBILISE_TEST_POSTGRES_REQUIRED=1 (as in CI),
// which fails it instead, so README's go test ./... needs no server.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The tests' server: MOBILISE_TEST_POSTGRES, else the local server with
// trust authentication, as user postgres or root. Without a server the
// tests skip, unless MOBILISE_TEST_POSTGRES_REQUIRED=1 (CI), which fails
// them.
const (
	envURL      = "MOBILISE_TEST_POSTGRES"
	envRequired = "MOBILISE_TEST_POSTGRES_REQUIRED"
)

var localURLs = []string{
	"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
	"postgres://root@127.0.0.1:5432/test?sslmode=disable",
}

var (
	serverOnce sync.Once
	serverURL  string
	serverErr  error
)

// BaseURL returns the URL of a database on the test server that accepts
// connections, trying each candidate once per test binary.
func BaseURL(tb testing.TB) string {
	tb.Helper()
	serverOnce.Do(func() {
		candidates := localURLs
		if u := os.Getenv(envURL); u != "" {
			candidates = []string{u}
		}
		for _, u := range candidates {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			conn, err := pgx.Connect(ctx, u)
			if err == nil {
				err = conn.Close(ctx)
			}
			cancel()
			if err == nil {
				serverURL, serverErr = u, nil
				return
			}
			serverErr = err
		}
	})
	if serverURL == "" {
		if os.Getenv(envRequired) == "1" {
			tb.Fatalf("PostgreSQL is required (%s=1) but unreachable: %v", envRequired, serverErr)
		}
		tb.Skipf("no PostgreSQL server (set %s, or start the local one): %v", envURL, serverErr)
	}
	return serverURL
}

// NewDatabase creates a database with a random name on the test server,
// dropped when the test ends, and returns its URL.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	base := BaseURL(tb)
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "mobilise_test_" + hex.EncodeToString(b[:])
	admin := func(sql string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Fatalf("connecting to %s: %v", base, err)
		}
		defer func() {
			if err := conn.Close(ctx); err != nil {
				tb.Error(err)
			}
		}()
		if _, err := conn.Exec(ctx, sql); err != nil {
			tb.Fatalf("%s: %v", sql, err)
		}
	}
	admin(`CREATE DATABASE ` + name)
	tb.Cleanup(func() { admin(`DROP DATABASE ` + name + ` WITH (FORCE)`) })
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
