// vnctl against a fault-injecting fake HTTP peer: request shapes, API errors, unreachable and misbehaving APIs.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../../src/cli/vnctl/errors.js';
import { DEFAULT_API, resolveApiBase } from '../../src/cli/vnctl/http.js';
import { runVnctl } from '../../src/cli/vnctl/main.js';
import { freePort } from '../lib/free-port.js';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}
type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let base: string;
const seen: Seen[] = [];
/** What the fake peer does next, per `METHOD path` (without query); default: 404. */
const handlers = new Map<string, Handler>();

const json =
  (status: number, value: unknown): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, contentType: req.headers['content-type'], body });
      const h = handlers.get(`${req.method} ${req.url!.split('?')[0]}`);
      if (h) h(req, res, body);
      else
        json(404, { error: 'Vnet::Endpoints::Errors::UnknownUUIDResource', message: 'no route', code: '100' })(
          req,
          res,
          body,
        );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

async function vnctl(argv: string[], env: Record<string, string | undefined> = { VNET_API: base }) {
  let stdout = '';
  let stderr = '';
  const status = await runVnctl(argv, env, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { status, stdout, stderr };
}
const reset = () => {
  seen.length = 0;
  handlers.clear();
};

describe('resolveApiBase', () => {
  test('--api, then VNET_API, then VNET_WEBAPI, then the default', () => {
    assert.equal(resolveApiBase('http://a:1', { VNET_API: 'http://b:2', VNET_WEBAPI: 'c:3' }), 'http://a:1');
    assert.equal(resolveApiBase(undefined, { VNET_API: 'http://b:2', VNET_WEBAPI: 'c:3' }), 'http://b:2');
    assert.equal(resolveApiBase(undefined, { VNET_WEBAPI: 'c:3' }), 'http://c:3');
    assert.equal(resolveApiBase(undefined, { VNET_API: ' ' }), DEFAULT_API);
    assert.equal(resolveApiBase(undefined, {}), 'http://127.0.0.1:9090');
  });

  test('normalizes trailing slashes and API prefixes', () => {
    assert.equal(resolveApiBase('http://h:9090/', {}), 'http://h:9090');
    assert.equal(resolveApiBase('http://h:9090/api/1.0/', {}), 'http://h:9090');
    assert.equal(resolveApiBase('https://h/vnet/api', {}), 'https://h/vnet');
    assert.equal(resolveApiBase('localhost:9090', {}), 'http://localhost:9090');
  });

  test('bad values are usage errors naming their source', () => {
    assert.throws(
      () => resolveApiBase('ftp://h', {}),
      (e) => e instanceof UsageError && /--api: only http/.test(e.message),
    );
    assert.throws(
      () => resolveApiBase(undefined, { VNET_API: 'http://' }),
      (e) => e instanceof UsageError && /VNET_API: not a URL/.test(e.message),
    );
    assert.throws(
      () => resolveApiBase('http://h/?x=1', {}),
      (e) => e instanceof UsageError && /no query/.test(e.message),
    );
  });
});

describe('requests on the wire', () => {
  test('POST sends typed JSON under /api/1.0 and prints the reply', async () => {
    reset();
    handlers.set('POST /api/1.0/networks', (_q, res, body) =>
      json(201, { uuid: 'nw-1', ...JSON.parse(body) })(_q, res, body),
    );
    const r = await vnctl(['networks', 'add', '--uuid', 'nw-1', '--ipv4-network', '10.0.0.0', '--ipv4-prefix', '24']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.contentType, 'application/json');
    assert.deepEqual(JSON.parse(seen[0]!.body), { uuid: 'nw-1', ipv4_network: '10.0.0.0', ipv4_prefix: 24 });
    assert.match(r.stdout, /^ipv4_prefix\s+24$/m);
    assert.equal(r.stderr, '');
  });

  test('GET carries list options in the query string and no body', async () => {
    reset();
    handlers.set('GET /api/1.0/datapaths', json(200, { total_count: 0, offset: 5, limit: 2, items: [] }));
    const r = await vnctl(['datapath', 'show', '--limit', '2', '--offset', '5', '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(seen[0]!.url, '/api/1.0/datapaths?limit=2&offset=5');
    assert.equal(seen[0]!.body, '');
    assert.deepEqual(JSON.parse(r.stdout), { total_count: 0, offset: 5, limit: 2, items: [] });
  });

  test('DELETE of several uuids calls each and prints the deleted uuids', async () => {
    reset();
    handlers.set('DELETE /api/1.0/interfaces/if-a', json(200, ['if-a']));
    handlers.set('DELETE /api/1.0/interfaces/if-b', json(200, ['if-b']));
    const r = await vnctl(['interfaces', 'del', 'if-a', 'if-b']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.url} ${s.contentType ?? '-'}`),
      ['DELETE /api/1.0/interfaces/if-a -', 'DELETE /api/1.0/interfaces/if-b -'],
    );
    assert.equal(r.stdout, 'if-a\nif-b\n');
  });

  test('--api on the line beats VNET_API, and OpenVNet VNET_WEBAPI=host:port works', async () => {
    reset();
    handlers.set('GET /api/1.0/routes', json(200, { total_count: 0, offset: 0, limit: 30, items: [] }));
    const hostPort = base.replace('http://', '');
    assert.equal((await vnctl(['routes', 'show', '--api', base], { VNET_API: 'http://127.0.0.1:1' })).status, 0);
    assert.equal((await vnctl(['routes', 'show'], { VNET_WEBAPI: hostPort })).status, 0);
    assert.equal(seen.length, 2);
  });
});

describe('failures: one stderr line and a non-zero status', () => {
  const oneLine = (s: string) => {
    assert.ok(s.endsWith('\n'), JSON.stringify(s));
    assert.equal(s.trimEnd().split('\n').length, 1, JSON.stringify(s));
  };

  test("an API error prints the API's message, error name and code; exit 1", async () => {
    reset();
    handlers.set(
      'POST /api/1.0/networks',
      json(400, {
        error: 'Vnet::Endpoints::Errors::ArgumentError',
        message: 'ipv4_network: "10.0.0.300" is not an IPv4 address',
        code: '110',
      }),
    );
    const r = await vnctl(['networks', 'add', '--ipv4-network', '10.0.0.300']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    oneLine(r.stderr);
    assert.equal(
      r.stderr,
      'vnctl: POST /api/1.0/networks: 400 ArgumentError (code 110): ipv4_network: "10.0.0.300" is not an IPv4 address\n',
    );
  });

  test('with -o yaml or json the error body also goes to stdout, as OpenVNet printed it', async () => {
    reset();
    const body = { error: 'Vnet::Endpoints::Errors::DuplicateUUID', message: 'nw-1', code: '102' };
    handlers.set('POST /api/1.0/networks', json(400, body));
    const y = await vnctl(['networks', 'add', '--uuid', 'nw-1', '-o', 'yaml']);
    assert.equal(y.status, 1);
    assert.deepEqual(parseYaml(y.stdout), body);
    assert.match(y.stderr, /^vnctl: POST \/api\/1\.0\/networks: 400 DuplicateUUID \(code 102\): nw-1\n$/);
    const j = await vnctl(['networks', 'add', '--uuid', 'nw-1', '--output=json']);
    assert.equal(j.status, 1);
    assert.deepEqual(JSON.parse(j.stdout), body);
  });

  test('a structured or multi-line message still prints on one line', async () => {
    reset();
    handlers.set(
      'PUT /api/1.0/networks/nw-1',
      json(400, { error: 'ArgumentError', message: { parameter: 'mtu', reason: 'too\nbig' }, code: 110 }),
    );
    const r = await vnctl(['networks', 'modify', 'nw-1', '--mtu', '99999']);
    assert.equal(r.status, 1);
    oneLine(r.stderr);
    assert.match(r.stderr, /400 ArgumentError \(code 110\): \{"parameter":"mtu","reason":"too\\nbig"\}/);
  });

  test('a 404 from an unknown uuid', async () => {
    reset();
    const r = await vnctl(['networks', 'show', 'nw-nope']);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^vnctl: GET \/api\/1\.0\/networks\/nw-nope: 404 UnknownUUIDResource \(code 100\): no route\n$/,
    );
  });

  test('a 5xx with an HTML body names the status and a snippet', async () => {
    reset();
    handlers.set('GET /api/1.0/networks', (_q, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>\n<body>Bad gateway</body>\n</html>');
    });
    const r = await vnctl(['networks', 'show']);
    assert.equal(r.status, 1);
    oneLine(r.stderr);
    assert.match(r.stderr, /502 Bad Gateway: <html> <body>Bad gateway<\/body> <\/html>/);
  });

  test('a 200 that is not JSON is an error, not a crash', async () => {
    reset();
    handlers.set('GET /api/1.0/networks', (_q, res) => {
      res.writeHead(200);
      res.end('{"items": [tru');
    });
    const r = await vnctl(['networks', 'show']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^vnctl: GET \/api\/1\.0\/networks: 200 but the reply is not JSON: \{"items": \[tru\n$/);
  });

  test('del A B where B fails: A is reported deleted, then the error', async () => {
    reset();
    handlers.set('DELETE /api/1.0/networks/nw-a', json(200, ['nw-a']));
    const r = await vnctl(['networks', 'del', 'nw-a', 'nw-b', 'nw-c']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, 'nw-a\n');
    assert.match(r.stderr, /DELETE \/api\/1\.0\/networks\/nw-b: 404/);
    assert.equal(seen.length, 2, 'stops at the first failure');
  });

  test('connection refused: exit 3 naming the API address', async () => {
    const port = await freePort();
    const r = await vnctl(['networks', 'show'], { VNET_API: `http://127.0.0.1:${port}` });
    assert.equal(r.status, 3);
    assert.equal(
      r.stderr,
      `vnctl: cannot reach the API at http://127.0.0.1:${port}: connection refused (ECONNREFUSED)\n`,
    );
  });

  test('a peer that never answers: exit 3 after --timeout', async () => {
    reset();
    handlers.set('GET /api/1.0/networks', () => {});
    const t0 = Date.now();
    const r = await vnctl(['networks', 'show', '--timeout', '0.3']);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /no answer from the API at http:\/\/127\.0\.0\.1:\d+ within 0\.3 s/);
    assert.ok(Date.now() - t0 < 5000);
  });

  test('a peer that drops the connection: exit 3', async () => {
    reset();
    handlers.set('GET /api/1.0/networks', (req) => req.socket.destroy());
    const r = await vnctl(['networks', 'show']);
    assert.equal(r.status, 3);
    oneLine(r.stderr);
    assert.match(r.stderr, /^vnctl: cannot reach the API at /);
  });

  test('a peer that drops the connection in the middle of the body: exit 3, no hang', async () => {
    reset();
    handlers.set('GET /api/1.0/networks', (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"items": [');
      setTimeout(() => req.socket.destroy(), 50);
    });
    const r = await vnctl(['networks', 'show', '--timeout', '10']);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /^vnctl: cannot reach the API at [^\n]*connection reset[^\n]*\n$/);
  });

  test('bad usage: exit 2 and nothing sent', async () => {
    reset();
    const r = await vnctl(['networks', 'add', '--ipv4-prefix', 'x']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'vnctl: --ipv4-prefix: expected an integer, got "x"\n');
    assert.equal(seen.length, 0);
    const r2 = await vnctl(['networks', 'show'], { VNET_API: 'gopher://x' });
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /VNET_API: only http and https/);
  });

  test('help goes to stdout with 0 when asked, to stderr with 2 when the line is empty', async () => {
    const asked = await vnctl(['--help']);
    assert.equal(asked.status, 0);
    assert.match(asked.stdout, /^Usage: vnctl/);
    const bare = await vnctl([]);
    assert.equal(bare.status, 2);
    assert.equal(bare.stdout, '');
    assert.match(bare.stderr, /^Usage: vnctl/);
  });
});
