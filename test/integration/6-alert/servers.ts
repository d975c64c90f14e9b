/**
 * Loopback EventBridge and Security Hub endpoints speaking the real wire formats, reached by the SDK through
 * AWS_ENDPOINT_URL_EVENTBRIDGE and AWS_ENDPOINT_URL_SECURITYHUB:
 * - EventBridge: AWS JSON 1.1, `X-Amz-Target: AWSEvents.PutEvents`, `{Entries}` → `{FailedEntryCount, Entries}`;
 * - Security Hub: REST JSON, `POST /findings/import`, `{Findings}` → `{FailedCount, SuccessCount, FailedFindings}`.
 * Policies make a call fail (HTTP error), hang (never answer) or fail single entries.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PutEventsEntry {
  EventBusName?: string;
  Source: string;
  DetailType: string;
  Detail: string;
  Time?: number | string;
}

export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; type: string }
  | { kind: 'hang' }
  /** Per-entry error codes by position (undefined = accepted). */
  | { kind: 'entries'; codes: (string | undefined)[] };

export interface AlertServer<T> {
  readonly url: string;
  /** Entries / findings accepted, in order. */
  readonly accepted: T[];
  /** Entries / findings per call, accepted or not. */
  readonly calls: T[][];
  readonly targets: string[];
  /** Bytes of each request body. */
  readonly requestBytes: number[];
  behaviour: (call: number) => Behaviour;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function start<T>(
  handle: (state: AlertServer<T>, req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<AlertServer<T>> {
  const hanging = new Set<ServerResponse>();
  const state = {
    url: '',
    accepted: [] as T[],
    calls: [] as T[][],
    targets: [] as string[],
    requestBytes: [] as number[],
    behaviour: () => ({ kind: 'ok' }),
    close: async () => undefined,
  } as AlertServer<T>;
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      state.requestBytes.push(Buffer.byteLength(body));
      handle(state, req, body, res);
      if (!res.writableEnded) hanging.add(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (state as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

export function startEventBridgeServer(): Promise<AlertServer<PutEventsEntry>> {
  return start<PutEventsEntry>((state, req, body, res) => {
    state.targets.push(String(req.headers['x-amz-target'] ?? ''));
    const request = JSON.parse(body) as { Entries: PutEventsEntry[] };
    state.calls.push(request.Entries);
    const behaviour = state.behaviour(state.calls.length);
    if (behaviour.kind === 'hang') return;
    if (behaviour.kind === 'status') {
      res.writeHead(behaviour.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': behaviour.type });
      res.end(JSON.stringify({ __type: behaviour.type, message: 'loopback failure' }));
      return;
    }
    const codes = behaviour.kind === 'entries' ? behaviour.codes : [];
    let failed = 0;
    const entries = request.Entries.map((entry, i) => {
      const code = codes[i];
      if (code !== undefined) {
        failed++;
        return { ErrorCode: code, ErrorMessage: 'loopback entry failure' };
      }
      state.accepted.push(entry);
      return { EventId: `evt-${state.accepted.length}` };
    });
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${state.calls.length}` });
    res.end(JSON.stringify({ FailedEntryCount: failed, Entries: entries }));
  });
}

export interface AsffFinding {
  Id: string;
  ProductArn: string;
  [field: string]: unknown;
}

export function startSecurityHubServer(): Promise<AlertServer<AsffFinding>> {
  return start<AsffFinding>((state, req, body, res) => {
    state.targets.push(`${req.method} ${req.url}`);
    if (req.method !== 'POST' || req.url !== '/findings/import') {
      res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
      res.end(JSON.stringify({ Message: 'no such route', Code: 'ResourceNotFoundException' }));
      return;
    }
    const request = JSON.parse(body) as { Findings: AsffFinding[] };
    state.calls.push(request.Findings);
    const behaviour = state.behaviour(state.calls.length);
    if (behaviour.kind === 'hang') return;
    if (behaviour.kind === 'status') {
      res.writeHead(behaviour.status, { 'content-type': 'application/json', 'x-amzn-errortype': behaviour.type });
      res.end(JSON.stringify({ Message: 'loopback failure', Code: behaviour.type }));
      return;
    }
    const codes = behaviour.kind === 'entries' ? behaviour.codes : [];
    const failedFindings: { Id: string; ErrorCode: string; ErrorMessage: string }[] = [];
    request.Findings.forEach((finding, i) => {
      const code = codes[i];
      if (code !== undefined) failedFindings.push({ Id: finding.Id, ErrorCode: code, ErrorMessage: 'loopback finding failure' });
      else state.accepted.push(finding);
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        FailedCount: failedFindings.length,
        SuccessCount: request.Findings.length - failedFindings.length,
        FailedFindings: failedFindings,
      }),
    );
  });
}
