/**
 * `opensearch-setup` against a loopback HTTP server that speaks the OpenSearch REST API (and STS for the
 * 403 hint): each request is checked for method, path, body and a SigV4 authorization header.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { opensearchSetupCommand, roleArnOf, supportsFlatObject } from '../../../src/entry/cli/opensearch-setup.ts';

interface Seen {
  method: string;
  path: string;
  body: string;
  authorization: string | undefined;
  headers: IncomingMessage['headers'];
}

class FakeDomain {
  readonly seen: Seen[] = [];
  readonly state = new Map<string, unknown>();
  version = '2.11.0';
  forbid: RegExp | undefined;
  ism: { body: unknown; seqNo: number } | undefined;
  server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '';
        this.seen.push({ method: req.method ?? '', path, body, authorization: req.headers.authorization, headers: req.headers });
        const send = (status: number, value: unknown, type = 'application/json') => {
          res.writeHead(status, { 'content-type': type });
          res.end(typeof value === 'string' ? value : JSON.stringify(value));
        };
        if (req.method === 'POST' && path === '/' && body.includes('Action=GetCallerIdentity')) {
          return send(
            200,
            '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:sts::111122223333:assumed-role/SecOpsAdmin/alice</Arn><UserId>AROA:alice</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
            'text/xml',
          );
        }
        if (
          !/^AWS4-HMAC-SHA256 Credential=AKIDSETUP\/\d{8}\/eu-west-1\/es\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.test(
            req.headers.authorization ?? '',
          )
        ) {
          return send(403, { message: 'missing or malformed SigV4 authorization' });
        }
        if (this.forbid?.test(path) === true)
          return send(403, {
            error: { type: 'security_exception', reason: 'no permissions for [cluster:admin/component_template/put]' },
            status: 403,
          });
        if (req.method === 'GET' && path === '/') return send(200, { version: { distribution: 'opensearch', number: this.version } });
        const template = /^\/(_component_template|_index_template)\/([\w-]+)$/.exec(path);
        if (req.method === 'PUT' && template !== null) {
          this.state.set(path, JSON.parse(body));
          return send(200, { acknowledged: true });
        }
        const ism = /^\/_plugins\/_ism\/policies\/cloudtrail-enricher(\?.*)?$/.exec(path);
        if (ism !== null && req.method === 'GET') {
          return this.ism === undefined
            ? send(404, { error: { type: 'status_exception', reason: 'Policy not found' } })
            : send(200, { _id: 'cloudtrail-enricher', _seq_no: this.ism.seqNo, _primary_term: 1, policy: this.ism.body });
        }
        if (ism !== null && req.method === 'PUT') {
          const q = new URLSearchParams(ism[1]?.slice(1) ?? '');
          if (this.ism !== undefined && q.get('if_seq_no') !== String(this.ism.seqNo))
            return send(409, { error: { type: 'version_conflict_engine_exception', reason: 'version conflict' } });
          this.ism = { body: (JSON.parse(body) as { policy: unknown }).policy, seqNo: (this.ism?.seqNo ?? 0) + 1 };
          this.state.set('/_plugins/_ism/policies/cloudtrail-enricher', JSON.parse(body));
          return send(this.ism.seqNo === 1 ? 201 : 200, { _id: 'cloudtrail-enricher', _seq_no: this.ism.seqNo });
        }
        if (req.method === 'POST' && path === '/_dashboards/api/saved_objects/_import?overwrite=true') {
          if (req.headers['osd-xsrf'] !== 'true') return send(400, { message: 'Request must contain a osd-xsrf header.' });
          const boundary = /boundary=(.+)$/.exec(req.headers['content-type'] ?? '')?.[1];
          const part = body.split(`--${boundary}`)[1] ?? '';
          const ndjson = part.split('\r\n\r\n')[1]?.trim() ?? '';
          const objects = ndjson.split('\n').map((l) => JSON.parse(l) as { id: string });
          this.state.set('saved-objects', objects);
          return send(200, { success: true, successCount: objects.length });
        }
        return send(404, { error: { type: 'not_found', reason: `no route ${req.method} ${path}` } });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('opensearch-setup', function () {
  this.timeout(30_000);
  const saved: Record<string, string | undefined> = {};
  const env = {
    AWS_ACCESS_KEY_ID: 'AKIDSETUP',
    AWS_SECRET_ACCESS_KEY: 'setup-secret',
    AWS_REGION: 'eu-west-1',
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
  };
  let domain: FakeDomain;

  before(() => {
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  beforeEach(async () => {
    domain = new FakeDomain();
    await domain.start();
  });
  afterEach(() => domain.close());

  async function run(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await opensearchSetupCommand(['--endpoint', domain.url, '--region', 'eu-west-1', ...args], {
      log: (l) => out.push(l),
      error: (l) => err.push(l),
    });
    return { code, out, err };
  }

  it('installs the component templates, the index template, the ISM policy and the saved objects, signed', async () => {
    const { code, err } = await run('--index-name', 'ct', '--retention-days', '30');
    expect(err).to.deep.equal([]);
    expect(code).to.equal(0);
    expect(domain.seen.map((s) => `${s.method} ${s.path}`)).to.deep.equal([
      'GET /',
      'PUT /_component_template/cloudtrail-enricher-settings',
      'PUT /_component_template/cloudtrail-enricher-cloudtrail',
      'PUT /_component_template/cloudtrail-enricher-enrichment',
      'PUT /_index_template/cloudtrail-enricher',
      'GET /_plugins/_ism/policies/cloudtrail-enricher',
      'PUT /_plugins/_ism/policies/cloudtrail-enricher',
      'POST /_dashboards/api/saved_objects/_import?overwrite=true',
    ]);
    for (const s of domain.seen) expect(s.authorization, s.path).to.match(/^AWS4-HMAC-SHA256 /);
    const component = JSON.parse(
      await readFile('resources/opensearch/component-templates/cloudtrail-enricher-cloudtrail.json', 'utf8'),
    ) as unknown;
    expect(domain.state.get('/_component_template/cloudtrail-enricher-cloudtrail')).to.deep.equal(component);
    const index = domain.state.get('/_index_template/cloudtrail-enricher') as { index_patterns: string[]; composed_of: string[] };
    expect(index.index_patterns).to.deep.equal(['ct', 'ct-*']);
    expect(index.composed_of).to.include('cloudtrail-enricher-enrichment');
    const policy = domain.state.get('/_plugins/_ism/policies/cloudtrail-enricher') as {
      policy: { states: { transitions: { conditions: { min_index_age: string } }[] }[]; ism_template: { index_patterns: string[] }[] };
    };
    expect(policy.policy.states[0]!.transitions[0]!.conditions.min_index_age).to.equal('30d');
    expect(policy.policy.ism_template[0]!.index_patterns).to.deep.equal(['ct', 'ct-*']);
    const objects = domain.state.get('saved-objects') as {
      type: string;
      id: string;
      attributes: { title: string; timeFieldName?: string };
    }[];
    const pattern = objects.find((o) => o.type === 'index-pattern')!;
    expect(pattern.attributes).to.deep.include({ title: 'ct*', timeFieldName: 'eventTime' });
    expect(objects.map((o) => o.type)).to.include.members(['visualization', 'search', 'dashboard']);
  });

  it('is idempotent: a second run leaves the same state and updates the ISM policy in place', async () => {
    expect((await run()).code).to.equal(0);
    const first = new Map(domain.state);
    domain.seen.length = 0;
    expect((await run()).code).to.equal(0);
    expect(domain.state).to.deep.equal(first);
    expect(domain.seen.find((s) => s.method === 'PUT' && s.path.startsWith('/_plugins/_ism/'))?.path).to.equal(
      '/_plugins/_ism/policies/cloudtrail-enricher?if_seq_no=1&if_primary_term=1',
    );
    expect(domain.ism?.seqNo).to.equal(2);
  });

  it('uses the component without flat_object on a domain older than OpenSearch 2.7', async () => {
    domain.version = '2.5.0';
    expect((await run()).code).to.equal(0);
    expect(domain.seen.map((s) => s.path)).to.include('/_component_template/cloudtrail-enricher-enrichment-legacy');
    expect((domain.state.get('/_index_template/cloudtrail-enricher') as { composed_of: string[] }).composed_of).to.include(
      'cloudtrail-enricher-enrichment-legacy',
    );
    expect(supportsFlatObject({ version: { distribution: 'opensearch', number: '2.7.0' } })).to.equal(true);
    expect(supportsFlatObject({ version: { number: '7.10.2' } })).to.equal(false);
  });

  it('says to map the signing role in the security plugin on a 403, naming the role', async () => {
    domain.forbid = /_component_template/;
    process.env.AWS_ENDPOINT_URL_STS = domain.url;
    try {
      const { code, err } = await run();
      expect(code).to.equal(1);
      expect(err).to.have.length(1);
      expect(err[0]).to.include('403 Forbidden').and.include('security plugin').and.include('arn:aws:iam::111122223333:role/SecOpsAdmin');
    } finally {
      delete process.env.AWS_ENDPOINT_URL_STS;
    }
    expect(roleArnOf('arn:aws:sts::111122223333:assumed-role/Admin/s')).to.equal('arn:aws:iam::111122223333:role/Admin');
  });

  it('prints every request with --dry-run and sends nothing', async () => {
    const { code, out } = await run('--dry-run');
    expect(code).to.equal(0);
    expect(domain.seen).to.deep.equal([]);
    const text = out.join('\n');
    for (const line of [
      `PUT ${domain.url}/_component_template/cloudtrail-enricher-settings`,
      `PUT ${domain.url}/_component_template/cloudtrail-enricher-cloudtrail`,
      `PUT ${domain.url}/_component_template/cloudtrail-enricher-enrichment`,
      `PUT ${domain.url}/_index_template/cloudtrail-enricher`,
      `PUT ${domain.url}/_plugins/_ism/policies/cloudtrail-enricher`,
      `POST ${domain.url}/_dashboards/api/saved_objects/_import?overwrite=true`,
    ])
      expect(text).to.include(line);
    expect(text).to.include('"dynamic": false');
  });

  it('refuses a missing endpoint or region with a usage error', async () => {
    const err: string[] = [];
    expect(await opensearchSetupCommand([], { error: (l) => err.push(l), log: () => {} })).to.equal(2);
    expect(
      await opensearchSetupCommand(['--endpoint', 'https://example.com'], { env: {}, error: (l) => err.push(l), log: () => {} }),
    ).to.equal(2);
    expect(err.join('\n')).to.include('--endpoint').and.include('--region');
  });
});
