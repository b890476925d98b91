import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { IntentLedgerError } from '../common/errors';
import { parseStrictJson } from '../../schema/crypto/strictJson';

/** viewer: read; responder: also acknowledge findings and revoke credentials; admin: also read the audit trail. */
export const ROLES = ['viewer', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const roleRank = (r: Role) => ROLES.indexOf(r);

const TokenEntry = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'analyst names are 1-64 chars of [A-Za-z0-9._@-]'),
    role: z.enum(ROLES),
    /** SHA-256 (hex) of the token: the file never holds a usable token. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 is 64 lowercase hex digits'),
  })
  .strict();
export const TokensFile = z.object({ tokens: z.array(TokenEntry).max(10_000) }).strict();
export type Analyst = { name: string; role: Role };

export class TokensFileError extends IntentLedgerError {
  constructor(message: string) {
    super('TOKENS_INVALID', message);
  }
}

export function loadTokens(file: string): Array<z.infer<typeof TokenEntry>> {
  if (!existsSync(file)) return [];
  // Whoever can write this file can make themselves an admin.
  if ((statSync(file).mode & 0o022) !== 0) throw new TokensFileError(`analyst tokens file ${file} is writable by others; chmod 600 it`);
  let json: unknown;
  try {
    json = parseStrictJson(readFileSync(file), { maxBytes: 8 * 1024 * 1024, maxDepth: 8 });
  } catch (e) {
    throw new TokensFileError(`analyst tokens file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = TokensFile.safeParse(json);
  if (!parsed.success) throw new TokensFileError(`analyst tokens file ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const names = new Set<string>();
  for (const t of parsed.data.tokens) {
    if (names.has(t.name)) throw new TokensFileError(`analyst tokens file ${file}: analyst ${t.name} appears twice`);
    names.add(t.name);
  }
  return parsed.data.tokens;
}

/** Who presents this bearer token, if anyone. Compares digests in constant time against every entry. */
export function authenticate(tokens: ReadonlyArray<z.infer<typeof TokenEntry>>, bearer: string | null): Analyst | null {
  if (bearer === null) return null;
  const given = createHash('sha256').update(bearer).digest();
  let found: Analyst | null = null;
  for (const t of tokens) if (timingSafeEqual(given, Buffer.from(t.sha256, 'hex'))) found = { name: t.name, role: t.role };
  return found;
}

/** Adds (or replaces) an analyst's token in the file (mode 0600) and returns the token, shown once. */
export function issueToken(file: string, name: string, role: Role): string {
  return issueTokenReplacing(file, name, role).token;
}

/** The same, also saying which role the analyst had before (null: a new analyst), so a replacement is never silent. */
export function issueTokenReplacing(file: string, name: string, role: Role): { token: string; replaced: Role | null } {
  const entry = TokenEntry.parse({ name, role, sha256: '0'.repeat(64) });
  const existing = loadTokens(file);
  const replaced = existing.find((t) => t.name === entry.name)?.role ?? null;
  const tokens = existing.filter((t) => t.name !== entry.name);
  const token = `ilt_${randomBytes(32).toString('base64url')}`;
  tokens.push({ name: entry.name, role: entry.role, sha256: createHash('sha256').update(token).digest('hex') });
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify({ tokens }, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
  chmodSync(file, 0o600);
  return { token, replaced };
}
