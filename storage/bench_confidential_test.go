package storage_test

import (
	"runtime"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

func benchIdentity() cases.Identity {
	birth := time.Date(2011, 5, 17, 0, 0, 0, 0, time.UTC)
	return cases.Identity{FullName: "李小红", OtherNames: []string{"Li Xiaohong"}, ClaimedBirthDate: &birth,
		IDDocumentType: "id_card", IDNumber: "44190020110517123X", Hometown: "四川省 广安市", Address: "东莞市 长安镇 宿舍 3 栋",
		Phone: "+86 138 0000 0000", Guardians: []cases.Guardian{{Name: "李建国", Relation: "father", Phone: "+86 139 0000 0000"}}}
}

// BenchmarkSealIdentity: seal one identity under its case key (per op).
func BenchmarkSealIdentity(b *testing.B) {
	keys := storagetest.Keyring(b)
	ck, _, err := keys.NewCaseKey()
	if err != nil {
		b.Fatal(err)
	}
	id, caseID := benchIdentity(), uuid.Must(uuid.NewV7())
	for b.Loop() {
		if _, err := storage.SealIdentity(ck, caseID, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenIdentity: unwrap the case key and open one identity (per
// op), as a read does: cold, the case key unwrapped with the server's
// identity; warm, found among the keys unwrapped lately (keycache.go).
func BenchmarkOpenIdentity(b *testing.B) {
	keys := storagetest.Keyring(b)
	ck, wrapped, err := keys.NewCaseKey()
	if err != nil {
		b.Fatal(err)
	}
	caseID := uuid.Must(uuid.NewV7())
	sealed, err := storage.SealIdentity(ck, caseID, benchIdentity())
	if err != nil {
		b.Fatal(err)
	}
	for _, bench := range []struct {
		name   string
		unwrap func([]byte) (*storage.CaseKey, error)
	}{{"cold", keys.UnwrapCaseKeyNow}, {"warm", keys.UnwrapCaseKey}} {
		b.Run(bench.name, func(b *testing.B) {
			for b.Loop() {
				k, err := bench.unwrap(wrapped)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := storage.OpenIdentity(k, caseID, sealed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRewrap10000Postgres re-wraps 10,000 case keys per op, from one
// server key to another and back.
func BenchmarkRewrap10000Postgres(b *testing.B) {
	const n = 10_000
	a, _ := age.GenerateX25519Identity()
	c, _ := age.GenerateX25519Identity()
	both := []*age.X25519Identity{a, c}
	toA := storagetest.KeyringOf(b, both, []*age.X25519Recipient{a.Recipient()}, storagetest.BlindIndexKey)
	toC := storagetest.KeyringOf(b, both, []*age.X25519Recipient{c.Recipient()}, storagetest.BlindIndexKey)
	cfg := storagetest.Config(b, storage.Postgres)
	dbA := storagetest.OpenWith(b, cfg, toA)
	dbC := storagetest.OpenWith(b, cfg, toC)
	seedCases(b, dbA, n)
	var ids []uuid.UUID
	if err := dbA.Gorm().Raw("SELECT id FROM cases").Scan(&ids).Error; err != nil {
		b.Fatal(err)
	}
	tx := dbA.Gorm().Begin()
	for _, id := range ids {
		_, wrapped, err := toA.NewCaseKey()
		if err != nil {
			b.Fatal(err)
		}
		if err := tx.Exec("INSERT INTO case_keys (case_id, wrapped, created_at, recipients) VALUES (?, ?, now(), '')", id, wrapped).Error; err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit().Error; err != nil {
		b.Fatal(err)
	}
	dbs := []*storage.DB{dbC, dbA}
	i := 0
	for b.Loop() {
		done, err := dbs[i%2].RewrapCaseKeys(ctx, 500, nil)
		if err != nil || done != n {
			b.Fatalf("re-wrapped %d, %v", done, err)
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(i*n), "µs/key")
}

// BenchmarkAuditAppendPostgres appends audit entries from 8 concurrent
// writers; each op is one entry in its own transaction.
func BenchmarkAuditAppendPostgres(b *testing.B) {
	db := storagetest.Open(b, storage.Postgres)
	audit := storage.NewAuditService(db)
	b.SetParallelism((8 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.RunParallel(func(pb *testing.PB) {
		actor := cases.Actor{UserID: uuid.Must(uuid.NewV7()), Role: cases.RoleCaseWorker}
		for pb.Next() {
			if err := audit.Append(ctx, actor, cases.ActionSignIn, "bench", map[string]string{"n": "1"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	// How far the sealer was behind when the writers stopped.
	var pending int64
	db.Gorm().Raw("SELECT count(*) FROM audit_pending").Scan(&pending)
	b.ReportMetric(float64(pending), "pending")
	if n, err := audit.Verify(ctx); err != nil {
		b.Fatalf("chain broken after %d entries: %v", n, err)
	}
}
