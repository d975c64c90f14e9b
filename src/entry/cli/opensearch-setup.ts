/**
 * `cloudtrail-enricher opensearch-setup`: installs what resources/opensearch/ defines into a domain (or a
 * serverless collection) and its Dashboards: the component templates, the composable index template, the ISM
 * policy and the saved objects. Every request is signed with SigV4 (credentials from the AWS SDK's default
 * chain) and is idempotent: PUT of templates replaces them, the ISM policy is updated with its sequence
 * number when it exists, and saved objects are imported with overwrite=true.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESOURCE_DIR = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'resources', 'opensearch');
export const INDEX_TEMPLATE_NAME = 'cloudtrail-enricher';
export const ISM_POLICY_ID = 'cloudtrail-enricher';
/** flat_object exists from OpenSearch 2.7 on; older domains get the legacy enrichment component. */
export const FLAT_OBJECT_SINCE = [2, 7] as const;

export interface SetupOptions {
  readonly endpoint: string;
  readonly dashboardsEndpoint: string;
  readonly region: string;
  readonly service: 'es' | 'aoss';
  readonly indexName: string;
  readonly retentionDays: number;
  /** Use the component without flat_object. */
  readonly legacy: boolean;
}

export interface SetupRequest {
  readonly target: 'opensearch' | 'dashboards';
  readonly method: 'GET' | 'PUT' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  /** Raw body (the saved-objects import is multipart/form-data). */
  readonly raw?: { contentType: string; text: string };
  readonly what: string;
}

interface Template {
  index_patterns: string[];
  composed_of: string[];
  [key: string]: unknown;
}

interface IsmPolicy {
  policy: {
    states: { transitions: { conditions?: { min_index_age?: string } }[] }[];
    ism_template: { index_patterns: string[] }[];
    [key: string]: unknown;
  };
}

async function json<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(join(RESOURCE_DIR, file), 'utf8')) as T;
}

