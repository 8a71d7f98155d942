// Package s3blobs keeps Remedy's sealed document blobs in S3-compatible
// object storage (AWS S3, MinIO, versitygw, Ceph…), through minio-go, so
// that several serve processes on several machines share them. Objects
// hold sealed bytes only; their names are random keys under a prefix.
package s3blobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/remedy-cases/remedy/storage"
)

// Config says where the bucket is and how to sign in to it.
type Config struct {
	Endpoint string // host:port
	Secure   bool   // HTTPS
	Bucket   string
	Prefix   string // of every object's name, such as "remedy/"; may be empty
	Region   string // empty lets the client ask the server
	// AccessKey and SecretKey sign requests; when both are empty, the
	// standard environment variables (AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY, or MINIO_ROOT_USER and MINIO_ROOT_PASSWORD)
	// and instance credentials are used.
	AccessKey string
	SecretKey string
}

// String never shows the secret key.
func (c Config) String() string {
	scheme := "s3+http"
	if c.Secure {
		scheme = "s3"
	}
	return scheme + "://" + c.Endpoint + "/" + c.Bucket + "/" + c.Prefix
}

// ParseURL reads a blob-store URL:
//
//	s3://[ACCESS_KEY:SECRET_KEY@]HOST[:PORT]/BUCKET[/PREFIX][?region=REGION]
//
// over HTTPS, or s3+http:// for plain HTTP on a private network. Its
// errors never repeat the URL, which may hold the secret key.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, errors.New("not a URL")
	}
	var c Config
	switch u.Scheme {
	case "s3":
		c.Secure = true
	case "s3+http":
	default:
		return Config{}, errors.New("the scheme must be s3:// or s3+http://")
	}
	if u.Host == "" {
		return Config{}, errors.New("no host")
	}
	c.Endpoint = u.Host
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if bucket == "" {
		return Config{}, errors.New("no bucket: the path must name one, as in s3://host/bucket")
	}
	c.Bucket = bucket
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	c.Prefix = prefix
	if u.User != nil {
		c.AccessKey = u.User.Username()
		c.SecretKey, _ = u.User.Password()
		if c.AccessKey == "" || c.SecretKey == "" {
			return Config{}, errors.New("give both the access key and the secret key, or neither")
		}
	}
	q := u.Query()
	c.Region = q.Get("region")
	for k := range q {
		if k != "region" {
			return Config{}, fmt.Errorf("unknown parameter %q: only region is known", k)
		}
	}
	return c, nil
}

// Store is a storage.BlobStore in one bucket.
type Store struct {
	client *minio.Client
	cfg    Config
}

var _ storage.BlobStore = (*Store)(nil)

// partSize is the size of each part of a multipart upload, and so the
// memory one upload holds: S3's minimum. A sealed blob's size is unknown
// until its plaintext has been stripped and sealed, so every Put streams.
const partSize = 5 << 20

// New connects to the bucket of cfg, which must exist.
func New(ctx context.Context, cfg Config) (*Store, error) {
	s, err := connect(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.Check(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func connect(cfg Config) (*Store, error) {
	creds := credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	if cfg.AccessKey == "" {
		creds = credentials.NewChainCredentials([]credentials.Provider{&credentials.EnvAWS{},
			&credentials.EnvMinio{}, &credentials.IAM{}})
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: creds, Secure: cfg.Secure, Region: cfg.Region})
	if err != nil {
		return nil, fmt.Errorf("s3blobs: %s: %w", cfg, err)
	}
	return &Store{client: client, cfg: cfg}, nil
}

// Check reports whether the bucket answers.
func (s *Store) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return fmt.Errorf("s3blobs: %s: %w", s.cfg, err)
	}
	if !ok {
		return fmt.Errorf("s3blobs: %s: no such bucket", s.cfg)
	}
	return nil
}

func (s *Store) String() string { return s.cfg.String() }

func (s *Store) name(key string) string { return s.cfg.Prefix + key }

func errKey() error { return errors.New("s3blobs: not a blob key") }

func notFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == minio.NoSuchKey || code == "NotFound"
}

