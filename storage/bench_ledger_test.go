package storage_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// seedLedger gives one brand n cases in follow-up since 36 months before
// November 2026, each with an approved plan (every other one split 60/40)
// and a payment by each payer for every month, in SQL: a brand's ledger
// over three years at scale.
func seedLedger(tb testing.TB, db *storage.DB, n int) uuid.UUID {
	tb.Helper()
	client := uuid.MustParse("00000000-0000-7000-8000-0000000000c1")
	stmts := []string{
		`INSERT INTO clients (id, name, active, created_at) VALUES ('00000000-0000-7000-8000-0000000000c1', 'Ledger Brand', true, now())`,
		`INSERT INTO factories (id, name, province, city, created_at) VALUES ('00000000-0000-7000-9000-0000000000f1', 'Ledger Factory', '广东', '东莞', now())`,
		`INSERT INTO users (id, email, name, role, created_at) VALUES ('00000000-0000-7000-a000-0000000000a1', 'ledger@example.org', 'Ledger', 'supervisor', now())`,
		`INSERT INTO cases (id, code, client_id, factory_id, state, version, filed_by, found_on, gender, presence, job, hazards,
		   hours_per_week, wage_amount, wage_currency, recruitment, removed_from_work, child_safe, verification_method,
		   age_at_found, follow_up_since, uncovered_from, plan_end_on, created_at, updated_at)
		 SELECT ('00000000-0000-7000-b000-' || lpad(i::text, 12, '0'))::uuid, 'CL-2023-' || lpad(i::text, 5, '0'),
		   '00000000-0000-7000-8000-0000000000c1', '00000000-0000-7000-9000-0000000000f1', 'follow_up', 1,
		   '00000000-0000-7000-a000-0000000000a1', date '2023-10-01', 'female', 'employed', 'sewing', '', 60, 0, 'CNY',
		   'unknown', true, true, 'id_card', 13, timestamptz '2023-11-02', date '2026-11-01', date '2027-07-31', now(), now()
		 FROM generate_series(1, ?) i`,
		`INSERT INTO plan_versions (case_id, approved_at, approved_by, enrolment_date, end_date, currency, monthly_stipend,
		   tuition_cost, travel_cost, payer, factory_share_pct)
		 SELECT ('00000000-0000-7000-b000-' || lpad(i::text, 12, '0'))::uuid, timestamptz '2023-11-02',
		   '00000000-0000-7000-a000-0000000000a1', date '2023-11-01', date '2027-07-31', 'CNY', 80000, 0, 0,
		   CASE WHEN i % 2 = 0 THEN 'split' ELSE 'brand' END, CASE WHEN i % 2 = 0 THEN 60 ELSE 0 END
		 FROM generate_series(1, ?) i`,
		`INSERT INTO payments (id, case_id, payer, payer_id, amount, currency, paid_on, month, method, proof_ref, recorded_by, created_at)
		 SELECT gen_random_uuid(), ('00000000-0000-7000-b000-' || lpad(i::text, 12, '0'))::uuid, p.payer,
		   CASE p.payer WHEN 'factory' THEN '00000000-0000-7000-9000-0000000000f1'::uuid ELSE '00000000-0000-7000-8000-0000000000c1'::uuid END,
		   CASE WHEN i % 2 = 0 THEN (CASE p.payer WHEN 'factory' THEN 48000 ELSE 32000 END) ELSE 80000 END,
		   'CNY', (date '2023-11-01' + (m || ' months')::interval)::date, (date '2023-11-01' + (m || ' months')::interval)::date,
		   'bank_transfer', 'P-' || i || '-' || m || '-' || p.payer, '00000000-0000-7000-a000-0000000000a1', now()
		 FROM generate_series(1, ?) i
		 CROSS JOIN generate_series(0, 35) m
		 CROSS JOIN (VALUES ('factory'), ('brand')) p (payer)
		 WHERE i % 2 = 0 OR p.payer = 'brand'`,
		`ANALYZE`,
	}
	for _, s := range stmts {
		var err error
		if strings.Contains(s, "?") {
			err = db.Gorm().Exec(s, n).Error
		} else {
			err = db.Gorm().Exec(s).Error
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	// The ledger lines follow from the rules in Go, as after a migration.
	if err := db.RecomputeLedgers(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := db.Gorm().Exec("ANALYZE").Error; err != nil {
		tb.Fatal(err)
	}
	return client
}

// BenchmarkBrandLedgerPostgres reconciles a brand's 1,000 cases over 36
// months (54,000 payments): the brand's summary, kept in step with every
// case's ledger, summed by month and payer, and its cases in arrears.
//
//	REMEDY_TEST_POSTGRES_URL=... go test ./storage -run '^$' -bench BrandLedger -benchmem
func BenchmarkBrandLedgerPostgres(b *testing.B) {
	db := storagetest.Open(b, storage.Postgres)
	db.Now = func() time.Time { return time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC) }
	client := seedLedger(b, db, 1000)
	svc := storage.NewLedgerService(db)
	f := cases.LedgerFilter{ClientID: client, From: cases.Month{Year: 2023, Month: time.November}, To: cases.Month{Year: 2026, Month: time.October}}
	for b.Loop() {
		bl, err := svc.BrandLedger(ctx, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(bl.Months) != 36 || bl.Months[35].Lines[0].Due == 0 || len(bl.InArrears) != 0 {
			b.Fatalf("%d months, %d in arrears", len(bl.Months), len(bl.InArrears))
		}
	}
}
