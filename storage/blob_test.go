package storage_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/blobtest"
)

func TestFileBlobs(t *testing.T) {
	blobtest.Exercise(t, func(t *testing.T) storage.BlobStore {
		s, err := storage.NewFileBlobs(filepath.Join(t.TempDir(), "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestFileBlobsModes: blobs are 0600 files in 0700 directories, and no
// temporary file stays behind a write.
func TestFileBlobsModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	s, err := storage.NewFileBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := storage.NewBlobKey()
	if err := s.Put(ctx, key, func(w io.Writer) error { _, err := w.Write([]byte("sealed")); return err }); err != nil {
		t.Fatal(err)
	}
	_ = s.Put(ctx, storage.NewBlobKey(), func(io.Writer) error { return errors.New("refused") })
	files := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700 | fs.ModeDir
		} else {
			files++
		}
		if info.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, info.Mode(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != 1 {
		t.Errorf("%d files, want the one blob", files)
	}
}

// TestFileBlobsRemoveStale: a temporary file left by a crash is removed
// once older than the cutoff; a fresh one (a write under way) and a file
// the store did not write are left alone.
func TestFileBlobsRemoveStale(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	s, err := storage.NewFileBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	shard := filepath.Join(dir, "ab")
	if err := os.MkdirAll(shard, 0o700); err != nil {
		t.Fatal(err)
	}
	old, fresh, foreign := filepath.Join(shard, ".partial-1"), filepath.Join(shard, ".partial-2"), filepath.Join(shard, "notes.txt")
	for _, p := range []string{old, fresh, foreign} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(foreign, past, past)
	n, err := s.RemoveStale(context.Background(), time.Now().Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("removed %d: %v", n, err)
	}
	for p, want := range map[string]bool{old: false, fresh: true, foreign: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
	listed := 0
	_ = s.List(context.Background(), func(string, time.Time) error { listed++; return nil })
	if listed != 0 {
		t.Errorf("listed %d blobs among foreign and partial files", listed)
	}
}
