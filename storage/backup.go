package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// BackupTo writes a consistent copy of the embedded database to path, which
// must not exist: SQLite's VACUUM INTO reads one snapshot while writers go
// on. A PostgreSQL database is backed up with pg_dump instead (see the
// README). The copy holds sealed data and wrapped keys only; without the age
// identity it opens nothing.
func (db *DB) BackupTo(ctx context.Context, path string) error {
	if db.dialect != SQLite {
		return errors.New("storage: back up PostgreSQL with pg_dump (see the README)")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err == nil {
		return fmt.Errorf("storage: %s exists; a backup never overwrites a file", path)
	}
	if err := db.gorm.WithContext(ctx).Exec("VACUUM INTO ?", abs).Error; err != nil {
		return fmt.Errorf("storage: backup: %w", err)
	}
	return os.Chmod(abs, 0o600)
}
