package storage_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// mustTransition fires req on c as who, or fails t.
func (e *env) mustTransition(t *testing.T, c *cases.Case, who *cases.User, req cases.TransitionRequest) *cases.Case {
	t.Helper()
	got, _, err := e.cases.Transition(ctx, e.actor(who), c.ID, c.Version, req)
	if err != nil {
		t.Fatalf("%s: %v", req.Event, err)
	}
	return got
}

// actions lists the audit actions of a case, oldest first.
func actions(t *testing.T, db *storage.DB, id uuid.UUID) []string {
	t.Helper()
	entries, err := storage.NewAuditService(db).CaseEntries(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		out = append(out, en.Action)
	}
	return out
}

func TestCloseFromPlanning(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		for _, o := range []cases.Outcome{cases.OutcomeRefused, cases.OutcomeLostContact, cases.OutcomeTransferred} {
			c := e.mustReach(t, cases.StatePlanning)
			if _, _, err := e.cases.Transition(ctx, e.actor(e.Worker), c.ID, c.Version, cases.TransitionRequest{Event: cases.EventClose, Outcome: o}); cases.ErrorCode(err) != cases.EFORBIDDEN {
				t.Fatalf("a case worker closed a case: %v", err)
			}
			closed := e.mustTransition(t, c, e.Supervisor, cases.TransitionRequest{Event: cases.EventClose, Outcome: o,
				Reason: cases.NewNote("The family moved back to Guizhou.")})
			if closed.State != cases.StateClosed || closed.Outcome != o || closed.ClosedAt == nil {
				t.Fatalf("closed from planning: %+v", closed)
			}
		}
		t.Run("ErrCompleted", func(t *testing.T) {
			c := e.mustReach(t, cases.StatePlanning)
			_, _, err := e.cases.Transition(ctx, e.actor(e.Supervisor), c.ID, c.Version, cases.TransitionRequest{Event: cases.EventClose, Outcome: cases.OutcomeCompleted})
			if got := failureNames(err); !slices.Equal(got, []string{"outcome"}) {
				t.Fatalf("failed %v, want [outcome]", got)
			}
		})
	})
}

