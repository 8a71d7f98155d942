// Package blobtest is the one test suite every storage.BlobStore passes,
// as river's riverdrivertest is for its drivers: the embedded file store
// and the S3 store run the same cases.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/remedy-cases/remedy/storage"
)

// Exercise runs the suite on stores made by open; each subtest gets a
// fresh, empty one.
func Exercise(t *testing.T, open func(t *testing.T) storage.BlobStore) {
	ctx := context.Background()
	put := func(t *testing.T, s storage.BlobStore, key string, data []byte) {
		t.Helper()
		if err := s.Put(ctx, key, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			t.Fatalf("put: %v", err)
		}
	}
	readAll := func(t *testing.T, r io.Reader) []byte {
		t.Helper()
		data, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	keys := func(t *testing.T, s storage.BlobStore) []string {
		t.Helper()
		var out []string
		err := s.List(ctx, func(key string, written time.Time) error {
			if d := time.Since(written); d > 10*time.Minute || d < -10*time.Minute {
				t.Errorf("blob %s written at %v", key, written)
			}
			out = append(out, key)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}

	t.Run("OK", func(t *testing.T) {
		s := open(t)
		key := storage.NewBlobKey()
		data := random(t, 100_000)
		put(t, s, key, data)
		b, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if got := readAll(t, b); !bytes.Equal(got, data) {
			t.Fatalf("read %d bytes, not what was put", len(got))
		}
		if _, err := b.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, b); !bytes.Equal(got, data) {
			t.Fatal("a second read after Seek differs")
		}
		if got := keys(t, s); !slices.Equal(got, []string{key}) {
			t.Fatalf("listed %v", got)
		}
	})

	t.Run("Large", func(t *testing.T) {
		// Larger than an S3 part: a multipart upload.
		s := open(t)
		key := storage.NewBlobKey()
		data := random(t, 11<<20+123)
		err := s.Put(ctx, key, func(w io.Writer) error {
			for chunk := range slices.Chunk(data, 64<<10) { // as age writes
				if _, err := w.Write(chunk); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if got := readAll(t, b); !bytes.Equal(got, data) {
			t.Fatalf("read %d bytes, not the %d put", len(got), len(data))
		}
	})

	t.Run("Empty", func(t *testing.T) {
		s := open(t)
		key := storage.NewBlobKey()
		put(t, s, key, nil)
		b, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if got := readAll(t, b); len(got) != 0 {
			t.Fatalf("read %d bytes", len(got))
		}
	})

	t.Run("ErrWrite", func(t *testing.T) {
		// A write that fails half-way leaves nothing, and its error comes back as it was.
		s := open(t)
		for _, size := range []int{1000, 6 << 20} {
			key := storage.NewBlobKey()
			boom := errors.New("the client went away")
			err := s.Put(ctx, key, func(w io.Writer) error {
				if _, err := w.Write(random(t, size)); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("put after %d bytes: %v, want the write's error", size, err)
			}
			if _, err := s.Open(ctx, key); !errors.Is(err, storage.ErrBlobNotFound) {
				t.Fatalf("a failed put left a blob: %v", err)
			}
		}
		if got := keys(t, s); len(got) != 0 {
			t.Fatalf("listed %v", got)
		}
	})

	t.Run("ErrExists", func(t *testing.T) {
		s := open(t)
		key := storage.NewBlobKey()
		put(t, s, key, []byte("first"))
		err := s.Put(ctx, key, func(w io.Writer) error { _, err := w.Write([]byte("second")); return err })
		if err == nil {
			t.Fatal("a put replaced a blob")
		}
		b, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if got := readAll(t, b); string(got) != "first" {
			t.Fatalf("the blob holds %q", got)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		if _, err := s.Open(ctx, storage.NewBlobKey()); !errors.Is(err, storage.ErrBlobNotFound) {
			t.Fatalf("open: %v", err)
		}
	})

	t.Run("ErrKey", func(t *testing.T) {
		s := open(t)
		for _, key := range []string{"", "../../etc/passwd", "ABCDEF0123456789ABCDEF0123456789", "0123456789abcdef0123456789abcde/"} {
			if err := s.Put(ctx, key, func(io.Writer) error { return nil }); err == nil {
				t.Errorf("put %q: no error", key)
			}
			if _, err := s.Open(ctx, key); err == nil || errors.Is(err, storage.ErrBlobNotFound) {
				t.Errorf("open %q: %v", key, err)
			}
			if err := s.Delete(ctx, key); err == nil {
				t.Errorf("delete %q: no error", key)
			}
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		a, b := storage.NewBlobKey(), storage.NewBlobKey()
		put(t, s, a, []byte("a"))
		put(t, s, b, []byte("b"))
		if err := s.Delete(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, a); err != nil {
			t.Fatalf("deleting a missing blob: %v", err)
		}
		if _, err := s.Open(ctx, a); !errors.Is(err, storage.ErrBlobNotFound) {
			t.Fatalf("open a deleted blob: %v", err)
		}
		if got := keys(t, s); !slices.Equal(got, []string{b}) {
			t.Fatalf("listed %v", got)
		}
	})

	t.Run("ListStops", func(t *testing.T) {
		s := open(t)
		for range 3 {
			put(t, s, storage.NewBlobKey(), []byte("x"))
		}
		stop := errors.New("stop")
		calls := 0
		err := s.List(ctx, func(string, time.Time) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("list went on after an error: %d calls, %v", calls, err)
		}
	})

	t.Run("RemoveStaleKeepsBlobs", func(t *testing.T) {
		s := open(t)
		key := storage.NewBlobKey()
		put(t, s, key, []byte("whole"))
		if _, err := s.RemoveStale(ctx, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := keys(t, s); !slices.Equal(got, []string{key}) {
			t.Fatalf("a sweep of unfinished writes removed a whole blob: %v", got)
		}
	})
}

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
