-- +goose Up
-- The foundation (SQLite: same schema as PostgreSQL, with SQLite types): clients, factories, users, cases and their workflow.
-- SQLite lets a PRIMARY KEY hold NULL unless told otherwise, hence NOT NULL.
-- Rules that must never break are CHECK constraints, so that a bug in the
-- code cannot write a case the workflow forbids.

CREATE TABLE clients (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (name <> ''),
    active     BOOLEAN NOT NULL DEFAULT true,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE factories (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL CHECK (name <> ''),
    province   TEXT NOT NULL,
    city       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (province, city, name)
);

CREATE TABLE users (
    id         TEXT NOT NULL PRIMARY KEY,
    email      TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('auditor', 'caseworker', 'supervisor', 'client', 'admin')),
    client_id  TEXT REFERENCES clients (id),
    disabled   BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMP NOT NULL,
    CHECK ((role = 'client') = (client_id IS NOT NULL))
);

-- One row a year; codes are allocated outside the filing transaction, so a
-- failed filing leaves a gap rather than holding a lock.
CREATE TABLE case_code_counters (
    year INTEGER NOT NULL PRIMARY KEY,
    last INTEGER NOT NULL CHECK (last > 0)
);

CREATE TABLE cases (
    id                        TEXT NOT NULL PRIMARY KEY,
    code                      TEXT NOT NULL UNIQUE,
    client_id                 TEXT NOT NULL REFERENCES clients (id),
    factory_id                TEXT NOT NULL REFERENCES factories (id),
    state                     TEXT NOT NULL CHECK (state IN ('intake', 'verification', 'planning', 'follow_up', 'closed')),
    version                   INTEGER NOT NULL CHECK (version >= 1),
    assignee_id               TEXT REFERENCES users (id),
    filed_by                  TEXT NOT NULL REFERENCES users (id),
    found_on                  DATE NOT NULL,
    gender                    TEXT NOT NULL CHECK (gender IN ('female', 'male', 'other', 'unknown')),
    presence                  TEXT NOT NULL CHECK (presence IN ('employed', 'accompanying')),
    job                       TEXT NOT NULL,
    hazards                   TEXT NOT NULL,
    hours_per_week            INTEGER NOT NULL CHECK (hours_per_week BETWEEN 0 AND 168),
    wage_amount               INTEGER NOT NULL CHECK (wage_amount >= 0),
    wage_currency             TEXT NOT NULL,
    recruitment               TEXT NOT NULL,
    removed_from_work         BOOLEAN NOT NULL,
    child_safe                BOOLEAN NOT NULL,
    verification_method       TEXT,
    age_at_found              INTEGER CHECK (age_at_found BETWEEN 0 AND 99),
    outcome                   TEXT CHECK (outcome IN ('completed', 'not_child_labour', 'lost_contact', 'refused', 'returned_to_work', 'transferred')),
    follow_up_since           TIMESTAMP,
    last_follow_up_on         DATE,
    identity_sealed           BLOB,
    narrative_sealed          BLOB,
    verification_notes_sealed BLOB,
    created_at                TIMESTAMP NOT NULL,
    updated_at                TIMESTAMP NOT NULL,
    closed_at                 TIMESTAMP,
    CHECK ((state = 'closed') = (outcome IS NOT NULL)),
    CHECK ((state = 'closed') = (closed_at IS NOT NULL)),
    CHECK (state <> 'follow_up' OR follow_up_since IS NOT NULL),
    CHECK (state NOT IN ('planning', 'follow_up') OR (age_at_found < 16 AND verification_method IS NOT NULL))
);

