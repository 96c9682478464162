-- PostgreSQL gains trigram indexes for the free text (`q=`) here. SQLite has no such index
-- type for `LIKE '%text%'` (FTS5 would need another query); the query and its answers are
-- the same on both backends, SQLite reads the inquiries it filters.
SELECT 1;
