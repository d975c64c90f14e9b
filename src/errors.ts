/**
 * Every named error of the project. Expected failures (a bad record, a line that is not CloudTrail) are
 * values; these are thrown only for misconfiguration, bugs, and re-ingestion that failed after all retries.
 */

export class EnricherError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An environment variable or a file named by one is missing or malformed. Names the variable. */
export class ConfigError extends EnricherError {}

/** The rules file does not match the rules schema. Names the rule and the field. */
export class RulesValidationError extends EnricherError {}

/** Re-ingesting overflow records failed after every retry; thrown so Firehose retries the whole batch. */
export class ReingestionError extends EnricherError {}

/** A compact ASN table file is not in the expected format (build it with npm run build:data). */
export class AsnTableFormatError extends EnricherError {}

/** Some objects of a backfill notification failed in a retryable way; thrown so the event source retries. */
export class BackfillRetryableError extends EnricherError {}

/** The replay command was given options it cannot use (names the option). */
export class ReplayOptionsError extends EnricherError {}

/** An S3 Object Lambda event is not a GetObject request this function can answer. */
export class ObjectLambdaEventError extends EnricherError {}

/** A Sigma rule file is malformed or uses a Sigma feature the engine does not support. Names the file and the feature. */
export class SigmaRuleError extends RulesValidationError {}
