package storage_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/internal/testkit"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// canaries are unique strings planted in every confidential field. None may
// be found in the database's files, a dump, a log line or an error.
type canaries struct{ prefix string }

func (c canaries) new(field string) string { return c.prefix + field + "-" + uuid.NewString()[:8] }

// TestCanary files and works cases whose identities and notes are canaries,
// then searches the raw database, every log line and every error for them.
func TestCanary(t *testing.T) {
	for _, dialect := range storagetest.Dialects(t) {
		t.Run(string(dialect), func(t *testing.T) {
			var logs testkit.SyncBuffer // the audit sealer logs from its own goroutine
			cfg := storagetest.Config(t, dialect)
			cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			cfg.TraceSQL = true
			db := storagetest.OpenWith(t, cfg, storagetest.Keyring(t))
			e := newEnv(t, db)
			can := canaries{prefix: "CANARY-"}
			planted := map[string]string{}
			plant := func(field string) string {
				v := can.new(field)
				planted[field] = v
				return v
			}
			var errs []error

			claimed := time.Date(2011, 3, 4, 0, 0, 0, 0, time.UTC)
			r := e.Report(today.AddDate(0, -1, 0))
			r.Identity = cases.Identity{
				FullName: plant("name") + "李小红", OtherNames: []string{plant("alias")}, ClaimedBirthDate: &claimed,
				ApparentAge: 13, IDDocumentType: "id_card", IDNumber: plant("idnumber"), IDSuspected: "borrowed",
				Hometown: plant("hometown"), Address: plant("address"), Phone: plant("phone"),
				Guardians: []cases.Guardian{{Name: plant("guardian"), Relation: "mother", Phone: plant("guardianphone")}},
			}
			r.Narrative = cases.NewNote(plant("narrative"))
			c, err := e.cases.FileCase(ctx, e.actor(e.Auditor), r)
			if err != nil {
				t.Fatal(err)
			}
			c, err = e.cases.Assign(ctx, e.actor(e.Supervisor), c.ID, c.Version, e.Worker.ID)
			if err != nil {
				t.Fatal(err)
			}
			c, _, err = e.cases.Transition(ctx, e.actor(e.Worker), c.ID, c.Version, cases.TransitionRequest{Event: cases.EventBeginVerification, Reason: cases.NewNote(plant("reason"))})
			if err != nil {
				t.Fatal(err)
			}
			c, err = e.cases.RecordVerification(ctx, e.actor(e.Worker), c.ID, c.Version, cases.Verification{
				Method: "id_card", VerifiedBirthDate: claimed, Notes: cases.NewNote(plant("verification"))})
			if err != nil {
				t.Fatal(err)
			}
			c, _, err = e.cases.Transition(ctx, e.actor(e.Worker), c.ID, c.Version, cases.TransitionRequest{Event: cases.EventConfirmChildLabour})
			if err != nil {
				t.Fatal(err)
			}
			c, err = e.cases.PutPlan(ctx, e.actor(e.Worker), c.ID, c.Version, completePlan())
			if err != nil {
				t.Fatal(err)
			}
			c, _, err = e.cases.Transition(ctx, e.actor(e.Supervisor), c.ID, c.Version, cases.TransitionRequest{Event: cases.EventApprovePlan})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.cases.AddFollowUp(ctx, e.actor(e.Worker), c.ID, cases.FollowUpInput{Date: today, Contact: "visit", Concerns: cases.NewNote(plant("concerns"))}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.cases.ReadIdentity(ctx, e.actor(e.Worker), c.ID, cases.ReadReason{Code: "contact_guardian", Detail: cases.NewNote(plant("readdetail"))}); err != nil {
				t.Fatal(err)
			}

			// Refused requests carrying canaries: their errors must not repeat them.
			bad := e.Report(today)
			bad.Identity.FullName = plant("longname") + strings.Repeat("x", 300)
			bad.Identity.IDSuspected = plant("suspected")
			bad.Narrative = cases.NewNote(plant("invalid-utf8") + "\xff")
			_, err = e.cases.FileCase(ctx, e.actor(e.Auditor), bad)
			errs = append(errs, err)
			_, err = e.cases.ReadIdentity(ctx, e.actor(e.Worker), c.ID, cases.ReadReason{Code: plant("reasoncode")})
			errs = append(errs, err)
			_, err = e.cases.ReadIdentity(ctx, e.actor(e.OtherWorker), c.ID, cases.ReadReason{Code: "verify_age", Detail: cases.NewNote(plant("forbidden"))})
			errs = append(errs, err)
			_, _, err = e.cases.Transition(ctx, e.actor(e.Worker), c.ID, c.Version, cases.TransitionRequest{Event: cases.EventDismiss, Reason: cases.NewNote(plant("refusedreason"))})
			errs = append(errs, err)
			for i, err := range errs {
				if err == nil {
					t.Fatalf("refused request %d succeeded", i)
				}
			}

			haystacks := map[string][]byte{"logs": []byte(logs.String())}
			var errText bytes.Buffer
			for _, err := range errs {
				errText.WriteString(err.Error() + "\n" + cases.ErrorMessage(err) + "\n")
				for _, f := range cases.ErrorFailures(err) {
					errText.WriteString(f.Name + " " + f.Message + "\n")
				}
			}
			haystacks["errors"] = errText.Bytes()
			if !strings.Contains(logs.String(), "INSERT INTO") {
				t.Fatal("the SQL trace logged no statement: the log search would prove nothing")
			}
			if dialect == storage.SQLite {
				if err := db.Gorm().Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
					t.Fatal(err)
				}
				files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "*"))
				for _, f := range files {
					data, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					haystacks[filepath.Base(f)] = data
				}
				if len(haystacks["remedy.db"]) == 0 {
					t.Fatal("no database file to search")
				}
			} else {
				haystacks["pg_dump"] = pgDump(t, cfg.DatabaseURL)
			}
			// The search must see plaintext that is meant to be there, or it proves nothing.
			dbText := haystacks["remedy.db"]
			if dialect == storage.Postgres {
				dbText = haystacks["pg_dump"]
			}
			if !bytes.Contains(dbText, []byte("Polaris Apparel")) {
				t.Fatal("the database search does not see the client's name: it would not see a canary either")
			}
			for name, data := range haystacks {
				if bytes.Contains(data, []byte(can.prefix)) {
					i := bytes.Index(data, []byte(can.prefix))
					t.Errorf("a canary leaked into %s: …%q…", name, data[max(0, i-40):min(len(data), i+60)])
				}
			}

			// The right key gives every canary back.
			conf, err := e.cases.ReadIdentity(ctx, e.actor(e.Supervisor), c.ID, cases.ReadReason{Code: "verify_age"})
			if err != nil {
				t.Fatal(err)
			}
			id := conf.Identity
			got := strings.Join([]string{id.FullName, id.OtherNames[0], id.IDNumber, id.Hometown, id.Address, id.Phone,
				id.Guardians[0].Name, id.Guardians[0].Phone, conf.Narrative.Text(), conf.VerificationNotes.Text()}, " ")
			for _, field := range []string{"name", "alias", "idnumber", "hometown", "address", "phone", "guardian", "guardianphone", "narrative", "verification"} {
				if !strings.Contains(got, planted[field]) {
					t.Errorf("opened identity lacks the %s canary", field)
				}
			}
			// Lists never open a note; they only tell that one exists.
			log, _ := e.cases.Transitions(ctx, c.ID)
			fs, _ := e.cases.FollowUps(ctx, c.ID)
			if !log[0].Reason.Empty() || !fs[0].Concerns.Empty() || !log[0].HasReason || !fs[0].HasConcerns {
				t.Error("a list opened a note, or does not tell that there is one")
			}
			notes, err := e.cases.ReadNotes(ctx, e.actor(e.Supervisor), c.ID, cases.ReadReason{Code: "safeguarding"})
			if err != nil {
				t.Fatal(err)
			}
			if notes.Transitions[0].Reason.Text() != planted["reason"] || notes.FollowUps[0].Concerns.Text() != planted["concerns"] ||
				notes.Narrative.Text() != planted["narrative"] || notes.VerificationNotes.Text() != planted["verification"] {
				t.Error("the notes read did not open every note")
			}
		})
	}
}

