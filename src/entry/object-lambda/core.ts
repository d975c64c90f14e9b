import { WriteGetObjectResponseCommand, type S3Client } from '@aws-sdk/client-s3';
import { decodeCloudTrailObject } from '../../1-decode/cloudtrail-object.ts';
import { classifyKey } from '../../codec/cloudtrail-keys.ts';
import { DEFAULT_OBJECT_LIMITS, readBounded, type ObjectLimits } from '../../codec/s3-object.ts';
import { joinLines } from '../../8-deliver/plan.ts';
import { ObjectLambdaEventError } from '../../errors.ts';
import { silentLog, type Log } from '../../model.ts';
import { ObjectFunction } from '../../observability/metric-names.ts';
import { publishObjectMetrics, type MetricsSink } from '../../observability/report.ts';
import { emptyEnrichCounters, enrichEventGroups, errorName, type EnrichCounters, type EnrichDeps } from '../../pipeline/enrich.ts';
import { parseObjectLambdaEvent } from './event.ts';

/** What the caller of GetObject gets: the enriched object, or an S3-style error. */
export type GetObjectAnswer =
  | {
      readonly ok: true;
      readonly body: Buffer;
      readonly events: number;
      readonly lastModified?: Date;
      readonly counters: EnrichCounters;
    }
  | {
      readonly ok: false;
      /** One of the status codes WriteGetObjectResponse accepts (400, 403, 404, 500, 503, …). */
      readonly statusCode: number;
      readonly errorCode: string;
      /** Shown to the caller: generic, never a key, URL, bucket or internal detail. */
      readonly errorMessage: string;
      /** For the function's own log only. */
      readonly reason: string;
    };

/** The subset of `fetch` used to read the presigned URL (global `fetch` by default; tests may pass their own). */
export type FetchLike = (url: string, init: { signal: AbortSignal }) => Promise<Response>;

export interface ObjectLambdaDeps {
  readonly enrich: EnrichDeps;
  readonly limits?: ObjectLimits;
  readonly fetch?: FetchLike;
  readonly log?: Log;
  readonly now?: () => number;
}

export interface AnswerOptions {
  /** Epoch ms by which the original must have been read (the fetch is aborted then). */
  readonly fetchDeadline: number;
  /** Epoch ms by which IP lookups must settle (events are `partial` after that, never failed). */
  readonly lookupDeadline: number;
}

const CONTENT_TYPE = 'application/x-ndjson';

export const ERRORS = {
  ranged: {
    statusCode: 400,
    errorCode: 'InvalidRequest',
    errorMessage:
      'Range and partNumber are not supported by this access point: the enriched object is computed whole; request it without them.',
  },
  digest: {
    statusCode: 400,
    errorCode: 'NotCloudTrailLogFile',
    errorMessage: 'The object is a CloudTrail digest file; only CloudTrail log files are enriched.',
  },
  notCloudTrail: { statusCode: 400, errorCode: 'NotCloudTrailLogFile', errorMessage: 'The object is not a CloudTrail log file.' },
  tooLarge: { statusCode: 400, errorCode: 'EntityTooLarge', errorMessage: 'The object is larger than this access point enriches.' },
  noSuchKey: { statusCode: 404, errorCode: 'NoSuchKey', errorMessage: 'The specified key does not exist.' },
  accessDenied: { statusCode: 403, errorCode: 'AccessDenied', errorMessage: 'Access Denied' },
  slowDown: { statusCode: 503, errorCode: 'SlowDown', errorMessage: 'Please reduce your request rate.' },
  internal: { statusCode: 500, errorCode: 'InternalError', errorMessage: 'We encountered an internal error. Please try again.' },
} as const;

function fail(error: (typeof ERRORS)[keyof typeof ERRORS], reason: string): GetObjectAnswer {
  return { ok: false, ...error, reason };
}

