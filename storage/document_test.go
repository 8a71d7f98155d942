package storage_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/internal/testkit"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
	"github.com/remedy-cases/remedy/storage/strip"
)

// gpsJPEG is a photo carrying a GPS position, a device, a time, a
// thumbnail, XMP, IPTC and a comment, each holding the canary "5f3a"
// (see storage/strip's fixtures).
func gpsJPEG(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("strip/testdata/gps.jpg")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// pdfWith is a small PDF whose content holds text.
func pdfWith(text string) []byte {
	return []byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n% " + text + "\n%%EOF\n")
}

// blobFiles reads every file under the blob store of db.
func blobFiles(t *testing.T, db *storage.DB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	dir := db.Blobs().(*storage.FileBlobs).Dir()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		out[strings.TrimPrefix(path, dir)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) attach(t *testing.T, docs *storage.DocumentService, c *cases.Case, in cases.NewDocument, content []byte) *cases.Document {
	t.Helper()
	d, err := docs.AttachDocument(ctx, e.actor(e.Worker), c.ID, in, bytes.NewReader(content))
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	return d
}

func open(t *testing.T, docs *storage.DocumentService, who cases.Actor, d *cases.Document) (string, []byte) {
	t.Helper()
	o, err := docs.OpenDocument(ctx, who, d.CaseID, d.ID, cases.ReadReason{Code: "verify_age"})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer o.Content.Close()
	data, err := io.ReadAll(o.Content)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return o.Name.Text(), data
}

// TestDocumentRoundTrip: a photo with GPS tags is attached to a step,
// listed without its name, and opened with a reason: it comes back with its
// name, its pixels' bytes, and none of its metadata; both acts are audited.
func TestDocumentRoundTrip(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		docs := storage.NewDocumentService(db)
		c := e.mustReach(t, cases.StateFollowUp)
		f, err := e.cases.AddFollowUp(ctx, e.actor(e.Worker), c.ID, cases.FollowUpInput{Date: today, Contact: "visit"})
		if err != nil {
			t.Fatal(err)
		}
		photo := gpsJPEG(t)
		name := cases.NewFileName(`C:\fakepath\wang_fang_家.jpg`)
		d := e.attach(t, docs, c, cases.NewDocument{Kind: "photo", Step: cases.StepFollowUp,
			FollowUpID: uuid.NullUUID{UUID: f.ID, Valid: true}, Name: name}, photo)
		var stripped bytes.Buffer
		if err := strip.JPEG(&stripped, bytes.NewReader(photo)); err != nil {
			t.Fatal(err)
		}
		if d.ContentType != cases.TypeJPEG || d.Size != int64(stripped.Len()) || d.Kind != "photo" ||
			d.Step != cases.StepFollowUp || d.FollowUpID.UUID != f.ID || d.UploadedBy != e.Worker.ID || !d.UploadedAt.Equal(today) {
			t.Errorf("attached %+v", d)
		}
		list, err := docs.ListDocuments(ctx, e.actor(e.Supervisor), c.ID)
		if err != nil || len(list) != 1 || *list[0] != *d {
			t.Fatalf("listed %v, %v", list, err)
		}
		gotName, gotData := open(t, docs, e.actor(e.Supervisor), d)
		if gotName != "wang_fang_家.jpg" {
			t.Errorf("name %q", gotName)
		}
		if !bytes.Equal(gotData, stripped.Bytes()) {
			t.Error("the content is not the stripped photo")
		}
		if bytes.Contains(gotData, []byte("5f3a")) || bytes.Contains(gotData, []byte("GPS")) {
			t.Error("the photo's metadata survived")
		}
		acts := actions(t, db, c.ID)
		if !slices.Contains(acts, cases.ActionDocumentAttached) || acts[len(acts)-1] != cases.ActionDocumentRead {
			t.Errorf("audit %v", acts)
		}
		if _, err := storage.NewAuditService(db).Verify(ctx); err != nil {
			t.Fatal(err)
		}
		entries, _ := storage.NewAuditService(db).CaseEntries(ctx, c.ID)
		last := entries[len(entries)-1]
		if last.Details["document_id"] != d.ID.String() || last.Details["reason"] != "verify_age" || last.ActorID.UUID != e.Supervisor.ID {
			t.Errorf("read entry %+v", last)
		}

		t.Run("PDF", func(t *testing.T) {
			pdf := pdfWith("enrolment proof")
			d := e.attach(t, docs, c, cases.NewDocument{Kind: "enrolment_proof", Name: cases.NewFileName("photo.jpg")}, pdf)
			if d.ContentType != cases.TypePDF {
				t.Errorf("a PDF named .jpg is %s", d.ContentType)
			}
			if _, got := open(t, docs, e.actor(e.Worker), d); !bytes.Equal(got, pdf) {
				t.Error("the PDF changed")
			}
		})
	})
}