-- Keyset pagination walks id (UUIDv7, so filing order) under each filter.
CREATE INDEX cases_client_id_idx ON cases (client_id, id);
-- A brand's cases in one state: its monthly report and its filtered lists.
CREATE INDEX cases_client_state_idx ON cases (client_id, state, id);
CREATE INDEX cases_factory_id_idx ON cases (factory_id, id);
CREATE INDEX cases_state_id_idx ON cases (state, id);
CREATE INDEX cases_assignee_id_idx ON cases (assignee_id, id) WHERE assignee_id IS NOT NULL;
CREATE INDEX cases_follow_up_idx ON cases (last_follow_up_on, id) WHERE state = 'follow_up';

-- Each case's own age key, wrapped to the organisation's recipients.
-- Deleting the row crypto-shreds the case's identity and notes.
CREATE TABLE case_keys (
    case_id    TEXT NOT NULL PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    wrapped    BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE plans (
    case_id           TEXT NOT NULL PRIMARY KEY REFERENCES cases (id),
    school            TEXT NOT NULL,
    grade             TEXT NOT NULL,
    enrolment_date    DATE,
    currency          TEXT NOT NULL,
    tuition_cost      INTEGER NOT NULL CHECK (tuition_cost >= 0),
    travel_cost       INTEGER NOT NULL CHECK (travel_cost >= 0),
    monthly_stipend   INTEGER NOT NULL CHECK (monthly_stipend >= 0),
    payer             TEXT CHECK (payer IN ('factory', 'brand', 'split')),
    factory_share_pct INTEGER NOT NULL CHECK (factory_share_pct BETWEEN 0 AND 99),
    end_date          DATE,
    guardian_consent  BOOLEAN NOT NULL,
    consent_date      DATE,
    authored_by       TEXT NOT NULL REFERENCES users (id),
    updated_at        TIMESTAMP NOT NULL,
    approved_by       TEXT REFERENCES users (id),
    approved_at       TIMESTAMP,
    CHECK (approved_by IS NULL OR approved_by <> authored_by),
    CHECK ((approved_by IS NULL) = (approved_at IS NULL))
);

CREATE TABLE follow_ups (
    id                TEXT NOT NULL PRIMARY KEY,
    case_id           TEXT NOT NULL REFERENCES cases (id),
    date              DATE NOT NULL,
    contact           TEXT NOT NULL CHECK (contact IN ('visit', 'phone', 'video')),
    attending_school  BOOLEAN NOT NULL,
    attendance_pct    INTEGER CHECK (attendance_pct BETWEEN 0 AND 100),
    stipend_amount    INTEGER NOT NULL CHECK (stipend_amount >= 0),
    stipend_currency  TEXT NOT NULL,
    stipend_payer     TEXT CHECK (stipend_payer IN ('factory', 'brand', 'split')),
    stipend_paid_on   DATE,
    stipend_proof_ref TEXT NOT NULL,
    working_again     BOOLEAN NOT NULL,
    concerns_sealed   BLOB,
    recorded_by       TEXT NOT NULL REFERENCES users (id),
    created_at        TIMESTAMP NOT NULL
);

CREATE INDEX follow_ups_case_id_idx ON follow_ups (case_id, date);
CREATE INDEX follow_ups_date_idx ON follow_ups (date);

CREATE TABLE transitions (
    id            TEXT NOT NULL PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases (id),
    event         TEXT NOT NULL CHECK (event IN ('begin_verification', 'confirm_child_labour', 'dismiss', 'approve_plan', 'revise_plan', 'close', 'reopen')),
    from_state    TEXT NOT NULL,
    to_state      TEXT NOT NULL,
    actor_id      TEXT NOT NULL REFERENCES users (id),
    actor_role    TEXT NOT NULL,
    at            TIMESTAMP NOT NULL,
    reason_sealed BLOB,
    outcome       TEXT
);

CREATE INDEX transitions_case_id_idx ON transitions (case_id, id);

-- +goose Down
DROP TABLE transitions;
DROP TABLE follow_ups;
DROP TABLE plans;
DROP TABLE case_keys;
DROP TABLE cases;
DROP TABLE case_code_counters;
DROP TABLE users;
DROP TABLE factories;
DROP TABLE clients;
