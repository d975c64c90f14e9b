import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '../model.ts';

export const SERVICE_NAME = 'cloudtrail-enricher';

/**
 * The narrow `Log` the core uses, backed by Powertools Logger (structured JSON, `POWERTOOLS_LOG_LEVEL`).
 * Built once per container by each handler.
 */
export function powertoolsLog(serviceName: string = SERVICE_NAME): Log {
  const logger = new Logger({ serviceName });
  return {
    debug: (message, extra) => logger.debug(message, extra ?? {}),
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
}
