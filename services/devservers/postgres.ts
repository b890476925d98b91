/** The local Postgres server: probe, initdb + start via pg_ctl, create the ledger database, stop. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { DevServersError } from './errors';
import { READY_TIMEOUT_MS, type PostgresConfig } from './config';
import type { PgBinaries } from './pgBinaries';
import { withLock } from './lock';
import { isRoot, pidAlive, processCmdline, quickOutput, readPidFile, run, shellQuote, sleep, tailFile } from './proc';
import { tcpOpen, waitUntil } from './wait';

/** The OS account that owns the cluster when we run as root (initdb refuses to run as root). */
const SERVER_OS_USER = 'postgres';
/** Longest socket path the kernel accepts is 107 bytes; keep a margin. */
const MAX_SOCKET_PATH = 100;

export interface PostgresProbe {
  ok: boolean;
  tcp: boolean;
  version?: string;
  error?: string;
}

/** A real query (select version()) against the server; never throws. */
export async function probePostgres(cfg: PostgresConfig, timeoutMs = 3000): Promise<PostgresProbe> {
  if (!(await tcpOpen(cfg.host, cfg.port, Math.min(timeoutMs, 1000)))) return { ok: false, tcp: false, error: 'connection refused' };
  const client = new Client({ connectionString: cfg.adminUrl, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const r = await client.query<{ version: string }>('select version() as version');
    return { ok: true, tcp: true, version: r.rows[0]?.version };
  } catch (e) {
    return { ok: false, tcp: true, error: (e as Error).message };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates the ledger database when it is missing (safe against a concurrent creator). */
export async function ensureDatabase(cfg: PostgresConfig): Promise<boolean> {
  const client = new Client({ connectionString: cfg.adminUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const exists = await client.query('select 1 from pg_database where datname = $1', [cfg.database]);
    if (exists.rowCount) return false;
    try {
      await client.query(`create database "${cfg.database.replace(/"/g, '""')}"`);
      return true;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false; // created meanwhile by someone else
      throw e;
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Where the cluster's files live. Normally <cache>/postgres; see pgLayout for when it moves. */
export interface PgLayout {
  dir: string;
  dataDir: string;
  runDir: string;
  logFile: string;
  /** True when the cluster lives under the OS temp dir instead of the cache (see pgLayout). */
  relocated: boolean;
}

function layoutAt(dir: string, relocated: boolean): PgLayout {
  return { dir, dataDir: path.join(dir, 'data'), runDir: path.join(dir, 'run'), logFile: path.join(dir, 'postgres.log'), relocated };
}

/** Socket file Postgres creates in runDir; the kernel limits its length. */
export function socketPath(runDir: string, port: number): string {
  return path.join(runDir, `.s.PGSQL.${port}`);
}

/**
 * The cluster lives in <cache>/postgres unless that cannot work: as root the server runs as the `postgres`
 * account, which may not be able to reach a checkout under e.g. /root; and the socket path may be too long.
 * Then it lives in <tmpdir>/intent-ledger-postgres-<hash of the cache path>, chosen the same way every time.
 */
export function pgLayout(cfg: PostgresConfig): PgLayout {
  const normal = layoutAt(cfg.dir, false);
  const hash = crypto.createHash('sha256').update(cfg.dir).digest('hex').slice(0, 10);
  const fallback = layoutAt(path.join(os.tmpdir(), `intent-ledger-postgres-${hash}`), true);
  if (fs.existsSync(path.join(normal.dataDir, 'PG_VERSION'))) return normal;
  if (fs.existsSync(path.join(fallback.dataDir, 'PG_VERSION'))) return fallback;
  if (socketPath(normal.runDir, cfg.port).length > MAX_SOCKET_PATH) return fallback;
  if (isRoot() && !serverUserCanReach(path.dirname(cfg.dir))) return fallback;
  return normal;
}

function serverUserCanReach(dir: string): boolean {
  fs.mkdirSync(dir, { recursive: true });
  return quickOutput('runuser', ['-u', SERVER_OS_USER, '--', 'test', '-x', dir]) !== undefined;
}

/** The command that runs a server program as the right OS user. */
function asServerUser(program: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', SERVER_OS_USER, '--', program, ...args]] : [program, args];
}

function serverUserIds(): { uid: number; gid: number } {
  const uid = Number(quickOutput('id', ['-u', SERVER_OS_USER])?.trim());
  const gid = Number(quickOutput('id', ['-g', SERVER_OS_USER])?.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new DevServersError(
      'START_FAILED',
      `Running as root, the local Postgres must run as the OS user "${SERVER_OS_USER}", which does not exist. Create it (\`useradd --system --home-dir /var/lib/postgresql ${SERVER_OS_USER}\`; the Debian postgresql packages do this), run as a non-root user, or set DATABASE_URL to an existing server.`,
    );
  }
  return { uid, gid };
}

function chownTree(p: string, uid: number, gid: number): void {
  fs.lchownSync(p, uid, gid);
  if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid, gid);
}

function prepareDirs(layout: PgLayout): void {
  fs.mkdirSync(layout.runDir, { recursive: true });
  if (!isRoot()) return;
  const { uid, gid } = serverUserIds();
  if (fs.statSync(layout.dir).uid !== uid || fs.statSync(layout.runDir).uid !== uid) chownTree(layout.dir, uid, gid);
}

/** The postmaster's pid from postmaster.pid, when that process is alive and is a Postgres server. */
export function postgresPid(layout: PgLayout): number | undefined {
  const pid = readPidFile(path.join(layout.dataDir, 'postmaster.pid'));
  if (pid === undefined || !pidAlive(pid)) return undefined;
  const cmd = processCmdline(pid);
  return cmd === undefined || cmd.some((a) => a.includes('postgres')) ? pid : undefined;
}

function logTail(layout: PgLayout): string {
  return `--- last lines of ${layout.logFile} ---\n${tailFile(layout.logFile, 40)}`;
}

/**
 * Starts the server unless it already answers, creating the cluster on first use. Returns true when this
 * call started it. Safe to call concurrently from several processes (file lock).
 */
export async function startPostgres(cfg: PostgresConfig, bins: PgBinaries, log: (msg: string) => void): Promise<boolean> {
  return withLock(cfg.lockFile, async () => {
    if ((await probePostgres(cfg)).ok) return false;
    const layout = pgLayout(cfg);

    const running = postgresPid(layout);
    if (running !== undefined) {
      log(`postgres: server process ${running} exists but does not answer yet; waiting`);
      await waitReady(cfg, layout);
      return false;
    }
    if (await tcpOpen(cfg.host, cfg.port)) {
      const p = await probePostgres(cfg);
      throw new DevServersError(
        'START_FAILED',
        `Port ${cfg.port} on ${cfg.host} is taken by something that does not accept postgres@${cfg.host} without a password (${p.error ?? 'unknown'}). Stop it, or choose another port with IL_PG_PORT.`,
      );
    }

    fs.mkdirSync(layout.dir, { recursive: true });
    if (layout.relocated) log(`postgres: using ${layout.dir} (the "${SERVER_OS_USER}" OS user cannot use ${cfg.dir}, or its socket path is too long)`);
    prepareDirs(layout);

    const pgVersionFile = path.join(layout.dataDir, 'PG_VERSION');
    if (!fs.existsSync(pgVersionFile)) {
      // A data dir without PG_VERSION is the wreck of an interrupted initdb.
      fs.rmSync(layout.dataDir, { recursive: true, force: true });
      log(`postgres: creating a Postgres ${bins.major} cluster in ${layout.dataDir}`);
      const [cmd, args] = asServerUser(path.join(bins.binDir, 'initdb'), [
        '-D',
        layout.dataDir,
        '-U',
        cfg.user,
        '--auth=trust',
        '-E',
        'UTF8',
        '--locale=C',
      ]);
      const r = await run(cmd, args, { cwd: layout.dir, timeoutMs: 120_000 });
      if (r.error || r.code !== 0) {
        throw new DevServersError('START_FAILED', `initdb failed (exit ${r.code ?? r.error?.message}):\n${`${r.stdout}\n${r.stderr}`.trim()}`);
      }
    }
    const dataMajor = Number(fs.readFileSync(pgVersionFile, 'utf8').trim());
    if (dataMajor !== bins.major) {
      throw new DevServersError(
        'START_FAILED',
        `${layout.dataDir} holds a Postgres ${dataMajor} cluster, but the server programs found (${bins.binDir}) are Postgres ${bins.major}. Point IL_PG_BIN at Postgres ${dataMajor}, or delete ${layout.dataDir} to start afresh (its data is lost).`,
      );
    }

    log(`postgres: starting Postgres ${bins.major} on ${cfg.host}:${cfg.port} (log: ${layout.logFile})`);
    const serverOptions = ['-p', String(cfg.port), '-k', layout.runDir, '-c', `listen_addresses=${cfg.host}`].map(shellQuote).join(' ');
    const [cmd, args] = asServerUser(path.join(bins.binDir, 'pg_ctl'), [
      '-D',
      layout.dataDir,
      '-o',
      serverOptions,
      '-l',
      layout.logFile,
      '-w',
      '-t',
      String(READY_TIMEOUT_MS / 1000),
      'start',
    ]);
    const r = await run(cmd, args, { cwd: layout.dir, timeoutMs: READY_TIMEOUT_MS + 30_000 });
    if (r.error || r.code !== 0) {
      throw new DevServersError(
        'START_FAILED',
        `pg_ctl start failed (exit ${r.code ?? r.error?.message}): ${`${r.stdout}\n${r.stderr}`.trim()}\n${logTail(layout)}`,
      );
    }
    await waitReady(cfg, layout);
    return true;
  });
}

async function waitReady(cfg: PostgresConfig, layout: PgLayout): Promise<void> {
  let last: PostgresProbe = { ok: false, tcp: false };
  const ready = await waitUntil(
    async () => {
      last = await probePostgres(cfg, 1500);
      return last.ok;
    },
    {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 300,
      check: () => {
        if (postgresPid(layout) === undefined) {
          throw new DevServersError('START_FAILED', `Postgres exited during startup.\n${logTail(layout)}`);
        }
      },
    },
  );
  if (!ready) {
    throw new DevServersError(
      'START_FAILED',
      `Postgres did not answer on ${cfg.host}:${cfg.port} within ${READY_TIMEOUT_MS / 1000} s (last error: ${last.error ?? 'none'}).\n${logTail(layout)}`,
    );
  }
}

/**
 * Fast shutdown (pg_ctl stop -m fast). Without the server programs (say IL_PG_BIN is wrong) it sends the
 * postmaster SIGINT, which is the same thing. Returns true when a server was running.
 */
export async function stopPostgres(cfg: PostgresConfig, bins: PgBinaries | undefined, log: (msg: string) => void): Promise<boolean> {
  const layout = pgLayout(cfg);
  const pid = postgresPid(layout);
  if (pid === undefined) return false;
  log(`postgres: stopping pid ${pid}`);
  if (bins) {
    const [cmd, args] = asServerUser(path.join(bins.binDir, 'pg_ctl'), ['-D', layout.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
    const r = await run(cmd, args, { cwd: layout.dir, timeoutMs: 90_000 });
    if ((r.error || r.code !== 0) && pidAlive(pid)) {
      throw new DevServersError('START_FAILED', `pg_ctl stop failed (exit ${r.code ?? r.error?.message}): ${`${r.stdout}\n${r.stderr}`.trim()}`);
    }
  } else {
    process.kill(pid, 'SIGINT');
  }
  const deadline = Date.now() + 60_000;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(100);
  if (pidAlive(pid)) throw new DevServersError('START_FAILED', `Postgres (pid ${pid}) did not stop within 60 s.`);
  return true;
}
