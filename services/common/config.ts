import path from 'node:path';
import { parseSeverity, Severity } from '../../schema/reasons';

export const DEFAULT_CATALOGUE = path.join(__dirname, '..', '..', 'schema', 'catalogues', 'agentdojo.json');

/**
 * Every setting, read from the environment in one place with typed parsing and defaults. The README's
 * configuration table mirrors this file.
 */
export interface Config {
  kafkaBrokers: string[] | null; // null: start the project's own broker
  databaseUrl: string | null; // null: start the project's own Postgres
  clientId: string;
  topics: { events: string; ledger: string; deadLetter: string; revocations: string; alerts: string };
  partitions: number;
  ingestGroup: string;
  reconcilerGroup: string;
  maxEventBytes: number;
  maxJsonDepth: number;
  clockSkewMs: number;
  revokeAt: Severity;
  cataloguePath: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

function str(env: NodeJS.ProcessEnv, name: string, dflt: string): string {
  const v = env[name];
  return v === undefined || v === '' ? dflt : v;
}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new Error(`${name} must be an integer >= ${min}; got "${raw}"`);
  return Number(raw);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const brokers = str(env, 'KAFKA_BROKERS', '');
  const prefix = str(env, 'IL_TOPIC_PREFIX', 'il');
  const level = str(env, 'IL_LOG_LEVEL', 'info');
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) {
    throw new Error(`IL_LOG_LEVEL must be debug|info|warn|error|silent; got "${level}"`);
  }
  return {
    kafkaBrokers: brokers ? brokers.split(',').map((b) => b.trim()).filter(Boolean) : null,
    databaseUrl: str(env, 'DATABASE_URL', '') || null,
    clientId: str(env, 'IL_CLIENT_ID', 'intent-ledger'),
    topics: {
      events: `${prefix}.events`,
      ledger: `${prefix}.ledger`,
      deadLetter: `${prefix}.events.dlq`,
      revocations: `${prefix}.revocations`,
      alerts: `${prefix}.alerts`,
    },
    partitions: int(env, 'IL_PARTITIONS', 4),
    ingestGroup: str(env, 'IL_INGEST_GROUP', `${prefix}.ingest`),
    reconcilerGroup: str(env, 'IL_RECONCILER_GROUP', `${prefix}.reconciler`),
    maxEventBytes: int(env, 'IL_MAX_EVENT_BYTES', 256 * 1024),
    maxJsonDepth: int(env, 'IL_MAX_JSON_DEPTH', 32),
    clockSkewMs: int(env, 'IL_CLOCK_SKEW_MS', 5 * 60 * 1000),
    revokeAt: parseSeverity(str(env, 'IL_REVOKE_AT_SEVERITY', 'high')),
    cataloguePath: path.resolve(str(env, 'IL_CATALOGUE', DEFAULT_CATALOGUE)),
    logLevel: level as Config['logLevel'],
  };
}
