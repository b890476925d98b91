/** Finding the Postgres server programs: IL_PG_BIN, then /usr/lib/postgresql/<major>/bin, then pg_ctl on PATH. */
import fs from 'node:fs';
import path from 'node:path';
import { DevServersError, alternatives } from './errors';
import { PG_MIN_MAJOR, PG_PREFERRED_MAJOR } from './config';
import { quickOutput } from './proc';

export interface PgBinaries {
  binDir: string;
  major: number;
  /** How it was found, for messages. */
  source: 'IL_PG_BIN' | 'debian' | 'PATH';
}

/** The filesystem and PATH as seen by discovery; swapped out in unit tests. */
export interface PgDiscoveryDeps {
  isFile(p: string): boolean;
  listDir(p: string): string[];
  which(cmd: string): string | undefined;
  /** Major version reported by <binDir>/pg_ctl --version. */
  majorOf(binDir: string): number | undefined;
}

export const DEBIAN_PG_ROOT = '/usr/lib/postgresql';
const REQUIRED = ['pg_ctl', 'initdb', 'postgres'];

export function parsePgMajor(versionOutput: string): number | undefined {
  const m = /\(PostgreSQL\)\s+(\d+)/.exec(versionOutput) ?? /PostgreSQL\s+(\d+)/.exec(versionOutput);
  return m ? Number(m[1]) : undefined;
}

export const realPgDeps: PgDiscoveryDeps = {
  isFile: (p) => {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  },
  listDir: (p) => {
    try {
      return fs.readdirSync(p);
    } catch {
      return [];
    }
  },
  which: (cmd) => {
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      if (!dir) continue;
      const candidate = path.join(dir, cmd);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        /* keep looking */
      }
    }
    return undefined;
  },
  majorOf: (binDir) => {
    const out = quickOutput(path.join(binDir, 'pg_ctl'), ['--version']);
    return out === undefined ? undefined : parsePgMajor(out);
  },
};

/** Debian-style install dirs holding a usable server, preferred major first, then newest first. */
export function debianCandidates(deps: PgDiscoveryDeps, root = DEBIAN_PG_ROOT): { binDir: string; major: number }[] {
  return deps
    .listDir(root)
    .filter((name) => /^\d+$/.test(name))
    .map((name) => ({ binDir: path.join(root, name, 'bin'), major: Number(name) }))
    .filter((c) => c.major >= PG_MIN_MAJOR && REQUIRED.every((b) => deps.isFile(path.join(c.binDir, b))))
    .sort((a, b) => {
      if (a.major === PG_PREFERRED_MAJOR) return -1;
      if (b.major === PG_PREFERRED_MAJOR) return 1;
      return b.major - a.major;
    });
}

function installHint(): string {
  return `Install it with \`apt-get install -y postgresql-${PG_PREFERRED_MAJOR}\` (or \`apt-get install -y postgresql\` where that package is newer), or point IL_PG_BIN at a directory holding pg_ctl, initdb and postgres (version ${PG_MIN_MAJOR} or newer).`;
}

export function findPostgresBinaries(env: NodeJS.ProcessEnv = process.env, deps: PgDiscoveryDeps = realPgDeps): PgBinaries {
  const override = env.IL_PG_BIN?.trim();
  if (override) {
    const missing = REQUIRED.filter((b) => !deps.isFile(path.join(override, b)));
    if (missing.length > 0) {
      throw new DevServersError(
        'POSTGRES_MISSING',
        `IL_PG_BIN=${override} does not contain ${missing.join(', ')}, so the local Postgres cannot be started. ${installHint()} ${alternatives('postgres')}`,
      );
    }
    const major = deps.majorOf(override);
    if (major === undefined || major < PG_MIN_MAJOR) {
      throw new DevServersError(
        'POSTGRES_MISSING',
        `IL_PG_BIN=${override} holds Postgres ${major ?? '(unknown version)'}, but ${PG_MIN_MAJOR} or newer is needed. ${installHint()} ${alternatives('postgres')}`,
      );
    }
    return { binDir: override, major, source: 'IL_PG_BIN' };
  }

  const debian = debianCandidates(deps);
  if (debian.length > 0) return { ...debian[0], source: 'debian' };

  const onPath = deps.which('pg_ctl');
  if (onPath) {
    const binDir = path.dirname(onPath);
    const major = deps.majorOf(binDir);
    const missing = REQUIRED.filter((b) => !deps.isFile(path.join(binDir, b)));
    if (major !== undefined && major >= PG_MIN_MAJOR && missing.length === 0) return { binDir, major, source: 'PATH' };
    throw new DevServersError(
      'POSTGRES_MISSING',
      `Found ${onPath} (Postgres ${major ?? 'of unknown version'}${missing.length ? `, without ${missing.join(', ')} beside it` : ''}), but the local server needs Postgres ${PG_MIN_MAJOR} or newer with pg_ctl, initdb and postgres. ${installHint()} ${alternatives('postgres')}`,
    );
  }

  throw new DevServersError(
    'POSTGRES_MISSING',
    `Postgres server programs were not found (looked at IL_PG_BIN, ${DEBIAN_PG_ROOT}/*/bin and pg_ctl on PATH). ${installHint()} ${alternatives('postgres')}`,
  );
}
