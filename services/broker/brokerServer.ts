import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Logger } from '../common/logger';
import { listen, parseParams, readBody, sendJson, sendOAuthFailure, singleHeader } from '../common/http';
import { keyIdFor } from '../sdk/agentKey';
import { checkAccessToken, checkProof, issueAccessToken, jwkFor, ReplayCache, type Signer } from '../credentials';
import type { ReasonCode } from '../../schema/reasons';
import type { TokenRevokedNotice } from '../../schema/events';
import { decideIssue } from './decideIssue';
import { insertToken, keyStatus, loadIssueView, revokeToken, tokenState } from './brokerStore';

export interface BrokerOptions {
  pool: Pool;
  /** The broker's token-signing key. */
  key: Signer & { keyId: string };
  /** Publishes a token revocation on the revocations topic (every gateway reads it). */
  publish(notice: TokenRevokedNotice): Promise<void>;
  maxCredentialSeconds: number;
  dpopMaxAgeMs: number;
  port: number;
  host?: string;
  /** How clients address the broker; default http://<host>:<port actually bound>. */
  url?: string | null;
  log: Logger;
  now?: () => Date;
}

export interface Broker {
  url: string;
  metrics: { issued: number; refused: Record<string, number>; introspected: number; revoked: number };
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024;
const FUTURE_SKEW_MS = 5_000;

/**
 * The credential broker, over HTTP: `POST /token` issues a short-lived credential for one declared intent, bound
 * to the key that proves possession (DPoP, RFC 9449); `POST /introspect` answers as RFC 7662 does and `POST /revoke`
 * as RFC 7009 does; `GET /jwks` gives the public key gateways pin. Every call is authenticated with a DPoP proof
 * by a registered key: the agent itself, or (for introspection) any enrolled party such as a gateway.
 */
export async function startBroker(o: BrokerOptions): Promise<Broker> {
  const now = o.now ?? (() => new Date());
  const replay = new ReplayCache(o.dpopMaxAgeMs + 1000 + FUTURE_SKEW_MS);
  const metrics: Broker['metrics'] = { issued: 0, refused: {}, introspected: 0, revoked: 0 };
  let url = '';

  const refuse = (res: ServerResponse, status: number, error: string, reason: ReasonCode | null, detail: string) => {
    if (reason) metrics.refused[reason] = (metrics.refused[reason] ?? 0) + 1;
    const headers: Record<string, string> = status === 401 ? { 'www-authenticate': `DPoP error="${error}", algs="EdDSA"` } : {};
    sendJson(res, status, { error, error_description: detail, ...(reason ? { reason_code: reason } : {}) }, headers);
  };

  /** The caller's proof for this endpoint: fresh, for this URI, unused; returns the registered key that made it. */
  const authenticate = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const p = checkProof(singleHeader(req, 'dpop'), { htm: 'POST', htu: `${url}${path}`, now: now(), maxAgeMs: o.dpopMaxAgeMs, futureSkewMs: FUTURE_SKEW_MS });
    if (!p.ok) return void refuse(res, 401, 'invalid_dpop_proof', p.reason, p.detail);
    if (!replay.remember(p.jkt, p.jti, p.iatMs, now().getTime())) return void refuse(res, 401, 'invalid_dpop_proof', 'PROOF_REPLAYED', `DPoP proof ${p.jti} was already used`);
    return { ...p, keyId: keyIdFor(p.publicKey) };
  };

