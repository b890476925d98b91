import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { IntentLedgerError } from '../services/common/errors';
import { parseStrictJson } from './crypto/strictJson';
import type { Target } from './events/intent';

/**
 * A tool catalogue: what each tool does, written once per tool (never per task), so the reconciler can judge an
 * action it has never seen before. `effect` drives severity, `dataClass` the data-class check, `targetArgs` which
 * arguments name something the call touches (a recipient, an account, a file, a channel), and `contentArgs` which
 * arguments carry free text that is sent on: addresses written inside them (e-mails, URLs, IBANs) are targets too,
 * since a link or account number smuggled into a message body points the reader somewhere the intent never named.
 */

export const TOOL_EFFECTS = ['read', 'write', 'destructive', 'external'] as const;
/** read: only looks; write: changes the principal's own state; destructive: deletes or overwrites irrecoverably;
 * external: sends data, money or access outside the principal (e-mail, payment, web post, invitation). */
export type ToolEffect = (typeof TOOL_EFFECTS)[number];

const TargetKind = z.string().regex(/^[a-z][a-z0-9_]*$/, 'target kind is lowercase snake_case').max(64);

export const ToolSpec = z
  .object({
    effect: z.enum(TOOL_EFFECTS),
    dataClass: z.string().min(1).max(64),
    /** Groups the tool belongs to (AgentDojo: its suites), so a planner can say "every read tool of this toolset". */
    toolsets: z.array(z.string().min(1)).default([]),
    targetArgs: z.record(z.string(), TargetKind).default({}),
    contentArgs: z.array(z.string().min(1)).default([]),
    /** The target kind of the items the tool's result lists (get_channels lists channels), if it lists any: a plan that
     * lists a collection and then works through its members means "each member", see deriveIntent's openTargets. */
    lists: TargetKind.optional(),
    description: z.string().optional(),
  })
  .strict();
export type ToolSpec = z.infer<typeof ToolSpec>;

export const ToolCatalogue = z
  .object({
    name: z.string().min(1),
    version: z.number().int().min(1),
    about: z.string().optional(),
    /** Data classes that say nothing about the principal (the current date): every intent may declare them. */
    ambientDataClasses: z.array(z.string().min(1).max(64)).default([]),
    /** Target kinds whose values are names people and models type (channels, users, hotels), see targetMatches. */
    nameKinds: z.array(TargetKind).default([]),
    tools: z.record(z.string().min(1).max(128), ToolSpec),
  })
  .strict();
export type ToolCatalogue = z.infer<typeof ToolCatalogue>;

/** The catalogue file is missing, not JSON, or not a valid catalogue. */
export class CatalogueError extends IntentLedgerError {
  constructor(message: string) {
    super('CATALOGUE_INVALID', message);
  }
}

export function parseCatalogue(json: unknown, source = 'catalogue'): ToolCatalogue {
  const parsed = ToolCatalogue.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new CatalogueError(`${source} is not a valid tool catalogue: ${issues}`);
  }
  return parsed.data;
}

