import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { authenticate, issueTokenReplacing, loadTokens, TokensFileError } from './analystTokens';

describe('analyst tokens', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'il-tokens-'));

  it('keeps only digests, authenticates the token it printed, and says when it replaces a role', () => {
    const file = path.join(dir, 'tokens.json');
    const first = issueTokenReplacing(file, 'alice', 'viewer');
    expect(first.replaced).toBeNull();
    expect(authenticate(loadTokens(file), first.token)).toEqual({ name: 'alice', role: 'viewer' });
    const second = issueTokenReplacing(file, 'alice', 'admin');
    expect(second.replaced).toBe('viewer');
    expect(authenticate(loadTokens(file), first.token)).toBeNull();
    expect(authenticate(loadTokens(file), second.token)).toEqual({ name: 'alice', role: 'admin' });
    expect(authenticate(loadTokens(file), null)).toBeNull();
  });

  it('refuses a tokens file others can write (they could make themselves admin)', () => {
    const file = path.join(dir, 'open.json');
    issueTokenReplacing(file, 'bob', 'viewer');
    chmodSync(file, 0o666);
    expect(() => loadTokens(file)).toThrow(TokensFileError);
    expect(() => loadTokens(file)).toThrow(/writable by others; chmod 600/);
  });
});
