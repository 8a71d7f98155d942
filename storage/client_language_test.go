package storage_test

import (
	"testing"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// TestReportLanguage: a client's reports are in English unless it chooses
// Chinese or both; the database refuses any other language too.
func TestReportLanguage(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		clients := storage.NewClientService(db)
		c, err := clients.CreateClient(ctx, cases.SystemActor, cases.NewClient{Name: "Language Brand"})
		if err != nil || c.ReportLanguage != "en" {
			t.Fatalf("created %+v, %v", c, err)
		}
		zh, err := clients.CreateClient(ctx, cases.SystemActor, cases.NewClient{Name: "中文品牌", ReportLanguage: "zh-CN"})
		if err != nil || zh.ReportLanguage != "zh-CN" {
			t.Fatalf("created %+v, %v", zh, err)
		}
		if err := clients.SetReportLanguage(ctx, cases.SystemActor, c.ID, "both"); err != nil {
			t.Fatal(err)
		}
		if got, _ := clients.FindClientByID(ctx, c.ID); got.ReportLanguage != "both" {
			t.Errorf("after setting both: %q", got.ReportLanguage)
		}
		if err := clients.SetReportLanguage(ctx, cases.SystemActor, c.ID, "fr"); cases.ErrorCode(err) != cases.EINVALID {
			t.Errorf("fr: %v", err)
		}
		if err := db.Gorm().Exec("UPDATE clients SET report_language = 'fr' WHERE id = ?", c.ID).Error; err == nil {
			t.Error("the database took an unknown language")
		}
	})
}
