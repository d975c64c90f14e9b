/**
 * The native layout: the CloudTrail event's original JSON text with `"enrichment":{…}` spliced in before its
 * closing brace (never re-serialised). The hot path in src/pipeline/enrich.ts builds these lines from shared
 * byte prefixes; this module names the layout for the others (one line from one event, partition keys).
 */
import type { Enrichment } from '../../model.ts';
import { enrichedLine, skippedLine } from '../line.ts';
import type { LayoutEvent, LayoutLine, LayoutSkipped } from './types.ts';

export function nativeLine(input: LayoutEvent): LayoutLine {
  return { text: enrichedLine(input.text, JSON.stringify(input.enrichment satisfies Enrichment)) };
}

export function nativeSkippedLine(input: LayoutSkipped): LayoutLine {
  return { text: skippedLine(input.raw, input.error) };
}

/** Names and order of the native partition keys: the Firehose prefix `account=…/region=…/dt=…/`. */
export const NATIVE_PARTITION_KEY_NAMES = ['account', 'region', 'dt'] as const;
