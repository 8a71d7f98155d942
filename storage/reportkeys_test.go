package storage_test

import (
	"path/filepath"
	"testing"

	"github.com/remedy-cases/remedy/storage"
)

// TestReportKeys: keys init makes one report-signing key; each rotation puts
// a new one first and keeps the former ones, whose public halves stay.
func TestReportKeys(t *testing.T) {
	files := storage.DefaultKeyFiles(t.TempDir())
	if _, err := storage.InitKeys(files); err != nil {
		t.Fatal(err)
	}
	first, err := storage.LoadReportKeys(files.Report)
	if err != nil || len(first) != 1 {
		t.Fatalf("after init: %v, %v", first, err)
	}
	// Enough rotations that some base64 keys hold '+'.
	const rotations = 40
	for range rotations {
		if _, err := storage.RotateReportKey(files.Report); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := storage.LoadReportKeys(files.Report)
	if err != nil || len(keys) != rotations+1 {
		t.Fatalf("after rotations: %d keys, %v", len(keys), err)
	}
	if last := keys[len(keys)-1]; last.ID() != first[0].ID() || last.Verifier != first[0].Verifier {
		t.Errorf("the first key is gone: %v", last)
	}
	if _, err := storage.RotateReportKey(filepath.Join(t.TempDir(), "missing.key")); err == nil {
		t.Error("rotated a key file that does not exist")
	}
}
