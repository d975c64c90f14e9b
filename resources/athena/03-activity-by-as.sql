-- Activity by autonomous system (the network the calls came from): events and distinct source IPs per AS.
-- Parameters: account id, first day (yyyy-MM-dd), last day (yyyy-MM-dd).
SELECT
  enrichment.source."as".number AS as_number,
  max(enrichment.source."as".organization) AS as_organization,
  count(*) AS events,
  count(DISTINCT enrichment.source.ip) AS source_ips
FROM events
WHERE account = ?
  AND dt BETWEEN ? AND ?
  AND enrichment.source."as".number IS NOT NULL
GROUP BY enrichment.source."as".number
ORDER BY events DESC, as_number
