import type { CloudTrailEvent, Enrichment, Priority, RiskReason } from '../../model.ts';
import type { EventClassKey } from '../partition.ts';

/** One enriched event as every layout receives it: after rules and alerts, which always judge the native event. */
export interface LayoutEvent {
  readonly event: CloudTrailEvent;
  /** The event's original JSON text (one line). */
  readonly text: string;
  /** The native `enrichment` object of this event (status, source, providers, priority, risk, …). */
  readonly enrichment: Enrichment;
  /** Arrival time of the input (epoch ms): the time of last resort when `eventTime` is unusable. */
  readonly arrival: number;
}

/** A message that is not a CloudTrail event (the native layout's skipped line). */
export interface LayoutSkipped {
  readonly raw: string;
  readonly error: string;
  readonly arrival: number;
}

export interface LayoutLine {
  readonly text: string;
  /** OCSF only: which event class (and so which Security Lake custom source) the line belongs to. */
  readonly eventClass?: EventClassKey;
}

/** A rule reason; a reason of an ATT&CK-mapped rule carries `attack` (older rules have none). */
export type ReasonWithAttack = RiskReason;

export const PRIORITY_ORDER: readonly Priority[] = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function obj(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Epoch ms of an ISO 8601 time, or undefined. */
export function epochMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The CRUD verb of an API operation name: its first word (`BatchGetItem` → `Get`, after `Batch`). */
export type Verb = 'create' | 'read' | 'update' | 'delete' | 'other';

const VERBS: Record<string, Verb> = {};
for (const w of [
  'Create',
  'Add',
  'Allocate',
  'Import',
  'Issue',
  'Register',
  'Run',
  'Launch',
  'Generate',
  'Copy',
  'Upload',
  'Request',
  'Provision',
  'Publish',
  'Invite',
])
  VERBS[w] = 'create';
for (const w of [
  'Get',
  'Describe',
  'List',
  'Lookup',
  'Search',
  'Query',
  'Scan',
  'Select',
  'Head',
  'Download',
  'Retrieve',
  'View',
  'Check',
  'Preview',
  'Estimate',
  'Validate',
  'Verify',
  'Decrypt',
  'Simulate',
  'Filter',
  'Read',
])
  VERBS[w] = 'read';
for (const w of [
  'Update',
  'Modify',
  'Put',
  'Set',
  'Change',
  'Replace',
  'Reset',
  'Edit',
  'Enable',
  'Disable',
  'Start',
  'Stop',
  'Reboot',
  'Restore',
  'Attach',
  'Detach',
  'Associate',
  'Disassociate',
  'Tag',
  'Untag',
  'Authorize',
  'Revoke',
  'Apply',
  'Rotate',
  'Assign',
  'Unassign',
  'Cancel',
  'Accept',
  'Reject',
  'Upgrade',
  'Move',
  'Rename',
  'Resize',
  'Encrypt',
  'Grant',
  'Retire',
  'Suspend',
  'Resume',
  'Activate',
  'Deactivate',
  'Import',
])
  VERBS[w] = VERBS[w] ?? 'update';
for (const w of [
  'Delete',
  'Remove',
  'Terminate',
  'Deregister',
  'Release',
  'Purge',
  'Destroy',
  'Drop',
  'Erase',
  'Deprovision',
  'Unregister',
  'Unsubscribe',
])
  VERBS[w] = 'delete';

const FIRST_WORD = /^[A-Z][a-z]+/;

export function verbOf(eventName: string | undefined): Verb {
  if (eventName === undefined) return 'other';
  let word = FIRST_WORD.exec(eventName)?.[0];
  if (word === 'Batch') word = FIRST_WORD.exec(eventName.slice(5))?.[0];
  return (word !== undefined ? VERBS[word] : undefined) ?? 'other';
}

/** A CloudTrail console sign-in: OCSF Authentication (3002), as Security Lake maps it. */
export function isConsoleLogin(event: CloudTrailEvent): boolean {
  return event.eventName === 'ConsoleLogin' && (event.eventSource === 'signin.amazonaws.com' || event.eventSource === undefined);
}

/** Strongest reason first (score, then priority), for layouts that carry one rule. */
export function strongestReason(reasons: readonly RiskReason[]): ReasonWithAttack | undefined {
  let best: RiskReason | undefined;
  for (const r of reasons) {
    if (
      best === undefined ||
      r.score > best.score ||
      (r.score === best.score && PRIORITY_ORDER.indexOf(r.priority) > PRIORITY_ORDER.indexOf(best.priority))
    )
      best = r;
  }
  return best;
}

/** Every ATT&CK tactic and technique named by the reasons (de-duplicated, in order). */
export function attackOf(reasons: readonly RiskReason[]): { tactics: string[]; techniques: string[] } {
  const tactics = new Set<string>();
  const techniques = new Set<string>();
  for (const r of reasons) {
    for (const t of r.attack?.tactics ?? []) if (typeof t === 'string') tactics.add(t);
    for (const t of r.attack?.techniques ?? []) if (typeof t === 'string') techniques.add(t);
  }
  return { tactics: [...tactics], techniques: [...techniques] };
}
