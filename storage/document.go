package storage

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	"gorm.io/gorm"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage/strip"
	"github.com/remedy-cases/remedy/workflow"
)

// DocumentService attaches documents to cases: each file is judged by its
// first bytes, stripped of its metadata when it is a photo, and sealed with
// its name under the case's key while it streams into the blob store; the
// database holds its public facts. The whole file is never in memory.
type DocumentService struct{ db *DB }

var _ cases.DocumentService = (*DocumentService)(nil)

// NewDocumentService returns the document service of db, whose blob store
// keeps the sealed files.
func NewDocumentService(db *DB) *DocumentService { return &DocumentService{db: db} }

type documentRow struct {
	ID          uuid.UUID `gorm:"primaryKey"`
	CaseID      uuid.UUID
	Kind        string
	Step        *string
	FollowUpID  uuid.NullUUID
	PaymentID   uuid.NullUUID
	ContentType string
	Size        int64
	BlobKey     string
	UploadedBy  uuid.UUID
	UploadedAt  time.Time
}

func (documentRow) TableName() string { return "documents" }

func (r *documentRow) domain() *cases.Document {
	d := &cases.Document{ID: r.ID, CaseID: r.CaseID, Kind: cases.DocumentKind(r.Kind), FollowUpID: r.FollowUpID,
		PaymentID: r.PaymentID, ContentType: r.ContentType, Size: r.Size, UploadedBy: r.UploadedBy, UploadedAt: r.UploadedAt.UTC()}
	if r.Step != nil {
		d.Step = cases.DocumentStep(*r.Step)
	}
	return d
}

// purposeDocument binds a document's sealed bytes to its case and to the
// document itself: a blob moved under another row does not open.
func purposeDocument(id uuid.UUID) string { return "document " + id.String() }

// The sealed plaintext of a document is sealHeader(case, purposeDocument),
// then the file name and a line feed (a name holds no control character),
// then the file.

var (
	errNoBlobs  = cases.Errorf(cases.EINTERNAL, "Documents are not configured on this server.")
	errDamaged  = cases.Errorf(cases.EINTERNAL, "The document's sealed copy is missing or damaged; it was not opened.")
	errTooLarge = errors.New("storage: the file is over the size limit")
	errCut      = errors.New("storage: the upload ended early")
)

func (s *DocumentService) MaxDocumentBytes() int64 { return s.db.maxDoc }

// AttachDocument reads nothing before the actor is known to be allowed,
// then streams content through the sniffer, the stripper and age into the
// blob store, and records the document in a transaction with its audit
// entry. A crash between the blob store and the transaction leaves a blob
// without a row, which RemoveOrphanBlobs finds and removes.
func (s *DocumentService) AttachDocument(ctx context.Context, actor cases.Actor, caseID uuid.UUID, in cases.NewDocument, content io.Reader) (*cases.Document, error) {
	if s.db.blobs == nil {
		return nil, errNoBlobs
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	key, err := s.admit(ctx, actor, caseID, in)
	if err != nil {
		return nil, err
	}
	src := bufio.NewReaderSize(&limitReader{r: content, left: s.db.maxDoc}, 16<<10)
	head, err := src.Peek(cases.SniffBytes)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, uploadError(err)
	}
	contentType, ok := cases.SniffDocument(head)
	if !ok {
		return nil, &cases.Error{Code: cases.EUNSUPPORTED, Message: "Only JPEG, PNG and PDF files are accepted, judged by their content.",
			Failed: []cases.Failure{{Name: "file", Message: "is not a JPEG, PNG or PDF file"}}}
	}
	id := uuid.Must(uuid.NewV7())
	blobKey := NewBlobKey()
	var size int64
	err = s.db.blobs.Put(ctx, blobKey, func(w io.Writer) error {
		sealed, err := age.Encrypt(w, key.id.Recipient())
		if err != nil {
			return err
		}
		if _, err := io.WriteString(sealed, sealHeader(caseID, purposeDocument(id))+in.Name.Text()+"\n"); err != nil {
			return err
		}
		out := &countWriter{w: sealed}
		switch contentType {
		case cases.TypeJPEG:
			err = strip.JPEG(out, src)
		case cases.TypePNG:
			err = strip.PNG(out, src)
		default:
			// A PDF is sealed as it is (see the README on what it may carry).
			_, err = io.Copy(out, src)
		}
		if err != nil {
			return uploadError(err)
		}
		// What follows the end of an image is read, counted against the
		// limit, and not kept.
		if _, err := io.Copy(io.Discard, src); err != nil {
			return uploadError(err)
		}
		size = out.n
		return sealed.Close()
	})
	if err != nil {
		var domain *cases.Error
		if errors.As(err, &domain) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		s.db.log.Error("document not stored", "type", fmt.Sprintf("%T", err))
		return nil, fmt.Errorf("storage: store a document: %w", err)
	}
	row := documentRow{ID: id, CaseID: caseID, Kind: string(in.Kind), Step: strPtr(in.Step), FollowUpID: in.FollowUpID,
		PaymentID: in.PaymentID, ContentType: contentType, Size: size, BlobKey: blobKey, UploadedBy: actor.UserID,
		UploadedAt: s.db.now()}
	err = s.db.transact(ctx, func(tx *gorm.DB) error {
		var c caseRow
		if err := tx.Select("id", "code", "erased_at").Where("id = ?", caseID).Take(&c).Error; err != nil {
			return s.db.interpret(err, "Case")
		}
		// Erased while the file streamed: its key is gone, and so must the blob be.
		if c.ErasedAt != nil {
			return errErased
		}
		if ok, err := s.db.exists(tx, &caseKeyRow{}, "case_id = ?", caseID); err != nil || !ok {
			return cmp(err, errErased)
		}
		if err := s.db.checkStepRecord(tx, caseID, in); err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return s.db.interpret(err, "Document")
		}
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionDocumentAttached,
			caseID: uuid.NullUUID{UUID: caseID, Valid: true}, subject: c.Code, details: map[string]string{
				"document_id": id.String(), "kind": string(in.Kind), "step": string(in.Step),
				"content_type": contentType, "size": fmt.Sprint(size)}})
	})
	if err != nil {
		s.db.deleteBlobs(ctx, []string{blobKey})
		return nil, err
	}
	return row.domain(), nil
}

