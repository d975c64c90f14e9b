-- A view without duplicates: Firehose delivers at least once, so the same eventID can appear twice.
-- One row per (account, region, dt, eventID): duplicates of an event share its partition, so a query on the
-- view that filters account and dt still prunes partitions (and supplies the injected account).
-- Run once to create the view; then e.g. SELECT count(*) FROM events_dedup WHERE account = ? AND dt BETWEEN ? AND ?
CREATE OR REPLACE VIEW events_dedup AS
SELECT *
FROM (
  SELECT e.*, row_number() OVER (PARTITION BY account, region, dt, eventid ORDER BY eventtime) AS copy
  FROM events e
)
WHERE copy = 1