func pgDump(t *testing.T, dsn string) []byte {
	t.Helper()
	schema := ""
	for _, part := range strings.Split(dsn[strings.Index(dsn, "?")+1:], "&") {
		if v, ok := strings.CutPrefix(part, "search_path="); ok {
			schema = v
		}
	}
	base := dsn[:strings.Index(dsn, "?")]
	cmd := exec.Command("pg_dump", "--no-owner", "--data-only", "-n", schema, base)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_dump: %v: %s", err, stderr.String())
	}
	if !bytes.Contains(out, []byte("COPY "+schema+".cases")) {
		t.Fatalf("pg_dump did not dump the cases table:\n%s", out[:min(len(out), 500)])
	}
	return out
}

// TestSealTamper: sealed values moved between rows or fields, or cut short,
// do not open.
func TestSealTamper(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		a, b := e.mustReach(t, cases.StateVerification), e.mustReach(t, cases.StateVerification)
		read := func(c *cases.Case) error {
			_, err := e.cases.ReadIdentity(ctx, e.actor(e.Supervisor), c.ID, cases.ReadReason{Code: "verify_age"})
			return err
		}
		g := db.Gorm()
		swap := func(table, key, column string, x, y uuid.UUID) {
			t.Helper()
			var vx, vy []byte
			if err := g.Raw("SELECT "+column+" FROM "+table+" WHERE "+key+" = ?", x).Row().Scan(&vx); err != nil {
				t.Fatal(err)
			}
			if err := g.Raw("SELECT "+column+" FROM "+table+" WHERE "+key+" = ?", y).Row().Scan(&vy); err != nil {
				t.Fatal(err)
			}
			if err := g.Exec("UPDATE "+table+" SET "+column+" = ? WHERE "+key+" = ?", vy, x).Error; err != nil {
				t.Fatal(err)
			}
			if err := g.Exec("UPDATE "+table+" SET "+column+" = ? WHERE "+key+" = ?", vx, y).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := read(a); err != nil {
			t.Fatal(err)
		}
		t.Run("ErrSwappedIdentities", func(t *testing.T) {
			swap("cases", "id", "identity_sealed", a.ID, b.ID)
			if read(a) == nil || read(b) == nil {
				t.Fatal("an identity sealed for another case opened")
			}
			swap("cases", "id", "identity_sealed", a.ID, b.ID)
		})
		t.Run("ErrSwappedIdentitiesAndKeys", func(t *testing.T) {
			// Moving the keys along with the data decrypts, but the sealed case id differs.
			swap("cases", "id", "identity_sealed", a.ID, b.ID)
			swap("case_keys", "case_id", "wrapped", a.ID, b.ID)
			err := read(a)
			if err == nil || !strings.Contains(err.Error(), storage.ErrSealMismatch.Error()) {
				t.Fatalf("err = %v, want a seal mismatch", err)
			}
			swap("case_keys", "case_id", "wrapped", a.ID, b.ID)
			swap("cases", "id", "identity_sealed", a.ID, b.ID)
		})
		t.Run("ErrFieldMoved", func(t *testing.T) {
			// The narrative is sealed inside the identity since they are
			// sealed together: copy the identity into the narrative's own
			// column, which a read opens as a narrative.
			var identity []byte
			g.Raw("SELECT identity_sealed FROM cases WHERE id = ?", a.ID).Row().Scan(&identity)
			g.Exec("UPDATE cases SET narrative_sealed = ? WHERE id = ?", identity, a.ID)
			err := read(a)
			if err == nil || !strings.Contains(err.Error(), storage.ErrSealMismatch.Error()) {
				t.Fatalf("err = %v, want a seal mismatch", err)
			}
			g.Exec("UPDATE cases SET narrative_sealed = NULL WHERE id = ?", a.ID)
		})
		t.Run("ErrTruncated", func(t *testing.T) {
			var identity []byte
			g.Raw("SELECT identity_sealed FROM cases WHERE id = ?", a.ID).Row().Scan(&identity)
			g.Exec("UPDATE cases SET identity_sealed = ? WHERE id = ?", identity[:len(identity)-10], a.ID)
			if read(a) == nil {
				t.Fatal("a truncated ciphertext opened")
			}
			g.Exec("UPDATE cases SET identity_sealed = ? WHERE id = ?", identity, a.ID)
		})
		if err := read(a); err != nil {
			t.Fatalf("restored case does not open: %v", err)
		}
	})
}