// TestDocumentCanary: a canary in a file's name, in its Exif and in its
// content reaches neither the database, nor the blob store, nor a log line,
// nor an error; the reasoned read gives back the name and the content.
func TestDocumentCanary(t *testing.T) {
	for _, dialect := range storagetest.Dialects(t) {
		t.Run(string(dialect), func(t *testing.T) {
			var logs testkit.SyncBuffer // the audit sealer logs from its own goroutine
			cfg := storagetest.Config(t, dialect)
			cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			cfg.TraceSQL = true
			cfg.MaxDocumentBytes = 64 << 10
			db := storagetest.OpenWith(t, cfg, storagetest.Keyring(t))
			e := newEnv(t, db)
			docs := storage.NewDocumentService(db)
			c := e.mustReach(t, cases.StateVerification)
			nameCanary, contentCanary := "CANARYNAME-"+uuid.NewString()[:8], "CANARYCONTENT-"+uuid.NewString()[:8]
			photo := e.attach(t, docs, c, cases.NewDocument{Kind: "id_document", Step: cases.StepVerification,
				Name: cases.NewFileName(nameCanary + "_wang_fang_id.jpg")}, gpsJPEG(t))
			pdf := e.attach(t, docs, c, cases.NewDocument{Kind: "consent", Step: cases.StepConsent,
				Name: cases.NewFileName(nameCanary + ".pdf")}, pdfWith(contentCanary))
			// Refused uploads with canaries: their errors must not repeat them.
			var errs []error
			for _, bad := range []struct {
				in   cases.NewDocument
				data []byte
			}{
				{cases.NewDocument{Kind: "photo", Name: cases.NewFileName(nameCanary + "\x00.jpg")}, gpsJPEG(t)},
				{cases.NewDocument{Kind: "photo", Name: cases.NewFileName(nameCanary + ".gif")}, []byte("GIF89a" + contentCanary)},
				{cases.NewDocument{Kind: "photo", Name: cases.NewFileName(nameCanary + ".jpg")}, append([]byte{0xFF, 0xD8, 0xFF, 0xFE, 0, 40}, contentCanary...)},
				{cases.NewDocument{Kind: "photo", Name: cases.NewFileName(nameCanary + ".pdf")}, pdfWith(contentCanary + strings.Repeat("x", 70<<10))},
			} {
				_, err := docs.AttachDocument(ctx, e.actor(e.Worker), c.ID, bad.in, bytes.NewReader(bad.data))
				if err == nil {
					t.Fatal("a bad upload was accepted")
				}
				errs = append(errs, err)
			}
			_, err := docs.OpenDocument(ctx, e.actor(e.Worker), c.ID, photo.ID, cases.ReadReason{Code: nameCanary})
			errs = append(errs, err)

			haystacks := map[string][]byte{"logs": []byte(logs.String())}
			for path, data := range blobFiles(t, db) {
				haystacks["blob "+path] = data
			}
			if len(haystacks) != 3 {
				t.Fatalf("%d blobs, want the 2 attached: a refused upload left one", len(haystacks)-1)
			}
			var errText bytes.Buffer
			for _, err := range errs {
				errText.WriteString(err.Error() + "\n" + cases.ErrorMessage(err) + "\n")
				for _, f := range cases.ErrorFailures(err) {
					errText.WriteString(f.Name + " " + f.Message + "\n")
				}
			}
			haystacks["errors"] = errText.Bytes()
			if dialect == storage.SQLite {
				if err := db.Gorm().Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
					t.Fatal(err)
				}
				files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "*"))
				for _, f := range files {
					data, _ := os.ReadFile(f)
					haystacks[filepath.Base(f)] = data
				}
			} else {
				haystacks["pg_dump"] = pgDump(t, cfg.DatabaseURL)
			}
			for where, data := range haystacks {
				// The photo's metadata canaries are "Canary<Field>-5f3a": their
				// short suffix alone turns up in random hex now and then.
				for _, canary := range []string{nameCanary, contentCanary, "Canary", "wang_fang"} {
					if i := bytes.Index(data, []byte(canary)); i >= 0 {
						t.Errorf("%s leaked into %s: …%q…", canary, where, data[max(0, i-40):min(len(data), i+60)])
					}
				}
				if strings.HasPrefix(where, "blob") && (bytes.Contains(data, []byte("%PDF")) || bytes.Contains(data, []byte{0xFF, 0xD8, 0xFF})) {
					t.Errorf("%s holds a file in the clear", where)
				}
			}
			if !strings.Contains(logs.String(), "INSERT INTO") {
				t.Fatal("the SQL trace logged nothing: the log search would prove nothing")
			}
			// The reasoned read gives everything back.
			if name, data := open(t, docs, e.actor(e.Worker), pdf); name != nameCanary+".pdf" || !bytes.Contains(data, []byte(contentCanary)) {
				t.Errorf("the PDF opened as %q", name)
			}
			if name, _ := open(t, docs, e.actor(e.Worker), photo); name != nameCanary+"_wang_fang_id.jpg" {
				t.Errorf("the photo opened as %q", name)
			}
		})
	}
}

