package storage_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// auditLogRows matches a plan node that reads audit_log, with its rows per
// loop and its loops.
var auditLogRows = regexp.MustCompile(`on audit_log \w+ \(actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)\)`)

// TestSealerReadsOnlyPendingPostgres shows with EXPLAIN that the sealer
// reads from audit_log the pending entries and no others, however long
// the log: as a join with the queue, PostgreSQL read the whole log from
// its first entry, a seal dearer with every entry ever written.
func TestSealerReadsOnlyPendingPostgres(t *testing.T) {
	db := storagetest.Open(t, storage.Postgres)
	// A log of 20,000 sealed entries, and statistics taken while all of
	// them were pending: the queue's statistics are stale as a rule.
	err := db.Gorm().Exec(`INSERT INTO audit_log (at, actor_role, action, subject, details)
		SELECT now(), 'system', 'test', 'seeded', '{}' FROM generate_series(1, 20000)`).Error
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm().Exec("ANALYZE audit_pending").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.SealAudit(ctx); err != nil {
		t.Fatal(err)
	}
	plan, err := db.ExplainPendingEntries(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("plan:\n%s", plan)
	nodes := auditLogRows.FindAllStringSubmatch(plan, -1)
	if len(nodes) == 0 {
		t.Fatalf("no node of the plan reads audit_log:\n%s", plan)
	}
	read := 0
	for _, m := range nodes {
		rows, _ := strconv.Atoi(m[1])
		loops, _ := strconv.Atoi(m[2])
		read += rows * loops
	}
	if read != 20 {
		t.Errorf("the sealer read %d entries of audit_log for 20 pending:\n%s", read, plan)
	}
	if !strings.Contains(plan, "rows=20 ") {
		t.Errorf("the plan does not return the 20 pending entries:\n%s", plan)
	}
}