// TestReopenDismissal: a case dismissed as a worker's child is reopened into
// verification when the child turns out to have been employed after all; its
// facts are corrected and it goes on to planning.
func TestReopenDismissal(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		r := e.Report(today.AddDate(0, 0, -10))
		r.Presence = cases.PresenceAccompanying
		c, err := e.cases.FileCase(ctx, e.actor(e.Auditor), r)
		if err != nil {
			t.Fatal(err)
		}
		c, err = e.cases.Assign(ctx, e.actor(e.Supervisor), c.ID, c.Version, e.Worker.ID)
		if err != nil {
			t.Fatal(err)
		}
		c = e.mustTransition(t, c, e.Worker, cases.TransitionRequest{Event: cases.EventDismiss, Reason: cases.NewNote("A worker's child, not employed.")})
		if _, _, err := e.cases.Transition(ctx, e.actor(e.Supervisor), c.ID, c.Version, cases.TransitionRequest{Event: cases.EventReopen, Reason: cases.NewNote("x")}); cases.ErrorCode(err) != cases.EINVALID {
			t.Fatalf("a dismissal reopened into follow-up: %v", err)
		}
		if _, _, err := e.cases.Transition(ctx, e.actor(e.Supervisor), c.ID, c.Version, cases.TransitionRequest{Event: cases.EventReopenDismissed}); !slices.Equal(failureNames(err), []string{"reason"}) {
			t.Fatalf("reopened without a reason: %v", err)
		}
		c = e.mustTransition(t, c, e.Supervisor, cases.TransitionRequest{Event: cases.EventReopenDismissed, Reason: cases.NewNote("She was on the payroll.")})
		if c.State != cases.StateVerification || c.Outcome != "" || c.ClosedAt != nil {
			t.Fatalf("reopened: %+v", c)
		}
		facts := c.Facts()
		facts.Presence = cases.PresenceEmployed
		facts.LabourAgent = cases.AnswerYes
		c, err = e.cases.CorrectFacts(ctx, e.actor(e.Worker), c.ID, c.Version, facts)
		if err != nil {
			t.Fatal(err)
		}
		c, err = e.cases.RecordVerification(ctx, e.actor(e.Worker), c.ID, c.Version, cases.Verification{
			Method: "school_record", VerifiedBirthDate: time.Date(2012, 1, 2, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		c = e.mustTransition(t, c, e.Worker, cases.TransitionRequest{Event: cases.EventConfirmChildLabour})
		if c.State != cases.StatePlanning {
			t.Fatalf("state %s", c.State)
		}
	})
}

func TestCorrectFacts(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		c := e.mustReach(t, cases.StateVerification)
		f := c.Facts()
		f.Job, f.HoursPerWeek, f.Hazards = "  ｐａｃｋｉｎｇ  boxes ", 72, []string{"dust"}
		f.OtherChildrenFound, f.FactoryConsent = 2, cases.AnswerNo
		t.Run("ErrOtherWorker", func(t *testing.T) {
			if _, err := e.cases.CorrectFacts(ctx, e.actor(e.OtherWorker), c.ID, c.Version, f); cases.ErrorCode(err) != cases.EFORBIDDEN {
				t.Fatalf("err = %v", err)
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			bad := f
			bad.HoursPerWeek, bad.LabourAgent, bad.Job = 200, "maybe", "a\x07b"
			_, err := e.cases.CorrectFacts(ctx, e.actor(e.Worker), c.ID, c.Version, bad)
			if got := failureNames(err); !slices.Equal(got, []string{"job", "hours_per_week", "labour_agent"}) {
				t.Fatalf("failed %v", got)
			}
		})
		got, err := e.cases.CorrectFacts(ctx, e.actor(e.Worker), c.ID, c.Version, f)
		if err != nil {
			t.Fatal(err)
		}
		if got.Job != "packing boxes" || got.HoursPerWeek != 72 || !slices.Equal(got.Hazards, []string{"dust"}) ||
			got.OtherChildrenFound != 2 || got.FactoryConsent != cases.AnswerNo || got.LabourAgent != cases.AnswerUnknown || got.Version != c.Version+1 {
			t.Fatalf("corrected facts: %+v", got.Facts())
		}
		entries, _ := storage.NewAuditService(db).CaseEntries(ctx, c.ID)
		last := entries[len(entries)-1]
		if last.Action != cases.ActionFactsCorrected || last.Details["changed"] != "job,hazards,hours_per_week,other_children_found,factory_consent" {
			t.Fatalf("audit entry %+v", last)
		}
		if _, err := e.cases.CorrectFacts(ctx, e.actor(e.Worker), c.ID, c.Version, f); cases.ErrorCode(err) != cases.ECONFLICT {
			t.Fatalf("stale version: %v", err)
		}
		planning := e.mustReach(t, cases.StatePlanning)
		if _, err := e.cases.CorrectFacts(ctx, e.actor(e.Supervisor), planning.ID, planning.Version, planning.Facts()); cases.ErrorCode(err) != cases.ECONFLICT {
			t.Fatalf("facts corrected in planning: %v", err)
		}
	})
}

