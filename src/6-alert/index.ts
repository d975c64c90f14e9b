/**
 * The alert stage (after rules): findings to EventBridge and Security Hub, once each. See docs/alerts.md.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { Log } from '../model.ts';
import type { AlertConfig } from './config.ts';
import { DynamoDbDedup } from './dedup.ts';
import { ALERT_CLIENT_CONFIG, EventBridgePublisher } from './eventbridge.ts';
import type { Finding } from './finding.ts';
import type { FindingPublisher, PublishResult } from './publish.ts';
import { SecurityHubPublisher } from './securityhub.ts';
import { AlertStage } from './stage.ts';

export { ALERT_CONFIG_VARIABLES, parseAlertConfig, type AlertConfig } from './config.ts';
export { AlertStage, AlertBatch, emptyAlertStats, type AlertStats } from './stage.ts';
export { FINDING_DETAIL_TYPE, FINDING_SOURCE, buildFinding, type Finding, type Candidate } from './finding.ts';
export { DEDUP_KEY_ATTRIBUTE, DEDUP_TTL_ATTRIBUTE } from './dedup.ts';

type Client<T> = Pick<T, 'send' & keyof T>;

export interface AlertDeps {
  /** Clients are created (and their modules loaded) on first use unless given. */
  readonly eventBridge?: Client<EventBridgeClient>;
  readonly securityHub?: Client<SecurityHubClient>;
  readonly dynamoDb?: Client<DynamoDBClient>;
  readonly log?: Log;
  readonly sleep?: (ms: number) => Promise<unknown>;
}

function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

/**
 * The Lambda's alert stage: EventBridge when ALERTS_EVENT_BUS_NAME is set, Security Hub when SECURITY_HUB_ENABLED,
 * the DynamoDB once-each table when ALERTS_DEDUP_TABLE_NAME is set. Undefined when findings go nowhere.
 */
export function createAlertStage(config: AlertConfig, deps: AlertDeps = {}): AlertStage | undefined {
  const publishers: FindingPublisher[] = [];
  if (config.eventBusName !== undefined) {
    const client =
      deps.eventBridge ?? lazy(async () => new (await import('@aws-sdk/client-eventbridge')).EventBridgeClient({ ...ALERT_CLIENT_CONFIG }));
    publishers.push(new EventBridgePublisher(client, config.eventBusName));
  }
  if (config.securityHubEnabled && config.securityHubProductArn !== undefined) {
    const client =
      deps.securityHub ?? lazy(async () => new (await import('@aws-sdk/client-securityhub')).SecurityHubClient({ ...ALERT_CLIENT_CONFIG }));
    publishers.push(new SecurityHubPublisher(client, config.securityHubProductArn));
  }
  if (publishers.length === 0) return undefined;
  const dedup =
    config.dedupTableName === undefined
      ? undefined
      : new DynamoDbDedup(
          deps.dynamoDb ?? lazy(async () => new (await import('@aws-sdk/client-dynamodb')).DynamoDBClient({ maxAttempts: 2 })),
          config.dedupTableName,
          deps.log,
        );
  return new AlertStage({ config, publishers, dedup, log: deps.log, sleep: deps.sleep });
}

/** The local run's destination: keeps every finding it would send (written to out/findings.ndjson). */
export class FindingCollector implements FindingPublisher {
  readonly name = 'local';
  readonly idempotent = false;
  readonly findings: Finding[] = [];

  async publish(findings: readonly Finding[]): Promise<PublishResult> {
    this.findings.push(...findings);
    return { failed: new Map(), calls: 0, retries: 0 };
  }
}

/** The local run's alert stage: every finding goes to the collector, dedup per process, no network. */
export function localAlertStage(config: AlertConfig, collector: FindingCollector): AlertStage {
  return new AlertStage({ config, publishers: [collector] });
}
