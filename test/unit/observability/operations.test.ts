import { expect } from 'chai';
import { ALARMS, PANELS, operationsResources, type OperationsInput } from '../../../src/observability/operations.ts';
import { METRICS_NAMESPACE } from '../../../src/observability/metric-names.ts';
import { emittedByTheCode, metricKey } from './support/emitted.ts';

const input = (overrides: Partial<OperationsInput> = {}): OperationsInput => ({
  namePrefix: 'cloudtrail-enricher-prod',
  service: 'cloudtrail-enricher',
  dashboardName: 'cloudtrail-enricher-prod',
  transformFunction: 'cloudtrail-enricher-prod-transform',
  transformMemoryMb: 1024,
  transformTimeoutSeconds: 60,
  stream: 'cloudtrail-enricher-prod',
  outputMode: 's3',
  providers: ['ipstack', 'abuseipdb'],
  backfill: {
    functionName: 'cloudtrail-enricher-prod-backfill',
    deadLetterQueueName: 'cloudtrail-enricher-prod-backfill-dlq',
    failedEventsQueueName: 'cloudtrail-enricher-prod-backfill-failed-events',
  },
  objectLambda: { functionName: 'cloudtrail-enricher-prod-object-lambda' },
  alerts: true,
  baseline: true,
  thresholds: {
    partialPercent: 5,
    breakerOpenPeriods: 2,
    processingFailedRecords: 1,
    reingestFailures: 1,
    transformErrors: 1,
    transformThrottles: 1,
    backfillFailedObjects: 1,
    objectLambdaFailedObjects: 1,
    alertsFailed: 1,
  },
  ...overrides,
});

type Resource = { Type: string; Properties: Record<string, unknown> };

function ownMetrics(resources: Record<string, unknown>): { name: string; dimensions: string[] }[] {
  const out: { name: string; dimensions: string[] }[] = [];
  for (const resource of Object.values(resources) as Resource[]) {
    if (resource.Type === 'AWS::CloudWatch::Dashboard') {
      const body = JSON.parse((resource.Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub']) as {
        widgets: { properties: { metrics: unknown[][] } }[];
      };
      for (const row of body.widgets.flatMap((w) => w.properties.metrics)) {
        if (row[0] !== METRICS_NAMESPACE) continue;
        const texts = row.filter((x): x is string => typeof x === 'string');
        out.push({ name: texts[1]!, dimensions: texts.slice(2).filter((_, n) => n % 2 === 0) });
      }
    } else {
      const p = resource.Properties as {
        Namespace?: string;
        MetricName?: string;
        Dimensions?: { Name: string }[];
        Metrics?: { MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string }[] } } }[];
      };
      if (p.Namespace === METRICS_NAMESPACE) out.push({ name: p.MetricName!, dimensions: p.Dimensions!.map((d) => d.Name) });
      for (const m of p.Metrics ?? []) {
        if (m.MetricStat?.Metric.Namespace === METRICS_NAMESPACE)
          out.push({ name: m.MetricStat.Metric.MetricName, dimensions: m.MetricStat.Metric.Dimensions.map((d) => d.Name) });
      }
    }
  }
  return out;
}

describe('operations dashboard and alarms (generated from the metric constants)', () => {
  it('adds the backfill and Object Lambda widgets and alarms when those functions are deployed, on emitted metrics only', async () => {
    const { Resources } = operationsResources(input());
    expect(Object.keys(Resources)).to.include.members([
      'OperationsDashboard',
      'BackfillFailedObjectsAlarm',
      'BackfillDeadLetterAlarm',
      'ObjectLambdaFailedObjectsAlarm',
      'AlertFailuresAlarm',
      'ProviderBreakerOpenIpstackAlarm',
      'ProviderBreakerOpenAbuseipdbAlarm',
    ]);
    const emitted = new Set((await emittedByTheCode('cloudtrail-enricher', 'fn')).map((m) => metricKey(m.namespace, m.name, m.dimensions)));
    const used = ownMetrics(Resources);
    expect(used.length).to.be.greaterThan(30);
    for (const metric of used)
      expect(emitted, `${metric.name} by ${metric.dimensions.join(',')}`).to.include(
        metricKey(METRICS_NAMESPACE, metric.name, metric.dimensions),
      );
  });

  it("leaves out the optional functions' and findings' widgets and alarms, and the provider ones when no provider is enabled", () => {
    const { Resources } = operationsResources(input({ providers: [], backfill: undefined, objectLambda: undefined, alerts: false }));
    const ids = Object.keys(Resources);
    expect(ids.filter((id) => /Backfill|ObjectLambda|ProviderBreaker|Alert/.test(id))).to.deep.equal([]);
    const body = JSON.parse(
      (Resources.OperationsDashboard as Resource).Properties.DashboardBody
        ? ((Resources.OperationsDashboard as Resource).Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub']
        : '{}',
    ) as { widgets: { properties: { title: string } }[] };
    expect(body.widgets.map((w) => w.properties.title).filter((t) => /Provider|Backfill|Object Lambda|Findings/.test(t))).to.deep.equal([]);
  });

  it('shows the baseline and threshold panel only when the baseline table is deployed', () => {
    const titles = (baseline: boolean): string[] => {
      const { Resources } = operationsResources(input({ baseline }));
      const body = JSON.parse(
        ((Resources.OperationsDashboard as Resource).Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub'],
      ) as { widgets: { properties: { title: string } }[] };
      return body.widgets.map((w) => w.properties.title).filter((t) => t.startsWith('Baselines and thresholds'));
    };
    expect(titles(true)).to.have.length(1);
    expect(titles(false)).to.deep.equal([]);
  });

  it('takes every threshold from the stage', () => {
    const { Resources } = operationsResources(
      input({ thresholds: { ...input().thresholds, partialPercent: 12, breakerOpenPeriods: 4, backfillFailedObjects: 7 } }),
    );
    const props = (id: string) => (Resources[id] as Resource).Properties;
    expect(props('PartialEnrichmentAlarm')).to.include({ Threshold: 12, EvaluationPeriods: 3 });
    expect(props('ProviderBreakerOpenIpstackAlarm')).to.include({ Threshold: 1, EvaluationPeriods: 4 });
    expect(props('BackfillFailedObjectsAlarm')).to.include({ Threshold: 7 });
    expect(String(props('PartialEnrichmentAlarm').AlarmDescription)).to.include('12 %');
  });

  it('has one title per panel that says what good looks like, and one logical id per alarm', () => {
    for (const panel of PANELS) expect(panel.title).to.match(/ — good: /);
    expect(new Set(ALARMS.map((a) => a.id)).size).to.equal(ALARMS.length);
  });
});