// TestVerificationKeepsGuardiansAndWishes: the guardians' contact is kept in
// the open; the child's wishes are sealed and come back through a notes read.
func TestVerificationKeepsGuardiansAndWishes(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		c := e.mustReach(t, cases.StateVerification)
		contacted := today.AddDate(0, 0, -2)
		v := cases.Verification{Method: "id_card", VerifiedBirthDate: time.Date(2011, 5, 17, 0, 0, 0, 0, time.UTC),
			GuardiansContactMethod: "phone", GuardiansContactedOn: &contacted}
		if _, err := e.cases.RecordVerification(ctx, e.actor(e.Worker), c.ID, c.Version, v); !slices.Equal(failureNames(err), []string{"guardians_contacted"}) {
			t.Fatalf("contact without guardians_contacted: %v", err)
		}
		v.GuardiansContacted, v.ChildWishes = true, cases.NewNote("想回老家读初二。")
		got, err := e.cases.RecordVerification(ctx, e.actor(e.Worker), c.ID, c.Version, v)
		if err != nil {
			t.Fatal(err)
		}
		if !got.GuardiansContacted || got.GuardiansContactMethod != "phone" || !got.GuardiansContactedOn.Equal(cases.Date(contacted)) {
			t.Fatalf("guardians' contact: %v %q %v", got.GuardiansContacted, got.GuardiansContactMethod, got.GuardiansContactedOn)
		}
		notes, err := e.cases.ReadNotes(ctx, e.actor(e.Worker), c.ID, cases.ReadReason{Code: "arrange_schooling"})
		if err != nil {
			t.Fatal(err)
		}
		if notes.ChildWishes.Text() != "想回老家读初二。" {
			t.Fatal("the child's wishes did not come back")
		}
	})
}

// TestReadNotes: every read is one audit entry in its transaction; only the
// case's worker and supervisors may read; an erased case has nothing.
func TestReadNotes(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		c := e.mustReach(t, cases.StateFollowUp)
		if _, err := e.cases.AddFollowUp(ctx, e.actor(e.Worker), c.ID, cases.FollowUpInput{Date: today, Contact: "visit",
			Concerns: cases.NewNote("The uncle wants her back at the factory.")}); err != nil {
			t.Fatal(err)
		}
		brand := cases.Actor{UserID: uuid.New(), Role: cases.RoleClient, ClientID: uuid.NullUUID{UUID: e.Client.ID, Valid: true}}
		for name, actor := range map[string]cases.Actor{"other worker": e.actor(e.OtherWorker), "auditor": e.actor(e.Auditor), "brand": brand} {
			if _, err := e.cases.ReadNotes(ctx, actor, c.ID, cases.ReadReason{Code: "safeguarding"}); cases.ErrorCode(err) != cases.EFORBIDDEN {
				t.Errorf("%s read the notes: %v", name, err)
			}
		}
		if _, err := e.cases.ReadNotes(ctx, e.actor(e.Worker), c.ID, cases.ReadReason{}); cases.ErrorCode(err) != cases.EINVALID {
			t.Fatalf("read without a reason: %v", err)
		}
		before := len(actions(t, db, c.ID))
		for range 2 {
			notes, err := e.cases.ReadNotes(ctx, e.actor(e.Worker), c.ID, cases.ReadReason{Code: "safeguarding", Detail: cases.NewNote("home visit tomorrow")})
			if err != nil {
				t.Fatal(err)
			}
			if len(notes.FollowUps) != 1 || notes.FollowUps[0].Concerns.Text() != "The uncle wants her back at the factory." {
				t.Fatalf("concerns: %+v", notes.FollowUps)
			}
		}
		after := actions(t, db, c.ID)
		if got := after[before:]; !slices.Equal(got, []string{cases.ActionNotesRead, cases.ActionNotesRead}) {
			t.Fatalf("two reads audited as %v", got)
		}
		// The detail given with the first read is itself a note the next one opens.
		notes, _ := e.cases.ReadNotes(ctx, e.actor(e.Supervisor), c.ID, cases.ReadReason{Code: "safeguarding"})
		if len(notes.Details) != 2 || notes.Details[0].Detail.Text() != "home visit tomorrow" {
			t.Fatalf("details %+v", notes.Details)
		}
	})
}

