-- Activity by source country: events, distinct principals and distinct source IPs per country.
-- Parameters: account id, first day (yyyy-MM-dd), last day (yyyy-MM-dd).
SELECT
  enrichment.source.geo.countrycode AS country,
  count(*) AS events,
  count(DISTINCT useridentity.arn) AS principals,
  count(DISTINCT enrichment.source.ip) AS source_ips
FROM events
WHERE account = ?
  AND dt BETWEEN ? AND ?
  AND enrichment.source.geo.countrycode IS NOT NULL
GROUP BY enrichment.source.geo.countrycode
ORDER BY events DESC, country
