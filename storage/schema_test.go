package storage_test

import (
	"context"
	"database/sql"
	"reflect"
	"sort"
	"testing"

	"gorm.io/gorm"

	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// TestSchemaMatchesModels proves that the SQL migrations build exactly the
// tables the gorm row types expect: same columns both ways, and every column
// that may be NULL read into a field that can hold NULL.
func TestSchemaMatchesModels(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		g := db.Gorm()
		for _, model := range storage.Models {
			stmt := &gorm.Statement{DB: g}
			if err := stmt.Parse(model); err != nil {
				t.Fatal(err)
			}
			table := stmt.Schema.Table
			t.Run(table, func(t *testing.T) {
				columns, err := g.Migrator().ColumnTypes(model)
				if err != nil {
					t.Fatalf("table %s: %v", table, err)
				}
				var got, want []string
				nullable := map[string]bool{}
				for _, c := range columns {
					got = append(got, c.Name())
					n, ok := c.Nullable()
					if !ok {
						t.Fatalf("%s.%s: the driver does not report nullability", table, c.Name())
					}
					nullable[c.Name()] = n
				}
				for _, f := range stmt.Schema.Fields {
					if f.DBName == "" {
						continue
					}
					want = append(want, f.DBName)
					if nullable[f.DBName] && !canHoldNull(f.FieldType) {
						t.Errorf("%s.%s is nullable but the model's %s cannot hold NULL", table, f.DBName, f.FieldType)
					}
				}
				sort.Strings(got)
				sort.Strings(want)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("columns of %s:\n got (migrated) %v\nwant (model)    %v", table, got, want)
				}
			})
		}
	})
}

func canHoldNull(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		return true
	}
	// sql.Null* and uuid.NullUUID carry a Valid flag.
	if t.Kind() != reflect.Struct {
		return false
	}
	_, ok := t.FieldByName("Valid")
	return ok
}

func TestMigrateTwice(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		applied, err := db.Migrate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Fatalf("second migration applied %v, want nothing", applied)
		}
		current, latest, err := db.MigrationStatus(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if current != latest || latest == 0 {
			t.Fatalf("version %d of %d", current, latest)
		}
	})
}

// TestSQLitePragmas: every pooled connection enforces foreign keys, in WAL
// mode, with a busy timeout.
func TestSQLitePragmas(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	sqlDB, err := db.Gorm().DB()
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]*sql.Conn, 3) // hold several, so each is its own connection
	for i := range conns {
		if conns[i], err = sqlDB.Conn(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer conns[i].Close()
		var fk, timeout int
		var mode string
		row := conns[i].QueryRowContext(context.Background(), "SELECT foreign_keys, journal_mode, timeout FROM pragma_foreign_keys, pragma_journal_mode, pragma_busy_timeout")
		if err := row.Scan(&fk, &mode, &timeout); err != nil {
			t.Fatal(err)
		}
		if fk != 1 || mode != "wal" || timeout < 5000 {
			t.Fatalf("connection %d: foreign_keys=%d journal_mode=%s busy_timeout=%d", i, fk, mode, timeout)
		}
	}
}
