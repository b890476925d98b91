import { spawn, ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, closeSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export interface ConsumerProcess {
  which: string;
  logFile: string;
  pid: number;
  /** Resolves when the process has exited, however it ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/**
 * Runs a consumer (`intent-ledger ingest` / `reconcile`) as its own process, as it would be deployed, so the
 * agents the demo simulates do not share its event loop. Resolves once the consumer has joined its group.
 */
export async function startConsumerProcess(which: 'ingest' | 'reconcile', env: NodeJS.ProcessEnv, logDir: string, readyTimeoutMs = 60_000, instance = 0): Promise<ConsumerProcess> {
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, instance === 0 ? `${which}.log` : `${which}-${instance}.log`);
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'bin', 'intent-ledger.js'), which], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', fd],
  });
  closeSync(fd);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const tail = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${which} consumer not ready after ${readyTimeoutMs} ms; log ${logFile}:\n${tail()}`)), readyTimeoutMs);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes(`ready ${which}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${which} consumer exited with code ${code} before it was ready; log ${logFile}:\n${tail()}`));
    });
  });
  child.stdout!.resume();
  return {
    which,
    logFile,
    pid: child.pid!,
    exited,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