// TestDocumentRefusals: each refusal names its cause and leaves nothing
// behind: no row, no blob, no audit entry.
func TestDocumentRefusals(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		docs := storage.NewDocumentService(db)
		c := e.mustReach(t, cases.StateFollowUp)
		other := e.mustReach(t, cases.StateFollowUp)
		f, err := e.cases.AddFollowUp(ctx, e.actor(e.Worker), other.ID, cases.FollowUpInput{Date: today, Contact: "visit"})
		if err != nil {
			t.Fatal(err)
		}
		before := len(actions(t, db, c.ID))
		jpg := gpsJPEG(t)
		big := append(pdfWith("big"), make([]byte, storage.NewDocumentService(db).MaxDocumentBytes())...)
		exact := append(pdfWith("exact"), make([]byte, 0)...)
		exact = append(exact, make([]byte, int(docs.MaxDocumentBytes())-len(exact))...)
		for name, tc := range map[string]struct {
			who      *cases.User
			in       cases.NewDocument
			data     []byte
			code     string
			failures []string
		}{
			"ErrKind":         {e.Worker, cases.NewDocument{Kind: "selfie"}, jpg, cases.EINVALID, []string{"kind"}},
			"ErrStep":         {e.Worker, cases.NewDocument{Kind: "photo", Step: "intake"}, jpg, cases.EINVALID, []string{"step"}},
			"ErrStepRecord":   {e.Worker, cases.NewDocument{Kind: "photo", FollowUpID: uuid.NullUUID{UUID: f.ID, Valid: true}}, jpg, cases.EINVALID, []string{"follow_up_id"}},
			"ErrOtherCase":    {e.Worker, cases.NewDocument{Kind: "photo", Step: cases.StepFollowUp, FollowUpID: uuid.NullUUID{UUID: f.ID, Valid: true}}, jpg, cases.EINVALID, []string{"follow_up_id"}},
			"ErrName":         {e.Worker, cases.NewDocument{Kind: "photo", Name: cases.NewFileName(strings.Repeat("名", 256))}, jpg, cases.EINVALID, []string{"file_name"}},
			"ErrEmpty":        {e.Worker, cases.NewDocument{Kind: "photo"}, nil, cases.EUNSUPPORTED, []string{"file"}},
			"ErrGIF":          {e.Worker, cases.NewDocument{Kind: "photo"}, []byte("GIF89a\x01\x00\x01\x00"), cases.EUNSUPPORTED, []string{"file"}},
			"ErrHTML":         {e.Worker, cases.NewDocument{Kind: "photo"}, []byte("<html><script>alert(1)</script>"), cases.EUNSUPPORTED, []string{"file"}},
			"ErrMalformedJPG": {e.Worker, cases.NewDocument{Kind: "photo"}, jpg[:len(jpg)/2], cases.EINVALID, []string{"file"}},
			"ErrMalformedPNG": {e.Worker, cases.NewDocument{Kind: "photo"}, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), cases.EINVALID, []string{"file"}},
			"ErrTooLarge":     {e.Worker, cases.NewDocument{Kind: "receipt"}, big, cases.ETOOLARGE, nil},
			"ErrForbidden":    {e.OtherWorker, cases.NewDocument{Kind: "photo"}, jpg, cases.EFORBIDDEN, nil},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := docs.AttachDocument(ctx, e.actor(tc.who), c.ID, tc.in, bytes.NewReader(tc.data))
				if cases.ErrorCode(err) != tc.code || !slices.Equal(failureNames(err), tc.failures) {
					t.Fatalf("%v (failures %v), want %s %v", err, failureNames(err), tc.code, tc.failures)
				}
			})
		}
		// Whose content is never read: refused before the first byte.
		if _, err := docs.AttachDocument(ctx, e.actor(e.OtherWorker), c.ID, cases.NewDocument{Kind: "photo"}, unreadable{t}); cases.ErrorCode(err) != cases.EFORBIDDEN {
			t.Fatal(err)
		}
		if _, err := docs.AttachDocument(ctx, e.actor(e.Worker), c.ID, cases.NewDocument{Kind: "nope"}, unreadable{t}); cases.ErrorCode(err) != cases.EINVALID {
			t.Fatal(err)
		}
		if got := len(actions(t, db, c.ID)); got != before {
			t.Errorf("refusals wrote %d audit entries", got-before)
		}
		if list, _ := docs.ListDocuments(ctx, e.actor(e.Worker), c.ID); len(list) != 0 {
			t.Errorf("refusals left %d documents", len(list))
		}
		if files := blobFiles(t, db); len(files) != 0 {
			t.Errorf("refusals left %d blob files", len(files))
		}
		// A file of exactly the limit is accepted.
		if _, err := docs.AttachDocument(ctx, e.actor(e.Worker), c.ID, cases.NewDocument{Kind: "receipt"}, bytes.NewReader(exact)); err != nil {
			t.Errorf("a file of exactly the limit: %v", err)
		}
		// Brands never see, list or open a document.
		brand := cases.Actor{UserID: uuid.New(), Role: cases.RoleClient, ClientID: uuid.NullUUID{UUID: c.ClientID, Valid: true}}
		if _, err := docs.ListDocuments(ctx, brand, c.ID); cases.ErrorCode(err) != cases.EFORBIDDEN {
			t.Errorf("a brand listed documents: %v", err)
		}
	})
}