export function loadCatalogue(path: string): ToolCatalogue {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (e) {
    throw new CatalogueError(`cannot read tool catalogue ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    // Strictly, as policies and events are read: a duplicated key must not quietly override a tool's effect.
    json = parseStrictJson(text, { maxBytes: 16 * 1024 * 1024, maxDepth: 32 });
  } catch (e) {
    throw new CatalogueError(`tool catalogue ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseCatalogue(json, path);
}

/** Own properties only: a tool called `constructor` or `__proto__` must come out unknown, not as Object's. */
export function lookupTool(catalogue: ToolCatalogue, tool: string): ToolSpec | undefined {
  return Object.hasOwn(catalogue.tools, tool) ? catalogue.tools[tool] : undefined;
}

/** Tools of a toolset, optionally of one effect, sorted. */
export function toolsOf(catalogue: ToolCatalogue, toolset: string, effect?: ToolEffect): string[] {
  return Object.entries(catalogue.tools)
    .filter(([, spec]) => spec.toolsets.includes(toolset) && (effect === undefined || spec.effect === effect))
    .map(([name]) => name)
    .sort();
}

const MAX_TARGET_LENGTH = 2048; // Target.value's limit in the event schema

/**
 * The canonical form two target values are compared in. Exact equality after normalising is the only match the
 * reconciler makes, so everything that makes two spellings name the same thing must happen here:
 * - email: `Name <a@b>` and `mailto:` stripped, lower case (providers treat local parts case-insensitively);
 * - iban: spaces removed, upper case;
 * - url: scheme, `www.`, fragment and trailing `/` dropped, host lower case (path and query keep their case);
 * - any other kind (names, channels, file names, ids): Unicode NFC, inner whitespace collapsed, lower case.
 * Longer values are cut to the schema's limit; a cut value cannot equal a declared one, so it still fails closed.
 */
export function normaliseTarget(kind: string, value: string): string {
  let v = value.normalize('NFC').trim().replace(/\s+/g, ' ');
  switch (kind) {
    case 'email': {
      const angle = /<([^<>]+)>\s*$/.exec(v);
      if (angle) v = angle[1].trim();
      v = v.replace(/^mailto:/i, '').toLowerCase();
      break;
    }
    case 'iban':
      v = v.replace(/\s+/g, '').toUpperCase();
      break;
    case 'url': {
      v = v.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/#.*$/, '');
      const cut = v.search(/[/?]/);
      const host = (cut < 0 ? v : v.slice(0, cut)).toLowerCase().replace(/^www\./, '').replace(/\.$/, '');
      let rest = cut < 0 ? '' : v.slice(cut);
      rest = rest.replace(/\/+(?=\?|$)/, '');
      v = host + rest;
      break;
    }
    default:
      v = v.toLowerCase();
  }
  return v.slice(0, MAX_TARGET_LENGTH);
}

// Addresses recognised inside free text. Deliberately narrow: a miss here only loses a derived target, while a
// false hit invents one the intent never declared. Every scan is linear in the text: arguments and prompts are
// attacker-influenced, and a backtracking regex over a 200 kB field would stall the reconciler for everyone.
const LOCAL_CHAR = /[A-Za-z0-9._%+-]/;
const DOMAIN_CHAR = /[A-Za-z0-9.-]/;
const DOMAIN_RE = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;
const TLDS = new Set(['com', 'org', 'net', 'io', 'ai', 'dev', 'app', 'co', 'uk', 'de', 'ch', 'fr', 'info', 'biz', 'ly', 'me', 'xyz', 'edu', 'gov']);
const IBAN_RE = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,30}\b/g;

/** E-mail addresses found by expanding around each `@`: O(length), whatever the text. */
function emailsInText(text: string): Array<{ start: number; end: number; value: string }> {
  const out: Array<{ start: number; end: number; value: string }> = [];
  let lastEnd = 0;
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > Math.max(lastEnd, at - MAX_LOCAL) && LOCAL_CHAR.test(text[start - 1]!)) start--;
    if (start === at) continue;
    let end = at + 1;
    while (end < text.length && end - at - 1 < MAX_DOMAIN && DOMAIN_CHAR.test(text[end]!)) end++;
    const domain = DOMAIN_RE.exec(text.slice(at + 1, end));
    if (!domain) continue;
    end = at + 1 + domain[0].length;
    out.push({ start, end, value: text.slice(start, end) });
    lastEnd = end;
  }
  return out;
}

