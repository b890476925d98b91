import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import type { Producer } from 'kafkajs';
import { parseStrictJson } from '../../schema/crypto/strictJson';
import type { AnalystActivityPayload } from '../../schema/events';
import type { AgentClient } from '../sdk';
import type { Logger } from '../common/logger';
import { HttpError, listen, nulIn, readBody, sendError, sendJson } from '../common/http';
import { authenticate, roleRank, TokensFileError, type Analyst, type loadTokens } from './analystTokens';
import { ROUTES, type Route } from './routes';
import { openApiDocument } from './openapi';

export interface ApiServerOptions {
  pool: Pool;
  producer: Producer;
  revocationsTopic: string;
  /** Signs every analyst.activity event (see openServiceSigner). */
  signer: AgentClient;
  /** Re-read on every request, so a token added or removed with `intent-ledger api-token` applies at once. */
  tokens: () => ReturnType<typeof loadTokens>;
  /** Static files of the web dashboard, served under `/` (index.html at `/`). */
  dashboardDir?: string;
  host?: string;
  port?: number;
  log: Logger;
}

export interface ApiServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The dashboard shows strings an attacker chose (tool arguments, channel names, task texts): it builds its DOM from
 * text nodes, and this policy is the second wall. Only the dashboard's own files run, no inline script or style, no
 * frames, and the page may talk to this server alone.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'", "font-src 'self'", "base-uri 'none'", "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const compiled = ROUTES.map((r) => ({ route: r, re: new RegExp('^' + r.path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)') + '$') }));

