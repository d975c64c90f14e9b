/**
 * How an S3 (or network) failure should be treated: retried later (throttling, timeouts, server errors) or
 * reported as permanent (missing object, access denied, archived object). Only the error's class name, code
 * and HTTP status are used — never its message, which can name buckets, keys or request ids.
 */
export interface FailureClass {
  readonly retryable: boolean;
  /** S3 error code or error class name (`NoSuchKey`, `SlowDown`, `TimeoutError`, …). */
  readonly code: string;
}

/** Codes S3 and the SDK use for throttling and transient trouble. */
const RETRYABLE_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
  'AbortError',
  'NetworkingError',
  'EC2ThrottledException',
]);

/** Node socket errors: the connection broke, the request may well succeed next time. */
const RETRYABLE_SYSCALL = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

export function classifyFailure(err: unknown): FailureClass {
  const e = (err ?? {}) as {
    name?: unknown;
    Code?: unknown;
    code?: unknown;
    $retryable?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    cause?: unknown;
  };
  const name = typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' ? e.name : 'Error';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const syscall =
    typeof e.code === 'string'
      ? e.code
      : typeof (e.cause as { code?: unknown } | undefined)?.code === 'string'
        ? (e.cause as { code: string }).code
        : undefined;
  const retryable =
    RETRYABLE_CODES.has(name) ||
    (e.$retryable !== undefined && e.$retryable !== null) ||
    e.$fault === 'server' ||
    status === 429 ||
    (status !== undefined && status >= 500) ||
    (syscall !== undefined && RETRYABLE_SYSCALL.has(syscall));
  return { retryable, code: syscall !== undefined && name === 'Error' ? syscall : name };
}

/** S3 answered that the object (or the version asked for) is not there. */
export function isMissing(err: unknown): boolean {
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | undefined;
  return e?.name === 'NoSuchKey' || e?.name === 'NoSuchVersion' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
