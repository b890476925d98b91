import http from 'node:http';
import net from 'node:net';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature, SIGNATURE_HEADER, DELIVERY_HEADER } from '../consumers/alerts';
import { parseSyslog5424, splitOctetCounted, type Syslog5424 } from './alertParsers';

/**
 * Local receivers for the alert sinks, as a SOC would run them: each can be stopped and started again on the same
 * port (a receiver that is down and comes back), and each counts what it got by delivery id, so a test can tell
 * "every alert once" from "some twice".
 */
export interface Received<T> {
  deliveryId: string;
  body: T;
}

abstract class Receiver<T> {
  readonly got: Received<T>[] = [];
  port = 0;
  ids(): string[] {
    return this.got.map((g) => g.deliveryId);
  }
  /** Delivery ids seen more than once. */
  repeats(): string[] {
    const seen = new Set<string>();
    return this.ids().filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
  }
  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
}

/** Checks every request's HMAC signature and timestamp; a bad one is answered 401 and not counted. */
export class WebhookReceiver extends Receiver<{ contentType: string; text: string }> {
  private server: http.Server | null = null;
  private sockets = new Set<net.Socket>();
  readonly refusedSignatures: string[] = [];
  /** When set, every request is answered with this status instead (a receiver that is up but refusing). */
  forceStatus: number | null = null;
  constructor(private readonly key: Buffer) {
    super();
  }
  async start() {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (this.forceStatus !== null) {
          res.writeHead(this.forceStatus).end('forced');
          return;
        }
        try {
          verifyWebhookSignature(req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined, body, this.key);
        } catch (e) {
          this.refusedSignatures.push((e as Error).message);
          res.writeHead(401).end('bad signature');
          return;
        }
        const id = req.headers[DELIVERY_HEADER.toLowerCase()] as string;
        if (req.headers['idempotency-key'] !== id) {
          res.writeHead(400).end('idempotency key differs from delivery id');
          return;
        }
        this.got.push({ deliveryId: id, body: { contentType: String(req.headers['content-type']), text: body.toString('utf8') } });
        res.writeHead(204).end();
      });
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }
  async stop() {
    const s = this.server;
    this.server = null;
    if (!s) return;
    for (const c of this.sockets) c.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** Reads an RFC 6587 octet-counted stream and parses each message as RFC 5424. */
export class TcpSyslogReceiver extends Receiver<Syslog5424> {
  private server: net.Server | null = null;
  private sockets = new Set<net.Socket>();
  async start() {
    const server = net.createServer((sock) => {
      this.sockets.add(sock);
      let buf: Buffer = Buffer.alloc(0);
      sock.on('data', (c: Buffer) => {
        const { messages, rest } = splitOctetCounted(Buffer.concat([buf, c]));
        buf = rest;
        for (const m of messages) {
          const p = parseSyslog5424(m);
          this.got.push({ deliveryId: Object.values(p.sd)[0]!.deliveryId!, body: p });
        }
      });
      sock.on('error', () => undefined);
      sock.on('close', () => this.sockets.delete(sock));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }
  async stop() {
    const s = this.server;
    this.server = null;
    if (!s) return;
    for (const c of this.sockets) c.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** One RFC 5424 message per datagram. */
export class UdpSyslogReceiver extends Receiver<Syslog5424> {
  private socket: dgram.Socket | null = null;
  async start() {
    const s = dgram.createSocket('udp4');
    s.on('message', (m: Buffer) => {
      const p = parseSyslog5424(m);
      this.got.push({ deliveryId: Object.values(p.sd)[0]!.deliveryId!, body: p });
    });
    await new Promise<void>((resolve) => s.bind(this.port, '127.0.0.1', resolve));
    this.port = s.address().port;
    this.socket = s;
  }
  async stop() {
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
