import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Sender } from './core.ts';
import { classifyKey, type ObjectRef } from '../../codec/cloudtrail-keys.ts';

/**
 * Which part of a CloudTrail bucket a backfill reads. Unset members select everything; accounts and regions it is
 * not given are discovered with delimiter listings.
 */
export interface BackfillSelection {
  readonly accounts?: ReadonlySet<string>;
  readonly regions?: ReadonlySet<string>;
  /** Inclusive, `YYYY-MM-DD`, compared with the date in the key's path (the day CloudTrail delivered the file). */
  readonly from?: string;
  readonly to?: string;
}

/** One CloudTrail log object chosen for backfill, with what the listing said about it. */
export interface SelectedObject extends ObjectRef {
  readonly etag: string;
  readonly size: number;
  readonly account: string;
  readonly region: string;
  /** `YYYY-MM-DD` from the key's path. */
  readonly day: string;
  /** The organisation id of an organisation trail (`o-…`). */
  readonly org?: string;
}

/** One `…/<region>/YYYY/MM/DD/` folder of the layout. */
export interface DayPrefix {
  readonly prefix: string;
  readonly account: string;
  readonly region: string;
  readonly day: string;
  readonly org?: string;
}

/** What discovery saw and did not select (folders or objects, by reason), and what it cost. */
export interface ListingStats {
  /** ListObjectsV2 calls made (each ≤ 1,000 entries). */
  listCalls: number;
  /** Folders not descended into: `digest` (CloudTrail-Digest), `outside-layout` (AWS Config, anything else). */
  skippedFolders: Record<string, number>;
  /** Objects inside selected day folders that are not log files: `digest`, `not-cloudtrail`, `own-output`. */
  skippedObjects: Record<string, number>;
  /** Up to 10 examples of skipped folders, for the summary. */
  skippedExamples: string[];
}

export function emptyListingStats(): ListingStats {
  return { listCalls: 0, skippedFolders: {}, skippedObjects: {}, skippedExamples: [] };
}

export type SourceLayout =
  { readonly ok: true; readonly root: string; readonly fixed: readonly string[] } | { readonly ok: false; readonly message: string };

const ACCOUNT = /^\d{12}$/;
const ORG = /^o-[a-z0-9]{10,32}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
/** Folders holding log files. `CloudTrail-Insight` holds Insights events, in the same Records files. */
const TRAIL_FOLDERS = new Set(['CloudTrail', 'CloudTrail-Insight']);

/**
 * Where the CloudTrail layout starts in a source prefix, and which of its levels the prefix already fixes.
 * `s3://b` and `s3://b/custom/` start at `AWSLogs/` (or `custom/AWSLogs/`); `s3://b/AWSLogs/111122223333/CloudTrail/`
 * fixes the account and the service folder. A prefix is read as a folder (`…/x` means `…/x/`).
 */
export function sourceLayout(prefix: string): SourceLayout {
  const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const segments = folder.split('/').slice(0, -1);
  const at = segments.indexOf('AWSLogs');
  if (at === -1) return { ok: true, root: `${folder}AWSLogs/`, fixed: [] };
  const root = `${segments.slice(0, at + 1).join('/')}/`;
  const fixed = segments.slice(at + 1);
  if (fixed.length > 7)
    return { ok: false, message: `the source prefix goes deeper than a day folder of the CloudTrail layout (${prefix})` };
  return { ok: true, root, fixed };
}

