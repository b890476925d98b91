/** Where the dev servers live and which ports they use: pure functions of the environment, no I/O. */
import path from 'node:path';
import { DevServersError } from './errors';

/** The Kafka release the local broker runs (Maven coordinates org.apache.kafka:kafka_<scala>:<version>). */
export const KAFKA_VERSION = '4.1.1';
export const KAFKA_SCALA_VERSION = '2.13';
/** Postgres majors we accept for the local server; the preferred one is picked first when several are installed. */
export const PG_PREFERRED_MAJOR = 15;
export const PG_MIN_MAJOR = 15;

export const HOST = '127.0.0.1';
export const DATABASE_NAME = 'intent_ledger';
export const PG_USER = 'postgres';
/** How long a freshly started server may take to accept real requests. */
export const READY_TIMEOUT_MS = 90_000;

export const DEFAULT_KAFKA_PORT = 59092;
export const DEFAULT_KAFKA_CONTROLLER_PORT = 59093;
export const DEFAULT_PG_PORT = 55432;

export interface KafkaConfig {
  host: string;
  port: number;
  controllerPort: number;
  /** host:port clients connect to. */
  broker: string;
  dir: string;
  libsDir: string;
  dataDir: string;
  propertiesFile: string;
  log4jFile: string;
  logFile: string;
  pidFile: string;
  pomFile: string;
  lockFile: string;
  /** Maven's local repository, kept inside the cache so nothing lands in ~/.m2. */
  m2Dir: string;
}

export interface PostgresConfig {
  host: string;
  port: number;
  user: string;
  database: string;
  databaseUrl: string;
  /** URL of the maintenance database, which exists before ours does. */
  adminUrl: string;
  dir: string;
  dataDir: string;
  runDir: string;
  logFile: string;
  lockFile: string;
}

export interface DevServersConfig {
  repoRoot: string;
  cacheDir: string;
  kafka: KafkaConfig;
  postgres: PostgresConfig;
}

/** The repository root: this file lives in <root>/services/devservers. */
export function defaultRepoRoot(): string {
  return path.resolve(__dirname, '..', '..');
}

export function parsePort(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const port = Number(value.trim());
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DevServersError('CONFIG_INVALID', `${name}=${JSON.stringify(value)} is not a TCP port (1-65535).`);
  }
  return port;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, repoRoot: string = defaultRepoRoot()): DevServersConfig {
  const cacheDir = path.resolve(repoRoot, env.IL_CACHE_DIR && env.IL_CACHE_DIR.trim() !== '' ? env.IL_CACHE_DIR : '.cache');
  const kafkaPort = parsePort(env.IL_KAFKA_PORT, 'IL_KAFKA_PORT', DEFAULT_KAFKA_PORT);
  const controllerPort = parsePort(env.IL_KAFKA_CONTROLLER_PORT, 'IL_KAFKA_CONTROLLER_PORT', DEFAULT_KAFKA_CONTROLLER_PORT);
  const pgPort = parsePort(env.IL_PG_PORT, 'IL_PG_PORT', DEFAULT_PG_PORT);
  if (kafkaPort === controllerPort) {
    throw new DevServersError('CONFIG_INVALID', `IL_KAFKA_PORT and IL_KAFKA_CONTROLLER_PORT must differ (both are ${kafkaPort}).`);
  }
  if (pgPort === kafkaPort || pgPort === controllerPort) {
    throw new DevServersError('CONFIG_INVALID', `IL_PG_PORT (${pgPort}) clashes with a Kafka port.`);
  }

  const kafkaDir = path.join(cacheDir, 'kafka');
  const pgDir = path.join(cacheDir, 'postgres');
  return {
    repoRoot,
    cacheDir,
    kafka: {
      host: HOST,
      port: kafkaPort,
      controllerPort,
      broker: `${HOST}:${kafkaPort}`,
      dir: kafkaDir,
      libsDir: path.join(kafkaDir, 'libs'),
      dataDir: path.join(kafkaDir, 'data'),
      propertiesFile: path.join(kafkaDir, 'server.properties'),
      log4jFile: path.join(kafkaDir, 'log4j2.properties'),
      logFile: path.join(kafkaDir, 'kafka.log'),
      pidFile: path.join(kafkaDir, 'kafka.pid'),
      pomFile: path.join(kafkaDir, 'pom.xml'),
      lockFile: path.join(kafkaDir, 'start.lock'),
      m2Dir: path.join(cacheDir, 'm2'),
    },
    postgres: {
      host: HOST,
      port: pgPort,
      user: PG_USER,
      database: DATABASE_NAME,
      databaseUrl: `postgresql://${PG_USER}@${HOST}:${pgPort}/${DATABASE_NAME}`,
      adminUrl: `postgresql://${PG_USER}@${HOST}:${pgPort}/postgres`,
      dir: pgDir,
      dataDir: path.join(pgDir, 'data'),
      runDir: path.join(pgDir, 'run'),
      logFile: path.join(pgDir, 'postgres.log'),
      lockFile: path.join(cacheDir, 'postgres-start.lock'),
    },
  };
}

/** Servers named by the environment instead of started here. Empty values count as unset. */
export interface ExternalServices {
  kafkaBrokers?: string[];
  databaseUrl?: string;
}

export function externalServices(env: NodeJS.ProcessEnv = process.env): ExternalServices {
  const out: ExternalServices = {};
  const brokers = (env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length > 0) out.kafkaBrokers = brokers;
  const url = (env.DATABASE_URL ?? '').trim();
  if (url !== '') out.databaseUrl = url;
  return out;
}