func cmp(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// admit checks, before a byte of the file is read, that actor may attach
// a document to the case as described, and unwraps the case's key.
func (s *DocumentService) admit(ctx context.Context, actor cases.Actor, caseID uuid.UUID, in cases.NewDocument) (*caseKey, error) {
	g := s.db.gorm.WithContext(ctx)
	var row caseRow
	if err := g.Select(caseFacts).Where("id = ?", caseID).Take(&row).Error; err != nil {
		return nil, s.db.interpret(err, "Case")
	}
	if err := workflow.CanWork(row.domain(), actor); err != nil {
		return nil, err
	}
	if row.ErasedAt != nil {
		return nil, errErased
	}
	if err := s.db.checkStepRecord(g, caseID, in); err != nil {
		return nil, err
	}
	return s.db.caseKeyOf(g, caseID)
}

// checkStepRecord checks that the follow-up or payment a document is tied
// to belongs to its case.
func (db *DB) checkStepRecord(tx *gorm.DB, caseID uuid.UUID, in cases.NewDocument) error {
	var v cases.Validation
	if in.FollowUpID.Valid {
		ok, err := db.exists(tx, &followUpRow{}, "id = ? AND case_id = ?", in.FollowUpID.UUID, caseID)
		if err != nil {
			return err
		}
		v.Check(ok, "follow_up_id", "no follow-up of this case has this id")
	}
	if in.PaymentID.Valid {
		ok, err := db.exists(tx, &paymentRow{}, "id = ? AND case_id = ?", in.PaymentID.UUID, caseID)
		if err != nil {
			return err
		}
		v.Check(ok, "payment_id", "no payment of this case has this id")
	}
	return v.Err("The document is not valid.")
}

// uploadError says what went wrong with a file as it streamed in, without
// a word of its content.
func uploadError(err error) error {
	switch {
	case errors.Is(err, errTooLarge):
		return cases.Errorf(cases.ETOOLARGE, "The file is larger than the limit.")
	case errors.Is(err, errCut):
		return &cases.Error{Code: cases.EINVALID, Message: "The upload ended before the file did.",
			Failed: []cases.Failure{{Name: "file", Message: "was cut off"}}}
	case errors.Is(err, strip.ErrMalformed):
		return &cases.Error{Code: cases.EINVALID, Message: "The file is not a well-formed image of its type.",
			Failed: []cases.Failure{{Name: "file", Message: "is a malformed JPEG or PNG"}}}
	}
	return err
}

// limitReader reads at most left bytes, then fails with errTooLarge if
// more come. A read error of the client's (a dropped connection, a body
// over the adapter's own cap) becomes errCut or errTooLarge, so that it is
// never mistaken for a file that ends too soon.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1] // one byte more tells a file of exactly the limit from a larger one
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n - 1, errTooLarge
	}
	var maxErr *http.MaxBytesError
	switch {
	case err == nil, err == io.EOF:
		return n, err
	case errors.As(err, &maxErr):
		return n, errTooLarge
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return n, err
	}
	return n, fmt.Errorf("%w: %w", errCut, err)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ListDocuments lists a case's documents, oldest first, for those who work
