package web

import (
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	cases "github.com/remedy-cases/remedy/case"
)

// maxVerifiedReport bounds the PDF the public check reads.
const maxVerifiedReport = 32 << 20

// verifyView is the public report check: a form, then what the report is
// or why it does not verify.
type verifyView struct {
	Done     bool
	Verified *cases.SignedReport
	Version  string
	SHA256   string
	Reason   string // why it does not verify, as the verifier says it
}

// verifyPage lets anyone check a monthly report's signature without
// signing in: the same check as POST /v1/report-verifications.
func (h *Handler) verifyPage(q *request) error {
	if h.Verifier == nil {
		return cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	return q.render(http.StatusOK, "verify", "", q.loc.T("verify.title"), &verifyView{})
}

func (h *Handler) verifyUpload(q *request) error {
	if h.Verifier == nil {
		return cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	v := &verifyView{Done: true}
	fail := func(status int, reason string) error {
		v.Reason = reason
		return q.render(status, "verify", "", q.loc.T("verify.title"), v)
	}
	if !isMultipart(q.r) {
		return fail(http.StatusUnsupportedMediaType, q.loc.T("verify.no_file"))
	}
	_ = http.NewResponseController(q.w).SetReadDeadline(time.Now().Add(2 * time.Minute))
	mr, err := q.multipart()
	if err != nil {
		return fail(http.StatusBadRequest, q.loc.T("verify.no_file"))
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				return fail(http.StatusRequestEntityTooLarge, q.loc.T("verify.too_large"))
			}
			return fail(http.StatusBadRequest, q.loc.T("verify.no_file"))
		}
		if part.FormName() != "file" {
			continue
		}
		pdf, err := io.ReadAll(io.LimitReader(part, maxVerifiedReport+1))
		if err != nil {
			return fail(http.StatusBadRequest, q.loc.T("verify.no_file"))
		}
		if len(pdf) > maxVerifiedReport {
			return fail(http.StatusRequestEntityTooLarge, q.loc.T("verify.too_large"))
		}
		st, err := h.Verifier.VerifyReport(pdf)
		if err != nil {
			// The verifier's reasons quote nothing of the file but a key's name+hash.
			return fail(http.StatusUnprocessableEntity, err.Error())
		}
		v.Verified, v.Version, v.SHA256 = st, strconv.Itoa(st.Version), hex.EncodeToString(st.SHA256[:])
		return q.render(http.StatusOK, "verify", "", q.loc.T("verify.title"), v)
	}
}
