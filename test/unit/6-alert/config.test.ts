import { expect } from 'chai';
import { parseAlertConfig, parseWindow } from '../../../src/6-alert/config.ts';
import { ConfigError } from '../../../src/errors.ts';

describe('alert configuration', () => {
  it('defaults to no bus, HIGH, per-process dedup, no grouping and no Security Hub', () => {
    expect(parseAlertConfig({})).to.deep.include({
      eventBusName: undefined,
      minPriority: 'HIGH',
      dedupTableName: undefined,
      groupWindowSeconds: undefined,
      securityHubEnabled: false,
    });
  });

  it('parses every setting', () => {
    const config = parseAlertConfig({
      ALERTS_EVENT_BUS_NAME: 'arn:aws:events:us-east-1:111122223333:event-bus/findings',
      ALERT_MIN_PRIORITY: 'critical',
      ALERTS_DEDUP_TABLE_NAME: 'baseline-table',
      ALERT_GROUP_WINDOW: '1h',
      SECURITY_HUB_ENABLED: 'true',
      SECURITY_HUB_PRODUCT_ARN: 'arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default',
    });
    expect(config).to.deep.include({
      minPriority: 'CRITICAL',
      dedupTableName: 'baseline-table',
      groupWindowSeconds: 3600,
      securityHubEnabled: true,
    });
  });

  for (const [name, value] of [
    ['ALERT_MIN_PRIORITY', 'URGENT'],
    ['ALERTS_EVENT_BUS_NAME', 'bus with spaces'],
    ['ALERTS_DEDUP_TABLE_NAME', 'x'],
    ['ALERT_GROUP_WINDOW', '5 minutes'],
    ['ALERT_GROUP_WINDOW', '10s'],
    ['SECURITY_HUB_ENABLED', 'maybe'],
    ['SECURITY_HUB_PRODUCT_ARN', 'arn:aws:securityhub:us-east-1:111122223333:product/aws/guardduty'],
    ['ALERT_CALL_TIMEOUT_MS', '0'],
  ] as const) {
    it(`rejects ${name}=${JSON.stringify(value)} with a ConfigError naming the variable`, () => {
      expect(() => parseAlertConfig({ [name]: value })).to.throw(ConfigError, name);
    });
  }

  it('requires the product ARN when Security Hub is enabled', () => {
    expect(() => parseAlertConfig({ SECURITY_HUB_ENABLED: 'true' })).to.throw(ConfigError, 'SECURITY_HUB_PRODUCT_ARN');
  });

  it('reads windows from one minute to seven days', () => {
    expect([parseWindow('90s'), parseWindow('30m'), parseWindow('1h'), parseWindow('7d')]).to.deep.equal([90, 1800, 3600, 604_800]);
    expect(() => parseWindow('8d')).to.throw(ConfigError);
  });
});
