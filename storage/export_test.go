package storage

import (
	"strings"

	"gorm.io/gorm"

	cases "github.com/remedy-cases/remedy/case"
)

// Models exposes the row types to the black-box schema test.
var Models = models

// ExplainList returns PostgreSQL's executed plan of the list query for f.
func (s *CaseService) ExplainList(f cases.CaseFilter, limit int) (string, error) {
	query := s.db.gorm.ToSQL(func(tx *gorm.DB) *gorm.DB {
		var rows []caseRow
		return s.listQuery(tx, f).Limit(limit + 1).Find(&rows)
	})
	var lines []string
	err := s.db.gorm.Raw("EXPLAIN (ANALYZE, COSTS OFF) " + query).Scan(&lines).Error
	return strings.Join(lines, "\n"), err
}
