package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/remedy-cases/remedy/storage"
)

// backup writes a consistent copy of the embedded database to out, then
// a copy of the sealed documents to out.blobs/. The database comes first:
// a document's blob is written before its row, and blobs never change, so
// every document of the copied database has its blob in the copy (but one
// erased meanwhile); a blob written after it is an orphan there, which the
// restored server's sweep removes.
func (m *Main) backup(ctx context.Context, out string) error {
	blobsOut := out + ".blobs"
	if _, err := os.Stat(blobsOut); err == nil {
		return fmt.Errorf("%s exists; a backup never overwrites a file", blobsOut)
	}
	db, err := m.openForCommand(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.BackupTo(ctx, out); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "backed up the database to %s; keep the key files apart from it\n", out)
	if db.Blobs() == nil {
		return nil
	}
	dst, err := storage.NewFileBlobs(blobsOut)
	if err != nil {
		return err
	}
	n, err := storage.CopyBlobs(ctx, db.Blobs(), dst)
	if err != nil {
		return fmt.Errorf("copied %d documents to %s, then: %w", n, blobsOut, err)
	}
	fmt.Fprintf(m.Stdout, "copied %d sealed documents to %s; restore it as blobs/ in the data directory\n", n, blobsOut)
	return nil
}

// health asks a running server whether it is ready. Container images
// without a shell or curl run it as their health check.
// url is the readiness URL; empty asks the server at REMEDY_ADDR.
func (m *Main) health(ctx context.Context, url string) error {
	if url == "" {
		cfg, err := loadConfig(m.Getenv)
		if err != nil {
			return err
		}
		host, port, err := net.SplitHostPort(cfg.Addr)
		if err != nil {
			return fmt.Errorf("REMEDY_ADDR %q is not host:port", cfg.Addr)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		url = "http://" + net.JoinHostPort(host, port) + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s answered %d", url, res.StatusCode)
	}
	fmt.Fprintln(m.Stdout, "ready")
	return nil
}