// TestRotation re-wraps case keys from the server key A to a new key B:
// after it, A opens nothing and B opens everything, and an interrupted
// rotation resumes where it stopped.
func TestRotation(t *testing.T) {
	for _, dialect := range storagetest.Dialects(t) {
		t.Run(string(dialect), func(t *testing.T) {
			keyA, _ := age.GenerateX25519Identity()
			keyB, _ := age.GenerateX25519Identity()
			cfg := storagetest.Config(t, dialect)
			onlyA := storagetest.KeyringOf(t, []*age.X25519Identity{keyA}, []*age.X25519Recipient{keyA.Recipient()}, storagetest.BlindIndexKey)
			db := storagetest.OpenWith(t, cfg, onlyA)
			e := newEnv(t, db)
			var ids []uuid.UUID
			for range 5 {
				ids = append(ids, e.mustReach(t, cases.StateVerification).ID)
			}
			db.Close()

			rotating := storagetest.OpenWith(t, cfg, storagetest.KeyringOf(t, []*age.X25519Identity{keyA}, []*age.X25519Recipient{keyB.Recipient()}, storagetest.BlindIndexKey))
			stopCtx, stop := context.WithCancel(ctx)
			n, err := rotating.RewrapCaseKeys(stopCtx, 2, func(done, total int64) {
				if total != 5 {
					t.Errorf("progress total %d, want 5", total)
				}
				stop() // interrupt after the first batch
			})
			if err == nil || n != 2 {
				t.Fatalf("interrupted run: %d, %v; want 2 and an error", n, err)
			}
			n, err = rotating.RewrapCaseKeys(ctx, 2, nil)
			if err != nil || n != 3 {
				t.Fatalf("resumed run: %d, %v; want the 3 left", n, err)
			}
			if n, _ := rotating.RewrapCaseKeys(ctx, 2, nil); n != 0 {
				t.Fatalf("a finished rotation re-wrapped %d more", n)
			}
			rotating.Close()

			for _, tt := range []struct {
				name  string
				keys  *storage.Keyring
				opens bool
			}{
				{"ErrRotatedOutKey", onlyA, false},
				{"OKNewKey", storagetest.KeyringOf(t, []*age.X25519Identity{keyB}, []*age.X25519Recipient{keyB.Recipient()}, storagetest.BlindIndexKey), true},
			} {
				t.Run(tt.name, func(t *testing.T) {
					db := storagetest.OpenWith(t, cfg, tt.keys)
					svc := storage.NewCaseService(db)
					for _, id := range ids {
						_, err := svc.ReadIdentity(ctx, e.actor(e.Supervisor), id, cases.ReadReason{Code: "verify_age"})
						if (err == nil) != tt.opens {
							t.Fatalf("case %s: err = %v, want opens=%v", id, err, tt.opens)
						}
					}
				})
			}
		})
	}
}

