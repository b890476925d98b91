/** Polling until a server really answers, and a cheap TCP pre-check so dead ports fail fast. */
import net from 'node:net';
import { sleep } from './proc';

/** True when something accepts a TCP connection on host:port within timeoutMs. */
export function tcpOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Called between attempts; throw from it to give up early (e.g. the server process died). */
  check?: () => void;
}

/** Calls probe until it resolves true; returns false on timeout. The probe's last error is kept for the caller. */
export async function waitUntil(probe: () => Promise<boolean>, opts: WaitOptions): Promise<boolean> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 300;
  for (;;) {
    if (await probe()) return true;
    opts.check?.();
    if (Date.now() >= deadline) return false;
    await sleep(interval);
  }
}
