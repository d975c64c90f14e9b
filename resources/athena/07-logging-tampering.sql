-- Logging tampering: calls that stop, delete or weaken CloudTrail, CloudWatch Logs, Config, GuardDuty or VPC flow logs.
-- Parameters: account id, first day (yyyy-MM-dd), last day (yyyy-MM-dd).
SELECT
  eventtime,
  eventsource,
  eventname,
  useridentity.arn AS principal,
  sourceipaddress,
  errorcode,
  enrichment.priority AS priority
FROM events
WHERE account = ?
  AND dt BETWEEN ? AND ?
  AND (
    (eventsource = 'cloudtrail.amazonaws.com' AND eventname IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors', 'DeleteEventDataStore'))
    OR (eventsource = 'logs.amazonaws.com' AND eventname IN ('DeleteLogGroup', 'DeleteLogStream', 'DeleteSubscriptionFilter', 'PutRetentionPolicy'))
    OR (eventsource = 'config.amazonaws.com' AND eventname IN ('StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel'))
    OR (eventsource = 'guardduty.amazonaws.com' AND eventname IN ('DeleteDetector', 'UpdateDetector', 'DisassociateFromMasterAccount'))
    OR (eventsource = 'ec2.amazonaws.com' AND eventname = 'DeleteFlowLogs')
  )
ORDER BY eventtime, eventid