/**
 * The analyst API. Every request is authenticated with an analyst token and checked against the route's role;
 * every query and action is first recorded in the ledger as an analyst.activity event signed by the API's own key,
 * and only then answered (a request that could not be recorded is refused with 503). Refusals are logged, and those
 * of an authenticated analyst lacking the role are recorded too.
 */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const openapi = openApiDocument(ROUTES, '1');
  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      const err = e instanceof HttpError ? e : new HttpError(500, 'INTERNAL', 'internal error');
      if (!(e instanceof HttpError)) opts.log.error('api request failed', { error: (e as Error).message, path: req.url });
      sendError(res, err);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/openapi.json') return sendJson(res, 200, openapi);
    if (req.method === 'GET' && url.pathname === '/healthz') {
      await opts.pool.query('SELECT 1');
      return sendJson(res, 200, { status: 'ok' });
    }
    if (!url.pathname.startsWith('/v1/')) return serveStatic(url.pathname, res);

    const match = matchRoute(req.method ?? '', url.pathname);
    let tokens: ReturnType<typeof loadTokens>;
    try {
      tokens = opts.tokens();
    } catch (e) {
      if (!(e instanceof TokensFileError)) throw e;
      opts.log.error('analyst tokens file unreadable; refusing every request until it is fixed', { error: e.message });
      throw new HttpError(503, 'TOKENS_UNREADABLE', 'the analyst tokens file cannot be read; an administrator must fix it (see the API log)');
    }
    const analyst = authenticate(tokens, bearer(req));
    if (!analyst) {
      opts.log.warn('api request refused: no valid analyst token', { method: req.method, path: url.pathname, remote: req.socket.remoteAddress });
      throw new HttpError(401, 'UNAUTHENTICATED', 'a valid analyst token is required (Authorization: Bearer ...)');
    }
    const { route, params } = match;
    const query = Object.fromEntries(url.searchParams.entries());
    if (roleRank(analyst.role) < roleRank(route.role)) {
      opts.log.warn('api request refused: role too low', { analyst: analyst.name, role: analyst.role, needs: route.role, path: url.pathname });
      await record(analyst, 'refused', req, url.pathname, query, route.subject?.(params, query) ?? null, `needs role ${route.role}`).catch(() => undefined);
      throw new HttpError(403, 'FORBIDDEN', `${route.method} ${route.path} needs the ${route.role} role; ${analyst.name} is ${analyst.role}`);
    }
    const nul = nulIn(params, 'path') ?? nulIn(query, 'query');
    if (nul) throw new HttpError(400, 'REQUEST_INVALID', `${nul} contains U+0000, which the ledger does not accept`);
    const q = route.query.safeParse(query);
    if (!q.success) throw invalid(q.error.issues, 'query');
    let body: Record<string, unknown> = {};
    if (route.body) {
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
      let json: unknown;
      try {
        json = parseStrictJson(await readBody(req, MAX_BODY_BYTES), { maxBytes: MAX_BODY_BYTES, maxDepth: 8 });
      } catch (e) {
        if (e instanceof HttpError) throw e;
        throw new HttpError(400, 'REQUEST_INVALID', `body is not acceptable JSON: ${(e as Error).message}`);
      }
      const bodyNul = nulIn(json);
      if (bodyNul) throw new HttpError(400, 'REQUEST_INVALID', `${bodyNul} contains U+0000, which the ledger does not accept`);
      const b = route.body.safeParse(json);
      if (!b.success) throw invalid(b.error.issues, 'body');
      body = b.data as Record<string, unknown>;
    }
    const subject = route.subject?.(params, q.data as Record<string, unknown>) ?? null;
    const note = route.action === 'revoke' ? String(body.reason) : route.action === 'acknowledge' ? ((body.note as string | undefined) ?? null) : null;
    let activityEventId: string;
    try {
      activityEventId = await record(analyst, route.action, req, url.pathname, query, subject, note);
    } catch (e) {
      opts.log.error('analyst activity could not be recorded; refusing the request', { error: (e as Error).message, analyst: analyst.name, path: url.pathname });
      throw new HttpError(503, 'AUDIT_NOT_RECORDED', 'the request could not be recorded in the ledger, so it was not carried out; retry');
    }
    const result = await route.handle({
      pool: opts.pool, producer: opts.producer, revocationsTopic: opts.revocationsTopic, apiAgentId: opts.signer.agentId, params, query: q.data as Record<string, unknown>, body,
      analyst, activityEventId,
    });
    const headers: Record<string, string> = route.path === '/v1/evidence' ? { 'content-disposition': `attachment; filename="evidence-${(subject ?? 'bundle').replace(/[^A-Za-z0-9._-]/g, '_')}.json"` } : {};
    sendJson(res, 200, result, headers);
  }

  function matchRoute(method: string, pathname: string): { route: Route; params: Record<string, string> } {
    const byPath = compiled.map((c) => ({ ...c, m: c.re.exec(pathname) })).filter((c) => c.m !== null);
    if (byPath.length === 0) throw new HttpError(404, 'NOT_FOUND', `no such endpoint: ${pathname}`);
    const hit = byPath.find((c) => c.route.method === method);
    if (!hit) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${pathname} takes ${[...new Set(byPath.map((c) => c.route.method))].join(', ')}`);
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(hit.m!.groups ?? {})) {
      try {
        params[k] = decodeURIComponent(v);
      } catch {
        throw new HttpError(400, 'REQUEST_INVALID', `path parameter ${k} is not valid percent-encoding`);
      }
      if (params[k]!.length > 256) throw new HttpError(400, 'REQUEST_INVALID', `path parameter ${k} is longer than 256 characters`);
    }
    return { route: hit.route, params };
  }

  async function record(analyst: Analyst, action: AnalystActivityPayload['action'], req: IncomingMessage, pathname: string, query: Record<string, string>, subject: string | null, note: string | null): Promise<string> {
    const payload: AnalystActivityPayload = {
      activityId: `act_${randomUUID()}`,
      analyst: analyst.name,
      role: analyst.role,
      action,
      method: req.method === 'POST' ? 'POST' : 'GET',
      path: pathname.slice(0, 2048),
      query: Object.fromEntries(Object.entries(query).slice(0, 32).map(([k, v]) => [k.slice(0, 64), v.slice(0, 1024)])),
      subject: subject === null ? null : subject.slice(0, 256),
      note: note === null ? null : note.slice(0, 2048),
    };
    const { event } = await opts.signer.recordActivity(payload);
    return event.envelope.eventId;
  }

  function serveStatic(pathname: string, res: ServerResponse): void {
    if (!opts.dashboardDir) throw new HttpError(404, 'NOT_FOUND', `no such endpoint: ${pathname}`);
    const rel = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
    const file = path.resolve(opts.dashboardDir, rel);
    if (!file.startsWith(path.resolve(opts.dashboardDir) + path.sep) || !existsSync(file) || !statSync(file).isFile()) throw new HttpError(404, 'NOT_FOUND', `no such file: ${pathname}`);
    const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.json': 'application/json' };
    const body = readFileSync(file);
    res.writeHead(200, {
      'content-type': types[path.extname(file)] ?? 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff',
      'content-security-policy': DASHBOARD_CSP, 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer',
    });
    res.end(body);
  }

  await listen(server, opts.host ?? '127.0.0.1', opts.port ?? 0, 'IL_API_PORT');
  const addr = server.address() as AddressInfo;
  return { url: `http://${addr.address}:${addr.port}`, server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function bearer(req: IncomingMessage): string | null {
  const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  return m ? m[1]! : null;
}

function invalid(issues: Array<{ path: PropertyKey[]; message: string }>, where: string): HttpError {
  return new HttpError(400, 'REQUEST_INVALID', issues.map((i) => `${where}${i.path.length ? '.' + i.path.map(String).join('.') : ''}: ${i.message}`).join('; '));
}
