import dgram from 'node:dgram';
import net from 'node:net';
import type { Delivery } from '../delivery';
import type { SyslogSinkConfig } from '../sinksConfig';
import { SinkError } from '../errors';
import type { Sink } from './sink';
import { syslogMessageFor } from './syslogMessage';

/**
 * Syslog over UDP (RFC 5426), one datagram per message, with no framing. UDP has no acknowledgement; what this
 * sink can notice is a host that answers "port unreachable" (ICMP), which a connected socket reports as
 * ECONNREFUSED: each send waits `confirmMs` for that before it counts as delivered, and a refusal is retried like
 * any other outage. Loss in the network goes unnoticed: use TCP, a webhook or Kafka where that matters.
 */
export function syslogUdpSink(cfg: SyslogSinkConfig): Sink {
  // The ICMP refusal arrives as an 'error' event on the socket, after the send it answers.
  type Conn = { s: dgram.Socket; refused: Error | null };
  let socket: Conn | null = null;
  const drop = (c: Conn) => {
    if (socket === c) socket = null;
    try {
      c.s.close();
    } catch {
      // already closed
    }
  };
  const open = () =>
    new Promise<Conn>((resolve, reject) => {
      const c: Conn = { s: dgram.createSocket(net.isIPv6(cfg.host) ? 'udp6' : 'udp4'), refused: null };
      c.s.on('error', (e) => {
        c.refused = e;
      });
      c.s.connect(cfg.port, cfg.host, (e?: Error) => {
        if (!e) return resolve(c);
        drop(c);
        reject(new SinkError('SINK_UNREACHABLE', `syslog udp ${cfg.host}:${cfg.port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, true));
      });
    });
  return {
    name: cfg.name,
    async deliver(d: Delivery) {
      const msg = syslogMessageFor(d, cfg);
      if (socket === null) socket = await open();
      const c = socket;
      const fail = (e: Error) => {
        drop(c);
        return new SinkError('SINK_REFUSED', `syslog udp ${cfg.host}:${cfg.port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, true);
      };
      if (c.refused) throw fail(c.refused);
      await new Promise<void>((resolve, reject) => c.s.send(msg, (e) => (e ? reject(fail(e)) : resolve())));
      if (cfg.confirmMs > 0) await new Promise((r) => setTimeout(r, cfg.confirmMs));
      if (c.refused) throw fail(c.refused);
    },
    async close() {
      if (socket) drop(socket);
    },
  };
}