func (s *Store) Put(ctx context.Context, key string, write func(io.Writer) error) error {
	if !storage.ValidBlobKey(key) {
		return errKey()
	}
	if _, err := s.client.StatObject(ctx, s.cfg.Bucket, s.name(key), minio.StatObjectOptions{}); err == nil {
		return fmt.Errorf("s3blobs: blob %s exists", key)
	} else if !notFound(err) {
		return fmt.Errorf("s3blobs: %w", err)
	}
	pr, pw := io.Pipe()
	var werr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		werr = write(pw)
		// nil closes the pipe with EOF: the upload completes. An error
		// reaches the upload as a failed read: it aborts.
		pw.CloseWithError(werr)
	}()
	// The payload is not signed chunk by chunk (which costs an allocation a
	// chunk): the blob is age's authenticated encryption already, and any
	// change to it fails its read. Requests are still signed; use s3://
	// (TLS) for the transport.
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, s.name(key), pr, -1,
		minio.PutObjectOptions{PartSize: partSize, ContentType: "application/octet-stream", DisableContentSha256: true})
	// If the upload stopped reading early, the writer must not block.
	pr.CloseWithError(errors.New("s3blobs: the upload stopped"))
	<-done
	if werr != nil {
		if err == nil {
			// Cannot happen (an error never reads as EOF), but a blob of a
			// failed write must never stay.
			_ = s.Delete(context.WithoutCancel(ctx), key)
		}
		return werr
	}
	if err != nil {
		return fmt.Errorf("s3blobs: put: %w", err)
	}
	return nil
}

func (s *Store) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	if !storage.ValidBlobKey(key) {
		return nil, errKey()
	}
	// The object pins its ETag after the first request: a read after Seek
	// fails rather than return another version's bytes.
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, s.name(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("s3blobs: %w", err)
	}
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		if notFound(err) {
			return nil, storage.ErrBlobNotFound
		}
		return nil, fmt.Errorf("s3blobs: %w", err)
	}
	return obj, nil
}

func (s *Store) Delete(ctx context.Context, key string) error {
	if !storage.ValidBlobKey(key) {
		return errKey()
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, s.name(key), minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return fmt.Errorf("s3blobs: delete: %w", err)
	}
	return nil
}

func (s *Store) List(ctx context.Context, fn func(string, time.Time) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing if fn stops early
	for obj := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.cfg.Prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("s3blobs: list: %w", obj.Err)
		}
		key, ok := strings.CutPrefix(obj.Key, s.cfg.Prefix)
		if !ok || !storage.ValidBlobKey(key) {
			continue // not ours
		}
		if err := fn(key, obj.LastModified); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// RemoveStale aborts the multipart uploads begun before cutoff that never
// completed (a process that died mid-Put): their parts are stored, and
// billed, until aborted. A bucket lifecycle rule
// (AbortIncompleteMultipartUpload) does the same on AWS.
func (s *Store) RemoveStale(ctx context.Context, cutoff time.Time) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stale []string
	for up := range s.client.ListIncompleteUploads(ctx, s.cfg.Bucket, s.cfg.Prefix, true) {
		if up.Err != nil {
			return 0, fmt.Errorf("s3blobs: list uploads: %w", up.Err)
		}
		key, ok := strings.CutPrefix(up.Key, s.cfg.Prefix)
		if ok && storage.ValidBlobKey(key) && up.Initiated.Before(cutoff) {
			stale = append(stale, up.Key)
		}
	}
	n := 0
	for _, name := range stale {
		if err := s.client.RemoveIncompleteUpload(ctx, s.cfg.Bucket, name); err != nil {
			return n, fmt.Errorf("s3blobs: abort an upload: %w", err)
		}
		n++
	}
	return n, nil
}

// RemoveAll removes every object under the store's prefix, ours or not,
// and aborts its unfinished uploads. Tests empty their prefix with it.
func (s *Store) RemoveAll(ctx context.Context) error {
	if s.cfg.Prefix == "" {
		return errors.New("s3blobs: RemoveAll needs a prefix")
	}
	objects := s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.cfg.Prefix, Recursive: true})
	for res := range s.client.RemoveObjects(ctx, s.cfg.Bucket, objects, minio.RemoveObjectsOptions{}) {
		if res.Err != nil {
			return fmt.Errorf("s3blobs: remove: %w", res.Err)
		}
	}
	_, err := s.RemoveStale(ctx, time.Now().Add(time.Hour))
	return err
}

// EnsureBucket creates the bucket of cfg if it does not exist, and reports
// whether it did. remedy migrate calls it, so that a deployment's one-off
// set-up job prepares both the database and the bucket.
func EnsureBucket(ctx context.Context, cfg Config) (bool, error) {
	s, err := connect(cfg)
	if err != nil {
		return false, err
	}
	ok, err := s.client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return false, fmt.Errorf("s3blobs: %s: %w", cfg, err)
	}
	if ok {
		return false, nil
	}
	if err := s.client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
		return false, fmt.Errorf("s3blobs: create %s: %w", cfg, err)
	}
	return true, nil
}