/** A URL at the start of a token: an http(s) scheme, `www.`, or a host whose last label is a known TLD. */
function urlInToken(token: string): string | null {
  const t = token.replace(/[.,;:!?]+$/, '');
  if (/^https?:\/\/./i.test(t)) return t;
  const cut = t.search(/[/?#]/);
  const host = cut < 0 ? t : t.slice(0, cut);
  if (host.length === 0 || host.length > MAX_DOMAIN) return null;
  const labels = host.split('.');
  if (labels.length < 2 || !labels.every((l) => /^[A-Za-z0-9-]+$/.test(l))) return null;
  if (!/^www$/i.test(labels[0]!) && !TLDS.has(labels[labels.length - 1]!.toLowerCase())) return null;
  return t;
}

/** E-mail addresses, URLs and IBANs written in free text, normalised. */
export function addressesInText(text: string): Target[] {
  const out: Target[] = [];
  const emails = emailsInText(text);
  for (const e of emails) out.push({ kind: 'email', value: normaliseTarget('email', e.value) });
  // An e-mail's domain is not a URL the text mentions.
  let withoutEmails = '';
  let from = 0;
  for (const e of emails) {
    withoutEmails += text.slice(from, e.start) + ' ';
    from = e.end;
  }
  withoutEmails += text.slice(from);
  for (const token of withoutEmails.split(/[\s<>"'`()[\]{},;]+/)) {
    const url = token.length > 0 ? urlInToken(token) : null;
    if (url) out.push({ kind: 'url', value: normaliseTarget('url', url) });
  }
  for (const i of text.match(IBAN_RE) ?? []) {
    // Two letters, two digits and at least ten more characters with a digit among them: not a plain word.
    if (/\d.*\d.*\d/.test(i.slice(4))) out.push({ kind: 'iban', value: normaliseTarget('iban', i) });
  }
  return out;
}

/** Scalar leaves of an argument value: arrays are flattened, objects contribute their fields except `type`. */
function leaves(value: unknown, depth = 0): string[] {
  if (value === null || value === undefined || depth > 4) return [];
  if (typeof value === 'string') return value.trim() === '' ? [] : [value];
  if (typeof value === 'number' || typeof value === 'bigint') return [String(value)];
  if (typeof value === 'boolean') return [];
  if (Array.isArray(value)) return value.flatMap((v) => leaves(v, depth + 1));
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([k]) => k !== 'type')
      .flatMap(([, v]) => leaves(v, depth + 1));
  }
  return [];
}

const skeleton = (v: string) => v.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

/**
 * Does a (normalised) reported target match a (normalised) declared one? Exact equality, with one allowance for
 * the catalogue's name kinds: a name that is a declared name cut short by at most two letters or digits, ignoring
 * punctuation (models write `External_` or `External` for the channel `External_0`). Only ever shorter: a longer
 * name (`general-archive` for `general`) could be a different resource an attacker created, a truncated one
 * can only be a resource whose name the intent already spells out in full.
 */
export function targetMatches(reported: Target, declared: Target, catalogue: ToolCatalogue): boolean {
  if (reported.kind !== declared.kind) return false;
  if (reported.value === declared.value) return true;
  if (!catalogue.nameKinds.includes(reported.kind)) return false;
  const r = skeleton(reported.value);
  const d = skeleton(declared.value);
  return r.length >= 4 && d.startsWith(r) && d.length - r.length <= 2;
}

const MAX_NAME_LENGTH = 64;
const MAX_NAME_WORDS = 5;

/**
 * Has this (normalised) value the syntax of a name a listing returns (a channel, a user, a hotel), rather than of
 * text? At most 64 characters and 5 words, no control characters, and no address (e-mail, URL, IBAN) inside. An
 * open scope (IntentView.openTargets) admits only such values: an injected sentence passed as a channel name is not
 * a member of any collection.
 */
export function isNameLike(value: string): boolean {
  if (value.length === 0 || value.length > MAX_NAME_LENGTH || /[\p{Cc}\p{Cf}]/u.test(value)) return false;
  if (value.trim().split(/\s+/).length > MAX_NAME_WORDS) return false;
  return addressesInText(value).length === 0;
}

export function dedupeTargets(targets: Iterable<Target>): Target[] {
  const seen = new Map<string, Target>();
  for (const t of targets) {
    const key = `${t.kind}\u0000${t.value}`;
    if (!seen.has(key)) seen.set(key, t);
  }
  return [...seen.values()];
}

/**
 * The targets a call touches according to the catalogue: every value of a target argument (arrays and objects
 * flattened), plus addresses written in its content arguments. Normalised and deduplicated; an unknown tool has none.
 */
export function targetsFromArgs(tool: string, args: Record<string, unknown> | undefined, catalogue: ToolCatalogue): Target[] {
  const spec = lookupTool(catalogue, tool);
  if (!spec || !args) return [];
  const out: Target[] = [];
  for (const [arg, kind] of Object.entries(spec.targetArgs)) {
    if (!Object.hasOwn(args, arg)) continue;
    for (const leaf of leaves(args[arg])) {
      const value = normaliseTarget(kind, leaf);
      if (value !== '') out.push({ kind, value });
    }
  }
  for (const arg of spec.contentArgs) {
    if (!Object.hasOwn(args, arg)) continue;
    for (const leaf of leaves(args[arg])) out.push(...addressesInText(leaf));
  }
  return dedupeTargets(out);
}