func TestErase(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		audit := storage.NewAuditService(db)
		c := e.mustReach(t, cases.StateFollowUp)
		if _, err := e.cases.AddFollowUp(ctx, e.actor(e.Worker), c.ID, cases.FollowUpInput{Date: today, Contact: "phone", Concerns: cases.NewNote("worried")}); err != nil {
			t.Fatal(err)
		}
		// An open case still needs its identity: erasing it would leave it stuck.
		if err := e.cases.EraseCase(ctx, cases.SystemActor, c.ID); cases.ErrorCode(err) != cases.ECONFLICT {
			t.Fatalf("erasing an open case: %v, want ECONFLICT", err)
		}
		if _, err := e.cases.ReadIdentity(ctx, e.actor(e.Supervisor), c.ID, cases.ReadReason{Code: "verify_age"}); err != nil {
			t.Fatalf("a refused erasure erased: %v", err)
		}
		closed, _, err := e.cases.Transition(ctx, e.actor(e.Supervisor), c.ID, c.Version, cases.TransitionRequest{Event: cases.EventClose, Outcome: cases.OutcomeCompleted})
		if err != nil {
			t.Fatal(err)
		}
		c = closed
		if err := e.cases.EraseCase(ctx, cases.SystemActor, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.cases.ReadIdentity(ctx, e.actor(e.Supervisor), c.ID, cases.ReadReason{Code: "verify_age"}); cases.ErrorCode(err) != cases.ENOTFOUND {
			t.Fatalf("read after erasure: %v, want ENOTFOUND", err)
		}
		var left int64
		db.Gorm().Raw(`SELECT (SELECT count(*) FROM case_keys WHERE case_id = ?) + (SELECT count(*) FROM case_fingerprints WHERE case_id = ?)
			+ (SELECT count(*) FROM cases WHERE id = ? AND (identity_sealed IS NOT NULL OR narrative_sealed IS NOT NULL OR verification_notes_sealed IS NOT NULL OR child_wishes_sealed IS NOT NULL))
			+ (SELECT count(*) FROM follow_ups WHERE case_id = ? AND concerns_sealed IS NOT NULL)
			+ (SELECT count(*) FROM transitions WHERE case_id = ? AND reason_sealed IS NOT NULL)`, c.ID, c.ID, c.ID, c.ID, c.ID).Row().Scan(&left)
		if left != 0 {
			t.Fatalf("%d keys, fingerprints or sealed values survived erasure", left)
		}
		got, err := e.cases.FindCase(ctx, c.ID)
		if err != nil || got.ErasedAt == nil || got.State != cases.StateClosed || *got.AgeAtFound != 15 {
			t.Fatalf("the facts did not survive erasure: %+v, %v", got, err)
		}
		if err := e.cases.EraseCase(ctx, cases.SystemActor, c.ID); cases.ErrorCode(err) != cases.ECONFLICT {
			t.Fatalf("second erasure: %v", err)
		}
		if _, err := audit.Verify(ctx); err != nil {
			t.Fatalf("the chain broke: %v", err)
		}
		entries, _ := audit.CaseEntries(ctx, c.ID)
		if last := entries[len(entries)-1]; last.Action != cases.ActionCaseErased || last.ActorRole != cases.RoleSystem {
			t.Fatalf("last entry %+v", last)
		}

		t.Run("Retention", func(t *testing.T) {
			closed := e.mustReach(t, cases.StateClosed)
			open := e.mustReach(t, cases.StateFollowUp)
			n, err := e.cases.EraseClosedBefore(ctx, today.Add(-time.Hour))
			if err != nil || n != 0 {
				t.Fatalf("erased %d closed before the cutoff, %v; want 0", n, err)
			}
			n, err = e.cases.EraseClosedBefore(ctx, today.Add(time.Hour))
			if err != nil || n != 1 {
				t.Fatalf("erased %d, %v; want 1", n, err)
			}
			for id, erased := range map[uuid.UUID]bool{closed.ID: true, open.ID: false} {
				got, _ := e.cases.FindCase(ctx, id)
				if (got.ErasedAt != nil) != erased {
					t.Errorf("case %s erased = %v, want %v", got.Code, got.ErasedAt != nil, erased)
				}
			}
		})
	})
}