/** The install requests, in order, for the given options (pure: no network). */
export async function setupRequests(options: SetupOptions, boundary = 'cloudtrail-enricher-boundary'): Promise<SetupRequest[]> {
  const template = await json<Template>('index-template.json');
  const composedOf = template.composed_of.map((name) =>
    options.legacy && name === 'cloudtrail-enricher-enrichment' ? 'cloudtrail-enricher-enrichment-legacy' : name,
  );
  const patterns = [options.indexName, `${options.indexName}-*`];
  const requests: SetupRequest[] = [];
  for (const name of composedOf) {
    requests.push({
      target: 'opensearch',
      method: 'PUT',
      path: `/_component_template/${name}`,
      body: await json(`component-templates/${name}.json`),
      what: `component template ${name}`,
    });
  }
  requests.push({
    target: 'opensearch',
    method: 'PUT',
    path: `/_index_template/${INDEX_TEMPLATE_NAME}`,
    body: { ...template, index_patterns: patterns, composed_of: composedOf },
    what: `index template ${INDEX_TEMPLATE_NAME} for ${patterns.join(', ')}`,
  });
  if (options.service === 'es') {
    // OpenSearch Serverless has no ISM (its data lifecycle policies are set on the collection instead).
    const policy = await json<IsmPolicy>('ism-policy.json');
    for (const state of policy.policy.states) {
      for (const transition of state.transitions)
        if (transition.conditions?.min_index_age !== undefined) transition.conditions.min_index_age = `${options.retentionDays}d`;
    }
    for (const template of policy.policy.ism_template) template.index_patterns = patterns;
    requests.push({
      target: 'opensearch',
      method: 'PUT',
      path: `/_plugins/_ism/policies/${ISM_POLICY_ID}`,
      body: policy,
      what: `ISM policy ${ISM_POLICY_ID} (delete after ${options.retentionDays} days)`,
    });
  }
  const ndjson = (await readFile(join(RESOURCE_DIR, 'dashboards.ndjson'), 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const object = JSON.parse(line) as { type: string; attributes: { title?: string } };
      if (object.type === 'index-pattern') object.attributes.title = `${options.indexName}*`;
      return JSON.stringify(object);
    })
    .join('\n');
  const text = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="dashboards.ndjson"\r\nContent-Type: application/ndjson\r\n\r\n${ndjson}\n\r\n--${boundary}--\r\n`;
  requests.push({
    target: 'dashboards',
    method: 'POST',
    path: '/api/saved_objects/_import?overwrite=true',
    raw: { contentType: `multipart/form-data; boundary=${boundary}`, text },
    what: 'Dashboards saved objects (index pattern, visualisations, search, dashboard)',
  });
  return requests;
}

export interface HttpAnswer {
  readonly statusCode: number;
  readonly body: unknown;
}

/** What sends one request (signed); tests and --dry-run pass their own. */
export type Send = (request: SetupRequest & { headers?: Record<string, string> }) => Promise<HttpAnswer>;

export class SetupError extends Error {
  override readonly name = 'SetupError';
}

/** OpenSearch's version string → whether the domain has flat_object (OpenSearch ≥ 2.7; Elasticsearch never). */
export function supportsFlatObject(info: unknown): boolean {
  const version = (info as { version?: { number?: unknown; distribution?: unknown } } | undefined)?.version;
  if (version?.distribution !== 'opensearch' || typeof version.number !== 'string') return false;
  const [major = 0, minor = 0] = version.number.split('.').map(Number);
  return major > FLAT_OBJECT_SINCE[0] || (major === FLAT_OBJECT_SINCE[0] && minor >= FLAT_OBJECT_SINCE[1]);
}

/** Runs the install: checks the version, sends every request, updates an existing ISM policy in place. */
export async function runSetup(
  options: Omit<SetupOptions, 'legacy'> & { legacy?: boolean },
  send: Send,
  io: { log: (line: string) => void; principal: () => Promise<string | undefined> },
): Promise<{ requests: number; legacy: boolean }> {
  let legacy = options.legacy ?? false;
  if (options.legacy === undefined && options.service === 'es') {
    const info = await checked(send, { target: 'opensearch', method: 'GET', path: '/', what: 'domain version' }, io);
    legacy = !supportsFlatObject(info.body);
    const v = (info.body as { version?: { number?: string; distribution?: string } }).version;
    io.log(
      `  domain: ${v?.distribution ?? 'elasticsearch'} ${v?.number ?? '?'} → ${legacy ? 'legacy enrichment component (no flat_object)' : 'flat_object search copies'}`,
    );
  } else if (options.legacy === undefined) legacy = true; // aoss: flat_object support is not guaranteed
  const requests = await setupRequests({ ...options, legacy });
  let sent = 0;
  for (const request of requests) {
    let path = request.path;
    if (request.path.startsWith('/_plugins/_ism/policies/')) {
      // ISM refuses to overwrite a policy without its sequence number and primary term.
      const existing = await send({ target: 'opensearch', method: 'GET', path: request.path, what: 'existing ISM policy' });
      sent++;
      const body = existing.body as { _seq_no?: number; _primary_term?: number } | undefined;
      if (existing.statusCode === 200 && body?._seq_no !== undefined)
        path += `?if_seq_no=${body._seq_no}&if_primary_term=${body._primary_term}`;
      else if (existing.statusCode !== 404) await fail(existing, request, io);
    }
    await checked(send, { ...request, path, ...(request.target === 'dashboards' ? { headers: { 'osd-xsrf': 'true' } } : {}) }, io);
    sent++;
    io.log(`  ✔ ${request.what}`);
  }
  return { requests: sent, legacy };
}

async function checked(
  send: Send,
  request: SetupRequest & { headers?: Record<string, string> },
  io: { principal: () => Promise<string | undefined> },
): Promise<HttpAnswer> {
  const answer = await send(request);
  if (answer.statusCode >= 200 && answer.statusCode < 300) {
    const errors = (answer.body as { errors?: unknown; success?: unknown } | undefined) ?? {};
    if (request.target === 'dashboards' && errors.success === false) {
      throw new SetupError(`${request.method} ${request.path} imported with errors: ${JSON.stringify(errors.errors).slice(0, 300)}`);
    }
    return answer;
  }
  return fail(answer, request, io);
}

async function fail(answer: HttpAnswer, request: SetupRequest, io: { principal: () => Promise<string | undefined> }): Promise<never> {
  const reason = reasonOf(answer.body);
  const where = `${request.method} ${request.target === 'dashboards' ? 'Dashboards ' : ''}${request.path.split('?')[0]}`;
  if (answer.statusCode === 403) {
    const principal = (await io.principal().catch(() => undefined)) ?? 'the IAM role of your credentials';
    throw new SetupError(
      `${where}: 403 Forbidden (${reason}). The request was signed as ${principal}: map that role in the OpenSearch security plugin ` +
        `(Dashboards → Security → Roles → all_access, or a role with cluster and index-template permissions → Mapped users → Backend roles → add ${principal}), ` +
        'and allow it in the domain access policy',
    );
  }
  if (answer.statusCode === 401)
    throw new SetupError(`${where}: 401 Unauthorized (${reason}): the domain refused the SigV4 signature; check --region and --service`);
  throw new SetupError(`${where}: HTTP ${answer.statusCode} (${reason})`);
}

function reasonOf(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 200) || 'no body';
  const error = (body as { error?: unknown; message?: unknown } | undefined)?.error;
  if (typeof error === 'string') return error.slice(0, 200);
  const root = (error as { reason?: unknown; type?: unknown } | undefined) ?? {};
  if (typeof root.reason === 'string') return `${String(root.type)}: ${root.reason}`.slice(0, 200);
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message.slice(0, 200) : JSON.stringify(body ?? null).slice(0, 200);
}

/** An assumed-role session ARN as the IAM role ARN the security plugin maps (arn:aws:iam::<a>:role/<name>). */
export function roleArnOf(callerArn: string): string {
  const m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(callerArn);
  return m === null ? callerArn : `arn:${m[1]}:iam::${m[2]}:role/${m[3]}`;
}

/** A sender that signs with SigV4 through @opensearch-project/opensearch and its AWS signer. */
export async function signedSender(options: Pick<SetupOptions, 'endpoint' | 'dashboardsEndpoint' | 'region' | 'service'>): Promise<Send> {
  const [{ Client }, { AwsSigv4Signer }] = await Promise.all([
    import('@opensearch-project/opensearch'),
    import('@opensearch-project/opensearch/aws-v3'),
  ]);
  const clients = new Map<string, InstanceType<typeof Client>>();
  const clientFor = (node: string) => {
    let client = clients.get(node);
    if (client === undefined) {
      client = new Client({
        ...AwsSigv4Signer({ region: options.region, service: options.service }),
        node,
        requestTimeout: 30_000,
        maxRetries: 2,
      });
      clients.set(node, client);
    }
    return client;
  };
  return async (request) => {
    const client = clientFor(request.target === 'dashboards' ? options.dashboardsEndpoint : options.endpoint);
    const [path, query] = request.path.split('?');
    const querystring = Object.fromEntries(new URLSearchParams(query ?? ''));
    const headers: Record<string, string> = { ...(request.headers ?? {}) };
    if (request.raw !== undefined) headers['content-type'] = request.raw.contentType;
    try {
      const response = await client.transport.request(
        {
          method: request.method,
          path: path!,
          querystring,
          body: request.raw?.text ?? (request.body as Record<string, unknown> | undefined),
        },
        { headers, ignore: [400, 401, 403, 404, 409, 500, 502, 503] },
      );
      return { statusCode: response.statusCode ?? 0, body: response.body };
    } catch (err) {
      throw new SetupError(`${request.method} ${request.path.split('?')[0]}: ${(err as Error).message}`, { cause: err });
    }
  };
}

/** The caller's role ARN (STS GetCallerIdentity through the default credential chain), for the 403 hint. */
export async function callerRole(region: string): Promise<string | undefined> {
  const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  const sts = new STSClient({ region, maxAttempts: 1 });
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  return identity.Arn === undefined ? undefined : roleArnOf(identity.Arn);
}

/** Prints every request of a dry run: method, URL and body. */
export function describeRequests(
  requests: readonly SetupRequest[],
  options: Pick<SetupOptions, 'endpoint' | 'dashboardsEndpoint'>,
): string[] {
  return requests.flatMap((r) => {
    const base = (r.target === 'dashboards' ? options.dashboardsEndpoint : options.endpoint).replace(/\/$/, '');
    const head = `${r.method} ${base}${r.path}${r.target === 'dashboards' ? '   (osd-xsrf: true)' : ''}   # ${r.what}`;
    const body =
      r.raw !== undefined
        ? `Content-Type: ${r.raw.contentType}\n${r.raw.text}`
        : r.body === undefined
          ? ''
          : JSON.stringify(r.body, null, 2);
    return body === '' ? [head, ''] : [head, body, ''];
  });
}

