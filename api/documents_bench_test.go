package api_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"testing"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// benchPhotoBytes is the size of the photo BenchmarkUploadDocument sends:
// 20 MB, within the default limit of 20 MiB.
const benchPhotoBytes = 20_000_000

// BenchmarkUploadDocument uploads a 20 MB JPEG through the HTTP API, as a
// phone would: multipart, chunked, never known whole to the client either.
// The server sniffs it, strips its metadata, seals it and writes it to the
// embedded blob store. B/op counts every allocation of client and server:
// it stays far below the file's size because nothing holds the file.
//
//	go test ./api -run '^$' -bench UploadDocument -benchmem -benchtime 5x
func BenchmarkUploadDocument(b *testing.B) {
	e := newTestEnv(b, storage.SQLite)
	c := e.caseIn("own", cases.StateFollowUp)
	url := e.http.URL + "/v1/cases/" + c.ID.String() + "/documents"
	head, scan := syntheticJPEG(b)
	client := e.http.Client()
	b.SetBytes(benchPhotoBytes)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			mw.WriteField("kind", "photo")
			part, _ := mw.CreateFormFile("file", "photo.jpg")
			part.Write(head)
			left := benchPhotoBytes - len(head) - 2
			for left > 0 {
				n, err := part.Write(scan[:min(left, len(scan))])
				if err != nil {
					pw.CloseWithError(err)
					return
				}
				left -= n
			}
			part.Write([]byte{0xFF, 0xD9})
			mw.Close()
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", url, pr)
		req.Header.Set("Authorization", "Bearer "+e.tokens["caseworker"])
		req.Header.Set("Content-Type", mw.FormDataContentType())
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			b.Fatalf("%d %s", res.StatusCode, body)
		}
	}
}

// syntheticJPEG returns the headers of a real JPEG (with an Exif segment
// to strip) up to its scan, and 64 KiB of entropy-coded data to repeat:
// random bytes with every 0xFF stuffed, as an encoder writes them.
func syntheticJPEG(b *testing.B) (head, scan []byte) {
	jpg := smallJPEG(b)
	sos := bytes.Index(jpg, []byte{0xFF, 0xDA})
	sosLen := int(binary.BigEndian.Uint16(jpg[sos+2:]))
	exif := gpsPhoto(b)[2:]
	exif = exif[:4+int(binary.BigEndian.Uint16(exif[2:]))-2] // its first segment, the Exif APP1
	head = append(append(append([]byte{}, jpg[:2]...), exif...), jpg[2:sos+2+sosLen]...)
	r := rand.New(rand.NewPCG(1, 2))
	for len(scan) < 64<<10 { // never ends in 0xFF: a stuffed zero follows each
		v := byte(r.Uint32())
		scan = append(scan, v)
		if v == 0xFF {
			scan = append(scan, 0x00)
		}
	}
	return head, scan
}
