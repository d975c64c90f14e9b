-- Principals seen from a country they had not used in the previous 30 days (first use in the window).
-- Parameters (positional; Athena has no named parameters, so the account and first day come twice):
--   account id, first day of the window, last day of the window (yyyy-MM-dd),
--   account id, first day of the look-back (window's first day minus 30 days), first day of the window again.
-- Both scans prune on dt.
WITH recent AS (
  SELECT useridentity.arn AS principal, enrichment.source.geo.countrycode AS country, min(eventtime) AS first_seen, count(*) AS events
  FROM events
  WHERE account = ? AND dt BETWEEN ? AND ?
    AND useridentity.arn IS NOT NULL AND enrichment.source.geo.countrycode IS NOT NULL
  GROUP BY useridentity.arn, enrichment.source.geo.countrycode
),
earlier AS (
  SELECT DISTINCT useridentity.arn AS principal, enrichment.source.geo.countrycode AS country
  FROM events
  WHERE account = ? AND dt >= ? AND dt < ?
    AND useridentity.arn IS NOT NULL AND enrichment.source.geo.countrycode IS NOT NULL
)
SELECT r.principal, r.country, r.first_seen, r.events
FROM recent r
LEFT JOIN earlier e ON e.principal = r.principal AND e.country = r.country
WHERE e.principal IS NULL
ORDER BY r.first_seen, r.principal, r.country
