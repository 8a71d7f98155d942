-- +goose Up
-- Case work as it really happens (SQLite: the same schema as PostgreSQL, with
-- SQLite types; CHECKs that SQLite cannot add to a table are column checks,
-- and the two tables whose CHECK changes are rebuilt).

ALTER TABLE cases ADD COLUMN guardians_contacted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN guardians_contacted_on DATE
    CHECK (guardians_contacted OR guardians_contacted_on IS NULL);
ALTER TABLE cases ADD COLUMN guardians_contact_method TEXT
    CHECK (guardians_contact_method IS NULL OR guardians_contact_method IN ('visit', 'phone', 'video', 'message') AND guardians_contacted);
ALTER TABLE cases ADD COLUMN child_wishes_sealed BLOB;
ALTER TABLE cases ADD COLUMN other_children_found INTEGER NOT NULL DEFAULT 0 CHECK (other_children_found BETWEEN 0 AND 1000);
ALTER TABLE cases ADD COLUMN labour_agent TEXT NOT NULL DEFAULT 'unknown' CHECK (labour_agent IN ('yes', 'no', 'unknown'));
ALTER TABLE cases ADD COLUMN factory_consent TEXT NOT NULL DEFAULT 'unknown' CHECK (factory_consent IN ('yes', 'no', 'unknown'));
ALTER TABLE cases ADD COLUMN id_checksum_valid INTEGER;
ALTER TABLE cases ADD COLUMN first_contact_at TIMESTAMP;
ALTER TABLE cases ADD COLUMN first_plan_approved_at TIMESTAMP;
ALTER TABLE cases ADD COLUMN plan_end_on DATE;
-- SQLite tests a new column's CHECK against the rows already there, which
-- have no value before the UPDATE below: PostgreSQL alone holds the rule
-- that a case in follow-up has an uncovered month.
ALTER TABLE cases ADD COLUMN uncovered_from DATE;
ALTER TABLE cases ADD COLUMN working_again_since DATE;

-- Cases already in follow-up: the months from the approval month on are
-- covered up to the first one without a follow-up (months in UTC).
UPDATE cases SET
    plan_end_on = (SELECT p.end_date FROM plans p WHERE p.case_id = cases.id),
    uncovered_from = (
        WITH RECURSIVE m(d) AS (
            SELECT strftime('%Y-%m-01 00:00:00+00:00', cases.follow_up_since)
            UNION ALL
            SELECT strftime('%Y-%m-01 00:00:00+00:00', m.d, '+1 month') FROM m
            WHERE m.d < '2200-01-01' AND EXISTS (SELECT 1 FROM follow_ups f
                WHERE f.case_id = cases.id AND strftime('%Y-%m', f.date) = strftime('%Y-%m', m.d)))
        SELECT max(d) FROM m)
WHERE state = 'follow_up';

UPDATE cases SET first_plan_approved_at =
    (SELECT min(t.at) FROM transitions t WHERE t.case_id = cases.id AND t.event = 'approve_plan');

DROP INDEX cases_follow_up_idx;
CREATE INDEX cases_uncovered_idx ON cases (uncovered_from, id) WHERE state = 'follow_up';
CREATE INDEX cases_plan_end_idx ON cases (plan_end_on, id) WHERE state = 'follow_up';
CREATE INDEX cases_alert_idx ON cases (id) WHERE working_again_since IS NOT NULL;

CREATE TABLE transitions_new (
    id            TEXT NOT NULL PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases (id),
    event         TEXT NOT NULL CHECK (event IN ('begin_verification', 'confirm_child_labour', 'dismiss', 'approve_plan', 'revise_plan', 'close', 'reopen', 'reopen_dismissed')),
    from_state    TEXT NOT NULL,
    to_state      TEXT NOT NULL,
    actor_id      TEXT NOT NULL REFERENCES users (id),
    actor_role    TEXT NOT NULL,
    at            TIMESTAMP NOT NULL,
    reason_sealed BLOB,
    outcome       TEXT
);
INSERT INTO transitions_new SELECT id, case_id, event, from_state, to_state, actor_id, actor_role, at, reason_sealed, outcome FROM transitions;
DROP TABLE transitions;
ALTER TABLE transitions_new RENAME TO transitions;
CREATE INDEX transitions_case_id_idx ON transitions (case_id, id);

CREATE TABLE case_fingerprints_new (
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL CHECK (kind IN ('id_number', 'name_birth_date', 'name_variant_birth_date')),
    hash    BLOB NOT NULL,
    PRIMARY KEY (case_id, kind, hash)
);
INSERT INTO case_fingerprints_new SELECT case_id, kind, hash FROM case_fingerprints;
DROP TABLE case_fingerprints;
ALTER TABLE case_fingerprints_new RENAME TO case_fingerprints;
CREATE INDEX case_fingerprints_hash_idx ON case_fingerprints (hash);

ALTER TABLE factories ADD COLUMN name_en TEXT NOT NULL DEFAULT '';

CREATE TABLE factory_clients (
    factory_id TEXT NOT NULL REFERENCES factories (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id),
    PRIMARY KEY (factory_id, client_id)
);

CREATE INDEX factory_clients_client_idx ON factory_clients (client_id);

INSERT INTO factory_clients (factory_id, client_id)
    SELECT DISTINCT factory_id, client_id FROM cases;

CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, seq) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_action_idx ON audit_log (action, seq);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- +goose Down
DROP INDEX audit_log_at_idx;
DROP INDEX audit_log_action_idx;
DROP INDEX audit_log_actor_idx;
DROP TABLE factory_clients;
ALTER TABLE factories DROP COLUMN name_en;
DROP INDEX cases_alert_idx;
DROP INDEX cases_plan_end_idx;
DROP INDEX cases_uncovered_idx;
CREATE INDEX cases_follow_up_idx ON cases (last_follow_up_on, id) WHERE state = 'follow_up';
