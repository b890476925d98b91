import path from 'node:path';
import { SEVERITIES, Severity } from '../../schema/reasons';
import { IntentLedgerError } from './errors';

export const DEFAULT_CATALOGUE = path.join(__dirname, '..', '..', 'schema', 'catalogues', 'agentdojo.json');
export const DEFAULT_POLICY = path.join(__dirname, '..', '..', 'schema', 'policies', 'default.json');

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
  /** Consumer group of the alert delivery consumer (`intent-ledger alerts`). */
  alertsGroup: string;
  /** IL_ALERT_SINKS: the JSON file of alert sinks; null: alerts are recorded, not sent anywhere. */
  alertSinksPath: string | null;
  maxEventBytes: number;
  maxJsonDepth: number;
  clockSkewMs: number;
  /** Worker threads per ingest process that verify signatures; 0 verifies on the event loop. */
  verifyWorkers: number;
  /** IL_REVOKE_AT_SEVERITY when set; otherwise the policy's `revokeAt` applies. */
  revokeAt: Severity | null;
  cataloguePath: string;
  policyPath: string;
  /** The authorisation service (intent-ledger authz). */
  authz: { host: string; port: number; token: string | null; keyFile: string | null; agentId: string };
  /** The analyst API (intent-ledger api) and its clients (the CLI's drift/agents/revoke commands). */
  api: { host: string; port: number; tokensFile: string | null; keyFile: string | null; agentId: string; url: string; token: string | null };
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** The credential broker (services/broker). */
  broker: {
    /** Where it listens (0.0.0.0 in a container). */
    host: string;
    port: number;
    /** How clients address it; proofs name `<url>/token` etc. Null: http://127.0.0.1:<port>. */
    url: string | null;
    /** Its token-signing key (mode 0600). Null: <IL_CACHE_DIR>/broker-key.json. */
    keyFile: string | null;
    /** The broker's public key (base64url) that gateways pin. Null: read it from the key file. */
    publicKey: string | null;
  };
  /** The demo tool gateway (services/gateway). */
  gateway: {
    host: string;
    port: number;
    url: string | null;
    /** The gateway's own registered identity, which signs action.observed. */
    agentId: string;
    keyFile: string | null;
  };
  /** How old a DPoP proof may be when it arrives. */
  dpopMaxAgeMs: number;
}

/** A setting that cannot be used; the message names the variable, its value and what it should be. */
export class ConfigError extends IntentLedgerError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

function str(env: NodeJS.ProcessEnv, name: string, dflt: string): string {
  const v = env[name];
  return v === undefined || v === '' ? dflt : v;
}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new ConfigError(`${name} must be an integer ${range}; got "${raw}"`);
  }
  return Number(raw);
}

/**
 * More verify threads than this only cost memory (each is a V8 isolate of ~10-20 MB) and start-up time: signature
 * checks are CPU-bound, so threads beyond the cores wait for one another.
 */
export const MAX_VERIFY_WORKERS = 64;

/** `host:port[,host:port...]`, checked here so a typo fails at once instead of after a minute of retries. */
export function parseBrokers(raw: string): string[] {
  const brokers = raw.split(',').map((b) => b.trim());
  for (const b of brokers) {
    const m = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new ConfigError(`KAFKA_BROKERS must be a comma-separated list of host:port; "${b}" is not (got "${raw}")`);
    }
  }
  return brokers;
}

export function parseDatabaseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`DATABASE_URL must be a postgresql:// URL; got "${raw}"`);
  }
  if (u.protocol !== 'postgresql:' && u.protocol !== 'postgres:') {
    throw new ConfigError(`DATABASE_URL must be a postgresql:// (or postgres://) URL; got scheme "${u.protocol}"`);
  }
  if (!u.hostname) throw new ConfigError(`DATABASE_URL names no host; got "${raw}"`);
  return raw;
}

