package storage_test

import (
	"reflect"
	"slices"
	"strings"
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

// TestListOverdue: a case owes a follow-up for every month from its
// approval. One approved in September with a follow-up only in October is
// overdue in November (September went without); one followed up in both
// months is not; one approved in November owes nothing yet.
func TestListOverdue(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		at := func(d time.Time) { db.Now = func() time.Time { return d } }
		september := time.Date(2026, 9, 10, 8, 0, 0, 0, time.UTC)
		october := time.Date(2026, 10, 12, 8, 0, 0, 0, time.UTC)
		november := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
		followUp := func(c *cases.Case, d time.Time) {
			t.Helper()
			if _, err := e.cases.AddFollowUp(ctx, e.actor(e.Worker), c.ID, cases.FollowUpInput{Date: d, Contact: "phone"}); err != nil {
				t.Fatal(err)
			}
		}

		at(september)
		late := e.mustReach(t, cases.StateFollowUp)
		onTime := e.mustReach(t, cases.StateFollowUp)
		followUp(onTime, september)
		at(october)
		followUp(late, october)
		followUp(onTime, october)
		followUp(onTime, october.AddDate(0, 0, -3)) // an extra visit
		at(november)
		fresh := e.mustReach(t, cases.StateFollowUp)

		p, err := e.cases.ListCases(ctx, cases.CaseFilter{OverdueAsOf: november})
		if err != nil {
			t.Fatal(err)
		}
		var got []uuid.UUID
		for _, c := range p.Cases {
			got = append(got, c.ID)
			if !c.OverdueAsOf(november, db.Zone) {
				t.Errorf("%s listed as overdue, but Case.OverdueAsOf disagrees", c.Code)
			}
		}
		if !slices.Equal(got, []uuid.UUID{late.ID}) {
			t.Fatalf("overdue = %v, want only %v (on time %v, fresh %v)", got, late.ID, onTime.ID, fresh.ID)
		}
		s, err := e.cases.Schedule(ctx, late.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Missed) != 1 || s.Missed[0] != (cases.Month{Year: 2026, Month: time.September}) || !s.DueThisMonth {
			t.Fatalf("late's schedule: missed %v, due this month %v", s.Missed, s.DueThisMonth)
		}
		fs, err := e.cases.FollowUps(ctx, onTime.ID)
		if err != nil {
			t.Fatal(err)
		}
		// By date: 10 September, 9 October (the extra visit, entered last), 12 October.
		if len(fs) != 3 || fs[0].Extra || fs[1].Extra || !fs[2].Extra {
			t.Fatalf("extra visits: %v %v %v", fs[0].Extra, fs[1].Extra, fs[2].Extra)
		}
		// A late entry of a visit made in September covers September.
		followUp(late, september.AddDate(0, 0, 5))
		p, err = e.cases.ListCases(ctx, cases.CaseFilter{OverdueAsOf: november})
		if err != nil || len(p.Cases) != 0 {
			t.Fatalf("after the late entry: %d overdue, %v", len(p.Cases), err)
		}
	})
}

// TestListDueToCloseAndAlert: a case past its plan's end date is due to
// close and no longer overdue; a child found working again raises an alert
// that a supervisor's decision ends.
func TestListDueToCloseAndAlert(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		c := e.mustReach(t, cases.StateFollowUp)
		if c.PlanEndOn == nil || c.UncoveredFrom == nil {
			t.Fatalf("approval left end %v, uncovered %v", c.PlanEndOn, c.UncoveredFrom)
		}
		later := c.PlanEndOn.AddDate(0, 1, 0)
		for _, f := range []cases.CaseFilter{{DueToCloseAsOf: later}, {OverdueAsOf: later}, {Alert: true}} {
			p, err := e.cases.ListCases(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if !f.DueToCloseAsOf.IsZero() {
				want = 1
			}
			if len(p.Cases) != want {
				t.Fatalf("filter %+v: %d cases, want %d", f, len(p.Cases), want)
			}
		}
		if !c.DueToCloseAsOf(later, db.Zone) || c.OverdueAsOf(later, db.Zone) {
			t.Fatal("past its end date a case is due to close and not overdue")
		}

		fu, err := e.cases.AddFollowUp(ctx, e.actor(e.Worker), c.ID, cases.FollowUpInput{Date: today, Contact: "visit", WorkingAgain: true})
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.cases.ListCases(ctx, cases.CaseFilter{Alert: true})
		if err != nil || len(p.Cases) != 1 || !p.Cases[0].Alert() {
			t.Fatalf("alert list: %v, %v", p, err)
		}
		c = p.Cases[0]
		if _, err := e.cases.ResolveAlert(ctx, e.actor(e.Worker), c.ID, c.Version, cases.NewNote("back at school")); cases.ErrorCode(err) != cases.EFORBIDDEN {
			t.Fatalf("a case worker resolved an alert: %v", err)
		}
		if _, err := e.cases.ResolveAlert(ctx, e.actor(e.Supervisor), c.ID, c.Version, cases.NewNote("  ")); cases.ErrorCode(err) != cases.EINVALID {
			t.Fatalf("an alert resolved without a reason: %v", err)
		}
		resolved, err := e.cases.ResolveAlert(ctx, e.actor(e.Supervisor), c.ID, c.Version, cases.NewNote("Back at school since Monday."))
		if err != nil {
			t.Fatal(err)
		}
		if resolved.Alert() || resolved.Version != c.Version+1 {
			t.Fatalf("resolved: alert %v version %d", resolved.Alert(), resolved.Version)
		}
		if _, err := e.cases.ResolveAlert(ctx, e.actor(e.Supervisor), c.ID, resolved.Version, cases.NewNote("again")); cases.ErrorCode(err) != cases.ECONFLICT {
			t.Fatalf("resolving a case without an alert: %v", err)
		}
		notes, err := e.cases.ReadNotes(ctx, e.actor(e.Supervisor), c.ID, cases.ReadReason{Code: "safeguarding"})
		if err != nil {
			t.Fatal(err)
		}
		if len(notes.Details) != 1 || notes.Details[0].Detail.Text() != "Back at school since Monday." || notes.Details[0].Action != cases.ActionAlertResolved {
			t.Fatalf("the decision's reason is not readable: %+v", notes.Details)
		}
		trail := actions(t, db, c.ID)
		for _, want := range []string{cases.ActionFollowUpAdded, cases.ActionAlertRaised, cases.ActionAlertResolved, cases.ActionNotesRead} {
			if !slices.Contains(trail, want) {
				t.Errorf("no %s entry in %v", want, trail)
			}
		}
		_ = fu
	})
}

