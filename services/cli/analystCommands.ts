import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { UsageError } from './args';
import { loadConfig } from '../common/config';
import { ApiClient } from '../api/apiClient';
import { issueTokenReplacing, ROLES, type Role } from '../api/analystTokens';
import { tokensFileOf } from '../api/runApi';
import type * as S from '../api/apiSchemas';

/**
 * The analyst API for terminals: `drift ls|show|ack`, `agents ls|show`, `revoke`, `evidence`. They go through the
 * API (IL_API_URL, token IL_API_TOKEN), so the same roles apply and every query is in the ledger's audit trail.
 */
type Options = Record<string, string | true>;
const out = (line: string) => void process.stdout.write(line + '\n');
const opt = (o: Options, k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

function client(): ApiClient {
  const config = loadConfig();
  if (!config.api.token) throw new UsageError('set IL_API_TOKEN to an analyst token (`intent-ledger api-token NAME ROLE` makes one)');
  return new ApiClient(config.api.url, config.api.token);
}

type Page<T> = { items: T[]; nextCursor: string | null };
type Finding = z.infer<typeof S.Finding>;

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
function table(rows: string[][]): void {
  if (rows.length === 0) return;
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

export async function runDrift(sub: string | undefined, arg: string | undefined, o: Options): Promise<number> {
  const api = client();
  if (sub === 'ls') {
    const query = { agent: opt(o, 'agent'), intent: opt(o, 'intent'), reason: opt(o, 'reason'), severity: opt(o, 'severity'), since: opt(o, 'since'), until: opt(o, 'until'), limit: opt(o, 'limit') };
    const items: Finding[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.get<Page<Finding>>('/v1/findings', { ...query, cursor });
      items.push(...page.items);
      cursor = o.all ? (page.nextCursor ?? undefined) : undefined;
      if (o.all && cursor && process.stderr.isTTY) process.stderr.write(`\rfetched ${items.length} findings…`);
    } while (cursor);
    if (o.all && process.stderr.isTTY) process.stderr.write('\n');
    if (o.json) return out(JSON.stringify(items, null, 2)), 0;
    if (items.length === 0) return out('no drift findings match'), 0;
    table([
      ['ID', 'CREATED', 'SEVERITY', 'REASON', 'AGENT', 'TOOL', 'DETAIL'],
      ...items.map((f) => [f.id, f.createdAt.slice(0, 19), f.severity, f.reasonCode, clip(f.agentId, 28), f.tool || '-', clip(f.detail, 90)]),
    ]);
    if (!o.all && items.length > 0 && (await api.get<Page<Finding>>('/v1/findings', { ...query, limit: '1', cursor: items[items.length - 1]!.id })).items.length > 0) {
      out(`(${items.length} shown, newest first; more match: --all, or --limit N up to 500)`);
    }
    return 0;
  }
  if (sub === 'show' || sub === 'ack') {
    if (!arg) throw new UsageError(`drift ${sub} needs a finding id`);
    const f =
      sub === 'show'
        ? await api.get<Finding>(`/v1/findings/${encodeURIComponent(arg)}`)
        : await api.post<Finding>(`/v1/findings/${encodeURIComponent(arg)}/acknowledge`, opt(o, 'note') ? { note: opt(o, 'note') } : {});
    if (o.json) return out(JSON.stringify(f, null, 2)), 0;
    out(`finding ${f.id}: ${f.reasonCode} (${f.severity})`);
    out(`  agent     ${f.agentId}`);
    out(`  intent    ${f.intentId ?? '-'}`);
    out(`  event     ${f.eventId}${f.tool ? ` (${f.tool})` : ''}`);
    out(`  when      ${f.createdAt}`);
    out(`  why       ${f.detail}`);
    out(`  OWASP     ${f.frameworks.owaspAgentic.join(', ')}; MAESTRO ${f.frameworks.maestro.join(', ')}; NIST AI RMF ${f.frameworks.nistAiRmf.join(', ')}`);
    out(`  ack       ${f.acknowledgedAt ? `${f.acknowledgedAt} by ${f.acknowledgedBy}${f.ackNote ? `: ${f.ackNote}` : ''}` : 'not acknowledged'}`);
    return 0;
  }
  throw new UsageError('drift takes ls, show ID or ack ID');
}

export async function runAgents(sub: string | undefined, arg: string | undefined, o: Options): Promise<number> {
  const api = client();
  if (sub === 'ls') {
    const page = await api.get<Page<z.infer<typeof S.AgentSummary>>>('/v1/agents', { limit: opt(o, 'limit') ?? '500', cursor: opt(o, 'cursor') });
    if (o.json) return out(JSON.stringify(page, null, 2)), 0;
    table([
      ['AGENT', 'EVENTS', 'LAST SEEN', 'CRIT', 'HIGH', 'MED', 'LOW', 'CREDS ACTIVE/REVOKED'],
      ...page.items.map((a) => [
        a.agentId, String(a.events), a.lastSeen?.slice(0, 19) ?? '-', String(a.findings.critical), String(a.findings.high), String(a.findings.medium), String(a.findings.low),
        `${a.activeCredentials}/${a.revokedCredentials}`,
      ]),
    ]);
    if (page.nextCursor) out(`(more: --cursor ${page.nextCursor})`);
    return 0;
  }
  if (sub === 'show') {
    if (!arg) throw new UsageError('agents show needs an agent id');
    const id = encodeURIComponent(arg);
    const a = await api.get<z.infer<typeof S.AgentDetail>>(`/v1/agents/${id}`);
    const t = await api.get<Page<z.infer<typeof S.TimelineEntry>>>(`/v1/agents/${id}/timeline`, { limit: opt(o, 'limit') ?? '100' });
    if (o.json) return out(JSON.stringify({ agent: a, timeline: t }, null, 2)), 0;
    out(`agent ${a.agentId}${a.displayName ? ` (${a.displayName})` : ''}: ${a.events} events, last seq ${a.lastSeq}, last seen ${a.lastSeen ?? '-'}`);
    out(`  findings  critical ${a.findings.critical}, high ${a.findings.high}, medium ${a.findings.medium}, low ${a.findings.low}`);
    out(`  creds     ${a.activeCredentials} active, ${a.revokedCredentials} revoked`);
    for (const k of a.keys) out(`  key       ${k.keyId} ${k.status} since ${k.registeredAt}`);
    for (const f of a.integrityFindings) out(`  integrity ${f.reasonCode} (${f.severity}): ${f.detail}`);
    out('timeline:');
    table(
      t.items.map((e) => [
        String(e.seq), e.ts.slice(0, 19), e.type, clip(e.summary, 70),
        e.type === 'action.reported' ? (e.inScope === null ? 'pending' : e.inScope ? 'in scope' : `DRIFT ${e.findings.map((f) => f.reasonCode).join(',')}`) : '',
      ]),
    );
    if (t.nextCursor) out(`(more events: --json, or the API's timeline with cursor ${t.nextCursor})`);
    return 0;
  }
  throw new UsageError('agents takes ls or show ID');
}

export async function runRevoke(credentialId: string | undefined, o: Options): Promise<number> {
  if (!credentialId) throw new UsageError('revoke needs a credential id: `intent-ledger revoke CREDENTIAL_ID --reason TEXT`');
  const reason = opt(o, 'reason');
  if (!reason) throw new UsageError('revoke needs --reason TEXT (it is recorded in the ledger with your name)');
  const c = await client().post<z.infer<typeof S.Credential>>(`/v1/credentials/${encodeURIComponent(credentialId)}/revoke`, { reason });
  if (o.json) return out(JSON.stringify(c, null, 2)), 0;
  out(`revoked ${c.credentialId} (agent ${c.agentId}, intent ${c.intentId}) at ${c.revokedAt}`);
  return 0;
}

export async function runEvidence(o: Options): Promise<number> {
  const intent = opt(o, 'intent');
  const agent = opt(o, 'agent');
  if ((intent === undefined) === (agent === undefined)) throw new UsageError('evidence needs exactly one of --intent ID or --agent ID');
  if (process.stderr.isTTY) process.stderr.write('building the evidence bundle (inclusion proofs over the whole ledger)…\n');
  const bundle = await client().get<{ events: unknown[] }>('/v1/evidence', { intent, agent });
  const text = JSON.stringify(bundle, null, 2) + '\n';
  const file = opt(o, 'out');
  if (file) {
    writeFileSync(path.resolve(file), text);
    out(`wrote ${bundle.events.length} events to ${file}; check it with \`intent-ledger verify --bundle ${file} --public-key KEY\``);
  } else {
    process.stdout.write(text);
  }
  return 0;
}

export function runApiToken(name: string | undefined, role: string | undefined): number {
  if (!name || !role) throw new UsageError(`api-token needs a name and a role: \`intent-ledger api-token alice responder\` (roles: ${ROLES.join(', ')})`);
  if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`role must be one of ${ROLES.join(', ')}; got "${role}"`);
  const file = tokensFileOf(loadConfig());
  const { token, replaced } = issueTokenReplacing(file, name, role as Role);
  out(token);
  process.stderr.write(
    `token for ${name} (${role}) written to ${file} as its SHA-256; it is shown only now` +
      (replaced ? `; it replaces ${name}'s earlier ${replaced} token, which no longer works\n` : '\n'),
  );
  return 0;
}