function severity(env: NodeJS.ProcessEnv, name: string): Severity | null {
  if (env[name] === undefined || env[name] === '') return null;
  const raw = env[name]!.toLowerCase();
  if (!(SEVERITIES as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${SEVERITIES.join(', ')}; got "${env[name]}"`);
  return raw as Severity;
}

/** An http(s) origin with no path, query or fragment (a trailing slash is dropped); null when unset. */
function httpUrl(env: NodeJS.ProcessEnv, name: string): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  let u: URL | null = null;
  try {
    u = new URL(raw);
  } catch {
    // reported below
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.search || u.hash || u.username) {
    throw new ConfigError(`${name} must be an http:// or https:// URL without query, fragment or credentials; got "${raw}"`);
  }
  return u.toString().replace(/\/$/, '');
}

function id(env: NodeJS.ProcessEnv, name: string, dflt: string): string {
  const v = str(env, name, dflt);
  if (!/^[A-Za-z0-9._:@\/-]{1,128}$/.test(v)) throw new ConfigError(`${name} must be 1-128 chars of [A-Za-z0-9._:@/-]; got "${v}"`);
  return v;
}

/** A bearer token short enough to guess is no token: at least 32 characters (e.g. `openssl rand -hex 32`). */
function authzToken(env: NodeJS.ProcessEnv): string | null {
  const t = env.IL_AUTHZ_TOKEN;
  if (t === undefined || t === '') return null;
  if (t.length < 32 || /\s/.test(t)) throw new ConfigError('IL_AUTHZ_TOKEN must be at least 32 characters with no whitespace (e.g. `openssl rand -hex 32`)');
  return t;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const brokers = str(env, 'KAFKA_BROKERS', '');
  const databaseUrl = str(env, 'DATABASE_URL', '');
  const prefix = str(env, 'IL_TOPIC_PREFIX', 'il');
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(prefix)) {
    throw new ConfigError(`IL_TOPIC_PREFIX must be 1-100 characters of [A-Za-z0-9_-] (Kafka topic names); got "${prefix}"`);
  }
  const level = str(env, 'IL_LOG_LEVEL', 'info');
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) {
    throw new ConfigError(`IL_LOG_LEVEL must be debug|info|warn|error|silent; got "${level}"`);
  }
  return {
    kafkaBrokers: brokers ? parseBrokers(brokers) : null,
    databaseUrl: databaseUrl ? parseDatabaseUrl(databaseUrl) : null,
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
    alertsGroup: str(env, 'IL_ALERTS_GROUP', `${prefix}.alert-delivery`),
    alertSinksPath: str(env, 'IL_ALERT_SINKS', '') === '' ? null : path.resolve(env.IL_ALERT_SINKS!),
    maxEventBytes: int(env, 'IL_MAX_EVENT_BYTES', 256 * 1024),
    maxJsonDepth: int(env, 'IL_MAX_JSON_DEPTH', 32),
    clockSkewMs: int(env, 'IL_CLOCK_SKEW_MS', 5 * 60 * 1000),
    verifyWorkers: int(env, 'IL_VERIFY_WORKERS', 1, 0, MAX_VERIFY_WORKERS),
    revokeAt: severity(env, 'IL_REVOKE_AT_SEVERITY'),
    cataloguePath: path.resolve(str(env, 'IL_CATALOGUE', DEFAULT_CATALOGUE)),
    policyPath: path.resolve(str(env, 'IL_POLICY', DEFAULT_POLICY)),
    authz: {
      host: str(env, 'IL_AUTHZ_HOST', '127.0.0.1'),
      port: int(env, 'IL_AUTHZ_PORT', 58080, 0, 65535),
      token: authzToken(env),
      keyFile: env.IL_AUTHZ_KEY_FILE ? path.resolve(env.IL_AUTHZ_KEY_FILE) : null,
      agentId: id(env, 'IL_AUTHZ_AGENT_ID', 'svc:authz'),
    },
    api: {
      host: str(env, 'IL_API_HOST', '127.0.0.1'),
      port: int(env, 'IL_API_PORT', 58081, 0, 65535),
      tokensFile: env.IL_API_TOKENS_FILE ? path.resolve(env.IL_API_TOKENS_FILE) : null,
      keyFile: env.IL_API_KEY_FILE ? path.resolve(env.IL_API_KEY_FILE) : null,
      agentId: id(env, 'IL_API_AGENT_ID', 'svc:api'),
      url: httpUrl(env, 'IL_API_URL') ?? `http://127.0.0.1:${int(env, 'IL_API_PORT', 58081, 0, 65535)}`,
      token: env.IL_API_TOKEN ? env.IL_API_TOKEN : null,
    },
    logLevel: level as Config['logLevel'],
    broker: {
      host: str(env, 'IL_BROKER_HOST', '127.0.0.1'),
      port: int(env, 'IL_BROKER_PORT', 59480, 0, 65535),
      url: httpUrl(env, 'IL_BROKER_URL'),
      keyFile: env.IL_BROKER_KEY_FILE ? path.resolve(env.IL_BROKER_KEY_FILE) : null,
      publicKey: str(env, 'IL_BROKER_PUBLIC_KEY', '') || null,
    },
    gateway: {
      host: str(env, 'IL_GATEWAY_HOST', '127.0.0.1'),
      port: int(env, 'IL_GATEWAY_PORT', 59481, 0, 65535),
      url: httpUrl(env, 'IL_GATEWAY_URL'),
      agentId: id(env, 'IL_GATEWAY_ID', 'gateway'),
      keyFile: env.IL_GATEWAY_KEY_FILE ? path.resolve(env.IL_GATEWAY_KEY_FILE) : null,
    },
    dpopMaxAgeMs: int(env, 'IL_DPOP_MAX_AGE_MS', 60_000, 1_000, 3_600_000),
  };
}