// TestListSearch: by exact code, by a part of a code, by a factory's
// Chinese or English name; unassigned cases.
func TestListSearch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		other, err := storage.NewFactoryService(db).CreateFactory(ctx, e.actor(e.Auditor), cases.NewFactory{
			Name: "泉州鸿运鞋业有限公司", NameEn: "Quanzhou Hongyun Shoes", Province: "福建", City: "泉州"})
		if err != nil {
			t.Fatal(err)
		}
		a := e.mustFile(t)
		r := e.Report(today.AddDate(0, 0, -3))
		r.FactoryID = other.ID
		b, err := e.cases.FileCase(ctx, e.actor(e.Auditor), r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.cases.Assign(ctx, e.actor(e.Supervisor), a.ID, a.Version, e.Worker.ID); err != nil {
			t.Fatal(err)
		}
		ids := func(f cases.CaseFilter) []uuid.UUID {
			t.Helper()
			p, err := e.cases.ListCases(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []uuid.UUID
			for _, c := range p.Cases {
				out = append(out, c.ID)
			}
			return out
		}
		for name, tt := range map[string]struct {
			f    cases.CaseFilter
			want []uuid.UUID
		}{
			"exact code":             {cases.CaseFilter{Code: b.Code}, []uuid.UUID{b.ID}},
			"exact code, lower case": {cases.CaseFilter{Code: strings.ToLower(a.Code)}, []uuid.UUID{a.ID}},
			"full-width code":        {cases.CaseFilter{Code: toFullWidth(a.Code)}, []uuid.UUID{a.ID}},
			"a part of a code":       {cases.CaseFilter{Query: b.Code[len(b.Code)-4:]}, []uuid.UUID{b.ID}},
			// Searched by the code's start (codePrefix), with the same answers.
			"year and number":        {cases.CaseFilter{Query: b.Code[3:]}, []uuid.UUID{b.ID}},
			"year and hyphen":        {cases.CaseFilter{Query: b.Code[3:8]}, []uuid.UUID{b.ID, a.ID}},
			"whole code, lower case": {cases.CaseFilter{Query: strings.ToLower(b.Code)}, []uuid.UUID{b.ID}},
			"code start":             {cases.CaseFilter{Query: b.Code[:4]}, []uuid.UUID{b.ID, a.ID}},
			"another year":           {cases.CaseFilter{Query: "1999-"}, nil},
			"Chinese factory name":   {cases.CaseFilter{Query: "鸿运"}, []uuid.UUID{b.ID}},
			"English name, any case": {cases.CaseFilter{Query: "hongyun SHOES"}, []uuid.UUID{b.ID}},
			"the other factory":      {cases.CaseFilter{Query: "华美"}, []uuid.UUID{a.ID}},
			"a wildcard is a letter": {cases.CaseFilter{Query: "%"}, nil},
			"unassigned":             {cases.CaseFilter{Unassigned: true}, []uuid.UUID{b.ID}},
			"no such code":           {cases.CaseFilter{Code: "CL-1999-0001"}, nil},
		} {
			if got := ids(tt.f); !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", name, got, tt.want)
			}
		}
	})
}

func toFullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '!' && r <= '~' {
			return r - '!' + '！'
		}
		return r
	}, s)
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

