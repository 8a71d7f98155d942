package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// BlobStore keeps the sealed bytes of documents. It lives in storage, beside
// the vault, because only sealed data ever enters it: the code that seals a
// document is the only code that writes to a store, so no adapter can put a
// child's photo into one in the clear. Keys are random (NewBlobKey) and say
// nothing of the case, the child or the file.
//
// Two implementations: FileBlobs, the embedded default, in the data
// directory; and s3blobs.Store, S3-compatible object storage, for several
// replicas. blobtest.Exercise runs one suite against both.
type BlobStore interface {
	// Put stores a new blob under key with what write writes. The blob
	// becomes visible only whole, once write returned nil; if write (or the
	// store) fails, nothing is left under key and Put returns write's error
	// as it was. Put never replaces an existing blob.
	Put(ctx context.Context, key string, write func(w io.Writer) error) error
	// Open returns the blob for reading. Reading it again after a Seek to
	// the start gives the same bytes, or an error, never other bytes.
	// Returns ErrBlobNotFound.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, error)
	// Delete removes the blob; a missing blob is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn with every blob's key and the time it was written, in
	// no particular order, and stops at fn's first error.
	List(ctx context.Context, fn func(key string, written time.Time) error) error
	// RemoveStale removes what writes begun before cutoff left behind when
	// they never finished (a crash mid-Put), and returns how many it removed.
	RemoveStale(ctx context.Context, cutoff time.Time) (int, error)
}

// ErrBlobNotFound means no blob has the key.
var ErrBlobNotFound = errors.New("storage: blob not found")

// NewBlobKey returns a fresh random key: 128 bits, in hex.
func NewBlobKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ValidBlobKey reports whether key has the shape NewBlobKey gives: a store
// ignores anything else it finds (a listing never yields, nor a sweep
// deletes, a file or object it did not write).
func ValidBlobKey(key string) bool {
	if len(key) != 32 {
		return false
	}
	for _, c := range key {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func errBlobKey() error { return errors.New("storage: not a blob key") }

// FileBlobs keeps blobs as files under a directory: dir/ab/abcdef…, each
// written to a temporary file in its directory, synced, then renamed into
// place (mode 0600, directories 0700). Several processes may share it on
// one machine; replicas on several machines need S3.
type FileBlobs struct{ dir string }

var _ BlobStore = (*FileBlobs)(nil)

// tempPrefix starts the name of a blob being written.
const tempPrefix = ".partial-"

// NewFileBlobs returns the store in dir, creating it (0700) if needed.
func NewFileBlobs(dir string) (*FileBlobs, error) {
	if dir == "" {
		return nil, errors.New("storage: no directory for the blobs")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("storage: create the blob directory: %w", err)
	}
	return &FileBlobs{dir: abs}, nil
}

// Dir is the directory of the blobs.
func (s *FileBlobs) Dir() string { return s.dir }

func (s *FileBlobs) String() string { return "file blobs in " + s.dir }

func (s *FileBlobs) path(key string) string { return filepath.Join(s.dir, key[:2], key) }

func (s *FileBlobs) Put(ctx context.Context, key string, write func(io.Writer) error) (err error) {
	if !ValidBlobKey(key) {
		return errBlobKey()
	}
	final := s.path(key)
	if _, err := os.Lstat(final); err == nil {
		return fmt.Errorf("storage: blob %s exists", key)
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), final); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *FileBlobs) Open(_ context.Context, key string) (io.ReadSeekCloser, error) {
	if !ValidBlobKey(key) {
		return nil, errBlobKey()
	}
	// The open file stays the same file even if the name is removed, so a
	// second read after Seek sees the same bytes.
	f, err := os.Open(s.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrBlobNotFound
	}
	return f, err
}

func (s *FileBlobs) Delete(_ context.Context, key string) error {
	if !ValidBlobKey(key) {
		return errBlobKey()
	}
	if err := os.Remove(s.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (s *FileBlobs) List(ctx context.Context, fn func(string, time.Time) error) error {
	return s.walk(ctx, func(_, name string, info os.FileInfo) error {
		if !ValidBlobKey(name) {
			return nil
		}
		return fn(name, info.ModTime())
	})
}

// walk calls fn with every file in the shard directories.
func (s *FileBlobs) walk(ctx context.Context, fn func(path, name string, info os.FileInfo) error) error {
	shards, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, shard := range shards {
		if !shard.IsDir() || len(shard.Name()) != 2 {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(s.dir, shard.Name()))
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !e.Type().IsRegular() {
				continue
			}
			info, err := e.Info()
			if errors.Is(err, os.ErrNotExist) {
				continue // removed meanwhile
			} else if err != nil {
				return err
			}
			if err := fn(filepath.Join(s.dir, shard.Name(), e.Name()), e.Name(), info); err != nil {
				return err
			}
		}
	}
	return nil
}

// RemoveStale removes the temporary files of writes that a crash cut off.
func (s *FileBlobs) RemoveStale(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	err := s.walk(ctx, func(path, name string, info os.FileInfo) error {
		if !strings.HasPrefix(name, tempPrefix) || !info.ModTime().Before(cutoff) {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		n++
		return nil
	})
	return n, err
}

// CopyBlobs copies every blob of src into dst, as a backup does, and
// returns how many it copied. The blobs stay sealed: the copy opens nothing
// without the age identity. A blob deleted while the copy runs (an erasure)
// is skipped.
func CopyBlobs(ctx context.Context, src, dst BlobStore) (int, error) {
	n := 0
	err := src.List(ctx, func(key string, _ time.Time) error {
		r, err := src.Open(ctx, key)
		if errors.Is(err, ErrBlobNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		defer r.Close()
		if err := dst.Put(ctx, key, func(w io.Writer) error { _, err := io.Copy(w, r); return err }); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}
