import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';

/** One record a loopback stream accepted. */
export interface StoredRecord {
  readonly data: Buffer;
  readonly partitionKey?: string;
}

/** Decides the fate of each entry: undefined = accepted, a string = that per-entry error code. */
export type EntryPolicy = (call: number, index: number) => string | undefined;

/** Decides the fate of a whole call: undefined = handle it, a number = answer with that HTTP status. */
export type CallPolicy = (call: number) => { status: number; type: string } | undefined;

interface StreamServer {
  readonly url: string;
  readonly records: StoredRecord[];
  readonly targets: string[];
  calls: number;
  drain(): StoredRecord[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage | Http2ServerRequest): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function handleJsonRpc(
  state: { calls: number; records: StoredRecord[]; targets: string[] },
  entryPolicy: EntryPolicy,
  callPolicy: CallPolicy,
  target: string,
  body: string,
): { status: number; payload: unknown } {
  state.calls++;
  state.targets.push(target);
  const failure = callPolicy(state.calls);
  if (failure !== undefined) return { status: failure.status, payload: { __type: failure.type, message: 'loopback failure' } };
  const request = JSON.parse(body) as { Records: { Data: string; PartitionKey?: string }[] };
  const responses: Record<string, unknown>[] = [];
  let failed = 0;
  request.Records.forEach((record, index) => {
    const code = entryPolicy(state.calls, index);
    if (code === undefined) {
      state.records.push({ data: Buffer.from(record.Data, 'base64'), partitionKey: record.PartitionKey });
      responses.push(
        target.startsWith('Kinesis')
          ? { SequenceNumber: String(state.records.length), ShardId: 'shardId-000000000000' }
          : { RecordId: `rec-${state.records.length}` },
      );
    } else {
      failed++;
      responses.push({ ErrorCode: code, ErrorMessage: 'loopback entry failure' });
    }
  });
  if (target.endsWith('.PutRecordBatch'))
    return { status: 200, payload: { FailedPutCount: failed, Encrypted: false, RequestResponses: responses } };
  return { status: 200, payload: { FailedRecordCount: failed, Records: responses } };
}

/**
 * A Firehose endpoint on loopback speaking the real wire format (AWS JSON 1.1, `X-Amz-Target:
 * Firehose_20150804.PutRecordBatch`), reached by the SDK through `AWS_ENDPOINT_URL_FIREHOSE`.
 */
export async function startFirehoseServer(
  entryPolicy: EntryPolicy = () => undefined,
  callPolicy: CallPolicy = () => undefined,
): Promise<StreamServer> {
  const state = { calls: 0, records: [] as StoredRecord[], targets: [] as string[] };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void readBody(req).then((body) => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const { status, payload } = handleJsonRpc(state, entryPolicy, callPolicy, target, body);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${state.calls}` });
      res.end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return wrap(
    state,
    `http://127.0.0.1:${port}`,
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
}

/**
 * A Kinesis Data Streams endpoint on loopback (AWS JSON 1.1 over HTTP/2 cleartext, which is what the SDK's
 * Kinesis client speaks), reached through `AWS_ENDPOINT_URL_KINESIS`.
 */
export async function startKinesisServer(
  entryPolicy: EntryPolicy = () => undefined,
  callPolicy: CallPolicy = () => undefined,
): Promise<StreamServer> {
  const state = { calls: 0, records: [] as StoredRecord[], targets: [] as string[] };
  const server: Http2Server = createHttp2Server((req: Http2ServerRequest, res: Http2ServerResponse) => {
    void readBody(req).then((body) => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const { status, payload } = handleJsonRpc(state, entryPolicy, callPolicy, target, body);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(payload));
    });
  });
  const sessions = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return wrap(
    state,
    `http://127.0.0.1:${port}`,
    () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  );
}

function wrap(state: { calls: number; records: StoredRecord[]; targets: string[] }, url: string, close: () => Promise<void>): StreamServer {
  return {
    url,
    get records() {
      return state.records;
    },
    get targets() {
      return state.targets;
    },
    get calls() {
      return state.calls;
    },
    set calls(v: number) {
      state.calls = v;
    },
    drain: () => state.records.splice(0, state.records.length),
    close,
  };
}
