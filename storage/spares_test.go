package storage_test

import (
	"bytes"
	"testing"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// TestSpareCaseKeys: filings take the case keys made ahead of them, and
// make their own once those run out; either way each case has a key of its
// own, wrapped to the server's recipients, that opens its identity.
func TestSpareCaseKeys(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		filed := []*cases.Case{e.mustFile(t)} // the first filing starts the maker
		if !storage.WaitSpareKeys(db, 32) {
			t.Fatal("no spare case keys were made")
		}
		for range 40 { // the 32 spares, then filings' own
			filed = append(filed, e.mustFile(t))
		}
		var keys []struct {
			CaseID     uuid.UUID
			Wrapped    []byte
			Recipients string
		}
		if err := db.Gorm().Table("case_keys").Find(&keys).Error; err != nil {
			t.Fatal(err)
		}
		if len(keys) != len(filed) {
			t.Fatalf("%d case keys for %d cases", len(keys), len(filed))
		}
		for i, k := range keys {
			if k.Recipients == "" {
				t.Errorf("case %s: a key wrapped to no recorded recipients", k.CaseID)
			}
			for _, other := range keys[:i] {
				if bytes.Equal(k.Wrapped, other.Wrapped) {
					t.Fatalf("cases %s and %s share a case key", k.CaseID, other.CaseID)
				}
			}
		}
		for _, c := range filed {
			conf, err := e.cases.ReadIdentity(ctx, e.actor(e.Supervisor), c.ID, cases.ReadReason{Code: "correct_record"})
			if err != nil {
				t.Fatalf("case %s: %v", c.Code, err)
			}
			if conf.Identity.FullName == "" || conf.Narrative.Text() == "" {
				t.Fatalf("case %s: identity %q, narrative %q", c.Code, conf.Identity.FullName, conf.Narrative.Text())
			}
		}
	})
}
