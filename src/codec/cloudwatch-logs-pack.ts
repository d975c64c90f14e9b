import { gzipSync } from 'node:zlib';

/**
 * Packs CloudTrail event texts the way the CloudTrail → CloudWatch Logs → subscription filter path does:
 * CloudTrail writes to log streams named `<account>_CloudTrail_<region>`, and the subscription sends each
 * stream's events in gzip'd `DATA_MESSAGE` batches. A batch is closed at 10,000 events or 1 MiB of messages
 * (PutLogEvents' own batch limits), so each Firehose record stays well under 1,000 KiB once compressed.
 */
export interface PackOptions {
  readonly logGroup?: string;
  readonly maxEvents?: number;
  readonly maxBytes?: number;
  /** A batch also closes when an event is this much later than the batch's first (near-real-time delivery). */
  readonly maxSpanMs?: number;
}

const MAX_EVENTS = 10_000;
const MAX_BYTES = 1024 * 1024;
const MAX_SPAN_MS = 5 * 60_000;

export class CloudWatchLogsPacker {
  private readonly streams = new Map<string, Batch>();
  private nextId = 1n;

  constructor(
    private readonly emit: (data: Buffer) => void,
    private readonly options: PackOptions = {},
  ) {}

  add(text: string): void {
    const { stream, owner } = streamOf(text);
    let batch = this.streams.get(stream);
    if (batch === undefined) {
      batch = { messages: [], bytes: 0, owner, firstMs: 0 };
      this.streams.set(stream, batch);
    }
    const size = Buffer.byteLength(text, 'utf8') + 26; // CloudWatch Logs counts 26 bytes of overhead per event
    const time = timestampOf(text);
    if (
      batch.messages.length > 0 &&
      (batch.messages.length >= (this.options.maxEvents ?? MAX_EVENTS) ||
        batch.bytes + size > (this.options.maxBytes ?? MAX_BYTES) ||
        Math.abs(time - batch.firstMs) > (this.options.maxSpanMs ?? MAX_SPAN_MS))
    ) {
      this.flushStream(stream, batch);
    }
    if (batch.messages.length === 0) batch.firstMs = time;
    batch.messages.push(text);
    batch.bytes += size;
  }

  flush(): void {
    for (const [stream, batch] of this.streams) if (batch.messages.length > 0) this.flushStream(stream, batch);
  }

  private flushStream(stream: string, batch: Batch): void {
    const logEvents = batch.messages.map((message) => {
      const id = (this.nextId++).toString().padStart(56, '0');
      return { id, timestamp: timestampOf(message), message };
    });
    const payload = {
      messageType: 'DATA_MESSAGE',
      owner: batch.owner,
      logGroup: this.options.logGroup ?? `aws-cloudtrail-logs-${batch.owner}`,
      logStream: stream,
      subscriptionFilters: ['cloudtrail-enricher'],
      logEvents,
    };
    this.emit(gzipSync(JSON.stringify(payload)));
    batch.messages = [];
    batch.bytes = 0;
  }
}

interface Batch {
  messages: string[];
  bytes: number;
  owner: string;
  firstMs: number;
}

function streamOf(text: string): { stream: string; owner: string } {
  try {
    const event = JSON.parse(text) as { recipientAccountId?: unknown; awsRegion?: unknown };
    const owner = typeof event.recipientAccountId === 'string' ? event.recipientAccountId : '000000000000';
    const region = typeof event.awsRegion === 'string' ? event.awsRegion : 'unknown';
    return { stream: `${owner}_CloudTrail_${region}`, owner };
  } catch {
    return { stream: '000000000000_CloudTrail_unknown', owner: '000000000000' };
  }
}

function timestampOf(text: string): number {
  const m = /"eventTime":"([^"]+)"/.exec(text);
  const ms = m === null ? NaN : Date.parse(m[1]!);
  return Number.isNaN(ms) ? Date.now() : ms;
}
