import { UserError } from './user-error.ts';

/** What an AWS call was about, for the one-line message: the operation, the bucket/stream/log group, the region. */
export interface AwsCallContext {
  readonly operation: string;
  /** e.g. `bucket trail-logs`, `delivery stream ct-enricher`, `log group aws-cloudtrail-logs`. */
  readonly resource: string;
  readonly region: string;
}

const FIXES: Record<string, (c: AwsCallContext) => string> = {
  NoSuchBucket: (c) => `${c.resource} does not exist in ${c.region} (${c.operation}); check the bucket name and --region`,
  AccessDenied: (c) => `${c.operation} on ${c.resource} in ${c.region} was denied; check the credentials' IAM permissions (AWS_PROFILE)`,
  AccessDeniedException: (c) =>
    `${c.operation} on ${c.resource} in ${c.region} was denied; check the credentials' IAM permissions (AWS_PROFILE)`,
  ResourceNotFoundException: (c) => `${c.resource} does not exist in ${c.region} (${c.operation}); check the name and --region`,
  InvalidAccessKeyId: (c) =>
    `${c.operation} on ${c.resource} in ${c.region}: the access key is not valid; check AWS_PROFILE or AWS_ACCESS_KEY_ID`,
  SignatureDoesNotMatch: (c) => `${c.operation} on ${c.resource} in ${c.region}: the secret key does not match; check the credentials`,
  CredentialsProviderError: (c) =>
    `${c.operation} on ${c.resource} in ${c.region}: no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`,
  PermanentRedirect: (c) => `${c.resource} is not in ${c.region} (${c.operation}); pass the bucket's region with --region`,
  AuthorizationHeaderMalformed: (c) => `${c.resource} is not in ${c.region} (${c.operation}); pass the bucket's region with --region`,
};

/** True for an error thrown by an AWS SDK client (it carries `$metadata`) or its credential chain. */
export function isAwsError(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  return '$metadata' in err || (err as { name?: unknown }).name === 'CredentialsProviderError';
}

/** The one line for an AWS failure: names the operation, the resource and the region, and says what to check. */
export function describeAwsError(err: unknown, context: AwsCallContext): string {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const code = e.Code ?? e.name ?? 'Error';
  const fix = FIXES[code];
  if (fix !== undefined) return fix(context);
  const status = e.$metadata?.httpStatusCode;
  return `${context.operation} on ${context.resource} in ${context.region} failed: ${code}${status !== undefined ? ` (HTTP ${status})` : ''}`;
}

/** Resolves the client's region, or a user error saying how to set one (instead of the SDK's "Region is missing"). */
export async function regionOf(client: { config: { region: () => Promise<string> } }): Promise<string> {
  try {
    const region = await client.config.region();
    if (typeof region === 'string' && region.length > 0) return region;
  } catch {
    // fall through
  }
  throw new UserError('no AWS region is set; pass --region R (e.g. --region us-east-1) or set AWS_REGION');
}
