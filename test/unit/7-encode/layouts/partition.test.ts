import { expect } from 'chai';
import fc from 'fast-check';
import { layoutPartitionKeys, layoutPartitionPath } from '../../../../src/7-encode/layouts/partition.ts';
import {
  EVENT_CLASS_KEYS,
  partitionId,
  partitionKeysOf,
  partitionWithClass,
  sanitisePartitionKeys,
} from '../../../../src/7-encode/partition.ts';

const ARRIVAL = Date.UTC(2026, 10, 21);

describe('layout partition keys', () => {
  const keys = partitionKeysOf({ recipientAccountId: '111122223333', awsRegion: 'eu-west-1', eventTime: '2026-11-20T10:00:00Z' }, ARRIVAL);

  it('names the keys as Security Lake expects in the OCSF layout, and as today otherwise', () => {
    expect(layoutPartitionKeys('ocsf', partitionWithClass(keys, 'authentication'))).to.deep.equal({
      source: 'authentication',
      region: 'eu-west-1',
      accountId: '111122223333',
      eventDay: '20261120',
    });
    expect(layoutPartitionKeys('native', keys)).to.deep.equal({ account: '111122223333', region: 'eu-west-1', dt: '2026-11-20' });
    expect(layoutPartitionKeys('ecs', keys)).to.deep.equal({ account: '111122223333', region: 'eu-west-1', dt: '2026-11-20' });
    expect(layoutPartitionPath('ocsf', partitionWithClass(keys, 'api-activity'))).to.equal(
      'api-activity/1.0/region=eu-west-1/accountId=111122223333/eventDay=20261120/',
    );
    expect(layoutPartitionPath(undefined, keys)).to.equal('account=111122223333/region=eu-west-1/dt=2026-11-20/');
  });

  it('gives each class its own interned partition, so lines of two classes never share a record', () => {
    const a = partitionWithClass(keys, 'api-activity');
    expect(partitionWithClass(keys, 'api-activity')).to.equal(a);
    expect(partitionWithClass(a, 'authentication')).to.not.equal(a);
    expect(partitionId(a)).to.not.equal(partitionId(partitionWithClass(keys, 'authentication')));
    expect(partitionWithClass(a, undefined)).to.equal(keys);
  });

  it('keeps an envelope’s event class only when it is one of the known classes (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...EVENT_CLASS_KEYS), fc.string({ maxLength: 40 })), (eventClass) => {
        const out = sanitisePartitionKeys({ ...keys, eventClass }, ARRIVAL);
        if ((EVENT_CLASS_KEYS as readonly string[]).includes(eventClass)) expect(out.eventClass).to.equal(eventClass);
        else expect(out.eventClass).to.equal(undefined);
        expect(layoutPartitionPath('ocsf', out)).to.match(
          /^(api-activity|authentication|base-event)\/1\.0\/region=[a-z0-9-]+\/accountId=\d{12}\/eventDay=\d{8}\/$/,
        );
      }),
    );
  });
});