// unreadable fails the test if anything reads it.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("the content was read before the request was allowed")
	return 0, io.EOF
}

// TestDocumentTamper: a blob moved under another document, or cut short,
// does not open, and its read is not audited; a blob changed after it was
// authenticated fails while it is read, having handed out only
// authenticated bytes.
func TestDocumentTamper(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		docs := storage.NewDocumentService(db)
		c := e.mustReach(t, cases.StateVerification)
		content := append(pdfWith("scan"), bytes.Repeat([]byte("0123456789abcdef"), 20_000)...) // 5 age chunks
		a := e.attach(t, docs, c, cases.NewDocument{Kind: "id_document"}, content)
		b := e.attach(t, docs, c, cases.NewDocument{Kind: "id_document"}, content)
		keyOf := func(d *cases.Document) string {
			var k string
			db.Gorm().Raw("SELECT blob_key FROM documents WHERE id = ?", d.ID).Row().Scan(&k)
			return k
		}
		pathOf := func(d *cases.Document) string {
			k := keyOf(d)
			return filepath.Join(db.Blobs().(*storage.FileBlobs).Dir(), k[:2], k)
		}
		reads := func() int { return strings.Count(strings.Join(actions(t, db, c.ID), " "), cases.ActionDocumentRead) }
		openErr := func(d *cases.Document) error {
			_, err := docs.OpenDocument(ctx, e.actor(e.Worker), c.ID, d.ID, cases.ReadReason{Code: "verify_age"})
			return err
		}

		// Swapped: each blob names its document inside the sealed data.
		ka, kb := keyOf(a), keyOf(b)
		db.Gorm().Exec("UPDATE documents SET blob_key = ? WHERE id = ?", "00000000000000000000000000000000", a.ID)
		db.Gorm().Exec("UPDATE documents SET blob_key = ? WHERE id = ?", ka, b.ID)
		db.Gorm().Exec("UPDATE documents SET blob_key = ? WHERE id = ?", kb, a.ID)
		if err := openErr(a); cases.ErrorCode(err) != cases.EINTERNAL {
			t.Fatalf("a moved blob opened: %v", err)
		}
		db.Gorm().Exec("UPDATE documents SET blob_key = ? WHERE id = ?", "00000000000000000000000000000000", b.ID)
		db.Gorm().Exec("UPDATE documents SET blob_key = ? WHERE id = ?", ka, a.ID)
		db.Gorm().Exec("UPDATE documents SET blob_key = ? WHERE id = ?", kb, b.ID)
		if reads() != 0 {
			t.Fatal("a refused read was audited")
		}

		// Cut short before the read: refused before any byte or audit entry.
		data, _ := os.ReadFile(pathOf(b))
		if err := os.WriteFile(pathOf(b), data[:len(data)-100], 0o600); err != nil {
			t.Fatal(err)
		}
		if err := openErr(b); cases.ErrorCode(err) != cases.EINTERNAL {
			t.Fatalf("a truncated blob opened: %v", err)
		}
		os.Remove(pathOf(b))
		if err := openErr(b); cases.ErrorCode(err) != cases.EINTERNAL {
			t.Fatalf("a missing blob opened: %v", err)
		}
		if reads() != 0 {
			t.Fatal("a refused read was audited")
		}

		// Changed after it was authenticated, while it is served: truncated
		// at a chunk boundary, then with a flipped byte.
		for name, damage := range map[string]func(f *os.File, size int64){
			"Truncated": func(f *os.File, size int64) { f.Truncate(size - 70_000) },
			// A byte flipped, not overwritten: a random byte that already
			// was the one written left the blob whole one run in 256.
			"Flipped": func(f *os.File, size int64) {
				b := make([]byte, 1)
				f.ReadAt(b, size-150_000)
				b[0] ^= 0x42
				f.WriteAt(b, size-150_000)
			},
		} {
			t.Run(name, func(t *testing.T) {
				d := e.attach(t, docs, c, cases.NewDocument{Kind: "id_document"}, content)
				o, err := docs.OpenDocument(ctx, e.actor(e.Worker), c.ID, d.ID, cases.ReadReason{Code: "verify_age"})
				if err != nil {
					t.Fatal(err)
				}
				defer o.Content.Close()
				f, err := os.OpenFile(pathOf(d), os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				info, _ := f.Stat()
				damage(f, info.Size())
				f.Close()
				got, err := io.ReadAll(o.Content)
				if err == nil {
					t.Fatal("a blob damaged mid-read read to its end")
				}
				if len(got) == 0 || !bytes.HasPrefix(content, got) || len(got) >= len(content) {
					t.Fatalf("read %d bytes that are not the file's start", len(got))
				}
			})
		}
	})
}

