-- Adds :n synthetic cases to a Remedy database that serve --demo seeded,
-- spread over its brands, factories and case workers and over every
-- state, so that lists can be measured over many cases:
--
--   psql "$REMEDY_DATABASE_URL" -v n=100000 -f cmd/remedy-load/seed.sql
--
-- Their ids are UUIDv7 from 2024, older than anything filed since, and
-- their codes are of 2024. They have no identity, key or audit entry: they
-- are listed, never opened.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE seed_refs AS SELECT
    (SELECT array_agg(id ORDER BY id) FROM clients) AS clients,
    (SELECT array_agg(id ORDER BY id) FROM factories) AS factories,
    (SELECT array_agg(id ORDER BY id) FROM users WHERE role = 'caseworker') AS workers,
    (SELECT id FROM users WHERE role = 'supervisor' ORDER BY id LIMIT 1) AS filer;
INSERT INTO cases (id, code, client_id, factory_id, state, version, assignee_id, filed_by, found_on, gender,
    presence, job, hazards, hours_per_week, wage_amount, wage_currency, recruitment, removed_from_work, child_safe,
    verification_method, age_at_found, outcome, follow_up_since, last_follow_up_on, created_at, updated_at, closed_at,
    uncovered_from, plan_end_on, working_again_since)
SELECT (lpad(to_hex(1704067200000 + i * 100), 12, '0') || '7' || substr(md5(i::text), 1, 3) || '8' || substr(md5(i::text), 4, 15))::uuid,
    'CL-2024-' || lpad(i::text, 6, '0'),
    r.clients[1 + i % array_length(r.clients, 1)],
    r.factories[1 + i % array_length(r.factories, 1)],
    s.state, 1,
    r.workers[1 + i % array_length(r.workers, 1)],
    r.filer,
    date '2024-01-01' + (i % 300), 'female', 'employed', 'sewing', 'machinery', 60, 200000, 'CNY', 'borrowed_id', true, true,
    CASE WHEN s.state IN ('planning', 'follow_up') THEN 'id_card' END,
    CASE WHEN s.state IN ('planning', 'follow_up') THEN 14 END,
    CASE WHEN s.state = 'closed' THEN 'completed' END,
    CASE WHEN s.state = 'follow_up' THEN timestamptz '2024-03-01' END,
    CASE WHEN s.state = 'follow_up' AND i % 3 = 0 THEN date '2024-10-15' END,
    timestamptz '2024-01-01' + i * interval '100 milliseconds', now(),
    CASE WHEN s.state = 'closed' THEN now() END,
    CASE WHEN s.state = 'follow_up' THEN (CASE WHEN i % 3 = 0 THEN date '2024-11-01' ELSE date '2024-03-01' END) END,
    CASE WHEN s.state = 'follow_up' THEN date '2027-07-31' - (i % 1400) END,
    CASE WHEN s.state = 'follow_up' AND i % 97 = 0 THEN date '2024-10-20' END
FROM generate_series(1, :n) i, seed_refs r
CROSS JOIN LATERAL (SELECT (ARRAY['intake', 'verification', 'planning', 'follow_up', 'closed'])[1 + (i / 20) % 5] AS state) s;
INSERT INTO factory_clients (factory_id, client_id)
    SELECT DISTINCT factory_id, client_id FROM cases ON CONFLICT DO NOTHING;
COMMIT;
ANALYZE;
