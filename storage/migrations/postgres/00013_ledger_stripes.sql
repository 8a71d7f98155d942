-- +goose Up
-- A brand's ledger summary was one row per month, due day, payer and
-- currency: every refresh of every case of the brand added to the same few
-- rows and held their locks to its commit, so the brand's case work went
-- one commit after the other (case work at 16 clients waited on it most of
-- the time). Each cell is now spread over 16 stripes, a refresh adding to
-- the stripe of its case; readers sum the stripes, as they summed months.
ALTER TABLE ledger_summary ADD COLUMN stripe smallint NOT NULL DEFAULT 0 CHECK (stripe BETWEEN 0 AND 15);
ALTER TABLE ledger_summary DROP CONSTRAINT ledger_summary_pkey;
ALTER TABLE ledger_summary ADD PRIMARY KEY (client_id, month, due_on, payer, currency, stripe);

-- +goose Down
CREATE TEMPORARY TABLE ledger_summary_merged AS
    SELECT client_id, month, due_on, payer, currency, sum(due)::bigint AS due, sum(paid)::bigint AS paid,
        sum(unpaid)::bigint AS unpaid, sum(credit)::bigint AS credit
    FROM ledger_summary GROUP BY client_id, month, due_on, payer, currency;
DELETE FROM ledger_summary;
ALTER TABLE ledger_summary DROP CONSTRAINT ledger_summary_pkey;
ALTER TABLE ledger_summary DROP COLUMN stripe;
ALTER TABLE ledger_summary ADD PRIMARY KEY (client_id, month, due_on, payer, currency);
INSERT INTO ledger_summary (client_id, month, due_on, payer, currency, due, paid, unpaid, credit)
    SELECT client_id, month, due_on, payer, currency, due, paid, unpaid, credit FROM ledger_summary_merged;
DROP TABLE ledger_summary_merged;