// TestPlanEndDate: a child found at 15 years and 364 days gets an end date a
// month after enrolment, never the next day; a plan whose end comes sooner
// is refused.
func TestPlanEndDate(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		c := e.mustReach(t, cases.StateVerification)
		birth := cases.Date(c.FoundOn).AddDate(-16, 0, 1) // 16 the day after the date found
		c, err := e.cases.RecordVerification(ctx, e.actor(e.Worker), c.ID, c.Version, cases.Verification{Method: "id_card", VerifiedBirthDate: birth})
		if err != nil {
			t.Fatal(err)
		}
		if *c.AgeAtFound != 15 {
			t.Fatalf("age %d", *c.AgeAtFound)
		}
		c = e.mustTransition(t, c, e.Worker, cases.TransitionRequest{Event: cases.EventConfirmChildLabour})
		p := completePlan()
		p.Grade = "vocational"
		c, err = e.cases.PutPlan(ctx, e.actor(e.Worker), c.ID, c.Version, p)
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC); !c.Plan.EndDate.Equal(want) || len(c.Plan.Missing()) != 0 {
			t.Fatalf("end %v, want %v (missing %v)", c.Plan.EndDate, want, c.Plan.Missing())
		}
		p.EndDate = p.EnrolmentDate.AddDate(0, 0, 20)
		if _, err := e.cases.PutPlan(ctx, e.actor(e.Worker), c.ID, c.Version, p); !slices.Equal(failureNames(err), []string{"end_date"}) {
			t.Fatalf("an end date 20 days after enrolment: %v", err)
		}
	})
}

// TestChineseInput: text typed with a Chinese input method is normalised
// before it is checked; the ID number's check digit is recorded, never
// refused; impossible dates and control characters are refused.
func TestChineseInput(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		file := func(id cases.Identity) (*cases.Case, error) {
			r := e.Report(today.AddDate(0, 0, -3))
			r.Identity = id
			return e.cases.FileCase(ctx, e.actor(e.Auditor), r)
		}
		// A full-width number with a right check character (11010519491231002X):
		// 18 characters once normalised, though 54 bytes as typed.
		c, err := file(cases.Identity{FullName: "张三", IDNumber: "１１０１０５１９４９１２３１００２Ｘ"})
		if err != nil {
			t.Fatal(err)
		}
		if c.IDChecksumValid == nil || !*c.IDChecksumValid {
			t.Fatalf("checksum %v, want valid", c.IDChecksumValid)
		}
		conf, err := e.cases.ReadIdentity(ctx, e.actor(e.Supervisor), c.ID, cases.ReadReason{Code: "verify_age"})
		if err != nil || conf.Identity.IDNumber != "11010519491231002X" {
			t.Fatalf("stored %v, %v", conf, err)
		}
		forged, err := file(cases.Identity{FullName: "李四", IDNumber: "44190019900307123X"})
		if err != nil || forged.IDChecksumValid == nil || *forged.IDChecksumValid {
			t.Fatalf("a wrong check digit: %v, %v (recorded, never refused)", forged.IDChecksumValid, err)
		}
		other, err := file(cases.Identity{FullName: "王五", IDNumber: "G1234567"})
		if err != nil || other.IDChecksumValid != nil {
			t.Fatalf("a passport number: %v, %v", other.IDChecksumValid, err)
		}
		future := today.AddDate(1, 0, 0)
		afterFound := today.AddDate(0, 0, -1)
		for name, tt := range map[string]struct {
			id   cases.Identity
			want []string
		}{
			"invalid UTF-8":             {cases.Identity{FullName: "Li \xe6\x9d"}, []string{"identity.full_name"}},
			"a control character":       {cases.Identity{FullName: "Li\x00Ming"}, []string{"identity.full_name"}},
			"born in the future":        {cases.Identity{FullName: "Li Ming", ClaimedBirthDate: &future}, []string{"identity.claimed_birth_date"}},
			"born after the date found": {cases.Identity{FullName: "Li Ming", ClaimedBirthDate: &afterFound}, []string{"identity.claimed_birth_date"}},
		} {
			if _, err := file(tt.id); !slices.Equal(failureNames(err), tt.want) {
				t.Errorf("%s: failed %v, want %v", name, failureNames(err), tt.want)
			}
		}
		t.Run("ErrCorrectionInTheFuture", func(t *testing.T) {
			_, err := e.cases.CorrectIdentity(ctx, e.actor(e.Supervisor), c.ID, c.Version, cases.Identity{FullName: "张三", ClaimedBirthDate: &future})
			if !slices.Equal(failureNames(err), []string{"identity.claimed_birth_date"}) {
				t.Fatalf("failed %v", failureNames(err))
			}
		})
	})
}

