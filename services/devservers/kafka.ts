/** The local single-node Kafka broker: probe, start (detached JVM), stop. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { DevServersError } from './errors';
import { KAFKA_VERSION, READY_TIMEOUT_MS, type KafkaConfig } from './config';
import { checkJava, checkMaven } from './java';
import { hasKafkaJars, resolveKafkaJars } from './kafkaJars';
import { newClusterId, renderLog4j2Properties, renderServerProperties } from './kafkaConfig';
import { withLock } from './lock';
import { findProcesses, pidAlive, processCmdline, readPidFile, run, sleep, tailFile } from './proc';
import { tcpOpen, waitUntil } from './wait';

const KAFKA_MAIN = 'kafka.Kafka';
const STOP_GRACE_MS = 20_000;
const MAX_LOG_BYTES = 20 * 1024 * 1024;

export interface KafkaProbe {
  ok: boolean;
  /** Something accepts TCP connections on the port, whether or not it speaks Kafka yet. */
  tcp: boolean;
  brokers?: number;
  clusterId?: string;
  error?: string;
}

/** A real Kafka request (describeCluster) against the broker; never throws. */
export async function probeKafka(brokers: string[], timeoutMs = 3000): Promise<KafkaProbe> {
  const [host, portText] = splitHostPort(brokers[0]);
  if (!(await tcpOpen(host, Number(portText), Math.min(timeoutMs, 1000)))) return { ok: false, tcp: false, error: 'connection refused' };
  const kafka = new Kafka({
    clientId: 'intent-ledger-devservers-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 2000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) return { ok: false, tcp: true, error: 'no brokers registered yet' };
    return { ok: true, tcp: true, brokers: cluster.brokers.length, clusterId: cluster.clusterId };
  } catch (e) {
    return { ok: false, tcp: true, error: (e as Error).message };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function splitHostPort(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  return i < 0 ? [address, '9092'] : [address.slice(0, i), address.slice(i + 1)];
}

function isOurKafka(pid: number, cfg: KafkaConfig): boolean {
  if (!pidAlive(pid)) return false;
  const cmd = processCmdline(pid);
  // Without /proc we cannot tell; trust the pid file.
  return cmd === undefined || (cmd.includes(KAFKA_MAIN) && cmd.includes(cfg.propertiesFile));
}

/** The broker's pid: from the pid file when that still names our JVM, else by its command line. */
export function kafkaPid(cfg: KafkaConfig): number | undefined {
  const fromFile = readPidFile(cfg.pidFile);
  if (fromFile !== undefined && isOurKafka(fromFile, cfg)) return fromFile;
  return findProcesses([KAFKA_MAIN, cfg.propertiesFile])[0];
}

function logTail(cfg: KafkaConfig): string {
  return `--- last lines of ${cfg.logFile} ---\n${tailFile(cfg.logFile, 40)}`;
}

/** Checks that would stop a start before it begins; throws DevServersError naming what to install. */
export function preflightKafka(cfg: KafkaConfig): void {
  checkJava();
  if (!hasKafkaJars(cfg.libsDir)) checkMaven();
}

/**
 * Starts the broker unless it already answers. Returns true when this call started it.
 * Safe to call concurrently from several processes (file lock).
 */
export async function startKafka(cfg: KafkaConfig, log: (msg: string) => void): Promise<boolean> {
  const brokers = [cfg.broker];
  return withLock(cfg.lockFile, async () => {
    if ((await probeKafka(brokers)).ok) return false;

    let pid = kafkaPid(cfg);
    if (pid !== undefined) {
      // Our JVM is alive but not answering: most likely still starting (another process launched it).
      log(`kafka: broker process ${pid} exists but does not answer yet; waiting`);
      await waitReady(cfg, pid);
      return false;
    }
    const preCheck = await probeKafka(brokers);
    if (preCheck.tcp) {
      throw new DevServersError(
        'START_FAILED',
        `Port ${cfg.port} on ${cfg.host} is taken by something that is not a working Kafka broker (${preCheck.error ?? 'unknown'}). Stop it, or choose other ports with IL_KAFKA_PORT / IL_KAFKA_CONTROLLER_PORT.`,
      );
    }
    if (await tcpOpen(cfg.host, cfg.controllerPort)) {
      throw new DevServersError(
        'START_FAILED',
        `The Kafka controller port ${cfg.controllerPort} on ${cfg.host} is already in use. Free it, or choose another with IL_KAFKA_CONTROLLER_PORT.`,
      );
    }

    const java = checkJava();
    if (!hasKafkaJars(cfg.libsDir)) {
      checkMaven();
      await resolveKafkaJars(cfg, log);
    }

    fs.mkdirSync(cfg.dataDir, { recursive: true });
    fs.writeFileSync(cfg.propertiesFile, renderServerProperties(cfg));
    fs.writeFileSync(cfg.log4jFile, renderLog4j2Properties());
    rotateLog(cfg.logFile);
    const jvmArgs = [`-Dlog4j2.configurationFile=${cfg.log4jFile}`, '-Djava.awt.headless=true', '-cp', `${cfg.libsDir}/*`];

    if (!fs.existsSync(`${cfg.dataDir}/meta.properties`)) {
      log(`kafka: formatting storage in ${cfg.dataDir}`);
      const fmt = await run(
        java.command,
        ['-Xmx256m', ...jvmArgs, 'kafka.tools.StorageTool', 'format', '-t', newClusterId(), '-c', cfg.propertiesFile, '--ignore-formatted'],
        { cwd: cfg.dir, timeoutMs: 120_000 },
      );
      if (fmt.error || fmt.code !== 0) {
        throw new DevServersError(
          'START_FAILED',
          `Formatting Kafka storage failed (exit ${fmt.code ?? fmt.error?.message}):\n${`${fmt.stdout}\n${fmt.stderr}`.trim()}`,
        );
      }
    }

    log(`kafka: starting Kafka ${KAFKA_VERSION} on ${cfg.broker} (log: ${cfg.logFile})`);
    const out = fs.openSync(cfg.logFile, 'a');
    let child;
    try {
      child = spawn(java.command, ['-Xms256m', '-Xmx512m', ...jvmArgs, KAFKA_MAIN, cfg.propertiesFile], {
        cwd: cfg.dir,
        detached: true,
        stdio: ['ignore', out, out],
      });
    } finally {
      fs.closeSync(out);
    }
    const spawnError = await new Promise<Error | undefined>((resolve) => {
      child.once('error', resolve);
      child.once('spawn', () => resolve(undefined));
    });
    if (spawnError || child.pid === undefined) {
      throw new DevServersError('START_FAILED', `Could not launch ${java.command}: ${spawnError?.message ?? 'no pid'}`);
    }
    child.unref();
    pid = child.pid;
    fs.writeFileSync(cfg.pidFile, `${pid}\n`);
    await waitReady(cfg, pid);
    return true;
  });
}

async function waitReady(cfg: KafkaConfig, pid: number): Promise<void> {
  let last: KafkaProbe = { ok: false, tcp: false };
  const ready = await waitUntil(
    async () => {
      last = await probeKafka([cfg.broker], 1500);
      return last.ok;
    },
    {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 500,
      check: () => {
        if (!pidAlive(pid)) {
          fs.rmSync(cfg.pidFile, { force: true });
          throw new DevServersError('START_FAILED', `Kafka (pid ${pid}) exited during startup.\n${logTail(cfg)}`);
        }
      },
    },
  );
  if (!ready) {
    throw new DevServersError(
      'START_FAILED',
      `Kafka (pid ${pid}) did not answer on ${cfg.broker} within ${READY_TIMEOUT_MS / 1000} s (last error: ${last.error ?? 'none'}). It is left running; \`npm run services:down\` stops it.\n${logTail(cfg)}`,
    );
  }
}

function rotateLog(file: string): void {
  try {
    if (fs.statSync(file).size > MAX_LOG_BYTES) fs.renameSync(file, `${file}.1`);
  } catch {
    /* no log yet */
  }
}

/** SIGTERM (controlled shutdown), then SIGKILL after 20 s. Returns true when a broker was running. */
export async function stopKafka(cfg: KafkaConfig, log: (msg: string) => void): Promise<boolean> {
  const pid = kafkaPid(cfg);
  if (pid === undefined) {
    fs.rmSync(cfg.pidFile, { force: true });
    return false;
  }
  log(`kafka: stopping pid ${pid}`);
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(200);
  if (pidAlive(pid)) {
    log(`kafka: pid ${pid} still alive after ${STOP_GRACE_MS / 1000} s; sending SIGKILL`);
    signal(pid, 'SIGKILL');
    const killDeadline = Date.now() + 10_000;
    while (pidAlive(pid) && Date.now() < killDeadline) await sleep(100);
  }
  if (pidAlive(pid)) throw new DevServersError('START_FAILED', `Could not stop Kafka (pid ${pid}).`);
  fs.rmSync(cfg.pidFile, { force: true });
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}