// TestDocumentErase: erasing a case shreds its documents: rows, blobs and
// the key that sealed them.
func TestDocumentErase(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		docs := storage.NewDocumentService(db)
		c := e.mustReach(t, cases.StateClosed)
		kept := e.mustReach(t, cases.StateClosed)
		d := e.attach(t, docs, c, cases.NewDocument{Kind: "receipt"}, pdfWith("receipt"))
		e.attach(t, docs, c, cases.NewDocument{Kind: "photo"}, gpsJPEG(t))
		e.attach(t, docs, kept, cases.NewDocument{Kind: "photo"}, gpsJPEG(t))
		if n := len(blobFiles(t, db)); n != 3 {
			t.Fatalf("%d blobs", n)
		}
		if err := e.cases.EraseCase(ctx, cases.SystemActor, c.ID); err != nil {
			t.Fatal(err)
		}
		if n := len(blobFiles(t, db)); n != 1 {
			t.Errorf("%d blobs after erasure, want the other case's 1", n)
		}
		if list, err := docs.ListDocuments(ctx, e.actor(e.Supervisor), c.ID); err != nil || len(list) != 0 {
			t.Errorf("documents after erasure: %v %v", list, err)
		}
		if _, err := docs.OpenDocument(ctx, e.actor(e.Supervisor), c.ID, d.ID, cases.ReadReason{Code: "verify_age"}); cases.ErrorCode(err) != cases.ENOTFOUND {
			t.Errorf("open after erasure: %v", err)
		}
		if _, err := docs.AttachDocument(ctx, e.actor(e.Supervisor), c.ID, cases.NewDocument{Kind: "photo"}, unreadable{t}); cases.ErrorCode(err) != cases.ENOTFOUND {
			t.Errorf("attach after erasure: %v", err)
		}
		entries, _ := storage.NewAuditService(db).CaseEntries(ctx, c.ID)
		if last := entries[len(entries)-1]; last.Action != cases.ActionCaseErased || last.Details["documents"] != "2" {
			t.Errorf("erasure entry %+v", last)
		}
	})
}

