package s3blobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/blobtest"
	"github.com/remedy-cases/remedy/storage/s3blobs"
	"github.com/remedy-cases/remedy/storage/s3blobs/s3test"
)

// TestStore runs the blob stores' suite against the real S3-compatible
// server .ci/run starts (versitygw on its POSIX backend).
func TestStore(t *testing.T) {
	blobtest.Exercise(t, func(t *testing.T) storage.BlobStore { return s3test.Open(t) })
}

func TestParseURL(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for raw, want := range map[string]s3blobs.Config{
			"s3://s3.eu-central-1.amazonaws.com/remedy-docs?region=eu-central-1": {Endpoint: "s3.eu-central-1.amazonaws.com",
				Secure: true, Bucket: "remedy-docs", Region: "eu-central-1"},
			"s3+http://key:se%2Fcret@minio:9000/docs/remedy": {Endpoint: "minio:9000", Bucket: "docs", Prefix: "remedy/",
				AccessKey: "key", SecretKey: "se/cret"},
			"s3://host/bucket/a/b/": {Endpoint: "host", Secure: true, Bucket: "bucket", Prefix: "a/b/"},
		} {
			got, err := s3blobs.ParseURL(raw)
			if err != nil || got != want {
				t.Errorf("%s: %+v %v, want %+v", raw, got, err, want)
			}
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, raw := range []string{"", "http://host/bucket", "s3://host", "s3://host/", "s3:///bucket",
			"s3://onlykey@host/bucket", "s3://k:very-secret@host/bucket?acl=public", "s3://k:very-secret@host/b\x7f"} {
			_, err := s3blobs.ParseURL(raw)
			if err == nil {
				t.Errorf("%q: no error", raw)
			} else if strings.Contains(err.Error(), "very-secret") {
				t.Errorf("%q: the error repeats the secret: %v", raw, err)
			}
		}
	})
	t.Run("String", func(t *testing.T) {
		c, _ := s3blobs.ParseURL("s3+http://key:very-secret@minio:9000/docs")
		if strings.Contains(c.String(), "very-secret") || strings.Contains(c.String(), "key") {
			t.Errorf("%s", c)
		}
	})
}

// TestRemoveStale: an upload that a crash left unfinished is aborted once
// begun before the cutoff, and a younger one is left to finish.
func TestRemoveStale(t *testing.T) {
	u := s3test.URL(t)
	cfg, _ := s3blobs.ParseURL(u)
	ctx := context.Background()
	s, err := s3blobs.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	core, err := minio.NewCore(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: cfg.Secure})
	if err != nil {
		t.Fatal(err)
	}
	key := storage.NewBlobKey()
	if _, err := core.NewMultipartUpload(ctx, cfg.Bucket, cfg.Prefix+key, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	uploads := func() int {
		n := 0
		for up := range core.ListIncompleteUploads(ctx, cfg.Bucket, cfg.Prefix, true) {
			if up.Err != nil {
				t.Fatal(up.Err)
			}
			n++
		}
		return n
	}
	if uploads() != 1 {
		t.Fatal("the unfinished upload is not listed")
	}
	if n, err := s.RemoveStale(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("a young upload was aborted: %d %v", n, err)
	}
	if n, err := s.RemoveStale(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("aborted %d: %v", n, err)
	}
	if uploads() != 0 {
		t.Fatal("the upload is still there")
	}
}
