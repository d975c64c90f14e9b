import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '../model.ts';

export const SERVICE_NAME = 'cloudtrail-enricher';

/** The part of the Lambda context the logger and the cold-start metric read (a fake one in tests). */
export interface LambdaContextLike {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/** A `Log` that stamps every line with the current invocation (request id, function, cold start). */
export interface ContextLog extends Log {
  /** Called once at the start of every invocation. */
  setContext(context: LambdaContextLike): void;
}

/**
 * The narrow `Log` the core uses, backed by Powertools Logger (structured JSON, `POWERTOOLS_LOG_LEVEL`). Built once per
 * container by each handler; `setContext` adds `function_request_id`, `function_name`, `function_arn`,
 * `function_memory_size` and `cold_start` to every following line. Callers pass counts and identifiers only, never
 * event payloads (see SECURITY.md).
 */
export function powertoolsLog(serviceName: string = SERVICE_NAME, logger: Logger = new Logger({ serviceName })): ContextLog {
  return {
    debug: (message, extra) => logger.debug(message, extra ?? {}),
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
    setContext: (context) => logger.addContext(context as Parameters<Logger['addContext']>[0]),
  };
}
