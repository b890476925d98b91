import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import type { ToolCatalogue } from '../../schema/catalogue';
import { parseStrictJson } from '../../schema/crypto/strictJson';
import { authorize, type Decision } from '../../consumers/reconciler/authorize';
import { actionsUnder, budgetSpent, loadChain } from '../../consumers/reconciler/reconcileNotice';
import type { AgentClient } from '../sdk';
import type { Logger } from '../common/logger';
import { AuthorizeRequest } from './authorizeRequest';
import { HttpError, listen, nulIn, readBody, sendError, sendJson as send } from '../common/http';

export interface AuthzServiceOptions {
  pool: Pool;
  catalogue: ToolCatalogue;
  /** Signs and sends each decision as an authorization.decided event (see openServiceSigner). */
  signer: AgentClient;
  /** Callers present it as `Authorization: Bearer <token>`. */
  token: string;
  host?: string;
  port?: number;
  log: Logger;
  clock?: () => Date;
}

export interface AuthzService {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Larger bodies are refused (413) before they are parsed: a request names one call, not a document. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/**
 * The request-time authorisation endpoint. `POST /v1/authorize` judges one intended tool call against the intent
 * it cites and every intent that one was delegated from, with the reconciler's evaluator, records the decision as a
 * ledger event signed by this service, and only then answers: a decision that could not be recorded is not given
 * (503, which a gateway must treat as deny). `GET /healthz` answers 200 when the database is reachable.
 */
export async function startAuthzService(opts: AuthzServiceOptions): Promise<AuthzService> {
  const clock = opts.clock ?? (() => new Date());
  const expected = createHash('sha256').update(opts.token).digest();

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      const err = e instanceof HttpError ? e : new HttpError(500, 'INTERNAL', 'internal error');
      if (!(e instanceof HttpError)) opts.log.error('authorize request failed', { error: (e as Error).message });
      sendError(res, err);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz' && req.method === 'GET') {
      await opts.pool.query('SELECT 1');
      return send(res, 200, { status: 'ok' });
    }
    if (url.pathname !== '/v1/authorize') throw new HttpError(404, 'NOT_FOUND', `no such endpoint: ${url.pathname}`);
    if (req.method !== 'POST') throw new HttpError(405, 'METHOD_NOT_ALLOWED', '/v1/authorize takes POST');
    authenticate(req);
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the request as application/json');
    const body = await readBody(req, MAX_REQUEST_BYTES);
    let json: unknown;
    try {
      json = parseStrictJson(body, { maxBytes: MAX_REQUEST_BYTES, maxDepth: 32 });
    } catch (e) {
      throw new HttpError(400, 'REQUEST_INVALID', `body is not acceptable JSON: ${(e as Error).message}`);
    }
    const nul = nulIn(json);
    if (nul) throw new HttpError(400, 'REQUEST_INVALID', `${nul} contains U+0000, which the ledger does not accept`);
    const parsed = AuthorizeRequest.safeParse(json);
    if (!parsed.success) {
      throw new HttpError(400, 'REQUEST_INVALID', parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
    }
    const r = parsed.data;
    const chain = await loadChain(opts.pool, r.intentId);
    const prior = chain && r.intentId !== null ? await actionsUnder(opts.pool, r.intentId, r.agentId) : 0;
    const spent = await budgetSpent(opts.pool, chain?.slice(1) ?? []);
    const decision: Decision = authorize(chain, { agentId: r.agentId, intentId: r.intentId, tool: r.tool, args: r.args, targets: r.targets, at: clock() }, opts.catalogue, prior, spent);
    let recorded;
    try {
      recorded = await opts.signer.recordDecision({ subjectAgentId: r.agentId, intentId: r.intentId, tool: r.tool, args: r.args ?? {}, decision });
    } catch (e) {
      opts.log.error('decision could not be recorded; refusing to answer', { error: (e as Error).message, agentId: r.agentId, tool: r.tool });
      throw new HttpError(503, 'DECISION_NOT_RECORDED', 'the decision could not be written to the ledger; treat the call as denied and retry');
    }
    opts.log.info('authorization decided', { agentId: r.agentId, intentId: r.intentId, tool: r.tool, decision: decision.decision, reasons: decision.reasons.map((x) => x.code) });
    send(res, 200, { ...decision, decisionId: recorded.decisionId, eventId: recorded.event.envelope.eventId });
  }

  function authenticate(req: IncomingMessage): void {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const given = createHash('sha256').update(m?.[1] ?? '').digest();
    if (!m || !timingSafeEqual(given, expected)) {
      opts.log.warn('authorize request refused: bad or missing token', { remote: req.socket.remoteAddress });
      throw new HttpError(401, 'UNAUTHENTICATED', 'a valid bearer token is required');
    }
  }

  await listen(server, opts.host ?? '127.0.0.1', opts.port ?? 0, 'IL_AUTHZ_PORT');
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.address}:${addr.port}`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