// on the case.
func (s *DocumentService) ListDocuments(ctx context.Context, actor cases.Actor, caseID uuid.UUID) ([]*cases.Document, error) {
	g := s.db.gorm.WithContext(ctx)
	var c caseRow
	if err := g.Select(caseFacts).Where("id = ?", caseID).Take(&c).Error; err != nil {
		return nil, s.db.interpret(err, "Case")
	}
	if err := workflow.CanWork(c.domain(), actor); err != nil {
		return nil, err
	}
	var rows []documentRow
	if err := g.Where("case_id = ?", caseID).Order("uploaded_at, id").Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Documents")
	}
	out := make([]*cases.Document, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

// OpenDocument authenticates the sealed copy to its end, audits the read,
// then hands out the content, read a second time from the same blob.
func (s *DocumentService) OpenDocument(ctx context.Context, actor cases.Actor, caseID, documentID uuid.UUID, reason cases.ReadReason) (*cases.OpenedDocument, error) {
	reason.Detail = cases.NewNote(cases.NormalizeNote(reason.Detail.Text()))
	if err := reason.Validate(); err != nil {
		return nil, err
	}
	if s.db.blobs == nil {
		return nil, errNoBlobs
	}
	g := s.db.gorm.WithContext(ctx)
	var c caseRow
	if err := g.Select(caseFacts).Where("id = ?", caseID).Take(&c).Error; err != nil {
		return nil, s.db.interpret(err, "Case")
	}
	if err := workflow.CanReadIdentity(c.domain(), actor); err != nil {
		return nil, err
	}
	if c.ErasedAt != nil {
		return nil, errErased
	}
	var doc documentRow
	if err := g.Where("id = ? AND case_id = ?", documentID, caseID).Take(&doc).Error; err != nil {
		return nil, s.db.interpret(err, "Document")
	}
	key, err := s.db.caseKeyOf(g, caseID)
	if err != nil {
		return nil, err
	}
	blob, err := s.db.blobs.Open(ctx, doc.BlobKey)
	if err != nil {
		s.db.log.Error("document blob unreadable", "document_id", doc.ID, "missing", errors.Is(err, ErrBlobNotFound))
		return nil, errDamaged
	}
	// First pass: every chunk authenticated, the header and the size right,
	// the plaintext discarded.
	name, content, err := openDocumentBlob(blob, key, &doc)
	if err == nil {
		_, err = io.Copy(io.Discard, content)
	}
	if err != nil {
		blob.Close()
		s.db.log.Error("document blob damaged", "document_id", doc.ID, "reason", damage(err))
		return nil, errDamaged
	}
	err = s.db.transact(ctx, func(tx *gorm.DB) error {
		if ok, err := s.db.exists(tx, &documentRow{}, "id = ?", doc.ID); err != nil || !ok {
			return cmp(err, cases.Errorf(cases.ENOTFOUND, "Document not found."))
		}
		detail, err := sealNote(key, caseID, purposeAuditDetail, reason.Detail)
		if err != nil {
			return err
		}
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionDocumentRead,
			caseID: uuid.NullUUID{UUID: caseID, Valid: true}, subject: c.Code,
			details: map[string]string{"document_id": doc.ID.String(), "reason": reason.Code}, sealed: detail})
	})
	if err != nil {
		blob.Close()
		return nil, err
	}
	// Second pass: the same blob from its start. Its reader fails, and never
	// returns unauthenticated bytes, if the blob changed in between.
	if _, err := blob.Seek(0, io.SeekStart); err != nil {
		blob.Close()
		return nil, errDamaged
	}
	_, content, err = openDocumentBlob(blob, key, &doc)
	if err != nil {
		blob.Close()
		return nil, errDamaged
	}
	return &cases.OpenedDocument{Document: *doc.domain(), Name: name,
		Content: &documentContent{r: content, close: blob.Close}}, nil
}

