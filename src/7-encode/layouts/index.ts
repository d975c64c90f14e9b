/**
 * Output layouts, applied after rules and alerts (which always judge the native event):
 *   native  the CloudTrail event's original text + `enrichment` (src/encode/line.ts; the default, the fast path)
 *   ocsf    OCSF 1.1.0 for Amazon Security Lake (ocsf.ts), partitioned by event class
 *   ecs     ECS 8.x for Elastic/OpenSearch SIEMs (ecs.ts)
 * Every entry point (transform, run, backfill, get, Object Lambda) encodes through enrich.ts, which calls
 * `layoutLine`/`layoutSkippedLine` for a non-native layout, so the choice (OUTPUT_FORMAT) is honoured everywhere.
 */
import type { LayoutConfig } from '../../config/core.ts';
import { ecsLine, ecsSkippedLine } from './ecs.ts';
import { ocsfLine, ocsfSkippedLine } from './ocsf.ts';
import type { LayoutEvent, LayoutLine, LayoutSkipped } from './types.ts';

export type { LayoutEvent, LayoutLine, LayoutSkipped } from './types.ts';
export { layoutPartitionKeys, layoutPartitionPath } from './partition.ts';

/** Whether lines need the layout hook at all (native keeps the text-splicing fast path). */
export function isNative(layout: LayoutConfig | undefined): boolean {
  return layout === undefined || layout.format === 'native';
}

export function layoutLine(layout: LayoutConfig, input: LayoutEvent): LayoutLine {
  switch (layout.format) {
    case 'ocsf':
      return ocsfLine(input, { rawData: layout.ocsfRawData });
    case 'ecs':
      return ecsLine(input);
    default:
      throw new Error(`layoutLine: the native layout is encoded by src/encode/line.ts`);
  }
}

export function layoutSkippedLine(layout: LayoutConfig, input: LayoutSkipped): LayoutLine {
  switch (layout.format) {
    case 'ocsf':
      return ocsfSkippedLine(input);
    case 'ecs':
      return ecsSkippedLine(input);
    default:
      throw new Error(`layoutSkippedLine: the native layout is encoded by src/encode/line.ts`);
  }
}
