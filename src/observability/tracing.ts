/**
 * Optional AWS X-Ray tracing through Powertools Tracer (stage parameter `tracingEnabled`, env TRACING_ENABLED).
 * Loaded only when on: the tracer and the X-Ray SDK stay out of the bundle's cold start otherwise.
 *
 * What a trace shows: the invocation (a `## <handler>` subsegment with the cold_start and service annotations) and
 * each AWS SDK call (DynamoDB cache reads and writes, Firehose/Kinesis re-ingestion, S3 reads and writes, SSM /
 * Secrets Manager key reads) with its duration and errors. Outgoing HTTPS to the providers is deliberately not
 * captured: some providers take the API key in the URL, and X-Ray records URLs.
 */
export interface Tracing {
  /** Records every call of an AWS SDK v3 client as a subsegment. */
  captureClient<T>(client: T): T;
  /** Runs one invocation inside a subsegment of the Lambda segment. */
  trace<T>(name: string, run: () => Promise<T>): Promise<T>;
}

export async function createTracing(enabled: boolean, serviceName: string): Promise<Tracing | undefined> {
  if (!enabled) return undefined;
  const { Tracer } = await import('@aws-lambda-powertools/tracer');
  const tracer = new Tracer({ serviceName, enabled: true, captureHTTPsRequests: false });
  return {
    captureClient: (client) => tracer.captureAWSv3Client(client),
    trace: async (name, run) => {
      const segment = tracer.getSegment();
      const subsegment = segment?.addNewSubsegment(`## ${name}`);
      if (subsegment !== undefined) tracer.setSegment(subsegment);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
      try {
        return await run();
      } catch (err) {
        // The error's name and message only: our errors never carry event data.
        if (err instanceof Error) subsegment?.addError(err);
        throw err;
      } finally {
        subsegment?.close();
        if (segment !== undefined) tracer.setSegment(segment);
      }
    },
  };
}