  const token = async (req: IncomingMessage, res: ServerResponse, params: Record<string, unknown>) => {
    const intentId = params.intent_id;
    if (typeof intentId !== 'string' || intentId.length === 0 || intentId.length > 128) return refuse(res, 400, 'invalid_request', null, 'intent_id is required');
    const raw = params.expires_in;
    const requested = raw === undefined ? undefined : Number(raw);
    if (requested !== undefined && (!Number.isSafeInteger(requested) || requested < 1)) return refuse(res, 400, 'invalid_request', null, 'expires_in must be a positive integer (seconds)');
    const who = await authenticate(req, res, '/token');
    if (!who) return;
    const t = now();
    const d = decideIssue(await loadIssueView(o.pool, intentId, who.keyId), intentId, requested, o.maxCredentialSeconds, t);
    if (!d.ok) return refuse(res, 400, 'invalid_grant', d.reason, d.detail);
    const tokenId = `tok_${randomUUID()}`;
    const iat = Math.floor(t.getTime() / 1000);
    const exp = Math.floor(d.expiresAt.getTime() / 1000);
    await insertToken(o.pool, { tokenId, credentialId: d.credentialId, agentId: d.agentId, intentId, keyId: d.keyId, jkt: who.jkt, issuedAt: t, expiresAt: d.expiresAt });
    const accessToken = issueAccessToken({ sub: d.agentId, jti: tokenId, cid: d.credentialId, intent_id: intentId, cnf: { jkt: who.jkt }, iat, exp }, o.key);
    metrics.issued += 1;
    o.log.info('credential issued', { agentId: d.agentId, intentId, tokenId, expiresAt: d.expiresAt.toISOString() });
    sendJson(res, 200, { access_token: accessToken, token_type: 'DPoP', expires_in: Math.max(0, exp - iat), credential_id: d.credentialId, intent_id: intentId });
  };

  const introspect = async (req: IncomingMessage, res: ServerResponse, params: Record<string, unknown>) => {
    const who = await authenticate(req, res, '/introspect');
    if (!who) return;
    const caller = await keyStatus(o.pool, who.keyId);
    if (!caller || caller.status !== 'active') return refuse(res, 401, 'invalid_client', 'UNKNOWN_KEY', 'introspection is for enrolled parties: the proof key is not an active registered key');
    metrics.introspected += 1;
    const c = checkAccessToken(typeof params.token === 'string' ? params.token : undefined, o.key.publicKey, now());
    if (!c.ok) return sendJson(res, 200, { active: false });
    const state = await tokenState(o.pool, c.claims.jti);
    if (!state || state.revoked || state.credentialStatus !== 'active') return sendJson(res, 200, { active: false });
    const x = c.claims;
    sendJson(res, 200, { active: true, token_type: 'DPoP', iss: x.iss, sub: x.sub, client_id: x.sub, jti: x.jti, iat: x.iat, exp: x.exp, cnf: x.cnf, credential_id: x.cid, intent_id: x.intent_id });
  };

  const revoke = async (req: IncomingMessage, res: ServerResponse, params: Record<string, unknown>) => {
    const who = await authenticate(req, res, '/revoke');
    if (!who) return;
    const c = checkAccessToken(typeof params.token === 'string' ? params.token : undefined, o.key.publicKey, now());
    // RFC 7009 §2.2: an invalid or expired token is answered like a revoked one.
    if (!c.ok) return sendJson(res, 200, {});
    if (c.claims.cnf.jkt !== who.jkt) return refuse(res, 401, 'invalid_client', 'PROOF_KEY_MISMATCH', 'only the key a credential is bound to may revoke it');
    const r = await revokeToken(o.pool, c.claims.jti);
    if (r) {
      await o.publish({ type: 'token.revoked', tokenId: c.claims.jti, credentialId: r.credentialId, agentId: r.agentId, intentId: r.intentId, revokedAt: r.revokedAt.toISOString() });
      metrics.revoked += 1;
      o.log.info('credential token revoked', { agentId: r.agentId, tokenId: c.claims.jti });
    }
    sendJson(res, 200, {});
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/jwks') return sendJson(res, 200, { keys: [{ ...jwkFor(o.key.publicKey), kid: o.key.keyId, use: 'sig', alg: 'EdDSA' }] });
      const route = req.method === 'POST' ? { '/token': token, '/introspect': introspect, '/revoke': revoke }[path ?? ''] : undefined;
      if (!route) return sendJson(res, 404, { error: 'not_found' });
      const params = parseParams(req, await readBody(req, MAX_BODY, 'invalid_request'));
      await route(req, res, params);
    })().catch((e: unknown) => sendOAuthFailure(res, e, o.log, 'broker'));
  });
  const host = o.host ?? '127.0.0.1';
  await listen(server, host, o.port, 'IL_BROKER_PORT');
  url = o.url ?? `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    url,
    metrics,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
