/** A start lock per service, so two `up`s (say, the CLI and a jest run) never start the same server twice. */
import fs from 'node:fs';
import path from 'node:path';
import { pidAlive, readPidFile, sleep } from './proc';
import { DevServersError } from './errors';

export async function withLock<T>(file: string, fn: () => Promise<T>, timeoutMs = 10 * 60_000): Promise<T> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readPidFile(file);
      if (holder === undefined || !pidAlive(holder)) {
        // Left behind by a process that died holding it.
        fs.rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new DevServersError('START_FAILED', `Timed out waiting for process ${holder} to release ${file}.`);
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    if (readPidFile(file) === process.pid) fs.rmSync(file, { force: true });
  }
}
