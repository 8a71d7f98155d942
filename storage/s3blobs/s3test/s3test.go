// Package s3test points tests at the S3-compatible server named by
// REMEDY_TEST_S3_URL (.ci/run starts versitygw and sets it). Each test gets
// a prefix of its own in that bucket, emptied afterwards. Without the
// variable the tests skip; with CI set they fail: the S3 store is tested
// against a real server, never a mock.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/remedy-cases/remedy/storage/s3blobs"
)

// URLEnv names the variable that points the tests at an S3 server, as
// s3+http://ACCESS:SECRET@127.0.0.1:7070/bucket.
const URLEnv = "REMEDY_TEST_S3_URL"

// URL returns a blob-store URL with a fresh prefix of its own in the test
// server's bucket, or skips tb (fails it in CI) when there is none. The
// prefix's objects are removed at cleanup.
func URL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(URLEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s is not set, and CI must test the S3 store against a real server", URLEnv)
		}
		tb.Skipf("%s is not set: skipping a test of the S3 store", URLEnv)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	u := strings.TrimSuffix(base, "/") + "/test-" + hex.EncodeToString(b)
	cfg, err := s3blobs.ParseURL(u)
	if err != nil {
		tb.Fatalf("%s: %v", URLEnv, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s, err := s3blobs.New(ctx, cfg)
		if err != nil {
			tb.Errorf("cleanup: %v", err)
			return
		}
		if err := s.RemoveAll(ctx); err != nil {
			tb.Errorf("cleanup: %v", err)
		}
	})
	return u
}

// Open returns a store on a fresh prefix of the test server's bucket.
func Open(tb testing.TB) *s3blobs.Store {
	tb.Helper()
	cfg, err := s3blobs.ParseURL(URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := s3blobs.New(ctx, cfg)
	if err != nil {
		tb.Fatalf("the S3 server of %s: %v", URLEnv, err)
	}
	return s
}
