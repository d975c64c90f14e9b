// The stage's CloudWatch dashboard and the alarms on the project's own metrics, generated at package time from the
// code's metric constants (src/observability/operations.ts and metric-names.ts), so no metric name is retyped here.
// serverless.yml: `resources: - ${file(./resources/observability.cjs)}`. Offline: reads only serverless params.
'use strict';

const { require: tsRequire } = require('tsx/cjs/api');

module.exports = async ({ resolveVariable }) => {
  const { operationsResources } = tsRequire('../src/observability/operations.ts', __filename);
  const { PROVIDER_NAMES } = tsRequire('../src/3-lookup/config.ts', __filename);
  const param = (name) => resolveVariable(`param:${name}`);
  const number = async (name) => {
    const value = Number(await param(name));
    if (!Number.isFinite(value)) throw new Error(`param ${name} must be a number`);
    return value;
  };
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  const providers = [];
  for (const name of PROVIDER_NAMES) {
    if (String(await param(`${name}Enabled`)) === 'true') providers.push(name);
  }
  const names = `${service}-${stage}`;
  return operationsResources({
    namePrefix: names,
    service: String(await param('metricsServiceName')),
    dashboardName: names,
    transformFunction: await resolveVariable('self:custom.names.transformFunction'),
    transformMemoryMb: await number('transformMemoryMb'),
    transformTimeoutSeconds: await number('transformTimeoutSeconds'),
    stream: await resolveVariable('self:custom.names.stream'),
    outputMode: String(await param('outputMode')),
    providers,
    ...(String(await param('backfillEnabled')) === 'true'
      ? {
          backfill: {
            functionName: await resolveVariable('self:custom.names.backfillFunction'),
            deadLetterQueueName: await resolveVariable('self:custom.names.backfillDeadLetterQueue'),
            failedEventsQueueName: await resolveVariable('self:custom.names.backfillFailedEventsQueue'),
          },
        }
      : {}),
    alerts: String(await param('alertsEnabled')) === 'true',
    baseline: String(await param('baselineEnabled')) === 'true',
    ...(String(await param('objectLambdaEnabled')) === 'true'
      ? { objectLambda: { functionName: await resolveVariable('self:custom.names.objectLambdaFunction') } }
      : {}),
    thresholds: {
      partialPercent: await number('partialEnrichmentAlarmPercent'),
      breakerOpenPeriods: await number('breakerOpenAlarmPeriods'),
      processingFailedRecords: await number('processingFailedAlarmRecords'),
      reingestFailures: await number('reingestFailuresAlarmCount'),
      transformErrors: await number('transformErrorsAlarmCount'),
      transformThrottles: await number('transformThrottlesAlarmCount'),
      backfillFailedObjects: await number('backfillFailedObjectsAlarmCount'),
      objectLambdaFailedObjects: await number('objectLambdaFailedObjectsAlarmCount'),
      alertsFailed: await number('alertFailuresAlarmCount'),
    },
  });
};