// TestBlindIndexVariants: Xiaomei Li (reversed) and 李小梅 (hanzi) are linked
// to Li Xiaomei born the same day, as a name variant; nobody else is.
func TestBlindIndexVariants(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		birth := time.Date(2011, 5, 17, 0, 0, 0, 0, time.UTC)
		otherBirth := birth.AddDate(0, 1, 0)
		file := func(name string, born *time.Time) *cases.Case {
			t.Helper()
			r := e.Report(today.AddDate(0, 0, -3))
			r.Identity = cases.Identity{FullName: name, ClaimedBirthDate: born}
			c, err := e.cases.FileCase(ctx, e.actor(e.Auditor), r)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		first := file("Li Xiaomei", &birth)
		reversed := file("Xiaomei Li", &birth)
		hanzi := file("李小梅", &birth)
		toned := file("Lǐ Xiǎoméi", &birth)
		otherDay := file("李小梅", &otherBirth)
		stranger := file("Li Xiaoming", &birth)
		linked := func(c *cases.Case) map[string]string {
			t.Helper()
			got, err := e.cases.FindCase(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]string{}
			for _, l := range got.Links {
				m[l.Code] = l.MatchedOn
			}
			return m
		}
		for _, c := range []*cases.Case{reversed, hanzi, toned} {
			if got := linked(c); got[first.Code] != "name_variant_birth_date" {
				t.Errorf("%s links %v, want %s as a name variant", c.Code, got, first.Code)
			}
		}
		// A list shows a case's links as a single read does.
		page, err := e.cases.ListCases(ctx, cases.CaseFilter{Code: first.Code})
		if err != nil || len(page.Cases) != 1 || len(page.Cases[0].Links) != 3 {
			t.Fatalf("the list shows %v links of %s, want 3 (%v)", page, first.Code, err)
		}
		if got := linked(otherDay); len(got) != 0 {
			t.Errorf("another birth date linked: %v", got)
		}
		if got := linked(stranger); len(got) != 0 {
			t.Errorf("another name linked: %v", got)
		}
		// Nothing of the name is stored in the open: only HMACs, 32 bytes each.
		var kinds []string
		db.Gorm().Raw("SELECT DISTINCT kind FROM case_fingerprints WHERE length(hash) <> 32").Scan(&kinds)
		if len(kinds) != 0 {
			t.Fatalf("fingerprints that are not HMACs: %v", kinds)
		}
	})
}

func TestFirstContactClock(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		c := e.mustFile(t)
		c, err := e.cases.Assign(ctx, e.actor(e.Supervisor), c.ID, c.Version, e.Worker.ID)
		if err != nil {
			t.Fatal(err)
		}
		tooEarly := c.FoundOn.Add(-time.Hour)
		if _, err := e.cases.ConfirmRemoval(ctx, e.actor(e.Worker), c.ID, c.Version, cases.Removal{RemovedFromWork: true, ChildContactedAt: &tooEarly}); !slices.Equal(failureNames(err), []string{"child_contacted_at"}) {
			t.Fatalf("contact before the date found: %v", err)
		}
		contact := today.Add(-2 * time.Hour)
		c, err = e.cases.ConfirmRemoval(ctx, e.actor(e.Worker), c.ID, c.Version, cases.Removal{RemovedFromWork: true, ChildSafe: true, ChildContactedAt: &contact})
		if err != nil {
			t.Fatal(err)
		}
		later := today.Add(-time.Hour)
		c, err = e.cases.ConfirmRemoval(ctx, e.actor(e.Worker), c.ID, c.Version, cases.Removal{RemovedFromWork: true, ChildSafe: true, ChildContactedAt: &later})
		if err != nil {
			t.Fatal(err)
		}
		if c.FirstContactAt == nil || !c.FirstContactAt.Equal(contact) {
			t.Fatalf("first contact %v, want the first one given %v", c.FirstContactAt, contact)
		}
		clocks := c.ClocksAsOf(today)
		if !clocks.FirstContact.Done || clocks.FirstContact.Breached || !clocks.PlanApproved.Running {
			t.Fatalf("clocks %+v", clocks)
		}
	})
}

