package web_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/reports"
	"github.com/remedy-cases/remedy/storage"
)

// TestVerifyPage: anyone, without signing in, checks a report on /verify,
// in either language: a genuine one says which client, month and version;
// one flipped byte says it does not verify.
func TestVerifyPage(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	f := reports.Build("华南童安 Apparel", cases.Month{Year: 2026, Month: time.October}, time.UTC, nil)
	var buf bytes.Buffer
	if _, err := reports.Render(&buf, f, reports.DefaultFonts()); err != nil {
		t.Fatal(err)
	}
	client := uuid.MustParse("0193a7c2-0000-7000-8000-0000000000c1")
	signed, _, err := reports.Sign(buf.Bytes(), client, f.Client, cases.Month{Year: 2026, Month: time.October}, 3, e.signer)
	must(t, err)

	for _, lang := range []string{"en", "zh-CN"} {
		t.Run(lang, func(t *testing.T) {
			b := e.browser(lang)
			page := b.get("/verify")
			if page.status != http.StatusOK || b.csrf == "" {
				t.Fatalf("GET /verify: %d", page.status)
			}
			res := b.postFile("/verify", [][2]string{{"csrf", b.csrf}}, "report.pdf", signed)
			want := map[string][]string{"en": {"Genuine", "Version"}, "zh-CN": {"真实有效", "版本"}}[lang]
			for _, w := range append(want, "华南童安 Apparel", client.String(), "2026-10", ">3<", strings.TrimPrefix(reports.KeyID(e.signer), "remedy-reports+")) {
				if res.status != http.StatusOK || !strings.Contains(res.text(), w) {
					t.Errorf("%d, the answer lacks %q", res.status, w)
				}
			}
			tampered := bytes.Clone(signed)
			tampered[len(tampered)/2] ^= 1
			res = b.postFile("/verify", [][2]string{{"csrf", b.csrf}}, "report.pdf", tampered)
			notGenuine := map[string]string{"en": "does not verify", "zh-CN": "未通过核验"}[lang]
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), notGenuine) {
				t.Errorf("a flipped byte: %d", res.status)
			}
			if res := b.postFile("/verify", nil, "report.pdf", signed); res.status == http.StatusOK {
				t.Error("a check without the form's token was answered")
			}
		})
	}
}
