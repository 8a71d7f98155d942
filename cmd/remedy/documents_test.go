package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/s3blobs"
	"github.com/remedy-cases/remedy/storage/s3blobs/s3test"
)

// TestServeDocumentsS3 runs serve with its documents in the real S3 server
// CI starts: a photo with GPS tags goes in through the API and comes back
// without them, with its name; the bucket holds only sealed bytes, and the
// data directory no blob.
func TestServeDocumentsS3(t *testing.T) {
	blobURL := s3test.URL(t)
	dir := t.TempDir()
	vars := map[string]string{"REMEDY_DATA_DIR": dir, "REMEDY_BLOB_URL": blobURL, "REMEDY_DEMO_PASSWORD": "demo password 123"}
	addr, logs, stop := startServe(t, vars, "--demo")
	defer stop()
	c := client{t: t, base: "http://" + addr}
	sup := c.signIn("supervisor@demo.remedy", "demo password 123")
	var list struct {
		Items []caseView `json:"items"`
	}
	c.call("GET", "/v1/cases?state=follow_up&limit=1", sup, nil, &list, http.StatusOK)
	id := list.Items[0].ID

	photo, err := os.ReadFile("../../storage/strip/testdata/gps.jpg")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("kind", "photo")
	mw.WriteField("step", "follow_up")
	part, _ := mw.CreateFormFile("file", "wang_fang_home.jpg")
	part.Write(photo)
	mw.Close()
	var doc struct {
		ID   string `json:"id"`
		Size int64  `json:"size"`
	}
	c.call("POST", "/v1/cases/"+id+"/documents", sup, body.Bytes(), &doc, http.StatusCreated, "Content-Type", mw.FormDataContentType())

	req, _ := http.NewRequest("GET", c.base+"/v1/cases/"+id+"/documents/"+doc.ID+"?reason=safeguarding", nil)
	req.Header.Set("Authorization", "Bearer "+sup)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || int64(len(got)) != doc.Size || !bytes.HasPrefix(got, []byte{0xFF, 0xD8}) {
		t.Fatalf("download: %d, %d bytes of %d, %v", res.StatusCode, len(got), doc.Size, err)
	}
	if bytes.Contains(got, []byte("5f3a")) || bytes.Contains(got, []byte("GPS")) {
		t.Error("the photo kept its metadata")
	}
	if !strings.Contains(res.Header.Get("Content-Disposition"), "filename*=UTF-8''wang_fang_home.jpg") {
		t.Errorf("Content-Disposition %q", res.Header.Get("Content-Disposition"))
	}

	// What the bucket holds: one object, sealed.
	cfg, _ := s3blobs.ParseURL(blobURL)
	s, err := s3blobs.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	objects := 0
	err = s.List(context.Background(), func(key string, _ time.Time) error {
		objects++
		r, err := s.Open(context.Background(), key)
		if err != nil {
			return err
		}
		defer r.Close()
		raw, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(raw, []byte("age-encryption.org/v1\n")) || bytes.Contains(raw, []byte("wang_fang")) ||
			bytes.Contains(raw, []byte{0xFF, 0xD8, 0xFF}) || bytes.Contains(raw, []byte("5f3a")) {
			t.Errorf("object %s is not sealed", key)
		}
		return nil
	})
	if err != nil || objects != 1 {
		t.Fatalf("%d objects in the bucket: %v", objects, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs")); err == nil {
		t.Error("serve wrote blobs to the data directory too")
	}
	for _, canary := range []string{"wang_fang", "5f3a"} {
		if strings.Contains(logs.String(), canary) {
			t.Errorf("the log holds %s", canary)
		}
	}
}

// TestMigrateCreatesBucket: remedy migrate, the deployment's one-off job,
// creates the documents' bucket when it is missing, and leaves it be when
// it exists.
func TestMigrateCreatesBucket(t *testing.T) {
	base, err := s3blobs.ParseURL(s3test.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	bucket := "remedy-migrate-" + hex.EncodeToString(b)
	scheme := "s3+http://"
	if base.Secure {
		scheme = "s3://"
	}
	blobURL := scheme + base.AccessKey + ":" + base.SecretKey + "@" + base.Endpoint + "/" + bucket
	core, err := minio.New(base.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(base.AccessKey, base.SecretKey, ""), Secure: base.Secure})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.RemoveBucket(context.Background(), bucket) })
	vars := map[string]string{"REMEDY_DATA_DIR": t.TempDir(), "REMEDY_BLOB_URL": blobURL}
	for i, want := range []bool{true, false} {
		var out bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &out, Getenv: envOf(vars)}
		if err := m.Run(context.Background(), []string{"migrate"}); err != nil {
			t.Fatalf("migrate %d: %v\n%s", i, err, out.String())
		}
		if got := strings.Contains(out.String(), "created the documents' bucket"); got != want {
			t.Errorf("migrate %d: created %v, want %v: %s", i, got, want, out.String())
		}
		if strings.Contains(out.String(), base.SecretKey) {
			t.Error("migrate printed the secret key")
		}
	}
	if ok, err := core.BucketExists(context.Background(), bucket); err != nil || !ok {
		t.Fatalf("the bucket does not exist: %v", err)
	}
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: envOf(vars)}
	db, err := m.openForCommand(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, ok := db.Blobs().(*s3blobs.Store); !ok {
		t.Fatalf("the blob store is %T", db.Blobs())
	}
	var _ storage.BlobStore = db.Blobs()
}
