-- Failed console sign-ins by source IP and country (ConsoleLogin with responseElements ConsoleLogin = Failure).
-- Parameters: account id, first day (yyyy-MM-dd), last day (yyyy-MM-dd).
SELECT
  sourceipaddress AS source,
  enrichment.source.geo.countrycode AS country,
  count(*) AS failures,
  count(DISTINCT coalesce(useridentity.username, useridentity.arn, useridentity.principalid)) AS identities,
  min(eventtime) AS first_failure,
  max(eventtime) AS last_failure
FROM events
WHERE account = ?
  AND dt BETWEEN ? AND ?
  AND eventname = 'ConsoleLogin'
  AND json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Failure'
GROUP BY sourceipaddress, enrichment.source.geo.countrycode
ORDER BY failures DESC, source