/**
 * S3 Object Lambda GetObject: reads the original through the presigned `inputS3Url` (a plain HTTPS GET, no
 * credentials), enriches it with the same core as every other entry point, and answers with newline-terminated
 * NDJSON — one enriched event per line, uncompressed. Expected failures are answers, never exceptions:
 * not CloudTrail / digest / too large → 400; original missing → 404, forbidden → 403; throttled → 503; anything
 * else → 500. Error messages are fixed strings: no key, URL or internal detail reaches the caller.
 */
export async function answerGetObject(event: unknown, deps: ObjectLambdaDeps, options: AnswerOptions): Promise<GetObjectAnswer> {
  const parsed = parseObjectLambdaEvent(event);
  if (!parsed.ok) return fail(ERRORS.internal, parsed.reason);
  if (parsed.ranged) return fail(ERRORS.ranged, 'Range or partNumber requested');
  if (parsed.key !== undefined) {
    const verdict = classifyKey({ bucket: '', key: parsed.key });
    if (!verdict.ok) return fail(verdict.reason === 'digest' ? ERRORS.digest : ERRORS.notCloudTrail, verdict.message);
  }
  const limits = deps.limits ?? DEFAULT_OBJECT_LIMITS;
  const now = deps.now ?? Date.now;

  let response: Response;
  try {
    const fetchImpl = deps.fetch ?? ((url: string, init: { signal: AbortSignal }) => fetch(url, init));
    response = await fetchImpl(parsed.inputS3Url, { signal: AbortSignal.timeout(Math.max(1, options.fetchDeadline - now())) });
  } catch (err) {
    return fail(ERRORS.internal, `reading the original failed (${errorName(err)})`);
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    const reason = `the original answered HTTP ${response.status}`;
    if (response.status === 404) return fail(ERRORS.noSuchKey, reason);
    if (response.status === 403) return fail(ERRORS.accessDenied, reason);
    if (response.status === 503 || response.status === 429) return fail(ERRORS.slowDown, reason);
    return fail(ERRORS.internal, reason);
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  let bytes: Buffer;
  try {
    const read = await readBounded(
      response.body === null ? undefined : response.body,
      limits.maxObjectBytes,
      Number.isFinite(declared) ? declared : undefined,
    );
    if (!read.ok) return fail(ERRORS.tooLarge, read.message);
    bytes = read.bytes;
  } catch (err) {
    return fail(ERRORS.internal, `reading the original failed (${errorName(err)})`);
  }

  const decoded = await decodeCloudTrailObject(bytes, limits);
  if (!decoded.ok) {
    if (decoded.problem === 'digest') return fail(ERRORS.digest, decoded.message);
    if (decoded.problem === 'too-large' || decoded.problem === 'decompressed-too-large') return fail(ERRORS.tooLarge, decoded.message);
    return fail(ERRORS.notCloudTrail, decoded.message);
  }

  const lastModifiedHeader = response.headers.get('last-modified');
  const lastModified = lastModifiedHeader === null ? undefined : new Date(lastModifiedHeader);
  const validDate = lastModified !== undefined && !Number.isNaN(lastModified.getTime()) ? lastModified : undefined;
  const counters = emptyEnrichCounters();
  try {
    const [lines] = await enrichEventGroups(
      [{ events: decoded.events, arrival: validDate?.getTime() ?? now() }],
      deps.enrich,
      options.lookupDeadline,
      counters,
    );
    const body = joinLines(lines ?? [], 's3');
    return { ok: true, body, events: lines?.length ?? 0, counters, ...(validDate !== undefined ? { lastModified: validDate } : {}) };
  } catch (err) {
    // enrichEventGroups does not throw for lookups or rules; this is a bug, reported without the object's content.
    return fail(ERRORS.internal, `enrichment failed (${errorName(err)})`);
  }
}

/** Sends the answer to S3 Object Lambda (WriteGetObjectResponse to the event's route, with its token). */
export async function writeAnswer(s3: Pick<S3Client, 'send'>, route: string, token: string, answer: GetObjectAnswer): Promise<void> {
  if (answer.ok) {
    await s3.send(
      new WriteGetObjectResponseCommand({
        RequestRoute: route,
        RequestToken: token,
        StatusCode: 200,
        Body: answer.body,
        ContentLength: answer.body.length,
        ContentType: CONTENT_TYPE,
        ...(answer.lastModified !== undefined ? { LastModified: answer.lastModified } : {}),
      }),
    );
    return;
  }
  await s3.send(
    new WriteGetObjectResponseCommand({
      RequestRoute: route,
      RequestToken: token,
      StatusCode: answer.statusCode,
      ErrorCode: answer.errorCode,
      ErrorMessage: answer.errorMessage,
    }),
  );
}

export interface ObjectLambdaHandlerOptions {
  readonly s3: Pick<S3Client, 'send'>;
  readonly enrich: Omit<EnrichDeps, 'intel'> & { readonly intel?: EnrichDeps['intel'] | Promise<NonNullable<EnrichDeps['intel']>> };
  readonly limits?: ObjectLimits;
  /** Share of the remaining time IP lookups may use (the transform's ENRICHMENT_BUDGET_FRACTION). */
  readonly enrichmentBudgetFraction?: number;
  /** Time kept for sending the answer (the transform's RESPONSE_RESERVE_MS). */
  readonly responseReserveMs?: number;
  readonly fetch?: FetchLike;
  readonly log?: Log;
  /** Object metrics under `function` = object-lambda: returned, failed, skipped (digest, not CloudTrail), events, duration. */
  readonly metrics?: MetricsSink;
  readonly now?: () => number;
}

export type ObjectLambdaHandler = (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<{ statusCode: number }>;

/**
 * The Object Lambda function around the core: one answer per invocation through WriteGetObjectResponse. The
 * return value is not used by S3 Object Lambda; it carries the status for logs and tests. Throws only when
 * WriteGetObjectResponse itself fails (the caller then gets S3 Object Lambda's own error), or when the event
 * carries no route and token to answer to.
 */
export function createObjectLambdaHandler(options: ObjectLambdaHandlerOptions): ObjectLambdaHandler {
  const log = options.log ?? silentLog;
  const now = options.now ?? Date.now;
  const fraction = options.enrichmentBudgetFraction ?? 0.5;
  const reserve = options.responseReserveMs ?? 2000;
  return async (event, context) => {
    const parsed = parseObjectLambdaEvent(event);
    if (parsed.route === undefined || parsed.token === undefined) {
      log.error('object lambda invoked without getObjectContext route/token');
      throw new ObjectLambdaEventError('not an S3 Object Lambda GetObject event (no getObjectContext.outputRoute/outputToken)');
    }
    const started = now();
    const usable = Math.max(0, context.getRemainingTimeInMillis() - reserve);
    const intel = await options.enrich.intel;
    const answer = await answerGetObject(
      event,
      { enrich: { ...options.enrich, intel, log }, limits: options.limits, fetch: options.fetch, log, now },
      { fetchDeadline: started + Math.floor(usable * 0.5), lookupDeadline: started + Math.floor(usable * fraction) },
    );
    if (answer.ok)
      log.info('enriched object returned', {
        events: answer.events,
        partial: answer.counters.partial,
        skipped: answer.counters.skipped,
        bytes: answer.body.length,
      });
    else log.warn('object not enriched', { statusCode: answer.statusCode, errorCode: answer.errorCode, reason: answer.reason });
    try {
      await writeAnswer(options.s3, parsed.route, parsed.token, answer);
    } finally {
      if (options.metrics !== undefined) {
        const skipped = !answer.ok && (answer.errorCode === ERRORS.digest.errorCode || answer.errorCode === ERRORS.notCloudTrail.errorCode);
        publishObjectMetrics(
          ObjectFunction.ObjectLambda,
          {
            processed: answer.ok ? 1 : 0,
            failed: answer.ok || skipped ? 0 : 1,
            skipped: skipped ? 1 : 0,
            events: answer.ok ? answer.events : 0,
            durationMs: now() - started,
          },
          options.metrics,
        );
      }
    }
    return { statusCode: answer.ok ? 200 : answer.statusCode };
  };
}

export { ObjectLambdaEventError };
