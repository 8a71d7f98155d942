package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/s3blobs"
)

// blobLocation is where REMEDY_BLOB_URL puts the sealed documents: a
// directory (dir) or an S3 bucket (s3).
type blobLocation struct {
	dir string
	s3  *s3blobs.Config
}

// blobLocation parses BlobURL without connecting anywhere. Its errors never
// repeat the URL.
func (c Config) blobLocation() (blobLocation, error) {
	switch {
	case c.BlobURL == "":
		return blobLocation{dir: filepath.Join(c.DataDir, "blobs")}, nil
	case strings.HasPrefix(c.BlobURL, "file://"):
		u, err := url.Parse(c.BlobURL)
		if err != nil || u.Host != "" || !filepath.IsAbs(u.Path) || u.RawQuery != "" {
			return blobLocation{}, errors.New("a directory must be written file:///absolute/path")
		}
		return blobLocation{dir: u.Path}, nil
	case strings.HasPrefix(c.BlobURL, "s3://"), strings.HasPrefix(c.BlobURL, "s3+http://"):
		cfg, err := s3blobs.ParseURL(c.BlobURL)
		if err != nil {
			return blobLocation{}, err
		}
		return blobLocation{s3: &cfg}, nil
	}
	return blobLocation{}, errors.New("must be empty (the data directory), file:///DIR, s3://HOST/BUCKET or s3+http://HOST/BUCKET")
}

// blobStore opens the store of the sealed documents. An S3 bucket must
// exist (remedy migrate creates it).
func (c Config) blobStore(ctx context.Context) (storage.BlobStore, error) {
	loc, err := c.blobLocation()
	if err != nil {
		return nil, err
	}
	if loc.s3 == nil {
		return storage.NewFileBlobs(loc.dir)
	}
	s, err := s3blobs.New(ctx, *loc.s3)
	if err != nil {
		return nil, fmt.Errorf("the blob store of REMEDY_BLOB_URL: %w", err)
	}
	return s, nil
}

// ensureBucket creates the S3 bucket of REMEDY_BLOB_URL if it is missing;
// the embedded store needs nothing.
func (c Config) ensureBucket(ctx context.Context) (created bool, err error) {
	loc, err := c.blobLocation()
	if err != nil || loc.s3 == nil {
		return false, err
	}
	return s3blobs.EnsureBucket(ctx, *loc.s3)
}
