import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { parse as parseYaml } from 'yaml';
import { migrate } from '../schema/migrate';
import { expandMacros } from './grafanaMacros';

const GRAFANA = path.join(__dirname, '..', 'dashboards', 'grafana');

interface Target { refId: string; rawSql: string; format: 'table' | 'time_series'; datasource: { uid: string } }
interface Panel { title: string; type: string; datasource: { uid: string }; targets?: Target[]; panels?: Panel[] }

/** Every column each panel's query must return: a renamed or dropped column breaks the panel, so it breaks this test. */
const EXPECTED: Record<string, string[]> = {
  'Drift findings over time': ['time', 'metric', 'value'],
  'Findings by severity': ['severity', 'findings'],
  'Findings by reason': ['reason', 'findings'],
  'Top drifting agents': ['agent', 'display_name', 'drifting_actions', 'findings', 'critical', 'last_finding'],
  'Revocation latency': ['time', 'p50_ms', 'p99_ms'],
  Credentials: ['active', 'revoked', 'expired'],
  'Revocations by reason': ['reason', 'revocations', 'mean_latency_ms'],
  'Rejected events by reason': ['reason', 'rejected'],
  'Ledger size': ['ledger_size', 'signed_tree_size', 'leaves_after_latest_head'],
  'Signed tree heads': ['time', 'signed_tree_size'],
  'Events ledgered': ['time', 'events'],
};

const dashboards = readdirSync(path.join(GRAFANA, 'dashboards')).filter((f) => f.endsWith('.json'));
const panelsOf = (file: string): Panel[] => {
  const flat = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...flat(p.panels ?? [])]);
  return flat((JSON.parse(readFileSync(path.join(GRAFANA, 'dashboards', file), 'utf8')) as { panels: Panel[] }).panels).filter((p) => p.type !== 'row');
};

/**
 * The Grafana dashboards' SQL, run on a database made fresh from the migrations, as the read-only role Grafana logs in
 * with (made by the same script the compose Postgres runs), with Grafana's macros expanded.
 */
