package api

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	cases "github.com/remedy-cases/remedy/case"
)

// maxVerifiedReport bounds the PDF a public verification reads.
const maxVerifiedReport = 32 << 20

var errNoReportKeys = cases.Errorf(cases.ENOTFOUND, "Reports are not signed on this server.")

func (h handlers) GetReportKeys(c echo.Context) error {
	if h.ReportKeys == nil {
		return errNoReportKeys
	}
	var b strings.Builder
	b.WriteString("# Remedy report-signing keys (signed-note verifier keys); the first signs, the others signed before.\n")
	for _, k := range h.ReportKeys.PublishedKeys() {
		b.WriteString(k + "\n")
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(b.String()))
}

func (h handlers) VerifyReport(c echo.Context) error {
	if h.ReportKeys == nil {
		return errNoReportKeys
	}
	r := c.Request()
	mediaType, params, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return &problemError{code: cases.EUNSUPPORTED, message: "The body must be multipart/form-data, with the PDF in the part named file."}
	}
	limit := int64(maxVerifiedReport + maxUploadOverhead)
	if r.ContentLength > limit {
		return cases.Errorf(cases.ETOOLARGE, "The file is larger than the limit of %d bytes.", maxVerifiedReport)
	}
	_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(2 * time.Minute))
	body := http.MaxBytesReader(c.Response(), r.Body, limit)
	mr := multipart.NewReader(body, params["boundary"])
	var pdf []byte
	for pdf == nil {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return badRequest("The body has no file.", cases.Failure{Name: "file", Message: "is required"})
		} else if err != nil {
			return bodyError(err)
		}
		if part.FormName() != "file" {
			return badRequest("The body has an unknown field.", cases.Failure{Name: echoName(part.FormName()), Message: "is not a field of this request"})
		}
		if pdf, err = io.ReadAll(io.LimitReader(part, maxVerifiedReport+1)); err != nil {
			return bodyError(err)
		}
		if len(pdf) > maxVerifiedReport {
			return cases.Errorf(cases.ETOOLARGE, "The file is larger than the limit of %d bytes.", maxVerifiedReport)
		}
	}
	if _, err := io.Copy(io.Discard, body); err == nil {
		c.Set("body", streamedBodyRead{})
	}
	v, err := h.ReportKeys.VerifyReport(pdf)
	if err != nil {
		// The verifier's reasons quote no byte of the file but a key's name+hash.
		return &cases.Error{Code: cases.EINVALID, Message: "The report does not verify.",
			Failed: []cases.Failure{{Name: "file", Message: err.Error()}}}
	}
	return c.JSON(http.StatusOK, ReportVerification{ClientId: v.ClientID, ClientName: v.ClientName, Month: v.Month.String(),
		Version: v.Version, Sha256: hex.EncodeToString(v.SHA256[:]), KeyId: v.KeyID})
}

func (h handlers) DownloadMonthlyReportSignature(c echo.Context, id EntityID) error {
	r, err := h.visibleReport(c, id)
	if err != nil {
		return err
	}
	sig, err := h.Reports.ReportSignature(c.Request().Context(), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition",
		`attachment; filename="remedy-report-`+r.Month.String()+`-v`+strconv.Itoa(r.Version)+`.sig"`)
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", sig)
}

func (h handlers) ListAuditCheckpoints(c echo.Context) error {
	list, err := h.Audit.Checkpoints(c.Request().Context())
	if err != nil {
		return err
	}
	out := CheckpointList{Items: make([]Checkpoint, len(list))}
	for i, cp := range list {
		out.Items[len(list)-1-i] = Checkpoint{Size: cp.Size, Hash: base64.StdEncoding.EncodeToString(cp.Hash[:]),
			KeyId: cp.KeyID, Note: string(cp.Note), CreatedAt: cp.CreatedAt}
	}
	return c.JSON(http.StatusOK, out)
}
