import { expect } from 'chai';
import fc from 'fast-check';
import { cloudTrailEvent, cloudWatchLogsData, firehoseEvent, firehoseRecord, plainData } from '../helpers/factories.ts';
import {
  RUNS,
  checkRounds,
  expectLogsClean,
  expectOnlyPublicUnicastSent,
  expectSafePartitionKeys,
  isStrictPublicUnicast,
  runToDrained,
  startFuzzRig,
  type FuzzRig,
} from './support.ts';

/**
 * Attacker-controlled fields (property-based): userAgent, request parameters, identity names and, through a compromised
 * log group, every field of an event. None of them may pollute prototypes, escape the S3 prefix, explode the partition
 * space, reach a provider when not a public address, break an NDJSON line or reach a log line.
 */
describe('hostile fields (property-based)', function () {
  this.timeout(300_000);
  let rig: FuzzRig;
  let serial = 0;
  before(async () => {
    rig = await startFuzzRig();
  });
  after(async () => {
    await rig.close();
  });
  beforeEach(() => {
    rig.providers.requests.length = 0;
    rig.logs.length = 0;
  });

  /** A marker that must never appear in a log line (attacker text). */
  const marker = () => `tok-${++serial}-zq`;

  const nastyKey = fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'valueOf',
    'hasOwnProperty',
    '__defineGetter__',
    'isPrototypeOf',
    'enrichment',
  );
  const controlText = fc.string({
    unit: fc.constantFrom('\n', '\r', '\u0000', '\u001b', '\u2028', '\u2029', '\t', '"', '\\', '\ud800', '\udfff', 'a', '{', '}', ' '),
    maxLength: 20,
  });
  const anyText = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), controlText, nastyKey);

  /** JSON text of an object with `__proto__`/`constructor` keys at any depth (JSON.stringify cannot write a `__proto__` key). */
  const hostileJson: fc.Arbitrary<string> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      anyText.map((s) => JSON.stringify(s)),
      fc.constant('null'),
      fc.integer().map(String),
      tie('object'),
      tie('array'),
    ),
    object: fc
      .array(fc.tuple(fc.oneof(nastyKey, fc.string({ maxLength: 8 })), tie('value')), { maxLength: 4 })
      .map((pairs) => `{${(pairs as [string, string][]).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
    array: fc.array(tie('value'), { maxLength: 3 }).map((xs) => `[${(xs as string[]).join(',')}]`),
  })).object;

  it('never pollutes a prototype, keeps every original field and delivers each event once, whatever the keys', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            field: fc.constantFrom(
              'userIdentity',
              'requestParameters',
              'responseElements',
              'additionalEventData',
              '__proto__',
              'constructor',
            ),
            json: hostileJson,
            name: fc.oneof(nastyKey, anyText),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        async (specs) => {
          const m = marker();
          const texts = specs.map((s, i) => {
            const base = cloudTrailEvent({
              eventID: `${m}-${i}`,
              eventName: s.name,
              userAgent: `${m}${s.name}`,
              eventSource: s.name,
              sourceIPAddress: s.name,
            });
            const text = JSON.stringify(base);
            // The hostile object goes in as raw JSON text: that is how a `__proto__` key arrives.
            return (
              text.slice(0, -1) +
              `,${JSON.stringify(s.field)}:${s.json},"userIdentity":{"type":${JSON.stringify(s.name)},"arn":${JSON.stringify(s.name)},"${s.name === '__proto__' ? '__proto__' : 'userName'}":{"polluted":true}}}`
            );
          });
          const rounds = await runToDrained(
            rig,
            firehoseEvent([
              firehoseRecord(cloudWatchLogsData(texts)),
              firehoseRecord(plainData({ Records: texts.map((t) => JSON.parse(t) as unknown) })),
            ]),
          );
          const lines = checkRounds(rounds);
          const byId = new Map<string, number>();
          for (const l of lines) byId.set(String(l.doc.eventID), (byId.get(String(l.doc.eventID)) ?? 0) + 1);
          texts.forEach((text, i) => {
            expect(byId.get(`${m}-${i}`), 'once from CloudWatch Logs, once from the CloudTrail file').to.equal(2);
            const line = lines.find((l) => l.doc.eventID === `${m}-${i}` && l.text.startsWith(text.slice(0, -1)));
            expect(line, 'the CloudWatch Logs copy keeps the exact original text').to.not.equal(undefined);
          });
          expectLogsClean(rig, [m]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('conserves every message under the CloudTrail-event rule: neither eventSource nor eventName goes out skipped with its raw text, anything else is enriched', async () => {
    const shape = fc.constantFrom('full', 'no-eventSource', 'no-eventName', 'neither', 'trimmed', 'digest');
    const extraKey = fc
      .string({ minLength: 1, maxLength: 6 })
      .filter((k) => !['eventSource', 'eventName', 'enrichment', 'eventID', '__proto__'].includes(k));
    const extra = fc.dictionary(extraKey, fc.oneof(fc.string({ maxLength: 10 }), fc.integer()), { maxKeys: 3 });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ shape, extra }), { minLength: 1, maxLength: 12 }), async (specs) => {
        const m = marker();
        const texts = specs.map(({ shape, extra }, i) => {
          const id = `${m}-${i}`;
          const full = cloudTrailEvent({ eventID: id });
          const pick = (drop: string[]) => Object.fromEntries(Object.entries(full).filter(([k]) => !drop.includes(k)));
          const doc =
            shape === 'full'
              ? full
              : shape === 'no-eventSource'
                ? pick(['eventSource'])
                : shape === 'no-eventName'
                  ? pick(['eventName'])
                  : shape === 'trimmed'
                    ? pick(['eventVersion', 'eventTime', 'eventSource'])
                    : shape === 'digest'
                      ? { eventID: id, digestStartTime: '2026-11-01T00:00:00Z', logFiles: [] }
                      : { ...extra, eventID: id, hello: 'world' };
          return JSON.stringify(shape === 'full' || shape === 'neither' || shape === 'digest' ? doc : { ...doc, ...extra });
        });
        const rounds = await runToDrained(rig, firehoseEvent([firehoseRecord(cloudWatchLogsData(texts))]));
        const lines = checkRounds(rounds);
        expect(lines, 'one line out per message in').to.have.length(texts.length);
        texts.forEach((text, i) => {
          const id = `${m}-${i}`;
          const enriched = specs[i]!.shape !== 'neither' && specs[i]!.shape !== 'digest';
          const line = enriched
            ? lines.find((l) => l.doc.eventID === id)
            : lines.find((l) => (l.doc.enrichment as { raw?: string }).raw === text);
          expect(line, `message ${i} (${specs[i]!.shape}) comes out once`).to.not.equal(undefined);
          const enrichment = line!.doc.enrichment as { status: string; error?: string };
          if (enriched) expect(enrichment.status).to.be.oneOf(['complete', 'partial']);
          else expect(enrichment).to.include({ status: 'skipped', error: 'not a CloudTrail event (neither eventSource nor eventName)' });
        });
        expectLogsClean(rig, [m]);
      }),
      { numRuns: RUNS },
    );
  });

  /** Values of the partition fields: near misses of the accepted shapes and plain garbage. */
  const accountValue = fc.oneof(
    fc.stringMatching(/^\d{12}$/),
    fc.constantFrom(
      '../../etc',
      '111122223333/..',
      '111122223333\n',
      ' 111122223333',
      '１１１１２２２２３３３３',
      '1111222233334',
      '11112222333',
      '%2e%2e',
      '111122223333%2F',
      '0x1234567890',
      '',
    ),
    anyText,
    fc.integer(),
  );
  const regionValue = fc.oneof(
    fc.constantFrom(
      'us-east-1',
      'eu-west-1',
      'us-gov-west-1',
      'cn-north-1',
      'us-east-1/../../x',
      'us-east-1\n',
      'US-EAST-1',
      'us-east-100',
      'xx-east-1',
      'us-east-1=',
      'us-east-1 ',
      'a'.repeat(5000),
      'us-east-1%2F..',
      'us‐east‐1',
    ),
    fc.stringMatching(/^[a-z]{2,6}-[a-z]{4,9}-\d{1,3}$/),
    anyText,
  );
  const timeValue = fc.oneof(
    fc
      .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString()),
    fc.constantFrom(
      '2013-10-31T23:59:59Z',
      '2013-11-01T00:00:00Z',
      '2026-02-30T00:00:00Z',
      '2026-11-21T23:00:00-05:00',
      '+275760-09-13T00:00:00Z',
      '9999-12-31T23:59:59Z',
      '2026-11-20',
      '2026-11-20T14:03:21Z/../..',
      'yesterday',
      '0000-00-00T00:00:00Z',
    ),
    anyText,
  );

  it('keeps partition keys within a safe, bounded grammar whatever account, region and date an event claims', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ account: accountValue, region: regionValue, time: timeValue }), { minLength: 1, maxLength: 10 }),
        async (specs) => {
          const events = specs.map((s) => cloudTrailEvent({ recipientAccountId: s.account, awsRegion: s.region, eventTime: s.time }));
          const rounds = await runToDrained(rig, firehoseEvent([firehoseRecord(cloudWatchLogsData(events.map((e) => JSON.stringify(e))))]));
          const lines = checkRounds(rounds);
          expect(lines.map((l) => l.doc.eventID).sort()).to.deep.equal(events.map((e) => e.eventID).sort());
          const arrivalDay = new Date(Date.UTC(2026, 10, 20, 14, 5) + 86_400_000).toISOString().slice(0, 10);
          for (const l of lines) {
            expectSafePartitionKeys(l.keys!);
            expect(l.keys!.dt! <= arrivalDay, l.keys!.dt).to.equal(true);
            // A value is taken only when it is exactly the accepted shape; anything else is the fallback.
            const e = l.doc;
            if (l.keys!.account !== 'unknown') expect(l.keys!.account).to.equal(e.recipientAccountId);
            if (l.keys!.region !== 'unknown') expect(l.keys!.region).to.equal(e.awsRegion);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('restricts accounts to the allowlist: crafted account ids cannot create partitions', async () => {
    const allow = new Set(['111122223333', '444455556666']);
    const allowRig = await startFuzzRig({ ACCOUNT_ALLOWLIST: [...allow].join(',') });
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(accountValue, { minLength: 1, maxLength: 10 }), async (accounts) => {
          const events = accounts.map((a) => cloudTrailEvent({ recipientAccountId: a }));
          const lines = checkRounds(
            await runToDrained(allowRig, firehoseEvent([firehoseRecord(cloudWatchLogsData(events.map((e) => JSON.stringify(e))))])),
          );
          for (const l of lines) expectSafePartitionKeys(l.keys!, allow);
        }),
        { numRuns: RUNS },
      );
    } finally {
      await allowRig.close();
    }
  });

  /** Source addresses: every form that must never reach a provider, and some public ones that may. */
  const sourceValue = fc.oneof(
    fc.constantFrom(
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '100.64.0.1',
      '127.0.0.1',
      '169.254.169.254',
      '0.0.0.0',
      '255.255.255.255',
      '224.0.0.1',
      '192.0.2.1',
      '198.51.100.7',
      '203.0.113.9',
      '198.18.0.1',
      '240.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fe80::1%eth0',
      'fc00::1',
      'ff02::1',
      '2001:db8::1',
      '2002:0a00:0001::1',
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
      '64:ff9b::a00:1',
      '::ffff:10.0.0.1',
      '::ffff:8.8.8.8',
      '010.1.1.1',
      '0x7f.0.0.1',
      '127.1',
      '2130706433',
      '8.8.8.8 ',
      ' 8.8.8.8',
      '8.8.8.8\n',
      '8.8.8.8/../../admin',
      '8.8.8.8?access_key=x',
      '8.8.8.8#x',
      '8.8.8.8%00',
      '８.８.８.８',
      'http://8.8.8.8/',
      '8.8.8.8:443',
      '[2606:4700::1111]',
      'AWS Internal',
      'aws internal',
      'ec2.amazonaws.com',
      'evil.amazonaws.com.attacker.net',
      'amazonaws.com',
      'localhost',
      '',
      '1.1.1.1.1',
      '1.1.1',
      '256.1.1.1',
    ),
    fc.ipV4(),
    fc.ipV4Extended(),
    fc.ipV6(),
    fc.tuple(fc.ipV4(), anyText).map(([ip, s]) => ip + s),
    anyText,
    fc.constantFrom('8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '81.2.69.142'),
  );

  it('sends providers only strict public unicast addresses, and nothing else from the event', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(sourceValue, { minLength: 1, maxLength: 12 }), async (sources) => {
        const m = marker();
        const events = sources.map((s) => cloudTrailEvent({ sourceIPAddress: s, userAgent: m }));
        const lines = checkRounds(
          await runToDrained(rig, firehoseEvent([firehoseRecord(cloudWatchLogsData(events.map((e) => JSON.stringify(e))))])),
        );
        expect(lines).to.have.length(events.length);
        expectOnlyPublicUnicastSent(rig);
        for (const l of lines) {
          const source = (l.doc.enrichment as { source: { kind: string; ip?: string; address?: string } }).source;
          expect(source.address).to.equal(
            typeof l.doc.sourceIPAddress === 'string' && l.doc.sourceIPAddress !== '' ? l.doc.sourceIPAddress : undefined,
          );
          if (source.kind === 'public') expect(isStrictPublicUnicast(source.ip!), source.ip).to.equal(true);
          else expect((l.doc.enrichment as { providers?: unknown }).providers).to.equal(undefined);
        }
        expectLogsClean(rig, [m]);
      }),
      { numRuns: RUNS },
    );
  });

  it('never lets newlines, control characters, invalid UTF-8 or duplicate keys break an NDJSON line or reach a log', async () => {
    const dupField = fc.constantFrom('eventTime', 'awsRegion', 'recipientAccountId', 'sourceIPAddress', 'eventID', 'enrichment');
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            text: controlText,
            bin: fc.string({ unit: 'binary', maxLength: 20 }),
            dup: dupField,
            dupValue: anyText,
            rawBytes: fc.uint8Array({ maxLength: 6 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        async (specs) => {
          const m = marker();
          const records = specs.flatMap((s, i) => {
            const e = cloudTrailEvent({
              eventID: `${m}-${i}`,
              userAgent: `${s.text}${m}${s.bin}`,
              requestParameters: { [s.text]: s.bin, note: `line1\nline2\r\n${m}` },
            });
            const text = JSON.stringify(e);
            // Duplicate key after the original (JSON.parse keeps the last one; the text keeps both).
            const dup = text.slice(0, -1) + `,${JSON.stringify(s.dup)}:${JSON.stringify(s.dupValue)}}`;
            // Raw bytes (often invalid UTF-8; raw control characters would make it invalid JSON) inside a string value.
            const raw = Buffer.concat([
              Buffer.from(text.slice(0, -1) + ',"x":"'),
              Buffer.from(s.rawBytes.filter((b) => b >= 0x20 && b !== 0x22 && b !== 0x5c)),
              Buffer.from('"}'),
            ]);
            return [
              firehoseRecord(cloudWatchLogsData([dup, `  ${JSON.stringify(e, null, 2)}  `, `${m} not json \n${s.text}`])),
              firehoseRecord(raw.toString('base64')),
            ];
          });
          const rounds = await runToDrained(rig, firehoseEvent(records));
          const lines = checkRounds(rounds);
          for (const l of lines) {
            expect(
              [...l.text].some((c) => c.charCodeAt(0) < 0x20),
              'raw control character in an output line',
            ).to.equal(false);
            expect(JSON.parse(l.text)).to.deep.equal(l.doc);
          }
          // Every record with events came out; nothing was failed for its content.
          for (const r of rounds[0]!.result.records) expect(r.result).to.not.equal('ProcessingFailed');
          expectLogsClean(rig, [m]);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