// TestDocumentErasedMidUpload: a case erased while a file streams in gets
// no document, and the blob already written is deleted.
func TestDocumentErasedMidUpload(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		docs := storage.NewDocumentService(db)
		c := e.mustReach(t, cases.StateClosed)
		r := &hookReader{r: bytes.NewReader(pdfWith("late receipt")), hook: func() {
			if err := e.cases.EraseCase(ctx, cases.SystemActor, c.ID); err != nil {
				t.Error(err)
			}
		}}
		if _, err := docs.AttachDocument(ctx, e.actor(e.Supervisor), c.ID, cases.NewDocument{Kind: "receipt"}, r); cases.ErrorCode(err) != cases.ENOTFOUND {
			t.Fatalf("attached to a case erased meanwhile: %v", err)
		}
		if n := len(blobFiles(t, db)); n != 0 {
			t.Errorf("%d blobs left", n)
		}
	})
}

type hookReader struct {
	r    io.Reader
	hook func()
	done bool
}

func (h *hookReader) Read(p []byte) (int, error) {
	if !h.done {
		h.done = true
		h.hook()
	}
	return h.r.Read(p)
}

// TestRemoveOrphanBlobs: a blob a crash left without its row (written to
// the store, never recorded) is removed once older than the cutoff; a
// document's blob, and a young orphan that may be an upload under way, are
// kept.
func TestRemoveOrphanBlobs(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		docs := storage.NewDocumentService(db)
		c := e.mustReach(t, cases.StateVerification)
		d := e.attach(t, docs, c, cases.NewDocument{Kind: "photo"}, gpsJPEG(t))
		orphan := storage.NewBlobKey()
		if err := db.Blobs().Put(ctx, orphan, func(w io.Writer) error { _, err := w.Write([]byte("sealed")); return err }); err != nil {
			t.Fatal(err)
		}
		if n, err := docs.RemoveOrphanBlobs(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Fatalf("removed %d young blobs: %v", n, err)
		}
		n, err := docs.RemoveOrphanBlobs(ctx, time.Now().Add(time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("removed %d: %v", n, err)
		}
		if _, err := db.Blobs().Open(ctx, orphan); !errors.Is(err, storage.ErrBlobNotFound) {
			t.Error("the orphan is still there")
		}
		open(t, docs, e.actor(e.Worker), d)
	})
}

// TestPaymentProofDocument: a receipt attached to a payment is counted on
// that payment in the case's ledger, and only on it; a payment of another
// case cannot take it.
func TestPaymentProofDocument(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		docs := storage.NewDocumentService(db)
		ledger := storage.NewLedgerService(db)
		c := e.mustReach(t, cases.StateFollowUp)
		paid, err := ledger.RecordPayment(ctx, e.actor(e.Worker), c.ID, e.payment(cases.PayerFactory, 40000, "2026-11", "BANK-7"))
		if err != nil {
			t.Fatal(err)
		}
		other, err := ledger.RecordPayment(ctx, e.actor(e.Worker), c.ID, e.payment(cases.PayerBrand, 40000, "2026-11", "WX-7"))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			e.attach(t, docs, c, cases.NewDocument{Kind: "receipt", Step: cases.StepPayment,
				PaymentID: uuid.NullUUID{UUID: paid.ID, Valid: true}, Name: cases.NewFileName("slip.pdf")}, pdfWith("slip"))
		}
		_, payments, err := ledger.CaseLedger(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[uuid.UUID]int{}
		for _, p := range payments {
			got[p.ID] = p.ProofDocuments
		}
		if got[paid.ID] != 2 || got[other.ID] != 0 {
			t.Fatalf("proof documents per payment %v; want 2 on %s, none on %s", got, paid.ID, other.ID)
		}
		second := e.mustReach(t, cases.StateFollowUp)
		_, err = docs.AttachDocument(ctx, e.actor(e.Worker), second.ID, cases.NewDocument{Kind: "receipt", Step: cases.StepPayment,
			PaymentID: uuid.NullUUID{UUID: paid.ID, Valid: true}, Name: cases.NewFileName("slip.pdf")}, bytes.NewReader(pdfWith("slip")))
		if !slices.Equal(failureNames(err), []string{"payment_id"}) {
			t.Fatalf("a receipt for another case's payment: %v", err)
		}
	})
}
