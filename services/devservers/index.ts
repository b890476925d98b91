/**
 * Local Kafka and Postgres for development and the integration tests, without Docker.
 *
 * ensureServices() returns addresses from KAFKA_BROKERS / DATABASE_URL when those are set, and otherwise
 * makes sure a local broker (127.0.0.1:59092) and Postgres (127.0.0.1:55432) are running, starting what is
 * missing, with all state under <repo>/.cache. The servers outlive the process that started them;
 * stopServices() (npm run services:down) stops them.
 */
import fs from 'node:fs';
import { loadConfig, externalServices } from './config';
import { DevServersError } from './errors';
import { kafkaPid, preflightKafka, probeKafka, startKafka as startKafkaServer, stopKafka as stopKafkaServer } from './kafka';
import { findPostgresBinaries, type PgBinaries } from './pgBinaries';
import {
  ensureDatabase,
  pgLayout,
  postgresPid,
  probePostgres,
  startPostgres as startPostgresServer,
  stopPostgres as stopPostgresServer,
} from './postgres';

export { DevServersError, type DevServersErrorCode, type ServiceName } from './errors';
export { KAFKA_VERSION, loadConfig, type DevServersConfig } from './config';
export { findPostgresBinaries, type PgBinaries } from './pgBinaries';

export interface DevServersOptions {
  /** Progress messages (only printed while something is being started or stopped). */
  log?: (msg: string) => void;
}

export interface EnsuredServices {
  kafkaBrokers: string[];
  databaseUrl: string;
  /** Services this call started; empty when everything was already running or came from the environment. */
  started: ('kafka' | 'postgres')[];
}

export interface ServiceStatus {
  running: boolean;
  /** host:port of the locally managed server. */
  address: string;
  pid?: number;
  /** Connection URL (Postgres only). */
  url?: string;
}

export interface ServicesStatus {
  kafka: ServiceStatus;
  postgres: ServiceStatus;
}

const quiet = (): void => undefined;

export async function ensureServices(opts: DevServersOptions = {}): Promise<EnsuredServices> {
  const log = opts.log ?? quiet;
  const ext = externalServices(process.env);
  if (ext.kafkaBrokers && ext.databaseUrl) return { kafkaBrokers: ext.kafkaBrokers, databaseUrl: ext.databaseUrl, started: [] };

  const cfg = loadConfig();
  const needKafka = !ext.kafkaBrokers;
  const needPg = !ext.databaseUrl;

  const [kafkaUp, pgUp] = await Promise.all([
    needKafka ? probeKafka([cfg.kafka.broker]).then((p) => p.ok) : Promise.resolve(true),
    needPg ? probePostgres(cfg.postgres).then((p) => p.ok) : Promise.resolve(true),
  ]);

  // Preflight everything before starting anything, so a missing tool fails fast and leaves nothing half-started.
  const preflight = await settle([
    () => (pgUp ? undefined : findPostgresBinaries()),
    () => (kafkaUp ? undefined : preflightKafka(cfg.kafka)),
  ]);
  const pgBins = preflight[0];

  const started: EnsuredServices['started'] = [];
  const tasks: Promise<void>[] = [];
  if (!kafkaUp) tasks.push(startKafkaServer(cfg.kafka, log).then((s) => void (s && started.push('kafka'))));
  if (pgBins) tasks.push(startPostgresServer(cfg.postgres, pgBins, log).then((s) => void (s && started.push('postgres'))));
  await settleAll(tasks);

  if (needPg && (await ensureDatabase(cfg.postgres))) log(`postgres: created database ${cfg.postgres.database}`);
  started.sort();
  return {
    kafkaBrokers: ext.kafkaBrokers ?? [cfg.kafka.broker],
    databaseUrl: ext.databaseUrl ?? cfg.postgres.databaseUrl,
    started,
  };
}

/** Runs every synchronous check and reports all failures together (say, both Java and Postgres missing). */
async function settle<A, B>(checks: [() => A, () => B]): Promise<[A, B]> {
  const [a, b] = checks;
  let ra: A | undefined;
  let rb: B | undefined;
  await settleAll([
    Promise.resolve().then(() => void (ra = a())),
    Promise.resolve().then(() => void (rb = b())),
  ]);
  return [ra as A, rb as B];
}