describe('Grafana dashboards and provisioning', () => {
  const base = process.env.DATABASE_URL!;
  const suffix = randomBytes(4).toString('hex');
  const dbName = `il_grafana_${suffix}`;
  const reader = `il_grafana_reader_${suffix}`;
  const url = (() => {
    const u = new URL(base);
    u.pathname = `/${dbName}`;
    return u.toString();
  })();
  let admin: Client;
  let db: Client;
  const now = new Date();
  const range = { from: new Date(now.getTime() - 6 * 3_600_000), to: new Date(now.getTime() + 60_000), intervalSeconds: 60 };

  beforeAll(async () => {
    admin = new Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    db = new Client({ connectionString: url });
    await db.connect();
    // As in compose: the init script runs on the empty database, the migrations after it.
    const script = readFileSync(path.join(GRAFANA, 'postgres', 'grafana-reader.sh'), 'utf8');
    const sql = /<<'SQL'\n([\s\S]*?)\nSQL\n/.exec(script)![1]!.replace(/:'pw'/g, `'${randomBytes(12).toString('hex')}'`).replace(/\bgrafana_reader\b/g, reader).replace(/\bintent_ledger\b/g, dbName);
    await db.query(sql);
    await migrate(url);
    await seed(db, now);
  });
  afterAll(async () => {
    await db?.end();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${reader}`);
    await admin.end();
  });

  it('provisions the Postgres data source every panel uses, and a file provider for the dashboards', () => {
    const ds = parseYaml(readFileSync(path.join(GRAFANA, 'provisioning', 'datasources', 'intent-ledger.yaml'), 'utf8'));
    const [source] = ds.datasources;
    expect([source.type, source.url, source.user, source.jsonData.database]).toEqual(['grafana-postgresql-datasource', 'postgres:5432', 'grafana_reader', 'intent_ledger']);
    const prov = parseYaml(readFileSync(path.join(GRAFANA, 'provisioning', 'dashboards', 'intent-ledger.yaml'), 'utf8'));
    expect(prov.providers[0]).toMatchObject({ type: 'file', options: { path: '/var/lib/grafana/dashboards/intent-ledger' } });
    expect(dashboards.length).toBeGreaterThan(0);
    for (const file of dashboards) {
      for (const p of panelsOf(file)) {
        expect([p.title, p.datasource.uid]).toEqual([p.title, source.uid]);
        for (const t of p.targets ?? []) expect([p.title, t.datasource.uid]).toEqual([p.title, source.uid]);
      }
    }
  });

  it('has a known set of columns for every panel', () => {
    const titles = dashboards.flatMap((f) => panelsOf(f).map((p) => p.title));
    expect([...titles].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(dashboards.flatMap((f) => panelsOf(f).flatMap((p) => (p.targets ?? []).map((t) => [`${f}: ${p.title} (${t.refId})`, p.title, t] as const))))(
    'runs %s as the read-only role and returns its columns',
    async (_name, title, target) => {
      const sql = expandMacros(target.rawSql, range);
      await db.query('BEGIN');
      try {
        await db.query(`SET LOCAL ROLE ${reader}`);
        const res = await db.query(sql);
        expect(res.fields.map((f) => f.name)).toEqual(EXPECTED[title]);
        expect(res.rows.length).toBeGreaterThan(0);
        if (target.format === 'time_series') expect(res.fields[0]!.name).toBe('time');
      } finally {
        await db.query('ROLLBACK');
      }
    },
  );

  it("gives Grafana's role no way to write", async () => {
    await db.query('BEGIN');
    try {
      await db.query(`SET LOCAL ROLE ${reader}`);
      await expect(db.query(`UPDATE drift_findings SET detail = 'x'`)).rejects.toThrow(/read-only|permission denied/);
    } finally {
      await db.query('ROLLBACK');
    }
  });
});

/** A little of everything the panels read: a finding of each severity, a revocation, a rejection, a signed tree head. */
async function seed(db: Client, now: Date): Promise<void> {
  const t = (msAgo: number) => new Date(now.getTime() - msAgo);
  await db.query(`INSERT INTO agents (agent_id, display_name) VALUES ('a1', 'banking run'), ('a2', NULL)`);
  const findings: Array<[string, string, string, string, number]> = [
    ['e1', 'a1', 'TOOL_NOT_ALLOWED', 'critical', 120_000], ['e1', 'a1', 'TARGET_NOT_ALLOWED', 'high', 120_000], ['e2', 'a1', 'DATA_CLASS_NOT_ALLOWED', 'medium', 60_000],
    ['e3', 'a2', 'TARGET_NOT_ALLOWED', 'low', 30_000],
  ];
  for (const [eventId, agent, reason, severity, ago] of findings) {
    await db.query('INSERT INTO drift_findings (action_event_id, agent_id, intent_id, reason_code, severity, detail, tool, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      eventId, agent, `int_${agent}`, reason, severity, 'seeded', 'send_money', t(ago),
    ]);
  }
  await db.query(
    `INSERT INTO credentials (credential_id, agent_id, intent_id, key_id, status, issued_at, expires_at, revoked_at) VALUES
       ('c1', 'a1', 'int_a1', 'k1', 'revoked', $1, $2, $3), ('c2', 'a2', 'int_a2', 'k2', 'active', $1, $2, NULL)`,
    [t(600_000), t(-600_000), t(119_000)],
  );
  await db.query(
    `INSERT INTO revocations (credential_id, agent_id, intent_id, finding_id, action_event_id, reason_code, severity, action_produced_at, revoked_at, latency_ms)
     VALUES ('c1', 'a1', 'int_a1', 1, 'e1', 'TOOL_NOT_ALLOWED', 'critical', $1, $2, 812.5)`,
    [t(120_500), t(119_000)],
  );
  await db.query(
    `INSERT INTO rejected_events (reason_code, detail, raw, raw_sha256, kafka_topic, kafka_partition, kafka_offset, rejected_at) VALUES ('SIG_INVALID', 'seeded', '\\x00', $1, 'il.events', 0, 7, $2)`,
    [Buffer.alloc(32, 1), t(10_000)],
  );
  await db.query(
    `INSERT INTO ledger_events (event_id, agent_id, key_id, seq, type, prev_hash, event_hash, ts, payload, signature, raw, raw_sha256, kafka_topic, kafka_partition, kafka_offset, produced_at, ledgered_at, leaf_index)
     VALUES ('e1', 'a1', 'k1', 1, 'action.reported', NULL, $1, $2, '{}', 'sig', '\\x7b7d', $3, 'il.events', 0, 1, $2, $2, 0)`,
    ['ab'.repeat(32), t(121_000), Buffer.alloc(32, 2)],
  );
  await db.query('UPDATE ledger_tip SET next_leaf_index = 1 WHERE id = 1');
  await db.query(`INSERT INTO ledger_keys (key_id, public_key) VALUES ('ed25519:test', $1)`, [Buffer.alloc(32, 3)]);
  await db.query(`INSERT INTO tree_heads (tree_size, root_hash, signed_at, key_id, signature, frontier) VALUES (1, $1, $2, 'ed25519:test', 'sig', '{}')`, ['cd'.repeat(32), t(5_000)]);
}
