/**
 * Partition keys as each layout names them in `metadata.partitionKeys` (and so in the Firehose prefix and the
 * local/backfill S3 layout). Internally every layout uses the same sanitised keys (src/encode/partition.ts).
 *   native, ecs  account=<id>/region=<r>/dt=<YYYY-MM-DD>/
 *   ocsf         <class>/<version>/region=<r>/accountId=<id>/eventDay=<YYYYMMDD>/ — Security Lake's layout under
 *                one custom source per OCSF class (key `source`: api-activity | authentication | base-event)
 */
import type { OutputFormat } from '../../config/core.ts';
import type { PartitionKeys } from '../../model.ts';

export const OCSF_PARTITION_KEY_NAMES = ['source', 'region', 'accountId', 'eventDay'] as const;

/**
 * Defaults of the Security Lake custom sources (stage parameters securityLakeSourcePrefix and
 * securityLakeSourceVersion): sources `cte-api-activity` and `cte-authentication` (Security Lake allows at most
 * 20 characters), whose location is `s3://<lake bucket>/ext/<source>/<version>/`.
 */
export const SECURITY_LAKE_SOURCE_PREFIX = 'ext/cte-';
export const SECURITY_LAKE_SOURCE_VERSION = '1.0';

export function layoutPartitionKeys(format: OutputFormat | undefined, keys: PartitionKeys): Record<string, string> {
  if (format === 'ocsf') {
    return {
      source: keys.eventClass ?? 'api-activity',
      region: keys.region,
      accountId: keys.account,
      eventDay: keys.dt.replaceAll('-', ''),
    };
  }
  return { account: keys.account, region: keys.region, dt: keys.dt };
}

/** `name=value/` for every key, in the layout's order (values are already restricted to a safe set). */
export function layoutPartitionPath(format: OutputFormat | undefined, keys: PartitionKeys): string {
  return partitionPathOf(layoutPartitionKeys(format, keys));
}

export function partitionPathOf(keys: Readonly<Record<string, string>>): string {
  let path = '';
  for (const [name, value] of Object.entries(keys)) {
    // Security Lake's objects sit directly under the custom source's own prefix: `source` names that prefix.
    path += name === 'source' ? `${value}/${SECURITY_LAKE_SOURCE_VERSION}/` : `${name}=${value}/`;
  }
  return path;
}
