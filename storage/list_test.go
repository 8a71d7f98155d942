package storage_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

func TestListCases(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		var filed []uuid.UUID // oldest first
		for range 7 {
			filed = append(filed, e.mustFile(t).ID)
		}
		other := e.Report(today)
		other.ClientID = e.OtherClient.ID
		oc, err := e.cases.FileCase(ctx, e.actor(e.Auditor), other)
		if err != nil {
			t.Fatal(err)
		}
		assigned := e.mustReach(t, cases.StateVerification)
		filed = append(filed, oc.ID, assigned.ID)

		ids := func(p *cases.CasePage) []uuid.UUID {
			var out []uuid.UUID
			for _, c := range p.Cases {
				out = append(out, c.ID)
			}
			return out
		}
		t.Run("OKPagesNewestFirst", func(t *testing.T) {
			var got []uuid.UUID
			f := cases.CaseFilter{Limit: 4}
			pages := 0
			for {
				p, err := e.cases.ListCases(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				got = append(got, ids(p)...)
				if !p.Next.Valid {
					break
				}
				f.After = p.Next
			}
			want := slices.Clone(filed)
			slices.Reverse(want)
			if !slices.Equal(got, want) || pages != 3 {
				t.Fatalf("got %d ids in %d pages, want all %d newest first in 3", len(got), pages, len(want))
			}
		})
		t.Run("OKFilters", func(t *testing.T) {
			p, err := e.cases.ListCases(ctx, cases.CaseFilter{ClientID: uuid.NullUUID{UUID: e.OtherClient.ID, Valid: true}})
			if err != nil || !slices.Equal(ids(p), []uuid.UUID{oc.ID}) {
				t.Fatalf("client filter: %v, %v", ids(p), err)
			}
			p, err = e.cases.ListCases(ctx, cases.CaseFilter{State: cases.StateVerification})
			if err != nil || !slices.Equal(ids(p), []uuid.UUID{assigned.ID}) {
				t.Fatalf("state filter: %v, %v", ids(p), err)
			}
			p, err = e.cases.ListCases(ctx, cases.CaseFilter{AssigneeID: uuid.NullUUID{UUID: e.Worker.ID, Valid: true}})
			if err != nil || !slices.Equal(ids(p), []uuid.UUID{assigned.ID}) {
				t.Fatalf("assignee filter: %v, %v", ids(p), err)
			}
			p, err = e.cases.ListCases(ctx, cases.CaseFilter{FactoryID: uuid.NullUUID{UUID: e.Factory.ID, Valid: true}, Limit: 200})
			if err != nil || len(p.Cases) != len(filed) {
				t.Fatalf("factory filter: %d cases, %v", len(p.Cases), err)
			}
		})
		t.Run("ErrLimit", func(t *testing.T) {
			for _, limit := range []int{-1, 201} {
				if _, err := e.cases.ListCases(ctx, cases.CaseFilter{Limit: limit}); cases.ErrorCode(err) != cases.EINVALID {
					t.Fatalf("limit %d: err = %v", limit, err)
				}
			}
			if _, err := e.cases.ListCases(ctx, cases.CaseFilter{State: "lost"}); cases.ErrorCode(err) != cases.EINVALID {
				t.Fatalf("unknown state: err = %v", err)
			}
		})
	})
}

// TestListOverdue: a case approved in September with no follow-up in October
// is overdue in November; one followed up in October is not; one approved in
// October owes nothing yet.
func TestListOverdue(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		at := func(d time.Time) { db.Now = func() time.Time { return d } }
		september := time.Date(2026, 9, 10, 8, 0, 0, 0, time.UTC)
		october := time.Date(2026, 10, 12, 8, 0, 0, 0, time.UTC)
		november := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)

		at(september)
		late := e.mustReach(t, cases.StateFollowUp)
		onTime := e.mustReach(t, cases.StateFollowUp)
		at(october)
		fresh := e.mustReach(t, cases.StateFollowUp)
		if _, err := e.cases.AddFollowUp(ctx, e.actor(e.Worker), onTime.ID, cases.FollowUpInput{Date: october, Contact: "phone"}); err != nil {
			t.Fatal(err)
		}
		at(november)

		p, err := e.cases.ListCases(ctx, cases.CaseFilter{OverdueAsOf: november})
		if err != nil {
			t.Fatal(err)
		}
		var got []uuid.UUID
		for _, c := range p.Cases {
			got = append(got, c.ID)
			if !c.OverdueAsOf(november) {
				t.Errorf("%s listed as overdue, but Case.OverdueAsOf disagrees", c.Code)
			}
		}
		if !slices.Equal(got, []uuid.UUID{late.ID}) {
			t.Fatalf("overdue = %v, want only %v (on time %v, fresh %v)", got, late.ID, onTime.ID, fresh.ID)
		}
	})
}

// TestTimesUTCMicroseconds: both databases give back the instant stored, in
// UTC, at microsecond precision, whatever zone it was written in.
func TestTimesUTCMicroseconds(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		shanghai := time.FixedZone("CST", 8*3600)
		written := time.Date(2026, 11, 3, 1, 2, 3, 456789999, shanghai)
		db.Now = func() time.Time { return written }
		c := e.mustFile(t)
		got, err := e.cases.FindCase(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := written.UTC().Truncate(time.Microsecond)
		if !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC || got.CreatedAt.Nanosecond() != 456789000 {
			t.Fatalf("created_at %v, want %v in UTC", got.CreatedAt, want)
		}
	})
}
