-- Root activity: every call made with the account's root user (AWS services acting for root excluded).
-- Parameters: account id, first day (yyyy-MM-dd), last day (yyyy-MM-dd).
SELECT
  eventtime,
  eventsource,
  eventname,
  sourceipaddress,
  enrichment.source.geo.countrycode AS country,
  errorcode,
  enrichment.priority AS priority
FROM events
WHERE account = ?
  AND dt BETWEEN ? AND ?
  AND useridentity.type = 'Root'
  AND useridentity.invokedby IS NULL
ORDER BY eventtime, eventid
