DROP INDEX inquiries_reference_trgm;
DROP INDEX inquiries_organization_trgm;
DROP INDEX inquiries_summary_trgm;
DROP INDEX inquiries_title_trgm;
-- The extension stays: another schema object may use it.