// TestListMatchesFind: a listed case is the case FindCase answers, field
// for field (a list scans its rows without gorm).
func TestListMatchesFind(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		for _, state := range []cases.State{cases.StateIntake, cases.StateVerification, cases.StateFollowUp, cases.StateClosed} {
			c := e.mustReach(t, state)
			found, err := e.cases.FindCase(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			page, err := e.cases.ListCases(ctx, cases.CaseFilter{Code: c.Code})
			if err != nil || len(page.Cases) != 1 {
				t.Fatalf("%s: %v, %v", state, page, err)
			}
			if !reflect.DeepEqual(page.Cases[0], found) {
				t.Fatalf("%s: listed\n%+v\nfound\n%+v", state, page.Cases[0], found)
			}
		}
		// One page of them all: rows scanned one after the other keep
		// their own values (a list reuses its scan targets).
		page, err := e.cases.ListCases(ctx, cases.CaseFilter{})
		if err != nil || len(page.Cases) != 4 {
			t.Fatalf("all: %v, %v", page, err)
		}
		for _, listed := range page.Cases {
			found, err := e.cases.FindCase(ctx, listed.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(listed, found) {
				t.Fatalf("%s in a page of all: listed\n%+v\nfound\n%+v", listed.State, listed, found)
			}
		}
	})
}

// TestListClosedSince: the cases closed since a time and not erased, for a
// supervisor who may reopen them; older closures, erased and open cases
// are left out.
func TestListClosedSince(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		at := func(d time.Time) { db.Now = func() time.Time { return d } }
		at(today.AddDate(0, 0, -40))
		old := e.mustReach(t, cases.StateClosed)
		at(today.AddDate(0, 0, -5))
		recent := e.mustReach(t, cases.StateClosed)
		erased := e.mustReach(t, cases.StateClosed)
		if err := e.cases.EraseCase(ctx, cases.SystemActor, erased.ID); err != nil {
			t.Fatal(err)
		}
		open := e.mustReach(t, cases.StateFollowUp)
		at(today)
		p, err := e.cases.ListCases(ctx, cases.CaseFilter{ClosedSince: today.AddDate(0, 0, -31)})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Cases) != 1 || p.Cases[0].ID != recent.ID || p.Cases[0].ClosedAt == nil {
			var got []string
			for _, c := range p.Cases {
				got = append(got, c.Code)
			}
			t.Fatalf("closed since: %v, want only %s (not %s, %s, %s)", got, recent.Code, old.Code, erased.Code, open.Code)
		}
		p, err = e.cases.ListCases(ctx, cases.CaseFilter{ClosedSince: today.AddDate(0, 0, -60)})
		if err != nil || len(p.Cases) != 2 {
			t.Fatalf("closed in 60 days: %d cases, %v; want 2", len(p.Cases), err)
		}
	})
}

// TestListLinks: the database marks both cases of a link (cases.linked),
// and a list reads the links of the marked cases only: a case filed twice
// shows the other filing in a page and when found, a case of another child
// shows none. Migration 00015 marks the cases linked before it.
func TestListLinks(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		birth := time.Date(2012, 3, 9, 0, 0, 0, 0, time.UTC)
		file := func(name, idNumber string) *cases.Case {
			t.Helper()
			r := e.Report(today)
			r.Identity = cases.Identity{FullName: name, ClaimedBirthDate: &birth, IDNumber: idNumber}
			c, err := e.cases.FileCase(ctx, e.actor(e.Auditor), r)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		first, other, again := file("Zhou Xiaoyu", "440100201203091234"), file("Li Na", ""), file("Zhou Xiaoyu", "440100201203091234")
		check := func(when string) {
			t.Helper()
			page, err := e.cases.ListCases(ctx, cases.CaseFilter{})
			if err != nil {
				t.Fatal(err)
			}
			want := map[uuid.UUID]uuid.UUID{first.ID: again.ID, again.ID: first.ID}
			for _, c := range page.Cases {
				found, err := e.cases.FindCase(ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				for how, links := range map[string][]cases.Link{"listed": c.Links, "found": found.Links} {
					if linked, ok := want[c.ID]; ok {
						if len(links) != 1 || links[0].CaseID != linked || links[0].MatchedOn != "id_number" {
							t.Errorf("%s: %s %s with links %+v, want one to %s", when, how, c.Code, links, linked)
						}
					} else if len(links) != 0 {
						t.Errorf("%s: %s %s with links %+v, want none", when, how, c.Code, links)
					}
				}
			}
			var marked []uuid.UUID
			if err := db.Gorm().Raw("SELECT id FROM cases WHERE linked ORDER BY id").Scan(&marked).Error; err != nil {
				t.Fatal(err)
			}
			if len(marked) != 2 || !slices.Contains(marked, first.ID) || !slices.Contains(marked, again.ID) || slices.Contains(marked, other.ID) {
				t.Errorf("%s: the cases marked linked are %v", when, marked)
			}
		}
		check("as filed")
		if err := db.MigrateDownTo(ctx, 14); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		check("after migration 00015")
	})
}
