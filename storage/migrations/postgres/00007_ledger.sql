-- +goose Up
-- The stipend ledger: approved plans as they stood (a revision governs from
-- its approval month on, never the past), the stretches a child found
-- working again owed nothing, and payments as entries of their own (a
-- correction is a reversing entry). The case keeps the first month it still
-- owes, so that arrears can be listed with an index.

CREATE TABLE plan_versions (
    case_id           uuid NOT NULL REFERENCES cases (id),
    approved_at       timestamptz NOT NULL,
    approved_by       uuid NOT NULL REFERENCES users (id),
    enrolment_date    date NOT NULL,
    end_date          date NOT NULL,
    currency          text NOT NULL,
    monthly_stipend   bigint NOT NULL CHECK (monthly_stipend >= 0),
    tuition_cost      bigint NOT NULL CHECK (tuition_cost >= 0),
    travel_cost       bigint NOT NULL CHECK (travel_cost >= 0),
    payer             text NOT NULL CHECK (payer IN ('factory', 'brand', 'split')),
    factory_share_pct integer NOT NULL CHECK (factory_share_pct BETWEEN 0 AND 99),
    PRIMARY KEY (case_id, approved_at)
);

INSERT INTO plan_versions
    SELECT case_id, approved_at, approved_by, enrolment_date, end_date, currency, monthly_stipend,
           tuition_cost, travel_cost, payer, factory_share_pct
    FROM plans
    WHERE approved_at IS NOT NULL AND enrolment_date IS NOT NULL AND end_date IS NOT NULL AND payer IS NOT NULL;

CREATE TABLE case_alerts (
    case_id     uuid NOT NULL REFERENCES cases (id),
    raised_on   date NOT NULL,
    resolved_on date CHECK (resolved_on >= raised_on),
    PRIMARY KEY (case_id, raised_on)
);

INSERT INTO case_alerts (case_id, raised_on)
    SELECT id, working_again_since FROM cases WHERE working_again_since IS NOT NULL;

CREATE TABLE payments (
    id           uuid PRIMARY KEY,
    case_id      uuid NOT NULL REFERENCES cases (id),
    payer        text NOT NULL CHECK (payer IN ('factory', 'brand')),
    -- The factory or the brand that paid: a proof reference is unique per payer.
    payer_id     uuid NOT NULL,
    amount       bigint NOT NULL CHECK (amount <> 0),
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    paid_on      date NOT NULL,
    month        date NOT NULL CHECK (extract(day FROM month) = 1),
    method       text NOT NULL CHECK (method IN ('bank_transfer', 'wechat_pay', 'alipay', 'cash', 'cheque', 'other')),
    proof_ref    text CHECK (length(proof_ref) BETWEEN 1 AND 200),
    reversal_of  uuid UNIQUE REFERENCES payments (id),
    follow_up_id uuid REFERENCES follow_ups (id),
    recorded_by  uuid NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    -- A payment is positive with its proof; a reversal negative, without one.
    CHECK ((reversal_of IS NULL) = (amount > 0)),
    CHECK ((reversal_of IS NULL) = (proof_ref IS NOT NULL)),
    UNIQUE (payer, payer_id, proof_ref)
);

CREATE INDEX payments_case_idx ON payments (case_id, month);

-- Follow-ups that recorded a stipend become ledger entries: a split plan's
-- payment is apportioned by the plan's share. Their proof references gain
-- the follow-up's id, so that a reference used twice before stays unique.
INSERT INTO payments (id, case_id, payer, payer_id, amount, currency, paid_on, month, method, proof_ref,
                      follow_up_id, recorded_by, created_at)
    SELECT md5(f.id::text || s.payer)::uuid, f.case_id, s.payer,
           CASE s.payer WHEN 'factory' THEN c.factory_id ELSE c.client_id END,
           s.amount, f.stipend_currency, COALESCE(f.stipend_paid_on, f.date), date_trunc('month', f.date)::date, 'other',
           COALESCE(NULLIF(f.stipend_proof_ref, ''), 'none') || ' [follow-up ' || f.id || ']',
           f.id, f.recorded_by, f.created_at
    FROM follow_ups f
    JOIN cases c ON c.id = f.case_id
    LEFT JOIN plans p ON p.case_id = f.case_id
    CROSS JOIN LATERAL (VALUES
        ('factory', CASE f.stipend_payer
            WHEN 'factory' THEN f.stipend_amount
            WHEN 'split' THEN (f.stipend_amount * COALESCE(p.factory_share_pct, 50) * 2 + 100) / 200
            ELSE 0 END),
        ('brand', CASE f.stipend_payer
            WHEN 'brand' THEN f.stipend_amount
            WHEN 'split' THEN f.stipend_amount - (f.stipend_amount * COALESCE(p.factory_share_pct, 50) * 2 + 100) / 200
            ELSE 0 END)
    ) AS s (payer, amount)
    WHERE f.stipend_amount > 0 AND s.amount > 0;

-- Each case's ledger, month by month and payer by payer, as the domain's
-- rules make it: recomputed with every change that moves it (an approval,
-- a closure, an alert, a payment), so that a brand's reconciliation over
-- years of cases is a sum in SQL.
CREATE TABLE ledger_lines (
    case_id  uuid NOT NULL REFERENCES cases (id),
    -- The case's brand, so that a brand's lines are read by an index.
    client_id uuid NOT NULL REFERENCES clients (id),
    month    date NOT NULL,
    payer    text NOT NULL CHECK (payer IN ('factory', 'brand')),
    currency text NOT NULL,
    due      bigint NOT NULL CHECK (due >= 0),
    paid     bigint NOT NULL,
    -- When the month's stipend fell due; NULL for a month paid but not owed.
    due_on   date,
    PRIMARY KEY (case_id, month, payer, currency)
);

CREATE INDEX ledger_lines_client_idx ON ledger_lines (client_id, month);

-- A brand's ledger summed, month by month, by the day each sum fell due,
-- payer and currency: kept in step with ledger_lines by each refresh (the
-- case's old lines taken out, its new ones added, in its transaction), so
-- that a brand's reconciliation reads a few rows a month. unpaid sums the
-- cases' balances above zero, credit those below zero (as positive).
CREATE TABLE ledger_summary (
    client_id uuid NOT NULL REFERENCES clients (id),
    month     date NOT NULL,
    due_on    date NOT NULL,
    payer     text NOT NULL,
    currency  text NOT NULL,
    due       bigint NOT NULL,
    paid      bigint NOT NULL,
    unpaid    bigint NOT NULL,
    credit    bigint NOT NULL,
    PRIMARY KEY (client_id, month, due_on, payer, currency)
);

ALTER TABLE cases ADD COLUMN unpaid_due_on date;
CREATE INDEX cases_unpaid_due_idx ON cases (unpaid_due_on, id) WHERE unpaid_due_on IS NOT NULL;

-- +goose Down
DROP INDEX cases_unpaid_due_idx;
ALTER TABLE cases DROP COLUMN unpaid_due_on;
DROP TABLE ledger_summary;
DROP TABLE ledger_lines;
DROP TABLE payments;
DROP TABLE case_alerts;
DROP TABLE plan_versions;