// ---- command line --------------------------------------------------------------------------------------------

export const OPENSEARCH_SETUP_USAGE = `  opensearch-setup  install the index templates, ISM policy and dashboards into an OpenSearch domain (SigV4)
    --endpoint URL             the domain endpoint (https://search-….<region>.es.amazonaws.com)
    --region R                 AWS region (default: from the endpoint, else AWS_REGION)
    --dashboards-endpoint URL  Dashboards (default: <endpoint>/_dashboards)
    --service es|aoss          es for a domain, aoss for a serverless collection (default: from the endpoint)
    --index-name NAME          the stage's openSearchIndexName (default: cloudtrail)
    --retention-days N         the stage's openSearchRetentionDays (default: 90)
    --legacy                   use the component without flat_object (default: chosen from the domain version)
    --dry-run                  print every request and send nothing`;

export async function opensearchSetupCommand(
  args: string[],
  deps: {
    env?: NodeJS.ProcessEnv;
    log?: (line: string) => void;
    error?: (line: string) => void;
    send?: Send;
    principal?: () => Promise<string | undefined>;
  } = {},
): Promise<number> {
  const log = deps.log ?? ((line: string) => console.log(line));
  const error = deps.error ?? ((line: string) => console.error(line));
  const env = deps.env ?? process.env;
  const { parseArgs } = await import('node:util');
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      options: {
        endpoint: { type: 'string' },
        region: { type: 'string' },
        'dashboards-endpoint': { type: 'string' },
        service: { type: 'string' },
        'index-name': { type: 'string', default: 'cloudtrail' },
        'retention-days': { type: 'string', default: '90' },
        legacy: { type: 'boolean' },
        'dry-run': { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    error(`opensearch-setup: ${(err as Error).message}\n\n${OPENSEARCH_SETUP_USAGE}`);
    return 2;
  }
  const usage = (message: string) => {
    error(`opensearch-setup: ${message}\n\n${OPENSEARCH_SETUP_USAGE}`);
    return 2;
  };
  let endpoint: URL;
  try {
    endpoint = new URL(String(values.endpoint ?? ''));
    if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') throw new Error('scheme');
  } catch {
    return usage('--endpoint must be the domain URL, e.g. https://search-logs-abc123.eu-west-1.es.amazonaws.com');
  }
  const host = endpoint.hostname;
  const service = (values.service as string | undefined) ?? (host.endsWith('.aoss.amazonaws.com') ? 'aoss' : 'es');
  if (service !== 'es' && service !== 'aoss') return usage('--service must be es (a domain) or aoss (a serverless collection)');
  const region =
    (values.region as string | undefined) ??
    /\.([a-z]{2}(?:-[a-z]+)+-\d)\.(?:es|aoss)\.amazonaws\.com$/.exec(host)?.[1] ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION;
  if (region === undefined || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    return usage('--region is needed (the endpoint does not name one and AWS_REGION is unset)');
  const indexName = String(values['index-name']);
  if (!/^[a-z0-9][a-z0-9_-]{0,200}$/.test(indexName))
    return usage('--index-name must be a lower-case index name (the stage openSearchIndexName)');
  const retentionDays = Number(values['retention-days']);
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 36_500)
    return usage('--retention-days must be a whole number of days from 1 to 36500');
  const base = endpoint.href.replace(/\/$/, '');
  const dashboardsEndpoint = String(values['dashboards-endpoint'] ?? `${base}/_dashboards`).replace(/\/$/, '');
  const options = { endpoint: base, dashboardsEndpoint, region, service, indexName, retentionDays } as const;

  if (values['dry-run'] === true) {
    const legacy = (values.legacy as boolean | undefined) ?? service === 'aoss';
    const requests = await setupRequests({ ...options, legacy });
    log(`# opensearch-setup --dry-run: ${requests.length} requests, SigV4-signed for ${service} in ${region}; nothing is sent.`);
    if (service === 'es' && values.legacy === undefined)
      log(
        '# A real run first reads GET / to choose the component (flat_object from OpenSearch 2.7), and GETs the ISM policy to update it in place.',
      );
    for (const line of describeRequests(requests, options)) log(line);
    return 0;
  }
  const send = deps.send ?? (await signedSender(options));
  log(`cloudtrail-enricher opensearch-setup: ${base} (${service}, ${region})`);
  try {
    const result = await runSetup({ ...options, ...(values.legacy === true ? { legacy: true } : {}) }, send, {
      log,
      principal: deps.principal ?? (() => callerRole(region)),
    });
    log(`  done: ${result.requests} requests; new indices matching ${indexName}, ${indexName}-* use the template`);
    return 0;
  } catch (err) {
    if (err instanceof SetupError) {
      error(`opensearch-setup: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
