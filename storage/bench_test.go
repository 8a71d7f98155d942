package storage_test

import (
	"crypto/md5"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// seedCases inserts n cases in SQL, spread over 20 clients, 50 factories,
// 10 case workers and every state, with UUIDv7-shaped ids in filing order.
// It returns one client and one worker to filter on.
func seedCases(tb testing.TB, db *storage.DB, n int) (client, worker uuid.UUID) {
	tb.Helper()
	g := db.Gorm()
	stmts := []string{
		`INSERT INTO clients (id, name, active, created_at)
		 SELECT ('00000000-0000-7000-8000-' || lpad(i::text, 12, '0'))::uuid, 'Brand ' || i, true, now()
		 FROM generate_series(1, 20) i`,
		`INSERT INTO factories (id, name, province, city, created_at)
		 SELECT ('00000000-0000-7000-9000-' || lpad(i::text, 12, '0'))::uuid, 'Factory ' || i, 'Guangdong', 'Dongguan', now()
		 FROM generate_series(1, 50) i`,
		`INSERT INTO users (id, email, name, role, created_at)
		 SELECT ('00000000-0000-7000-a000-' || lpad(i::text, 12, '0'))::uuid, 'worker' || i || '@example.org', 'Worker', 'caseworker', now()
		 FROM generate_series(0, 10) i`,
		`INSERT INTO cases (id, code, client_id, factory_id, state, version, assignee_id, filed_by, found_on, gender,
		   presence, job, hazards, hours_per_week, wage_amount, wage_currency, recruitment, removed_from_work, child_safe,
		   verification_method, age_at_found, outcome, follow_up_since, last_follow_up_on, created_at, updated_at, closed_at,
		   uncovered_from, plan_end_on, working_again_since)
		 SELECT (lpad(to_hex(1700000000000 + i * 1000), 12, '0') || '7' || substr(md5(i::text), 1, 3) || '8' || substr(md5(i::text), 4, 15))::uuid,
		   'CL-2026-' || lpad(i::text, 6, '0'),
		   ('00000000-0000-7000-8000-' || lpad((1 + i % 20)::text, 12, '0'))::uuid,
		   ('00000000-0000-7000-9000-' || lpad((1 + i % 50)::text, 12, '0'))::uuid,
		   s.state, 1,
		   ('00000000-0000-7000-a000-' || lpad((1 + i % 10)::text, 12, '0'))::uuid,
		   '00000000-0000-7000-a000-000000000000'::uuid,
		   date '2026-01-01' + (i % 300), 'female', 'employed', 'sewing', 'machinery', 60, 200000, 'CNY', 'borrowed_id', true, true,
		   CASE WHEN s.state IN ('planning', 'follow_up') THEN 'id_card' END,
		   CASE WHEN s.state IN ('planning', 'follow_up') THEN 14 END,
		   CASE WHEN s.state = 'closed' THEN 'completed' END,
		   CASE WHEN s.state = 'follow_up' THEN timestamptz '2026-03-01' END,
		   CASE WHEN s.state = 'follow_up' AND i % 3 = 0 THEN date '2026-10-15' END,
		   now(), now(),
		   CASE WHEN s.state = 'closed' THEN now() END,
		   CASE WHEN s.state = 'follow_up' THEN (CASE WHEN i % 3 = 0 THEN date '2026-11-01' ELSE date '2026-03-01' END) END,
		   CASE WHEN s.state = 'follow_up' THEN date '2027-07-31' - (i % 700) END,
		   CASE WHEN s.state = 'follow_up' AND i % 97 = 0 THEN date '2026-10-20' END
		 FROM generate_series(1, ?) i
		 CROSS JOIN LATERAL (SELECT (ARRAY['intake', 'verification', 'planning', 'follow_up', 'closed'])[1 + (i / 20) % 5] AS state) s`,
		`ANALYZE`,
	}
	for _, s := range stmts {
		var err error
		if strings.Contains(s, "?") {
			err = g.Exec(s, n).Error
		} else {
			err = g.Exec(s).Error
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	return uuid.MustParse("00000000-0000-7000-8000-000000000003"), uuid.MustParse("00000000-0000-7000-a000-000000000004")
}

var rowsRemoved = regexp.MustCompile(`Rows Removed by Filter: (\d+)`)

// deepCursor is the id of the 90,000th newest of seedCases' cases: a page
// after it is a page far down the list.
var deepCursor = uuid.NullUUID{UUID: seededID(10_000), Valid: true}

// seededID is the id seedCases gives its case i.
func seededID(i int) uuid.UUID {
	sum := fmt.Sprintf("%x", md5.Sum([]byte(strconv.Itoa(i))))
	return uuid.MustParse(fmt.Sprintf("%012x", 1700000000000+i*1000) + "7" + sum[:3] + "8" + sum[3:18])
}

func listFilters(client, worker uuid.UUID) map[string]cases.CaseFilter {
	return map[string]cases.CaseFilter{
		"all":              {},
		"client":           {ClientID: uuid.NullUUID{UUID: client, Valid: true}},
		"client_and_state": {ClientID: uuid.NullUUID{UUID: client, Valid: true}, State: cases.StateFollowUp},
		"assignee":         {AssigneeID: uuid.NullUUID{UUID: worker, Valid: true}},
		"overdue":          {OverdueAsOf: today},
		"due_to_close":     {DueToCloseAsOf: today},
		"alert":            {Alert: true},
		"code":             {Code: "CL-2026-004242"},
		"q_code":           {Query: "00424"},
		"q_year_and_code":  {Query: "2026-00424"},
		"q_factory":        {Query: "factory 7"},
		"deep_cursor":      {After: deepCursor},
		"state_deep":       {State: cases.StateIntake, After: deepCursor},
	}
}

// TestListUsesIndexPostgres shows with EXPLAIN that every list filter over
// 100,000 cases, and a cursor deep down the list, reads an index, never the
// whole table: overdue by uncovered_from, due to close by plan_end_on,
// alerts, a code, a search by a part of a code (trigram index) or of a
// factory's name.
func TestListUsesIndexPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 cases")
	}
	db := storagetest.Open(t, storage.Postgres)
	client, worker := seedCases(t, db, 100_000)
	svc := storage.NewCaseService(db)
	for name, f := range listFilters(client, worker) {
		plan, err := svc.ExplainList(f, 50)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s:\n%s", name, plan)
		if strings.Contains(plan, "Seq Scan on cases") || !strings.Contains(plan, "Index") {
			t.Errorf("%s: the plan does not use an index:\n%s", name, plan)
		}
		// An index that serves the filter reads a small part of the table
		// for a page: at most 5%. (A search by a factory's name that one
		// case in 50 matches walks the newest cases and skips about 2,500:
		// cheaper, by PostgreSQL's own estimate, than collecting and
		// sorting all 2,000 of the factory's cases.)
		for _, m := range rowsRemoved.FindAllStringSubmatch(plan, -1) {
			if n, _ := strconv.Atoi(m[1]); n > 5000 {
				t.Errorf("%s: the plan filters out %d rows for one page:\n%s", name, n, plan)
			}
		}
	}
}

// BenchmarkListCasesPostgres lists a page of 50 out of 100,000 cases.
//
//	REMEDY_TEST_POSTGRES_URL=... go test ./storage -run '^$' -bench ListCases -benchmem
func BenchmarkListCasesPostgres(b *testing.B) {
	db := storagetest.Open(b, storage.Postgres)
	client, worker := seedCases(b, db, 100_000)
	svc := storage.NewCaseService(db)
	for name, f := range listFilters(client, worker) {
		b.Run(name, func(b *testing.B) {
			f.Limit = 50
			for b.Loop() {
				page, err := svc.ListCases(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Cases) == 0 {
					b.Fatal("empty page")
				}
			}
		})
	}
}

// BenchmarkFileCasePostgres files cases one after the other into a
// database that already holds 1,000 or 100,000, and reports the median and
// 99th percentile of a filing: the time to file should not grow with the
// number of cases.
//
//	REMEDY_TEST_POSTGRES_URL=... go test ./storage -run '^$' -bench FileCase -benchtime 2000x
func BenchmarkFileCasePostgres(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("cases=%d", n), func(b *testing.B) {
			db := storagetest.Open(b, storage.Postgres)
			client, worker := seedCases(b, db, n)
			svc := storage.NewCaseService(db)
			actor := cases.Actor{UserID: worker, Role: cases.RoleSupervisor}
			birth := time.Date(2012, 3, 4, 0, 0, 0, 0, time.UTC)
			var took []time.Duration
			i := 0
			for b.Loop() {
				i++
				r := cases.Report{ClientID: client, FactoryID: uuid.MustParse("00000000-0000-7000-9000-000000000007"),
					FoundOn: today.AddDate(0, 0, -3), Gender: cases.GenderFemale, Presence: cases.PresenceEmployed,
					Job: "packing", HoursPerWeek: 60, MonthlyWage: cases.Money{Amount: 200000, Currency: "CNY"},
					Recruitment: "borrowed_id", RemovedFromWork: true, ChildSafe: true,
					Identity: cases.Identity{FullName: fmt.Sprintf("Bench Child %d", i), ClaimedBirthDate: &birth,
						IDNumber: fmt.Sprintf("44190020120304%04d", i%10000)},
					Narrative: cases.NewNote("Found at the packing line.")}
				start := time.Now()
				if _, err := svc.FileCase(ctx, actor, r); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
		})
	}
}
