/**
 * Jest globalSetup for the `int` project: makes sure Kafka and Postgres are up (starting local ones unless
 * KAFKA_BROKERS and DATABASE_URL name existing servers), exports their addresses, and migrates the database.
 *
 * globalSetup runs in jest's parent process before any test file is loaded. Test environments copy
 * process.env when each file starts, and worker processes inherit it, so the variables set here reach every
 * test with --runInBand and with workers alike (checked with jest 30).
 */
import { ensureServices } from '../services/devservers';
import { migrate } from '../schema/migrate';

export default async function globalSetup(): Promise<void> {
  const t0 = Date.now();
  const log = (msg: string): void => void process.stderr.write(`[globalSetup] ${msg}\n`);
  const { kafkaBrokers, databaseUrl, started } = await ensureServices({ log });
  process.env.KAFKA_BROKERS = kafkaBrokers.join(',');
  process.env.DATABASE_URL = databaseUrl;
  const applied = await migrate(databaseUrl);
  if (started.length > 0 || applied.length > 0) {
    log(
      `${started.length ? `started ${started.join(' and ')}; ` : ''}${applied.length ? `applied ${applied.length} migration(s); ` : ''}ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
}
