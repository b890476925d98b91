/** `npm run services:up | services:down | services:status`: the local Kafka and Postgres from the command line. */
import { DevServersError, ensureServices, servicesStatus, stopServices } from './index';
import { externalServices } from './config';

const USAGE = 'usage: tsx services/devservers/main.ts up | down | status';
const progress = (msg: string): void => void process.stderr.write(`[devservers] ${msg}\n`);

async function up(): Promise<void> {
  const t0 = Date.now();
  const ext = externalServices(process.env);
  const r = await ensureServices({ log: progress });
  const how = (name: 'kafka' | 'postgres', fromEnv: boolean): string =>
    fromEnv ? `from ${name === 'kafka' ? 'KAFKA_BROKERS' : 'DATABASE_URL'}` : r.started.includes(name) ? 'started' : 'already running';
  const status = ext.kafkaBrokers && ext.databaseUrl ? undefined : await servicesStatus();
  const pid = (name: 'kafka' | 'postgres'): string => {
    const p = status?.[name].pid;
    return p !== undefined ? `, pid ${p}` : '';
  };
  console.log(`kafka     ${r.kafkaBrokers.join(',')}  (${how('kafka', !!ext.kafkaBrokers)}${ext.kafkaBrokers ? '' : pid('kafka')})`);
  console.log(`postgres  ${r.databaseUrl}  (${how('postgres', !!ext.databaseUrl)}${ext.databaseUrl ? '' : pid('postgres')})`);
  console.log(`export KAFKA_BROKERS=${r.kafkaBrokers.join(',')} DATABASE_URL=${r.databaseUrl}`);
  if (r.started.length > 0) progress(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

async function down(): Promise<void> {
  const { stopped } = await stopServices({ log: progress });
  console.log(stopped.length ? `stopped: ${stopped.join(', ')}` : 'nothing was running');
}

async function status(): Promise<boolean> {
  const s = await servicesStatus();
  for (const name of ['kafka', 'postgres'] as const) {
    const st = s[name];
    const where = name === 'postgres' && st.url ? st.url : st.address;
    console.log(`${name.padEnd(9)} ${st.running ? 'running' : 'stopped'}  ${where}${st.pid !== undefined ? `  pid ${st.pid}` : ''}`);
  }
  const ext = externalServices(process.env);
  if (ext.kafkaBrokers) console.log(`note: KAFKA_BROKERS=${ext.kafkaBrokers.join(',')} is set; the ledger and tests use that broker.`);
  if (ext.databaseUrl) console.log(`note: DATABASE_URL is set; the ledger and tests use that database.`);
  return s.kafka.running && s.postgres.running;
}

/**
 * Runs `up`, `down` or `status` and returns the exit code. A DevServersError is printed as its message alone
 * (it already says what to do) and gives 1. Also used by `intent-ledger services <cmd>`.
 */
export async function runServicesCommand(cmd: string, ...rest: string[]): Promise<number> {
  if (rest.length > 0) {
    console.error(USAGE);
    return 2;
  }
  try {
    switch (cmd) {
      case 'up':
        await up();
        return 0;
      case 'down':
        await down();
        return 0;
      case 'status':
        // Exit 3 when something is down, like `pg_ctl status`, so scripts can test it.
        return (await status()) ? 0 : 3;
      default:
        console.error(USAGE);
        return 2;
    }
  } catch (err) {
    if (!(err instanceof DevServersError)) throw err;
    console.error(`error [${err.code}]: ${err.message}`);
    return 1;
  }
}

if (require.main === module) {
  const [cmd = '', ...rest] = process.argv.slice(2);
  runServicesCommand(cmd, ...rest).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
