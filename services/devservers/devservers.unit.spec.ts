import { DEFAULT_KAFKA_CONTROLLER_PORT, DEFAULT_KAFKA_PORT, DEFAULT_PG_PORT, KAFKA_VERSION, externalServices, loadConfig, parsePort } from './config';
import { DevServersError } from './errors';
import { parseJavaMajor } from './java';
import { kafkaJarName, renderPom } from './kafkaJars';
import { newClusterId, renderServerProperties } from './kafkaConfig';
import { debianCandidates, findPostgresBinaries, parsePgMajor, type PgDiscoveryDeps } from './pgBinaries';
import { shellQuote, tailLines } from './proc';

/** A pretend filesystem: the listed server dirs each hold pg_ctl, initdb and postgres. */
function fakeFs(opts: { debian?: string[]; extraDirs?: Record<string, number>; onPath?: string; partial?: string[] }): PgDiscoveryDeps {
  const dirs = new Map<string, number>();
  for (const v of opts.debian ?? []) dirs.set(`/usr/lib/postgresql/${v}/bin`, Number(v));
  for (const [d, m] of Object.entries(opts.extraDirs ?? {})) dirs.set(d, m);
  const partial = new Set(opts.partial ?? []);
  return {
    isFile: (p) => {
      const dir = p.slice(0, p.lastIndexOf('/'));
      const name = p.slice(p.lastIndexOf('/') + 1);
      if (!dirs.has(dir)) return false;
      return partial.has(dir) ? name === 'pg_ctl' : ['pg_ctl', 'initdb', 'postgres'].includes(name);
    },
    listDir: (p) => (p === '/usr/lib/postgresql' ? [...(opts.debian ?? []), 'README'] : []),
    which: (cmd) => (cmd === 'pg_ctl' ? opts.onPath : undefined),
    majorOf: (binDir) => dirs.get(binDir),
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(DevServersError);
    return (e as DevServersError).code;
  }
}

describe('config', () => {
  it('uses the default ports and keeps all state under <repo>/.cache', () => {
    const cfg = loadConfig({}, '/repo');
    expect(cfg.kafka.port).toBe(DEFAULT_KAFKA_PORT);
    expect(cfg.kafka.controllerPort).toBe(DEFAULT_KAFKA_CONTROLLER_PORT);
    expect(cfg.kafka.broker).toBe('127.0.0.1:59092');
    expect(cfg.postgres.port).toBe(DEFAULT_PG_PORT);
    expect(cfg.postgres.databaseUrl).toBe('postgresql://postgres@127.0.0.1:55432/intent_ledger');
    expect(cfg.kafka.libsDir).toBe('/repo/.cache/kafka/libs');
    expect(cfg.kafka.pidFile).toBe('/repo/.cache/kafka/kafka.pid');
    expect(cfg.kafka.m2Dir).toBe('/repo/.cache/m2');
    expect(cfg.postgres.dataDir).toBe('/repo/.cache/postgres/data');
    expect(cfg.postgres.runDir).toBe('/repo/.cache/postgres/run');
  });

  it('takes ports and the cache dir from the environment', () => {
    const cfg = loadConfig({ IL_KAFKA_PORT: '1001', IL_KAFKA_CONTROLLER_PORT: '1002', IL_PG_PORT: '1003', IL_CACHE_DIR: '/tmp/c' }, '/repo');
    expect(cfg.kafka.broker).toBe('127.0.0.1:1001');
    expect(cfg.kafka.controllerPort).toBe(1002);
    expect(cfg.postgres.databaseUrl).toBe('postgresql://postgres@127.0.0.1:1003/intent_ledger');
    expect(cfg.kafka.dir).toBe('/tmp/c/kafka');
    expect(loadConfig({ IL_CACHE_DIR: 'rel' }, '/repo').cacheDir).toBe('/repo/rel');
  });

  it('rejects bad or clashing ports with CONFIG_INVALID', () => {
    expect(codeOf(() => parsePort('abc', 'IL_PG_PORT', 1))).toBe('CONFIG_INVALID');
    expect(codeOf(() => parsePort('70000', 'IL_PG_PORT', 1))).toBe('CONFIG_INVALID');
    expect(parsePort('  ', 'X', 7)).toBe(7);
    expect(codeOf(() => loadConfig({ IL_KAFKA_PORT: '5000', IL_KAFKA_CONTROLLER_PORT: '5000' }, '/r'))).toBe('CONFIG_INVALID');
    expect(codeOf(() => loadConfig({ IL_PG_PORT: '59092' }, '/r'))).toBe('CONFIG_INVALID');
  });
});

describe('externalServices (env overrides)', () => {
  it('is empty when nothing is set, or set to blanks', () => {
    expect(externalServices({})).toEqual({});
    expect(externalServices({ KAFKA_BROKERS: ' , ', DATABASE_URL: '  ' })).toEqual({});
  });

  it('takes each service independently', () => {
    expect(externalServices({ KAFKA_BROKERS: 'a:1, b:2' })).toEqual({ kafkaBrokers: ['a:1', 'b:2'] });
    expect(externalServices({ DATABASE_URL: 'postgresql://u@h/db' })).toEqual({ databaseUrl: 'postgresql://u@h/db' });
    expect(externalServices({ KAFKA_BROKERS: 'k:9092', DATABASE_URL: 'postgresql://u@h/db' })).toEqual({
      kafkaBrokers: ['k:9092'],
      databaseUrl: 'postgresql://u@h/db',
    });
  });
});

