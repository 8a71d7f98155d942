package storage_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"testing"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/s3blobs/s3test"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// photoStream is a 20 MB JPEG read as it streams: the headers of a real
// photo with GPS tags up to its scan, then random entropy-coded data (every
// 0xFF stuffed), then the end of image. It never exists whole.
type photoStream struct {
	head, scan []byte
	left, pos  int
	tail       []byte
}

func newPhotoStream(tb testing.TB, size int) *photoStream {
	jpg := gpsJPEG(tb)
	sos := bytes.LastIndex(jpg, []byte{0xFF, 0xDA}) // the photo's one scan; its Exif thumbnail has one too
	head := jpg[:sos+2+int(binary.BigEndian.Uint16(jpg[sos+2:]))]
	r := rand.New(rand.NewPCG(3, 4))
	var scan []byte
	for len(scan) < 64<<10 { // never ends in 0xFF: a stuffed zero follows each
		v := byte(r.Uint32())
		scan = append(scan, v)
		if v == 0xFF {
			scan = append(scan, 0)
		}
	}
	return &photoStream{head: head, scan: scan, left: size - len(head) - 2, tail: []byte{0xFF, 0xD9}}
}

func (p *photoStream) Read(b []byte) (int, error) {
	switch {
	case len(p.head) > 0:
		n := copy(b, p.head)
		p.head = p.head[n:]
		return n, nil
	case p.left > 0:
		chunk := p.scan[p.pos:min(len(p.scan), p.pos+p.left)]
		n := copy(b, chunk)
		p.pos, p.left = (p.pos+n)%len(p.scan), p.left-n
		return n, nil
	case len(p.tail) > 0:
		n := copy(b, p.tail)
		p.tail = p.tail[n:]
		return n, nil
	}
	return 0, io.EOF
}

// BenchmarkAttachDocument attaches a 20 MB photo: sniffed, stripped, sealed
// and written, in the embedded store and in S3 (the real server of
// REMEDY_TEST_S3_URL; skipped without it). S3 streams in 5 MiB parts, the
// one buffer an upload of unknown length needs.
//
//	go test ./storage -run '^$' -bench AttachDocument -benchmem -benchtime 5x
func BenchmarkAttachDocument(b *testing.B) {
	for _, store := range []string{"file", "s3"} {
		b.Run(store, func(b *testing.B) {
			cfg := storagetest.Config(b, storage.SQLite)
			if store == "s3" {
				cfg.Blobs = s3test.Open(b)
			}
			db := storagetest.OpenWith(b, cfg, storagetest.Keyring(b))
			e := newEnv(b, db)
			docs := storage.NewDocumentService(db)
			c, err := e.cases.FileCase(ctx, e.actor(e.Auditor), e.Report(today.AddDate(0, -1, 0)))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(20_000_000)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := docs.AttachDocument(ctx, e.actor(e.Supervisor), c.ID, cases.NewDocument{Kind: "photo"},
					newPhotoStream(b, 20_000_000)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
