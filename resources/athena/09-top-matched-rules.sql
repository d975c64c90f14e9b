-- Top matched rules: how often each rule matched, at which priority, and over how many principals.
-- Parameters: account id, first day (yyyy-MM-dd), last day (yyyy-MM-dd).
SELECT
  reason.rule AS rule,
  reason.priority AS priority,
  count(*) AS matches,
  count(DISTINCT useridentity.arn) AS principals
FROM events
CROSS JOIN UNNEST(enrichment.risk.reasons) AS t (reason)
WHERE account = ?
  AND dt BETWEEN ? AND ?
GROUP BY reason.rule, reason.priority
ORDER BY matches DESC, rule
