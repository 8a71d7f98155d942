-- +goose Up
-- PostgreSQL's covering index for the overdue and due-to-close lists (see
-- its migration); SQLite has no INCLUDE, and its cases_plan_end_idx serves.
-- The migration keeps the two databases' versions in step.
SELECT 1;

-- +goose Down
SELECT 1;