// errBlob says how a sealed blob failed, for the operator's log only.
type errBlob string

func (e errBlob) Error() string { return "storage: " + string(e) }

func damage(err error) string {
	var b errBlob
	if errors.As(err, &b) {
		return string(b)
	}
	return "does not decrypt or authenticate"
}

// openDocumentBlob reads a document's sealed blob up to its content: it
// checks that the blob belongs to this case and document, and returns the
// file name and a reader of exactly the recorded number of bytes, which
// fails unless the sealed stream authenticates to its very end there.
func openDocumentBlob(blob io.Reader, key *caseKey, doc *documentRow) (cases.FileName, io.Reader, error) {
	plain, err := age.Decrypt(blob, key.id)
	if err != nil {
		return cases.FileName{}, nil, err
	}
	br := bufio.NewReaderSize(plain, 4096)
	header := sealHeader(doc.CaseID, purposeDocument(doc.ID))
	got := make([]byte, len(header))
	if _, err := io.ReadFull(br, got); err != nil || !bytes.Equal(got, []byte(header)) {
		return cases.FileName{}, nil, errBlob("belongs to another case or document")
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return cases.FileName{}, nil, errBlob("has no file name")
	}
	return cases.NewFileName(string(line[:len(line)-1])), &exactReader{r: br, left: doc.Size}, nil
}

// exactReader returns exactly left bytes of r, then io.EOF only once r
// itself ends there: a sealed stream that holds more or fewer bytes than
// recorded, or whose last chunk does not authenticate, is an error.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left == 0 {
		var one [1]byte
		n, err := io.ReadFull(e.r, one[:])
		switch {
		case n > 0:
			return 0, errBlob("holds more than its recorded size")
		case err == io.EOF:
			return 0, io.EOF
		}
		return 0, err
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF {
		return n, errBlob("holds less than its recorded size")
	}
	return n, err
}

// documentContent is an opened document's content; closing it closes the blob.
type documentContent struct {
	r     io.Reader
	close func() error
}

func (d *documentContent) Read(p []byte) (int, error) { return d.r.Read(p) }
func (d *documentContent) Close() error               { return d.close() }

// documentBlobs returns the blob keys of a case's documents, inside tx.
func (db *DB) documentBlobs(tx *gorm.DB, caseID uuid.UUID) ([]string, error) {
	var keys []string
	if err := tx.Model(&documentRow{}).Where("case_id = ?", caseID).Pluck("blob_key", &keys).Error; err != nil {
		return nil, db.interpret(err, "Documents")
	}
	return keys, nil
}

// deleteBlobs deletes blobs whose rows are gone, after the transaction
// that removed them. A failure is logged: RemoveOrphanBlobs retries.
func (db *DB) deleteBlobs(ctx context.Context, keys []string) {
	if db.blobs == nil || len(keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	failed := 0
	for _, k := range keys {
		if err := db.blobs.Delete(ctx, k); err != nil {
			failed++
		}
	}
	if failed > 0 {
		db.log.Warn("blobs not deleted; the orphan sweep will", "failed", failed, "of", len(keys))
	}
}

// RemoveOrphanBlobs deletes every blob written before cutoff that no
// document refers to (a crash between the blob store and the database, a
// deletion after an erasure that failed), and what unfinished writes
// begun before cutoff left behind. It returns how many it removed. The
// cutoff must leave time for an upload under way to record its row.
func (s *DocumentService) RemoveOrphanBlobs(ctx context.Context, cutoff time.Time) (int, error) {
	if s.db.blobs == nil {
		return 0, nil
	}
	removed, err := s.db.blobs.RemoveStale(ctx, cutoff)
	if err != nil {
		return removed, err
	}
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var known []string
		if err := s.db.gorm.WithContext(ctx).Model(&documentRow{}).Where("blob_key IN ?", batch).
			Pluck("blob_key", &known).Error; err != nil {
			return s.db.interpret(err, "Documents")
		}
		referenced := make(map[string]bool, len(known))
		for _, k := range known {
			referenced[k] = true
		}
		for _, k := range batch {
			if referenced[k] {
				continue
			}
			if err := s.db.blobs.Delete(ctx, k); err != nil {
				return err
			}
			removed++
		}
		batch = batch[:0]
		return nil
	}
	err = s.db.blobs.List(ctx, func(key string, written time.Time) error {
		if !written.Before(cutoff) {
			return nil
		}
		batch = append(batch, key)
		if len(batch) == 500 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return removed, err
}
