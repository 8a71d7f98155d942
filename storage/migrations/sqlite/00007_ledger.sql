-- +goose Up
-- The stipend ledger (SQLite: the same schema as PostgreSQL, with SQLite types).

CREATE TABLE plan_versions (
    case_id           TEXT NOT NULL REFERENCES cases (id),
    approved_at       TIMESTAMP NOT NULL,
    approved_by       TEXT NOT NULL REFERENCES users (id),
    enrolment_date    DATE NOT NULL,
    end_date          DATE NOT NULL,
    currency          TEXT NOT NULL,
    monthly_stipend   INTEGER NOT NULL CHECK (monthly_stipend >= 0),
    tuition_cost      INTEGER NOT NULL CHECK (tuition_cost >= 0),
    travel_cost       INTEGER NOT NULL CHECK (travel_cost >= 0),
    payer             TEXT NOT NULL CHECK (payer IN ('factory', 'brand', 'split')),
    factory_share_pct INTEGER NOT NULL CHECK (factory_share_pct BETWEEN 0 AND 99),
    PRIMARY KEY (case_id, approved_at)
);

INSERT INTO plan_versions
    SELECT case_id, approved_at, approved_by, enrolment_date, end_date, currency, monthly_stipend,
           tuition_cost, travel_cost, payer, factory_share_pct
    FROM plans
    WHERE approved_at IS NOT NULL AND enrolment_date IS NOT NULL AND end_date IS NOT NULL AND payer IS NOT NULL;

CREATE TABLE case_alerts (
    case_id     TEXT NOT NULL REFERENCES cases (id),
    raised_on   DATE NOT NULL,
    resolved_on DATE CHECK (resolved_on >= raised_on),
    PRIMARY KEY (case_id, raised_on)
);

INSERT INTO case_alerts (case_id, raised_on)
    SELECT id, working_again_since FROM cases WHERE working_again_since IS NOT NULL;

CREATE TABLE payments (
    id           TEXT NOT NULL PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases (id),
    payer        TEXT NOT NULL CHECK (payer IN ('factory', 'brand')),
    payer_id     TEXT NOT NULL,
    amount       INTEGER NOT NULL CHECK (amount <> 0),
    currency     TEXT NOT NULL CHECK (length(currency) = 3 AND currency = upper(currency)),
    paid_on      DATE NOT NULL,
    month        DATE NOT NULL CHECK (substr(month, 9, 2) = '01'),
    method       TEXT NOT NULL CHECK (method IN ('bank_transfer', 'wechat_pay', 'alipay', 'cash', 'cheque', 'other')),
    proof_ref    TEXT CHECK (length(proof_ref) BETWEEN 1 AND 200),
    reversal_of  TEXT UNIQUE REFERENCES payments (id),
    follow_up_id TEXT REFERENCES follow_ups (id),
    recorded_by  TEXT NOT NULL REFERENCES users (id),
    created_at   TIMESTAMP NOT NULL,
    CHECK ((reversal_of IS NULL) = (amount > 0)),
    CHECK ((reversal_of IS NULL) = (proof_ref IS NOT NULL)),
    UNIQUE (payer, payer_id, proof_ref)
);

CREATE INDEX payments_case_idx ON payments (case_id, month);

-- Follow-ups that recorded a stipend become ledger entries (see PostgreSQL's
-- migration). SQLite has no md5: each entry's id is its follow-up's with the
-- version digit replaced by f (factory) or b (brand), still a UUID's text.
INSERT INTO payments (id, case_id, payer, payer_id, amount, currency, paid_on, month, method, proof_ref,
                      follow_up_id, recorded_by, created_at)
    SELECT substr(x.id, 1, 14) || substr(x.payer, 1, 1) || substr(x.id, 16),
           x.case_id, x.payer, CASE x.payer WHEN 'factory' THEN x.factory_id ELSE x.client_id END,
           x.amount, x.stipend_currency, COALESCE(x.stipend_paid_on, x.date),
           strftime('%Y-%m-01 00:00:00+00:00', x.date), 'other',
           COALESCE(NULLIF(x.stipend_proof_ref, ''), 'none') || ' [follow-up ' || x.id || ']',
           x.id, x.recorded_by, x.created_at
    FROM (
        SELECT f.id, f.case_id, f.date, f.stipend_currency, f.stipend_paid_on, f.stipend_proof_ref, f.recorded_by,
               f.created_at, c.factory_id, c.client_id, s.payer,
               CASE s.payer
                   WHEN 'factory' THEN CASE f.stipend_payer WHEN 'factory' THEN f.stipend_amount
                       WHEN 'split' THEN (f.stipend_amount * COALESCE(p.factory_share_pct, 50) * 2 + 100) / 200 ELSE 0 END
                   ELSE CASE f.stipend_payer WHEN 'brand' THEN f.stipend_amount
                       WHEN 'split' THEN f.stipend_amount - (f.stipend_amount * COALESCE(p.factory_share_pct, 50) * 2 + 100) / 200 ELSE 0 END
               END AS amount
        FROM follow_ups f
        JOIN cases c ON c.id = f.case_id
        LEFT JOIN plans p ON p.case_id = f.case_id
        JOIN (SELECT 'factory' AS payer UNION ALL SELECT 'brand') s
        WHERE f.stipend_amount > 0
    ) x
    WHERE x.amount > 0;

CREATE TABLE ledger_lines (
    case_id  TEXT NOT NULL REFERENCES cases (id),
    client_id TEXT NOT NULL REFERENCES clients (id),
    month    DATE NOT NULL,
    payer    TEXT NOT NULL CHECK (payer IN ('factory', 'brand')),
    currency TEXT NOT NULL,
    due      INTEGER NOT NULL CHECK (due >= 0),
    paid     INTEGER NOT NULL,
    due_on   DATE,
    PRIMARY KEY (case_id, month, payer, currency)
);

CREATE INDEX ledger_lines_client_idx ON ledger_lines (client_id, month);

-- A brand's ledger summed, month by month, by the day each sum fell due,
-- payer and currency: kept in step with ledger_lines by each refresh (the
-- case's old lines taken out, its new ones added, in its transaction), so
-- that a brand's reconciliation reads a few rows a month. unpaid sums the
-- cases' balances above zero, credit those below zero (as positive).
CREATE TABLE ledger_summary (
    client_id TEXT NOT NULL REFERENCES clients (id),
    month     DATE NOT NULL,
    due_on    DATE NOT NULL,
    payer     TEXT NOT NULL,
    currency  TEXT NOT NULL,
    due       INTEGER NOT NULL,
    paid      INTEGER NOT NULL,
    unpaid    INTEGER NOT NULL,
    credit    INTEGER NOT NULL,
    PRIMARY KEY (client_id, month, due_on, payer, currency)
);

ALTER TABLE cases ADD COLUMN unpaid_due_on DATE;
CREATE INDEX cases_unpaid_due_idx ON cases (unpaid_due_on, id) WHERE unpaid_due_on IS NOT NULL;

-- +goose Down
DROP INDEX cases_unpaid_due_idx;
DROP TABLE ledger_summary;
DROP TABLE ledger_lines;
DROP TABLE payments;
DROP TABLE case_alerts;
DROP TABLE plan_versions;
