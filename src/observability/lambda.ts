/**
 * What every Lambda handler does around its core: stamp the logger with the invocation's context (request id,
 * function, cold start), emit the cold-start metric, and, when tracing is on, record the invocation as a subsegment.
 */
import type { ContextLog, LambdaContextLike } from './logger.ts';
import type { LambdaMetrics } from './metrics.ts';

export interface Instrumentation {
  readonly log: ContextLog;
  readonly metrics?: Pick<LambdaMetrics, 'captureColdStart'>;
  /** Wraps one invocation (Powertools Tracer when TRACING_ENABLED is true); default: runs it. */
  readonly trace?: <T>(name: string, run: () => Promise<T>) => Promise<T>;
}

/** What the handlers are called with: Lambda's full context, or (local runs, tests) just the remaining time. */
export type InvocationContext = Pick<LambdaContextLike, 'getRemainingTimeInMillis'> & Partial<LambdaContextLike>;

export function instrumented<E, C extends InvocationContext, R>(
  name: string,
  handler: (event: E, context: C) => Promise<R>,
  instrumentation: Instrumentation,
): (event: E, context: C) => Promise<R> {
  return async (event, context) => {
    if (context.awsRequestId !== undefined && context.functionName !== undefined) {
      instrumentation.log.setContext(context as LambdaContextLike);
      instrumentation.metrics?.captureColdStart(context.functionName);
    }
    const run = () => handler(event, context);
    return instrumentation.trace === undefined ? run() : instrumentation.trace(name, run);
  };
}
