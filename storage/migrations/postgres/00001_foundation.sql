-- +goose Up
-- The foundation: clients, factories, users, cases and their workflow.
-- Rules that must never break are CHECK constraints, so that a bug in the
-- code cannot write a case the workflow forbids.

CREATE TABLE clients (
    id         uuid PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (name <> ''),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL
);

CREATE TABLE factories (
    id         uuid PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    province   text NOT NULL,
    city       text NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (province, city, name)
);

CREATE TABLE users (
    id         uuid PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    name       text NOT NULL,
    role       text NOT NULL CHECK (role IN ('auditor', 'caseworker', 'supervisor', 'client', 'admin')),
    client_id  uuid REFERENCES clients (id),
    disabled   boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    CHECK ((role = 'client') = (client_id IS NOT NULL))
);

-- One row a year; codes are allocated outside the filing transaction, so a
-- failed filing leaves a gap rather than holding a lock.
CREATE TABLE case_code_counters (
    year integer PRIMARY KEY,
    last integer NOT NULL CHECK (last > 0)
);

CREATE TABLE cases (
    id                        uuid PRIMARY KEY,
    code                      text NOT NULL UNIQUE,
    client_id                 uuid NOT NULL REFERENCES clients (id),
    factory_id                uuid NOT NULL REFERENCES factories (id),
    state                     text NOT NULL CHECK (state IN ('intake', 'verification', 'planning', 'follow_up', 'closed')),
    version                   integer NOT NULL CHECK (version >= 1),
    assignee_id               uuid REFERENCES users (id),
    filed_by                  uuid NOT NULL REFERENCES users (id),
    found_on                  date NOT NULL,
    gender                    text NOT NULL CHECK (gender IN ('female', 'male', 'other', 'unknown')),
    presence                  text NOT NULL CHECK (presence IN ('employed', 'accompanying')),
    job                       text NOT NULL,
    hazards                   text NOT NULL,
    hours_per_week            integer NOT NULL CHECK (hours_per_week BETWEEN 0 AND 168),
    wage_amount               bigint NOT NULL CHECK (wage_amount >= 0),
    wage_currency             text NOT NULL,
    recruitment               text NOT NULL,
    removed_from_work         boolean NOT NULL,
    child_safe                boolean NOT NULL,
    verification_method       text,
    age_at_found              integer CHECK (age_at_found BETWEEN 0 AND 99),
    outcome                   text CHECK (outcome IN ('completed', 'not_child_labour', 'lost_contact', 'refused', 'returned_to_work', 'transferred')),
    follow_up_since           timestamptz,
    last_follow_up_on         date,
    identity_sealed           bytea,
    narrative_sealed          bytea,
    verification_notes_sealed bytea,
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    closed_at                 timestamptz,
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
    case_id    uuid PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    wrapped    bytea NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE plans (
    case_id           uuid PRIMARY KEY REFERENCES cases (id),
    school            text NOT NULL,
    grade             text NOT NULL,
    enrolment_date    date,
    currency          text NOT NULL,
    tuition_cost      bigint NOT NULL CHECK (tuition_cost >= 0),
    travel_cost       bigint NOT NULL CHECK (travel_cost >= 0),
    monthly_stipend   bigint NOT NULL CHECK (monthly_stipend >= 0),
    payer             text CHECK (payer IN ('factory', 'brand', 'split')),
    factory_share_pct integer NOT NULL CHECK (factory_share_pct BETWEEN 0 AND 99),
    end_date          date,
    guardian_consent  boolean NOT NULL,
    consent_date      date,
    authored_by       uuid NOT NULL REFERENCES users (id),
    updated_at        timestamptz NOT NULL,
    approved_by       uuid REFERENCES users (id),
    approved_at       timestamptz,
    CHECK (approved_by IS NULL OR approved_by <> authored_by),
    CHECK ((approved_by IS NULL) = (approved_at IS NULL))
);

CREATE TABLE follow_ups (
    id                uuid PRIMARY KEY,
    case_id           uuid NOT NULL REFERENCES cases (id),
    date              date NOT NULL,
    contact           text NOT NULL CHECK (contact IN ('visit', 'phone', 'video')),
    attending_school  boolean NOT NULL,
    attendance_pct    integer CHECK (attendance_pct BETWEEN 0 AND 100),
    stipend_amount    bigint NOT NULL CHECK (stipend_amount >= 0),
    stipend_currency  text NOT NULL,
    stipend_payer     text CHECK (stipend_payer IN ('factory', 'brand', 'split')),
    stipend_paid_on   date,
    stipend_proof_ref text NOT NULL,
    working_again     boolean NOT NULL,
    concerns_sealed   bytea,
    recorded_by       uuid NOT NULL REFERENCES users (id),
    created_at        timestamptz NOT NULL
);

CREATE INDEX follow_ups_case_id_idx ON follow_ups (case_id, date);
CREATE INDEX follow_ups_date_idx ON follow_ups (date);

CREATE TABLE transitions (
    id            uuid PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases (id),
    event         text NOT NULL CHECK (event IN ('begin_verification', 'confirm_child_labour', 'dismiss', 'approve_plan', 'revise_plan', 'close', 'reopen')),
    from_state    text NOT NULL,
    to_state      text NOT NULL,
    actor_id      uuid NOT NULL REFERENCES users (id),
    actor_role    text NOT NULL,
    at            timestamptz NOT NULL,
    reason_sealed bytea,
    outcome       text
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
