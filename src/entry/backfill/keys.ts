import { createHash } from 'node:crypto';
import type { OutputFormat } from '../../config/core.ts';
import { layoutPartitionPath } from '../../7-encode/layouts/partition.ts';
import type { PartitionKeys } from '../../model.ts';
import type { ObjectRef } from '../../codec/cloudtrail-keys.ts';

/**
 * The object key the events of one partition of one source object are written to:
 *   `<prefix>account=<a>/region=<r>/dt=<d>/cloudtrail-backfill-<source file name>-<hash>.json.gz`
 * Deterministic: the same source object always maps to the same keys, so a retried or duplicate notification
 * overwrites its earlier output instead of adding a copy. The hash (of bucket and key) keeps two sources with the
 * same file name apart; the name is reduced to a safe character set and length. Partition values are already
 * restricted by the encoder, so nothing in the key can leave the prefix.
 */
export function outputKeyFor(
  source: Pick<ObjectRef, 'bucket' | 'key'>,
  keys: PartitionKeys,
  prefix: string,
  format?: OutputFormat,
): string {
  // OUTPUT_FORMAT=ocsf: `<prefix><class>/<version>/region=…/accountId=…/eventDay=…/` (Security Lake's layout).
  return `${prefix}${layoutPartitionPath(format, keys)}${outputNameFor(source)}`;
}

export function outputNameFor(source: Pick<ObjectRef, 'bucket' | 'key'>): string {
  const file = source.key.slice(source.key.lastIndexOf('/') + 1).replace(/\.json(\.gz)?$/, '');
  const safe = file.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 160) || 'object';
  const hash = createHash('sha256').update(`${source.bucket}\n${source.key}`).digest('hex').slice(0, 16);
  return `cloudtrail-backfill-${safe}-${hash}.json.gz`;
}
