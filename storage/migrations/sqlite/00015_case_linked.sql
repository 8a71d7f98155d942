-- +goose Up
-- Whether a case has a link to another (case_links), kept by the database
-- itself: a list page reads the links of only the cases marked
-- (storage/case.go, ListCases).
ALTER TABLE cases ADD COLUMN linked BOOLEAN NOT NULL DEFAULT false;
UPDATE cases SET linked = true
    WHERE id IN (SELECT case_id FROM case_links UNION SELECT linked_id FROM case_links);

-- +goose StatementBegin
CREATE TRIGGER case_links_mark AFTER INSERT ON case_links
BEGIN
    UPDATE cases SET linked = true WHERE id IN (NEW.case_id, NEW.linked_id) AND NOT linked;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER case_links_mark;
ALTER TABLE cases DROP COLUMN linked;
