-- The queue's and the desk's free text (`q=`) is `lower(column) LIKE '%text%'` over an
-- inquiry's title, summary, organization and reference: no b-tree can serve a pattern that
-- starts with `%`, so each expression gets a trigram index (pg_trgm, a trusted extension since
-- PostgreSQL 13: the database's owner may create it). The planner ORs the four bitmaps instead
-- of reading every inquiry. The query is unchanged, so SQLite gives the same answers.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX inquiries_title_trgm ON inquiries USING gin (lower(title) gin_trgm_ops);
CREATE INDEX inquiries_summary_trgm ON inquiries USING gin (lower(summary) gin_trgm_ops);
CREATE INDEX inquiries_organization_trgm ON inquiries USING gin (lower(organization) gin_trgm_ops);
CREATE INDEX inquiries_reference_trgm ON inquiries USING gin (lower(reference) gin_trgm_ops);
