package storage

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
)

// TestSQLLogHasNoParameters: a statement that fails, or that is traced, is
// logged with its SQL and never with its values, which may be a name
// someone searched for, an email, or a fingerprint.
func TestSQLLogHasNoParameters(t *testing.T) {
	const canary = "CANARY-ZHANG-XIAOMING-2011"
	for _, trace := range []bool{false, true} {
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, nil))
		g, err := gorm.Open(sqlite.Open("file::memory:"), gormConfig(log, trace))
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Exec("CREATE TABLE people (name TEXT UNIQUE)").Error; err != nil {
			t.Fatal(err)
		}
		if err := g.Exec("INSERT INTO people (name) VALUES (?)", canary).Error; err != nil {
			t.Fatal(err)
		}
		if err := g.Exec("INSERT INTO people (name) VALUES (?)", canary).Error; err == nil {
			t.Fatal("the second insert of one name succeeded")
		}
		var n int
		if err := g.Raw("SELECT count(*) FROM people WHERE name = ?", canary).Scan(&n).Error; err != nil || n != 1 {
			t.Fatalf("count %d, %v", n, err)
		}
		logged := buf.String()
		if !strings.Contains(logged, "INSERT INTO people") {
			t.Fatalf("trace %v: the failed statement was not logged: %s", trace, logged)
		}
		if strings.Contains(logged, "CANARY") {
			t.Fatalf("trace %v: a parameter reached the log: %s", trace, logged)
		}
	}
}
