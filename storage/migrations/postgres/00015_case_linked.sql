-- +goose Up
-- Whether a case has a link to another (case_links), kept by the database
-- itself: a list page reads the links of only the cases marked, and a page
-- without one (nearly every page: a child found twice is rare) skips the
-- query of links, a round trip of its own (storage/case.go, ListCases).
ALTER TABLE cases ADD COLUMN linked boolean NOT NULL DEFAULT false;
UPDATE cases SET linked = true
    WHERE id IN (SELECT case_id FROM case_links UNION SELECT linked_id FROM case_links);

-- +goose StatementBegin
CREATE FUNCTION case_links_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cases SET linked = true WHERE id IN (NEW.case_id, NEW.linked_id) AND NOT linked;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER case_links_mark AFTER INSERT ON case_links
    FOR EACH ROW EXECUTE FUNCTION case_links_mark();

-- +goose Down
DROP TRIGGER case_links_mark ON case_links;
DROP FUNCTION case_links_mark();
ALTER TABLE cases DROP COLUMN linked;
