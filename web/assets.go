package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
)

// Every asset is embedded, served under a hash of its content with a year's
// cache lifetime: a changed file gets a new URL, so it is never stale.
//
//go:embed static
var staticFS embed.FS

type asset struct {
	hash  string
	body  []byte
	gzip  []byte
	ctype string
}

type assets struct{ byName map[string]*asset }

func loadAssets() (*assets, error) {
	a := &assets{byName: map[string]*asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		var zipped bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&zipped, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		name := path.Base(p)
		a.byName[name] = &asset{hash: hex.EncodeToString(sum[:6]), body: body, gzip: zipped.Bytes(),
			ctype: mime.TypeByExtension(path.Ext(name))}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: assets: %w", err)
	}
	return a, nil
}

// url returns the hashed URL of an asset; it panics on an unknown name, which
// the template tests catch.
func (a *assets) url(name string) string {
	f, ok := a.byName[name]
	if !ok {
		panic("web: no asset " + name)
	}
	return "/static/" + f.hash + "/" + name
}

func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	f, ok := h.assets.byName[r.PathValue("name")]
	if !ok || r.PathValue("hash") != f.hash {
		w.Header().Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.ctype)
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	hd.Set("Vary", "Accept-Encoding")
	body := f.body
	if acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body = f.gzip
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