describe('Kafka server.properties', () => {
  const text = renderServerProperties({ host: '127.0.0.1', port: 59092, controllerPort: 59093, dataDir: '/c/kafka/data' });
  const props = new Map(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );

  it('describes one combined KRaft node on loopback', () => {
    expect(props.get('process.roles')).toBe('broker,controller');
    expect(props.get('node.id')).toBe('1');
    expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:59093');
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:59092,CONTROLLER://127.0.0.1:59093');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:59092');
    expect(props.get('controller.listener.names')).toBe('CONTROLLER');
    expect(props.get('inter.broker.listener.name')).toBe('PLAINTEXT');
    expect(props.get('log.dirs')).toBe('/c/kafka/data');
  });

  it('suits a single broker and leaves topic creation to us', () => {
    expect(props.get('offsets.topic.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.min.isr')).toBe('1');
    expect(props.get('num.partitions')).toBe('4');
    expect(props.get('group.initial.rebalance.delay.ms')).toBe('0');
    expect(props.get('auto.create.topics.enable')).toBe('false');
  });

  it('makes cluster ids in Kafka format', () => {
    for (let i = 0; i < 50; i++) {
      const id = newClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });
});

describe('Kafka jars', () => {
  it('pins the Kafka version in one place', () => {
    expect(kafkaJarName()).toBe(`kafka_2.13-${KAFKA_VERSION}.jar`);
    const pom = renderPom();
    expect(pom).toContain(`<artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version>`);
    expect(pom).toContain('<artifactId>log4j-slf4j-impl</artifactId>');
    expect(pom).toContain('<artifactId>log4j-core</artifactId>');
  });
});

describe('Postgres binary discovery', () => {
  it('prefers IL_PG_BIN', () => {
    const deps = fakeFs({ debian: ['15'], extraDirs: { '/opt/pg16/bin': 16 } });
    expect(findPostgresBinaries({ IL_PG_BIN: '/opt/pg16/bin' }, deps)).toEqual({ binDir: '/opt/pg16/bin', major: 16, source: 'IL_PG_BIN' });
  });

  it('fails clearly when IL_PG_BIN is wrong, without falling back', () => {
    const deps = fakeFs({ debian: ['15'] });
    let err: DevServersError | undefined;
    try {
      findPostgresBinaries({ IL_PG_BIN: '/nonexistent' }, deps);
    } catch (e) {
      err = e as DevServersError;
    }
    expect(err?.code).toBe('POSTGRES_MISSING');
    expect(err?.message).toContain('IL_PG_BIN=/nonexistent');
    expect(err?.message).toContain('apt-get install -y postgresql-15');
    expect(err?.message).toContain('DATABASE_URL');
    expect(err?.message).toContain('docker compose up');
  });

  it('rejects an IL_PG_BIN older than 15', () => {
    expect(codeOf(() => findPostgresBinaries({ IL_PG_BIN: '/opt/pg13/bin' }, fakeFs({ extraDirs: { '/opt/pg13/bin': 13 } })))).toBe(
      'POSTGRES_MISSING',
    );
  });

  it('orders Debian installs: 15 first, then newest; ignores < 15 and incomplete ones', () => {
    const deps = fakeFs({ debian: ['13', '14', '15', '16', '17'], partial: ['/usr/lib/postgresql/16/bin'] });
    expect(debianCandidates(deps).map((c) => c.major)).toEqual([15, 17]);
    expect(findPostgresBinaries({}, deps)).toEqual({ binDir: '/usr/lib/postgresql/15/bin', major: 15, source: 'debian' });
    expect(findPostgresBinaries({}, fakeFs({ debian: ['16', '17', '14'] })).major).toBe(17);
  });

  it('falls back to pg_ctl on PATH', () => {
    const deps = fakeFs({ debian: ['14'], extraDirs: { '/usr/local/pgsql/bin': 16 }, onPath: '/usr/local/pgsql/bin/pg_ctl' });
    expect(findPostgresBinaries({}, deps)).toEqual({ binDir: '/usr/local/pgsql/bin', major: 16, source: 'PATH' });
    const old = fakeFs({ extraDirs: { '/usr/bin': 12 }, onPath: '/usr/bin/pg_ctl' });
    expect(codeOf(() => findPostgresBinaries({}, old))).toBe('POSTGRES_MISSING');
  });

  it('says what to install when nothing is found', () => {
    expect(() => findPostgresBinaries({}, fakeFs({}))).toThrow(/apt-get install -y postgresql-15.*DATABASE_URL/s);
  });

  it('reads versions', () => {
    expect(parsePgMajor('pg_ctl (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)')).toBe(15);
    expect(parsePgMajor('pg_ctl (PostgreSQL) 17.2')).toBe(17);
    expect(parsePgMajor('nonsense')).toBeUndefined();
  });
});

describe('small helpers', () => {
  it('parses java -version output', () => {
    expect(parseJavaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajor('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajor('garbage')).toBeUndefined();
  });

  it('quotes for the shell pg_ctl hands -o to', () => {
    expect(shellQuote('/plain/path-1.2')).toBe('/plain/path-1.2');
    expect(shellQuote('/with space')).toBe(`'/with space'`);
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
  });

  it('tails text', () => {
    expect(tailLines('a\nb\nc\n\n', 2)).toBe('b\nc');
  });
});
