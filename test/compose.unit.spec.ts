import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

const ROOT = path.join(__dirname, '..');
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');

interface Service {
  build?: unknown;
  image?: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
  restart?: string;
}

/** The subcommands services/cli/main.ts dispatches on. */
const cliCommands = () => new Set([...read('services/cli/main.ts').matchAll(/case '([a-z-]+)':/g)].map((m) => m[1]!));

/** Variables the configuration code reads (the one loader and its two siblings), and those the README's table documents. */
function variablesRead(): Set<string> {
  const names = new Set<string>();
  for (const f of ['services/common/config.ts', 'services/devservers/config.ts', 'services/integrity/integrityConfig.ts']) {
    const src = read(f);
    for (const m of src.matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)) names.add(m[1]!);
    for (const m of src.matchAll(/\(env, '([A-Z][A-Z0-9_]*)'/g)) names.add(m[1]!);
  }
  return names;
}
function variablesDocumented(): Set<string> {
  const rows = read('README.md').split('\n').filter((l) => l.startsWith('| `'));
  return new Set(rows.flatMap((l) => [...l.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!)));
}

/**
 * No Docker engine runs where the tests do, so this checks docker-compose.yml's structure instead: the services the
 * deployment needs, that every dependency exists and can be waited on, and that every Intent Ledger process runs a real
 * CLI command with settings the project actually reads.
 */
describe('docker-compose.yml', () => {
  const doc = parseYaml(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
  const services = doc.services;
  const ours = Object.entries(services).filter(([, s]) => s.build !== undefined);

  it('runs Kafka in KRaft mode, Postgres, the migrations, two ingest consumers in one group, the reconciler, authz, the broker and gateway, the API, Grafana and the demo', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'authz', 'broker', 'demo', 'gateway', 'grafana', 'ingest-1', 'ingest-2', 'kafka', 'migrate', 'postgres', 'reconciler'].sort());
    expect(services.kafka!.environment!.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(services.kafka!.environment!.KAFKA_CONTROLLER_QUORUM_VOTERS).toBeDefined();
    expect(services.postgres!.image).toMatch(/^postgres:15/);
    const cmd = (name: string) => services[name]!.command![0];
    expect(['migrate', 'ingest-1', 'ingest-2', 'reconciler', 'authz', 'broker', 'gateway', 'api', 'demo'].map(cmd)).toEqual(['migrate', 'ingest', 'ingest', 'reconcile', 'authz', 'broker', 'gateway', 'api', 'demo']);
    // Agents on the host address the broker and gateway by the URLs their DPoP proofs name.
    expect([services.broker!.environment!.IL_BROKER_URL, services.gateway!.environment!.IL_GATEWAY_URL]).toEqual(['http://127.0.0.1:59480', 'http://127.0.0.1:59481']);
    const group = (name: string) => services[name]!.environment!.IL_INGEST_GROUP;
    expect(group('ingest-1')).toBeDefined();
    expect(group('ingest-2')).toBe(group('ingest-1'));
    expect(services.authz!.environment!.IL_AUTHZ_TOKEN).toMatch(/^\$\{IL_AUTHZ_TOKEN:\?/);
    expect(services.api!.environment!.IL_API_HOST).toBe('0.0.0.0');
    expect(services.api!.ports).toEqual([`127.0.0.1:58081:${services.api!.environment!.IL_API_PORT}`]);
  });

  it('names only services that exist as dependencies, with a health check wherever another service waits for health', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect([name, dep, dep in services]).toEqual([name, dep, true]);
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_healthy') expect(services[dep]!.healthcheck).toBeDefined();
        if (condition === 'service_completed_successfully') expect([dep, services[dep]!.restart]).toEqual([dep, 'no']);
      }
    }
    for (const [name] of ours.filter(([n]) => n !== 'migrate')) expect([name, services[name]!.depends_on?.migrate?.condition]).toEqual([name, 'service_completed_successfully']);
    for (const v of Object.values(services).flatMap((s) => s.volumes ?? [])) {
      const source = v.split(':')[0]!;
      if (source.startsWith('./')) expect([v, existsSync(path.join(ROOT, source))]).toEqual([v, true]);
      else expect([v, source in (doc.volumes ?? {})]).toEqual([v, true]);
    }
  });

  it('runs every Intent Ledger process as a real CLI command through the bin script', () => {
    const commands = cliCommands();
    expect(commands.has('ingest')).toBe(true);
    expect(ours.length).toBe(9);
    for (const [name, s] of ours) {
      expect([name, s.entrypoint]).toEqual([name, ['node', 'bin/intent-ledger.js']]);
      expect([name, commands.has(s.command![0]!)]).toEqual([name, true]);
    }
    expect(existsSync(path.join(ROOT, 'bin', 'intent-ledger.js'))).toBe(true);
    // The demo's own options must be ones the CLI takes.
    expect(read('services/cli/main.ts')).toContain("report: 'value'");
  });

  it('sets only environment variables the project reads and documents', () => {
    const readByCode = variablesRead();
    const documented = variablesDocumented();
    expect(readByCode.has('IL_API_HOST')).toBe(true);
    for (const [name, s] of ours) {
      for (const v of Object.keys(s.environment ?? {})) {
        expect([name, v, readByCode.has(v)]).toEqual([name, v, true]);
        expect([name, v, documented.has(v)]).toEqual([name, v, true]);
      }
    }
  });

  it('mounts the Grafana provisioning where Grafana and its dashboard provider look', () => {
    const g = services.grafana!;
    const provider = parseYaml(read('dashboards/grafana/provisioning/dashboards/intent-ledger.yaml')).providers[0].options.path as string;
    expect(g.volumes).toEqual(expect.arrayContaining(['./dashboards/grafana/provisioning:/etc/grafana/provisioning:ro', `./dashboards/grafana/dashboards:${provider}:ro`]));
    expect(existsSync(path.join(ROOT, 'dashboards/grafana', g.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!.toString().replace(provider, 'dashboards')))).toBe(true);
    // The data source's password is the one the Postgres init script gives Grafana's role.
    expect(g.environment!.GRAFANA_DB_PASSWORD).toBe(services.postgres!.environment!.GRAFANA_DB_PASSWORD);
    expect(services.postgres!.volumes).toContain('./dashboards/grafana/postgres/grafana-reader.sh:/docker-entrypoint-initdb.d/10-grafana-reader.sh:ro');
  });
});
