import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { AgentClient } from '../sdk/agentClient';
import type { Logger } from '../common/logger';
import { HttpRequestError, listen, nulIn, readBody, sendJson, sendOAuthFailure, singleHeader } from '../common/http';
import { parseStrictJson } from '../../schema/crypto/strictJson';
import { checkToolCall, ReplayCache, type CallDecision } from '../credentials';
import { targetsFromArgs, type ToolCatalogue } from '../../schema/catalogue';
import { argsDigest } from '../../schema/events/digest';
import type { ReasonCode } from '../../schema/reasons';
import type { RevocationList } from './revocationList';
import { runDemoTool } from './demoTools';

export interface GatewayOptions {
  /** Signs action.observed with the gateway's own registered key (role gateway). */
  reporter: AgentClient;
  brokerPublicKey: Uint8Array;
  revocations: RevocationList;
  catalogue: ToolCatalogue;
  dpopMaxAgeMs: number;
  port: number;
  host?: string;
  url?: string | null;
  log: Logger;
  now?: () => Date;
  /** Called with every refusal (for metrics and the benchmark). */
  onRefuse?: (reason: ReasonCode, d: Extract<CallDecision, { allow: false }>) => void;
}

export interface Gateway {
  url: string;
  metrics: { allowed: number; refused: Record<string, number>; observed: number };
  close(): Promise<void>;
}

const MAX_BODY = 256 * 1024;
const FUTURE_SKEW_MS = 5_000;

/**
 * A tool gateway in front of the demo tools: `POST /tools/<tool>` with `Authorization: DPoP <credential>`, a fresh
 * `DPoP` proof and a JSON body `{actionId, args}`. Every call is checked (checkToolCall) before the tool runs; a
 * call that goes through is ledgered as an action.observed event, acknowledged by Kafka before the agent gets the
 * tool's answer, so a call the gateway let through cannot go unrecorded.
 */
export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const now = o.now ?? (() => new Date());
  const replay = new ReplayCache(o.dpopMaxAgeMs + 1000 + FUTURE_SKEW_MS);
  const metrics: Gateway['metrics'] = { allowed: 0, refused: {}, observed: 0 };
  let url = '';

  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const m = /^\/tools\/([A-Za-z0-9_.-]{1,128})$/.exec(path);
      if (!m) return sendJson(res, 404, { error: 'not_found' });
      const tool = m[1]!;
      const t = now();
      const d = checkToolCall(
        { method: req.method ?? '', uri: `${url}${req.url ?? ''}`, authorization: singleHeader(req, 'authorization'), dpop: singleHeader(req, 'dpop') },
        { brokerPublicKey: o.brokerPublicKey, now: t, maxProofAgeMs: o.dpopMaxAgeMs, futureSkewMs: FUTURE_SKEW_MS, isRevoked: (c, j) => o.revocations.isRevoked(c, j), isReplay: (k, j) => replay.has(k, j) },
      );
      if (!d.allow) {
        metrics.refused[d.reason] = (metrics.refused[d.reason] ?? 0) + 1;
        o.onRefuse?.(d.reason, d);
        const error = d.reason.startsWith('PROOF_') ? 'invalid_dpop_proof' : 'invalid_token';
        return sendJson(res, 401, { error, error_description: d.detail, reason_code: d.reason }, { 'www-authenticate': `DPoP error="${error}", algs="EdDSA"` });
      }
      // Checked and remembered in one turn of the event loop: two copies of a proof cannot both pass.
      replay.remember(d.claims.cnf.jkt, d.jti, d.iatMs, t.getTime());
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'method_not_allowed' });
      const body = await readBody(req, MAX_BODY, 'invalid_request');
      let parsed: { actionId?: unknown; args?: unknown };
      try {
        // Strictly, as the ledger reads events: what the gateway observes must be what it can record.
        parsed = body.length === 0 ? {} : (parseStrictJson(body, { maxBytes: MAX_BODY, maxDepth: 32 }) as typeof parsed);
      } catch (e) {
        throw new HttpRequestError(400, 'invalid_request', `body is not acceptable JSON: ${(e as Error).message}`);
      }
      const nul = nulIn(parsed);
      if (nul) throw new HttpRequestError(400, 'invalid_request', `${nul} contains U+0000, which the ledger does not accept`);
      const args = parsed.args ?? {};
      if (args === null || typeof args !== 'object' || Array.isArray(args)) throw new HttpRequestError(400, 'invalid_request', 'args must be a JSON object');
      const actionId = parsed.actionId ?? `act_${randomUUID()}`;
      if (typeof actionId !== 'string' || actionId.length === 0 || actionId.length > 128) throw new HttpRequestError(400, 'invalid_request', 'actionId must be a string of 1-128 characters');
      const result = runDemoTool(o.catalogue, tool, args as Record<string, unknown>);
      if (result === null) return sendJson(res, 404, { error: 'unknown_tool', error_description: `no tool ${tool} behind this gateway` });
      metrics.allowed += 1;
      const observed = await o.reporter.observeAction({
        subjectAgentId: d.claims.sub,
        intentId: d.claims.intent_id,
        actionId,
        tool,
        argsDigest: argsDigest(args as Record<string, unknown>),
        targets: targetsFromArgs(tool, args as Record<string, unknown>, o.catalogue),
        credentialId: d.claims.cid,
        outcome: 'ok',
      });
      metrics.observed += 1;
      sendJson(res, 200, { actionId, result, observationEventId: observed.envelope.eventId });
    })().catch((e: unknown) => sendOAuthFailure(res, e, o.log, 'gateway'));
  });
  const host = o.host ?? '127.0.0.1';
  await listen(server, host, o.port, 'IL_GATEWAY_PORT');
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