/** Validates `YYYY-MM-DD` as a real calendar day. */
export function isDay(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (m === null) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

interface Level {
  readonly prefix: string;
  readonly account?: string;
  readonly org?: string;
  readonly region?: string;
  readonly year?: string;
  readonly month?: string;
}

/**
 * The day folders of the CloudTrail layout under the source that the selection asks for, in key order:
 * `AWSLogs/[<o-org>/]<account>/CloudTrail/<region>/YYYY/MM/DD/`. Each level is listed with delimiter `/` (one or a
 * few ListObjectsV2 calls per folder), and only the folders that can match are descended into: the whole bucket is
 * never paged through. Folders outside the layout (AWS Config, CloudTrail-Digest, …) are counted, not read.
 */
/** ListObjectsV2 returns at most 1,000 keys (and common prefixes) per call. */
export const LIST_PAGE_SIZE = 1000;

export async function* dayPrefixes(
  s3: S3Sender,
  bucket: string,
  prefix: string,
  selection: BackfillSelection,
  stats: ListingStats,
  pageSize = LIST_PAGE_SIZE,
): AsyncGenerator<DayPrefix> {
  const layout = sourceLayout(prefix);
  if (!layout.ok) throw new Error(layout.message);
  yield* descend(s3, bucket, { prefix: layout.root }, 'root', layout.fixed, selection, stats, pageSize);
}

type Depth = 'root' | 'org' | 'account' | 'service' | 'region' | 'year' | 'month';

async function* descend(
  s3: S3Sender,
  bucket: string,
  level: Level,
  depth: Depth,
  fixed: readonly string[],
  selection: BackfillSelection,
  stats: ListingStats,
  pageSize: number,
): AsyncGenerator<DayPrefix> {
  // A level the source prefix already names is not listed: it is the only child.
  const children = fixed.length > 0 ? [fixed[0]!] : await childFolders(s3, bucket, level.prefix, stats, pageSize);
  const rest = fixed.slice(1);
  for (const name of children) {
    const prefix = `${level.prefix}${name}/`;
    const skip = (reason: string) => {
      stats.skippedFolders[reason] = (stats.skippedFolders[reason] ?? 0) + 1;
      if (stats.skippedExamples.length < 10) stats.skippedExamples.push(prefix);
    };
    switch (depth) {
      case 'root':
        if (ORG.test(name)) yield* descend(s3, bucket, { prefix, org: name }, 'org', rest, selection, stats, pageSize);
        else if (ACCOUNT.test(name)) {
          if (selection.accounts === undefined || selection.accounts.has(name))
            yield* descend(s3, bucket, { prefix, account: name }, 'account', rest, selection, stats, pageSize);
        } else skip('outside-layout');
        break;
      case 'org':
        if (!ACCOUNT.test(name)) skip('outside-layout');
        else if (selection.accounts === undefined || selection.accounts.has(name))
          yield* descend(s3, bucket, { ...level, prefix, account: name }, 'account', rest, selection, stats, pageSize);
        break;
      case 'account':
        if (TRAIL_FOLDERS.has(name)) yield* descend(s3, bucket, { ...level, prefix }, 'service', rest, selection, stats, pageSize);
        else skip(name === 'CloudTrail-Digest' ? 'digest' : 'outside-layout');
        break;
      case 'service':
        if (!REGION.test(name)) skip('outside-layout');
        else if (selection.regions === undefined || selection.regions.has(name))
          yield* descend(s3, bucket, { ...level, prefix, region: name }, 'region', rest, selection, stats, pageSize);
        break;
      case 'region':
        if (!/^\d{4}$/.test(name)) skip('outside-layout');
        else if (overlaps(name, name, selection))
          yield* descend(s3, bucket, { ...level, prefix, year: name }, 'year', rest, selection, stats, pageSize);
        break;
      case 'year':
        if (!/^(0[1-9]|1[0-2])$/.test(name)) skip('outside-layout');
        else if (overlaps(`${level.year}-${name}`, `${level.year}-${name}`, selection))
          yield* descend(s3, bucket, { ...level, prefix, month: name }, 'month', rest, selection, stats, pageSize);
        break;
      case 'month': {
        const day = `${level.year}-${level.month}-${name}`;
        if (!isDay(day)) skip('outside-layout');
        else if (overlaps(day, day, selection)) {
          yield { prefix, account: level.account!, region: level.region!, day, ...(level.org !== undefined ? { org: level.org } : {}) };
        }
        break;
      }
    }
  }
}

/**
 * Whether the period `[lo, hi]` (a year `YYYY`, a month `YYYY-MM` or a day `YYYY-MM-DD`) meets the selection's
 * inclusive `[from, to]`. Comparing prefixes of ISO dates as strings is exact: `2026` covers `2026-01-01`…`2026-12-31`.
 */
function overlaps(lo: string, hi: string, selection: BackfillSelection): boolean {
  if (selection.from !== undefined && hi < selection.from.slice(0, hi.length)) return false;
  if (selection.to !== undefined && lo > selection.to.slice(0, lo.length)) return false;
  return true;
}

/** The sub-folder names directly under a folder (ListObjectsV2 with delimiter `/`, ≤ 1,000 per page). */
async function childFolders(s3: S3Sender, bucket: string, prefix: string, stats: ListingStats, pageSize: number): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    stats.listCalls++;
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token, MaxKeys: pageSize }),
    );
    for (const common of page.CommonPrefixes ?? []) {
      const p = common.Prefix;
      if (p !== undefined && p.startsWith(prefix) && p.endsWith('/')) names.push(p.slice(prefix.length, -1));
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return names;
}

/**
 * The log objects of one day folder, page by page (ListObjectsV2, ≤ 1,000 keys per call). Keys that are not log
 * files (digests, other files, this backfill's own output) are counted in `stats.skippedObjects` and not yielded.
 */
export async function* dayObjects(
  s3: S3Sender,
  bucket: string,
  day: DayPrefix,
  stats: ListingStats,
  destination?: { bucket: string; prefix: string },
  pageSize = LIST_PAGE_SIZE,
): AsyncGenerator<SelectedObject> {
  let token: string | undefined;
  do {
    stats.listCalls++;
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: day.prefix, ContinuationToken: token, MaxKeys: pageSize }),
    );
    for (const object of page.Contents ?? []) {
      const key = object.Key;
      if (key === undefined || key.endsWith('/')) continue;
      const verdict = classifyKey({ bucket, key }, destination);
      if (!verdict.ok) {
        stats.skippedObjects[verdict.reason] = (stats.skippedObjects[verdict.reason] ?? 0) + 1;
        continue;
      }
      yield {
        bucket,
        key,
        etag: object.ETag ?? '',
        size: object.Size ?? 0,
        account: day.account,
        region: day.region,
        day: day.day,
        ...(day.org !== undefined ? { org: day.org } : {}),
      };
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
}
