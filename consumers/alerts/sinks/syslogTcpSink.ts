import net from 'node:net';
import type { Delivery } from '../delivery';
import type { SyslogSinkConfig } from '../sinksConfig';
import { octetCountingFrame } from '../format';
import { SinkError } from '../errors';
import type { Sink } from './sink';
import { syslogMessageFor } from './syslogMessage';

/**
 * Syslog over TCP with octet-counting framing (RFC 6587), one connection kept open and made again after any
 * error or close. "Delivered" means the bytes were handed to a live connection: plain syslog has no
 * acknowledgement, so a receiver that dies with data in its socket buffer loses it. A sink that must confirm each
 * alert should be a webhook or a Kafka topic.
 */
export function syslogTcpSink(cfg: SyslogSinkConfig): Sink {
  let socket: net.Socket | null = null;
  const drop = (s: net.Socket) => {
    if (socket === s) socket = null;
    s.destroy();
  };
  const connect = () =>
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: cfg.host, port: cfg.port });
      s.setNoDelay(true);
      const timer = setTimeout(() => {
        drop(s);
        reject(new SinkError('SINK_TIMEOUT', `syslog tcp ${cfg.host}:${cfg.port}: no connection within ${cfg.timeoutMs} ms`, true));
      }, cfg.timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        drop(s);
        reject(new SinkError('SINK_UNREACHABLE', `syslog tcp ${cfg.host}:${cfg.port}: ${e.code ?? e.message}`, true));
      });
      // The receiver closing its end means it will read no more: never write into a half-closed connection.
      s.on('end', () => drop(s));
      s.on('close', () => drop(s));
      s.on('data', () => undefined);
    });
  return {
    name: cfg.name,
    async deliver(d: Delivery) {
      const frame = octetCountingFrame(syslogMessageFor(d, cfg));
      if (socket === null || socket.destroyed || !socket.writable) socket = await connect();
      const s = socket;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          drop(s);
          reject(new SinkError('SINK_TIMEOUT', `syslog tcp ${cfg.host}:${cfg.port}: write not flushed within ${cfg.timeoutMs} ms`, true));
        }, cfg.timeoutMs);
        s.write(frame, (e) => {
          clearTimeout(timer);
          if (!e) return resolve();
          drop(s);
          reject(new SinkError('SINK_UNREACHABLE', `syslog tcp ${cfg.host}:${cfg.port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, true));
        });
      });
    },
    async close() {
      const s = socket;
      socket = null;
      if (s) await new Promise<void>((resolve) => s.end(() => resolve()));
      s?.destroy();
    },
  };
}