func TestFactories(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		svc := storage.NewFactoryService(db)
		brand := cases.Actor{UserID: uuid.New(), Role: cases.RoleClient, ClientID: uuid.NullUUID{UUID: e.Client.ID, Valid: true}}
		n := cases.NewFactory{Name: " 深圳新达电子厂 ", NameEn: "Shenzhen Xinda Electronics", Province: "广东", City: "深圳",
			ClientIDs: []uuid.UUID{e.Client.ID, e.OtherClient.ID}}
		for _, a := range []cases.Actor{brand, e.actor(e.Worker)} {
			if _, err := svc.CreateFactory(ctx, a, n); cases.ErrorCode(err) != cases.EFORBIDDEN {
				t.Fatalf("%s added a factory: %v", a.Role, err)
			}
		}
		bad := n
		bad.ClientIDs = []uuid.UUID{uuid.New()}
		if _, err := svc.CreateFactory(ctx, e.actor(e.Auditor), bad); !slices.Equal(failureNames(err), []string{"client_ids"}) {
			t.Fatalf("an unknown brand: %v", err)
		}
		dup, err := svc.CreateFactory(ctx, e.actor(e.Auditor), n)
		if err != nil {
			t.Fatal(err)
		}
		if dup.Name != "深圳新达电子厂" || dup.NameEn != "Shenzhen Xinda Electronics" || len(dup.ClientIDs) != 2 {
			t.Fatalf("factory %+v", dup)
		}
		if _, err := svc.CreateFactory(ctx, e.actor(e.Supervisor), n); cases.ErrorCode(err) != cases.ECONFLICT {
			t.Fatalf("the same factory twice: %v", err)
		}
		r := e.Report(today.AddDate(0, 0, -2))
		r.FactoryID = dup.ID
		moved, err := e.cases.FileCase(ctx, e.actor(e.Auditor), r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.MergeFactories(ctx, e.actor(e.Supervisor), dup.ID, e.Factory.ID); cases.ErrorCode(err) != cases.EFORBIDDEN {
			t.Fatalf("a supervisor merged: %v", err)
		}
		admin := cases.Actor{UserID: uuid.New(), Role: cases.RoleAdmin}
		if _, err := svc.MergeFactories(ctx, admin, e.Factory.ID, e.Factory.ID); cases.ErrorCode(err) != cases.EINVALID {
			t.Fatalf("merged into itself: %v", err)
		}
		merged, err := svc.MergeFactories(ctx, admin, dup.ID, e.Factory.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(merged.ClientIDs, e.OtherClient.ID) || !slices.Contains(merged.ClientIDs, e.Client.ID) {
			t.Fatalf("brands after the merge: %v", merged.ClientIDs)
		}
		got, _ := e.cases.FindCase(ctx, moved.ID)
		if got.FactoryID != e.Factory.ID {
			t.Fatal("the case did not move to the surviving factory")
		}
		if _, err := svc.FindFactoryByID(ctx, dup.ID); cases.ErrorCode(err) != cases.ENOTFOUND {
			t.Fatalf("the duplicate survived: %v", err)
		}
		if _, err := storage.NewAuditService(db).Verify(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAuditList(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		a := e.mustReach(t, cases.StateVerification)
		b := e.mustFile(t)
		audit := storage.NewAuditService(db)
		page, err := audit.ListEntries(ctx, cases.AuditFilter{CaseID: uuid.NullUUID{UUID: a.ID, Valid: true}, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		all := actions(t, db, a.ID)
		if len(page.Entries) != 2 || page.Next == 0 || page.Entries[0].Action != all[len(all)-1] || page.Entries[0].Seq <= page.Entries[1].Seq {
			t.Fatalf("first page %+v", page)
		}
		var seen int
		for cursor := int64(0); ; {
			p, err := audit.ListEntries(ctx, cases.AuditFilter{CaseID: uuid.NullUUID{UUID: a.ID, Valid: true}, Limit: 2, Before: cursor})
			if err != nil {
				t.Fatal(err)
			}
			seen += len(p.Entries)
			if p.Next == 0 {
				break
			}
			cursor = p.Next
		}
		if seen != len(all) {
			t.Fatalf("walked %d entries, the case has %d", seen, len(all))
		}
		byActor, _ := audit.ListEntries(ctx, cases.AuditFilter{ActorID: uuid.NullUUID{UUID: e.Worker.ID, Valid: true}, Action: cases.ActionTransition})
		for _, en := range byActor.Entries {
			if en.ActorID.UUID != e.Worker.ID || en.Action != cases.ActionTransition {
				t.Fatalf("filter leaked %+v", en)
			}
		}
		if len(byActor.Entries) != 1 {
			t.Fatalf("the worker fired %d transitions, want 1", len(byActor.Entries))
		}
		none, _ := audit.ListEntries(ctx, cases.AuditFilter{Since: today.Add(time.Hour)})
		if len(none.Entries) != 0 {
			t.Fatalf("entries from the future: %d", len(none.Entries))
		}
		filed, _ := audit.ListEntries(ctx, cases.AuditFilter{Action: cases.ActionCaseFiled, Since: today, Until: today.Add(time.Second)})
		if len(filed.Entries) != 2 || filed.Entries[0].Subject != b.Code {
			t.Fatalf("filed today: %+v", filed.Entries)
		}
		if _, err := audit.ListEntries(ctx, cases.AuditFilter{Limit: 500}); !slices.Equal(failureNames(err), []string{"limit"}) {
			t.Fatalf("limit 500: %v", err)
		}
		for _, en := range page.Entries {
			for k, v := range en.Details {
				if strings.Contains(k, "sealed") || len(v) > 200 {
					t.Fatalf("an entry carries more than public facts: %s", k)
				}
			}
		}
	})
}

// TestFilingsOfOneChildAtOnce: a filing that found no other case with the
// child's fingerprints when it drew its code, but finds one filed in the
// meantime when it writes, still links the two (on PostgreSQL it writes
// without a transaction when it found none, and links just after).
func TestFilingsOfOneChildAtOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		birth := time.Date(2012, 3, 9, 0, 0, 0, 0, time.UTC)
		report := e.Report(today)
		report.Identity = cases.Identity{FullName: "Zhou Xiaoyu", ClaimedBirthDate: &birth, IDNumber: "440100201203091234"}
		var between *cases.Case
		storage.SetFilingHook(t, func() {
			if between != nil {
				return
			}
			between = &cases.Case{} // the filing below runs this hook too
			c, err := e.cases.FileCase(ctx, e.actor(e.Auditor), report)
			if err != nil {
				t.Fatal(err)
			}
			between = c
		})
		first, err := e.cases.FileCase(ctx, e.actor(e.Auditor), report)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.cases.FindCase(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Links) != 1 || got.Links[0].CaseID != between.ID || got.Links[0].MatchedOn != "id_number" {
			t.Fatalf("%s links %+v, want %s on id_number", first.Code, got.Links, between.Code)
		}
		if trail := actions(t, db, first.ID); !slices.Equal(trail, []string{cases.ActionCaseFiled, cases.ActionCaseLinked}) {
			t.Errorf("the case's trail is %v, want it filed, then linked", trail)
		}
	})
}
