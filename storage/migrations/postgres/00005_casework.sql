-- +goose Up
-- Case work as it really happens: verification keeps the guardians' contact
-- and the child's wishes (sealed); the intake form's facts of the field; the
-- resident ID's check digit; service clocks; one follow-up owed for every
-- month of follow-up; the end date of the approved plan; the working-again
-- alert; closing from planning and reopening a dismissal; the blind index's
-- name variants; factories with English names and the brands they supply;
-- and the indexes that reading the audit trail and searching cases need.

ALTER TABLE cases
    ADD COLUMN guardians_contacted      boolean NOT NULL DEFAULT false,
    ADD COLUMN guardians_contacted_on   date,
    ADD COLUMN guardians_contact_method text CHECK (guardians_contact_method IN ('visit', 'phone', 'video', 'message')),
    ADD COLUMN child_wishes_sealed      bytea,
    ADD COLUMN other_children_found     integer NOT NULL DEFAULT 0 CHECK (other_children_found BETWEEN 0 AND 1000),
    ADD COLUMN labour_agent             text NOT NULL DEFAULT 'unknown' CHECK (labour_agent IN ('yes', 'no', 'unknown')),
    ADD COLUMN factory_consent          text NOT NULL DEFAULT 'unknown' CHECK (factory_consent IN ('yes', 'no', 'unknown')),
    ADD COLUMN id_checksum_valid        boolean,
    ADD COLUMN first_contact_at         timestamptz,
    ADD COLUMN first_plan_approved_at   timestamptz,
    -- The approved plan's end date, while the case is in follow-up.
    ADD COLUMN plan_end_on              date,
    -- The first day of the first month of the current follow-up period that
    -- has no follow-up: the case is overdue once that month has ended.
    ADD COLUMN uncovered_from           date,
    -- A follow-up found the child working again; a supervisor decides.
    ADD COLUMN working_again_since      date;

-- Cases already in follow-up: the months from the approval month on are
-- covered up to the first one without a follow-up (months in UTC).
UPDATE cases c SET
    plan_end_on = (SELECT p.end_date FROM plans p WHERE p.case_id = c.id),
    uncovered_from = (
        SELECT min(m)::date FROM generate_series(
            date_trunc('month', c.follow_up_since AT TIME ZONE 'UTC'),
            date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month', interval '1 month') AS m
        WHERE NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.case_id = c.id AND date_trunc('month', f.date) = m))
WHERE state = 'follow_up';

UPDATE cases c SET first_plan_approved_at =
    (SELECT min(t.at) FROM transitions t WHERE t.case_id = c.id AND t.event = 'approve_plan');

ALTER TABLE cases
    ADD CONSTRAINT cases_follow_up_owed_check CHECK (state <> 'follow_up' OR uncovered_from IS NOT NULL),
    ADD CONSTRAINT cases_guardians_contact_check CHECK (guardians_contacted OR (guardians_contacted_on IS NULL AND guardians_contact_method IS NULL));

DROP INDEX cases_follow_up_idx;
CREATE INDEX cases_uncovered_idx ON cases (uncovered_from, id) WHERE state = 'follow_up';
CREATE INDEX cases_plan_end_idx ON cases (plan_end_on, id) WHERE state = 'follow_up';
CREATE INDEX cases_alert_idx ON cases (id) WHERE working_again_since IS NOT NULL;
-- Search by a code or its beginning.
CREATE INDEX cases_code_pattern_idx ON cases (code text_pattern_ops);

ALTER TABLE transitions DROP CONSTRAINT transitions_event_check;
ALTER TABLE transitions ADD CONSTRAINT transitions_event_check CHECK (event IN
    ('begin_verification', 'confirm_child_labour', 'dismiss', 'approve_plan', 'revise_plan', 'close', 'reopen', 'reopen_dismissed'));

ALTER TABLE case_fingerprints DROP CONSTRAINT case_fingerprints_kind_check;
ALTER TABLE case_fingerprints ADD CONSTRAINT case_fingerprints_kind_check CHECK (kind IN
    ('id_number', 'name_birth_date', 'name_variant_birth_date'));

ALTER TABLE factories ADD COLUMN name_en text NOT NULL DEFAULT '';

-- The brands a factory supplies.
CREATE TABLE factory_clients (
    factory_id uuid NOT NULL REFERENCES factories (id) ON DELETE CASCADE,
    client_id  uuid NOT NULL REFERENCES clients (id),
    PRIMARY KEY (factory_id, client_id)
);

CREATE INDEX factory_clients_client_idx ON factory_clients (client_id);

-- Every case's brand is one its factory supplies.
INSERT INTO factory_clients (factory_id, client_id)
    SELECT DISTINCT factory_id, client_id FROM cases;

-- Reading the trail by actor, action or time.
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, seq) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_action_idx ON audit_log (action, seq);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- +goose Down
DROP INDEX audit_log_at_idx;
DROP INDEX audit_log_action_idx;
DROP INDEX audit_log_actor_idx;
DROP TABLE factory_clients;
ALTER TABLE factories DROP COLUMN name_en;
ALTER TABLE case_fingerprints DROP CONSTRAINT case_fingerprints_kind_check;
ALTER TABLE case_fingerprints ADD CONSTRAINT case_fingerprints_kind_check CHECK (kind IN ('id_number', 'name_birth_date'));
ALTER TABLE transitions DROP CONSTRAINT transitions_event_check;
ALTER TABLE transitions ADD CONSTRAINT transitions_event_check CHECK (event IN
    ('begin_verification', 'confirm_child_labour', 'dismiss', 'approve_plan', 'revise_plan', 'close', 'reopen'));
DROP INDEX cases_code_pattern_idx;
DROP INDEX cases_alert_idx;
DROP INDEX cases_plan_end_idx;
DROP INDEX cases_uncovered_idx;
CREATE INDEX cases_follow_up_idx ON cases (last_follow_up_on, id) WHERE state = 'follow_up';
ALTER TABLE cases
    DROP CONSTRAINT cases_guardians_contact_check,
    DROP CONSTRAINT cases_follow_up_owed_check,
    DROP COLUMN working_again_since,
    DROP COLUMN uncovered_from,
    DROP COLUMN plan_end_on,
    DROP COLUMN first_plan_approved_at,
    DROP COLUMN first_contact_at,
    DROP COLUMN id_checksum_valid,
    DROP COLUMN factory_consent,
    DROP COLUMN labour_agent,
    DROP COLUMN other_children_found,
    DROP COLUMN child_wishes_sealed,
    DROP COLUMN guardians_contact_method,
    DROP COLUMN guardians_contacted_on,
    DROP COLUMN guardians_contacted;
