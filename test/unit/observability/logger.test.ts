import { expect } from 'chai';
import type { Context } from 'aws-lambda';
import { instrumented } from '../../../src/observability/lambda.ts';
import { powertoolsLog } from '../../../src/observability/logger.ts';
import { inOnDemandContainer } from './support/emitted.ts';

/** A Lambda context as the Node.js runtime passes it (values from AWS's documentation of the context object). */
function fakeContext(requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'cloudtrail-enricher-dev-transform',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:cloudtrail-enricher-dev-transform',
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/cloudtrail-enricher-dev-transform',
    logStreamName: '2026/11/20/[$LATEST]abcdef0123456789',
    getRemainingTimeInMillis: () => 60_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

async function captureLines(fn: () => Promise<void>): Promise<Record<string, unknown>[]> {
  // Powertools writes DEBUG/INFO to standard output and WARN/ERROR to standard error.
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write.bind(stream));
  for (const stream of streams) {
    stream.write = (chunk: string | Uint8Array) => {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((l) => l.startsWith('{')),
      );
      return true;
    };
  }
  try {
    await fn();
  } finally {
    streams.forEach((stream, n) => (stream.write = writes[n]!));
  }
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('logger with the Lambda context', () => {
  it('stamps every line of an invocation with its request id, the function and the cold-start flag', async () => {
    const log = inOnDemandContainer(() => powertoolsLog('cloudtrail-enricher'));
    const handler = instrumented(
      'transform',
      async (_event: unknown, _context: Context) => {
        log.info('invocation summary', { records: 3 });
        log.warn('provider key unavailable; provider skipped for this invocation', { provider: 'ipstack' });
      },
      { log },
    );
    const lines = await captureLines(async () => {
      await handler({}, fakeContext('c6af9ac6-7b61-11e6-9a41-93e8deadbeef'));
      await handler({}, fakeContext('7f0e2a10-0000-4000-8000-000000000002'));
    });
    expect(lines).to.have.length(4);
    expect(lines.slice(0, 2).map((l) => l.function_request_id)).to.deep.equal([
      'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    ]);
    expect(lines.slice(2).map((l) => l.function_request_id)).to.deep.equal([
      '7f0e2a10-0000-4000-8000-000000000002',
      '7f0e2a10-0000-4000-8000-000000000002',
    ]);
    for (const line of lines) {
      expect(line).to.include({ function_name: 'cloudtrail-enricher-dev-transform', service: 'cloudtrail-enricher' });
    }
    expect(lines.map((l) => l.cold_start)).to.deep.equal([true, true, false, false]);
  });

  it('logs only the fields it is given: no event, no payload', async () => {
    const log = powertoolsLog('cloudtrail-enricher');
    const event = { records: [{ recordId: '1', data: 'c2VjcmV0LXBheWxvYWQ=' }] };
    const handler = instrumented('transform', async () => log.info('invocation summary', { records: 1 }), { log });
    const [line] = await captureLines(() => handler(event, fakeContext('r-1')));
    expect(JSON.stringify(line)).to.not.include('c2VjcmV0LXBheWxvYWQ=');
    expect(line).to.not.have.property('event');
  });
});