// TestBlindIndex: the same child filed again at another factory for another
// brand, with the ID number written differently, is linked to the first case.
func TestBlindIndex(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		birth := time.Date(2011, 5, 17, 0, 0, 0, 0, time.UTC)
		file := func(client uuid.UUID, id cases.Identity) *cases.Case {
			t.Helper()
			r := e.Report(today)
			r.ClientID, r.Identity = client, id
			c, err := e.cases.FileCase(ctx, e.actor(e.Auditor), r)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		first := file(e.Client.ID, cases.Identity{FullName: "Li Xiaohong", ClaimedBirthDate: &birth, IDNumber: "44190020110517123x"})
		byID := file(e.OtherClient.ID, cases.Identity{FullName: "Wang Fang", IDNumber: "４４１９００ 2011-0517 123X"})
		byName := file(e.OtherClient.ID, cases.Identity{FullName: "  li   XIAOHONG ", ClaimedBirthDate: &birth})
		other := birth.AddDate(0, 0, 1)
		stranger := file(e.Client.ID, cases.Identity{FullName: "Li Xiaohong", ClaimedBirthDate: &other, IDNumber: "440100201105181111"})

		links := func(c *cases.Case) map[string]string {
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
		if got := links(byID); len(got) != 1 || got[first.Code] != "id_number" {
			t.Errorf("byID links %v, want %s on id_number", got, first.Code)
		}
		if got := links(byName); len(got) != 1 || got[first.Code] != "name_birth_date" {
			t.Errorf("byName links %v, want %s on name_birth_date", got, first.Code)
		}
		if got := links(first); len(got) != 2 {
			t.Errorf("first links %v, want both later cases", got)
		}
		if got := links(stranger); len(got) != 0 {
			t.Errorf("a different child was linked: %v", got)
		}
		entries, _ := storage.NewAuditService(db).CaseEntries(ctx, byID.ID)
		found := false
		for _, en := range entries {
			found = found || en.Action == cases.ActionCaseLinked && en.Details["linked_case_id"] == first.ID.String()
		}
		if !found {
			t.Error("the link was not audited")
		}
	})
}
