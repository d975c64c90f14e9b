import { expect } from 'chai';
import { Dimension, METRIC_CATALOGUE, METRICS_NAMESPACE, MetricName, PartialCause } from '../../../src/observability/metric-names.ts';
import { captureEmf, emittedByTheCode, inOnDemandContainer, metricKey } from './support/emitted.ts';
import { powertoolsMetrics } from '../../../src/observability/metrics.ts';

describe('metrics the code emits', () => {
  it('emits only metrics of the catalogue, with its unit and one of its dimension sets', async () => {
    const emitted = await emittedByTheCode('cloudtrail-enricher', 'cloudtrail-enricher-test-transform');
    expect(emitted.length).to.be.greaterThan(0);
    for (const metric of emitted) {
      expect(metric.namespace).to.equal(METRICS_NAMESPACE);
      const definition = METRIC_CATALOGUE[metric.name as keyof typeof METRIC_CATALOGUE];
      expect(definition, metric.name).to.not.equal(undefined);
      expect(metric.unit, metric.name).to.equal(definition.unit);
      expect(
        definition.dimensions.map((d) => [...d].sort().join(',')),
        metric.name,
      ).to.include(metric.dimensions.join(','));
    }
  });

  it('emits every metric of the catalogue with every dimension set it lists', async () => {
    const emitted = new Set((await emittedByTheCode('svc', 'fn')).map((m) => metricKey(m.namespace, m.name, m.dimensions)));
    for (const [name, definition] of Object.entries(METRIC_CATALOGUE)) {
      for (const dimensions of definition.dimensions)
        expect(emitted, `${name} by ${dimensions.join(',')}`).to.include(metricKey(METRICS_NAMESPACE, name, dimensions));
    }
  });

  it('puts the configured service name in the service dimension of every metric', async () => {
    for (const metric of await emittedByTheCode('payments-audit', 'fn'))
      expect(metric.values[Dimension.Service]).to.equal('payments-audit');
  });

  it('publishes partial events per cause and provider figures per provider', async () => {
    const emitted = await emittedByTheCode('svc', 'fn');
    const causes = emitted
      .filter((m) => m.name === MetricName.EventsPartial && m.dimensions.includes(Dimension.Cause))
      .map((m) => m.values[Dimension.Cause]);
    expect(causes).to.have.members(Object.values(PartialCause));
    const latency = emitted.filter((m) => m.name === MetricName.ProviderLatency);
    expect(latency.map((m) => [m.values[Dimension.Provider], m.value])).to.deep.equal([
      ['ipstack', [120, 95, 300]],
      ['abuseipdb', 80],
    ]);
    const breaker = emitted.filter((m) => m.name === MetricName.ProviderBreakerOpen).map((m) => [m.values[Dimension.Provider], m.value]);
    expect(breaker).to.deep.equal([
      ['ipstack', 0],
      ['abuseipdb', 1],
    ]);
  });

  it('emits the cold-start metric on the first invocation of a container only', async () => {
    const emitted = await captureEmf(() => {
      const metrics = inOnDemandContainer(() => powertoolsMetrics({ serviceName: 'svc' }));
      metrics.captureColdStart('cloudtrail-enricher-dev-transform');
      metrics.captureColdStart('cloudtrail-enricher-dev-transform');
    });
    const coldStarts = emitted.filter((m) => m.name === MetricName.ColdStart);
    expect(coldStarts).to.have.length(1);
    expect(coldStarts[0]!.values).to.deep.equal({ service: 'svc', function_name: 'cloudtrail-enricher-dev-transform' });
  });
});