/** Waits for every task (never leaves a start running unobserved) and then throws the failures, if any. */
async function settleAll(tasks: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    const first = errors[0];
    const code = first instanceof DevServersError ? first.code : 'START_FAILED';
    throw new DevServersError(code, errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n\n'));
  }
}

/** Binaries for stopping: optional, since a running server can also be stopped by signal. */
function pgBinsIfAny(): PgBinaries | undefined {
  try {
    return findPostgresBinaries();
  } catch {
    return undefined;
  }
}

/** Stops the locally managed servers (not ones named by KAFKA_BROKERS / DATABASE_URL). Returns what was running. */
export async function stopServices(opts: DevServersOptions = {}): Promise<{ stopped: ('kafka' | 'postgres')[] }> {
  const log = opts.log ?? quiet;
  const cfg = loadConfig();
  const stopped: ('kafka' | 'postgres')[] = [];
  await settleAll([
    stopKafkaServer(cfg.kafka, log).then((s) => void (s && stopped.push('kafka'))),
    stopPostgresServer(cfg.postgres, pgBinsIfAny(), log).then((s) => void (s && stopped.push('postgres'))),
  ]);
  stopped.sort();
  return { stopped };
}

/** Whether the locally managed servers answer real requests, and their pids. */
export async function servicesStatus(): Promise<ServicesStatus> {
  const cfg = loadConfig();
  const [k, p] = await Promise.all([probeKafka([cfg.kafka.broker]), probePostgres(cfg.postgres)]);
  const kPid = kafkaPid(cfg.kafka);
  const pPid = postgresPid(pgLayout(cfg.postgres));
  return {
    kafka: { running: k.ok, address: cfg.kafka.broker, ...(kPid !== undefined ? { pid: kPid } : {}) },
    postgres: {
      running: p.ok,
      address: `${cfg.postgres.host}:${cfg.postgres.port}`,
      url: cfg.postgres.databaseUrl,
      ...(pPid !== undefined ? { pid: pPid } : {}),
    },
  };
}

// --- Single-service controls, for fault-injection tests. They act on the locally managed servers only. ---

/** Stops the local Postgres (fast shutdown). Returns false when it was not running. */
export async function stopPostgres(opts: DevServersOptions = {}): Promise<boolean> {
  const cfg = loadConfig();
  return stopPostgresServer(cfg.postgres, pgBinsIfAny(), opts.log ?? quiet);
}

/** Starts the local Postgres (creating the ledger database if needed) and returns its URL. */
export async function startPostgres(opts: DevServersOptions = {}): Promise<string> {
  const cfg = loadConfig();
  await startPostgresServer(cfg.postgres, findPostgresBinaries(), opts.log ?? quiet);
  await ensureDatabase(cfg.postgres);
  return cfg.postgres.databaseUrl;
}

/** Stops the local Kafka broker (SIGTERM, SIGKILL after 20 s). Returns false when it was not running. */
export async function stopKafka(opts: DevServersOptions = {}): Promise<boolean> {
  return stopKafkaServer(loadConfig().kafka, opts.log ?? quiet);
}

/** Starts the local Kafka broker and returns its bootstrap address list. */
export async function startKafka(opts: DevServersOptions = {}): Promise<string[]> {
  const cfg = loadConfig();
  preflightKafka(cfg.kafka);
  await startKafkaServer(cfg.kafka, opts.log ?? quiet);
  return [cfg.kafka.broker];
}

/** Stops and starts the local Postgres; data survives. Returns its URL. */
export async function restartPostgres(opts: DevServersOptions = {}): Promise<string> {
  requireManaged('postgres');
  await stopPostgres(opts);
  return startPostgres(opts);
}

/** Stops and starts the local Kafka broker; topics and offsets survive. Returns its bootstrap addresses. */
export async function restartKafka(opts: DevServersOptions = {}): Promise<string[]> {
  requireManaged('kafka');
  await stopKafka(opts);
  return startKafka(opts);
}

function requireManaged(service: 'kafka' | 'postgres'): void {
  const cfg = loadConfig();
  const dataDir = service === 'kafka' ? cfg.kafka.dataDir : pgLayout(cfg.postgres).dataDir;
  if (!fs.existsSync(dataDir)) {
    throw new DevServersError(
      'NOT_MANAGED',
      `There is no locally managed ${service} to restart (nothing in ${dataDir}); it was never started here, or comes from ${service === 'kafka' ? 'KAFKA_BROKERS' : 'DATABASE_URL'}.`,
    );
  }
}
