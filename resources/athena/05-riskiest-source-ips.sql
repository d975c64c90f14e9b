-- The riskiest source IPs: highest risk score seen, events that matched a rule, and where they come from.
-- Parameters: account id, first day (yyyy-MM-dd), last day (yyyy-MM-dd).
SELECT
  enrichment.source.ip AS source_ip,
  max(enrichment.risk.score) AS max_score,
  count_if(enrichment.risk.score > 0) AS risky_events,
  count(*) AS events,
  max(enrichment.source.geo.countrycode) AS country,
  max(enrichment.source."as".organization) AS as_organization
FROM events
WHERE account = ?
  AND dt BETWEEN ? AND ?
  AND enrichment.source.ip IS NOT NULL
GROUP BY enrichment.source.ip
HAVING max(enrichment.risk.score) > 0
ORDER BY max_score DESC, risky_events DESC, source_ip
LIMIT 100
