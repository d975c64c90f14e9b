-- HIGH and CRITICAL events of the last 24 hours, newest first, with the rules that raised them.
-- Parameters (execution parameters, in order): account id, first day (yyyy-MM-dd), last day (yyyy-MM-dd),
--   start of the 24-hour window (ISO 8601 UTC, e.g. 2026-11-19T12:00:00Z).
-- The day range is what Athena prunes on: pass the two UTC dates the window touches.
SELECT
  eventtime,
  enrichment.priority AS priority,
  enrichment.risk.score AS score,
  eventsource,
  eventname,
  useridentity.arn AS principal,
  sourceipaddress,
  enrichment.source.geo.countrycode AS country,
  array_join(transform(enrichment.risk.reasons, r -> r.rule), ',') AS rules
FROM events
WHERE account = ?
  AND dt BETWEEN ? AND ?
  AND eventtime >= ?
  AND enrichment.priority IN ('HIGH', 'CRITICAL')
ORDER BY eventtime DESC, eventid
LIMIT 500
