import type { RevocationTopicNotice } from '../../schema/events';

/**
 * What this gateway knows to be dead: credentials revoked on drift or ended with their intent, and single tokens
 * revoked at the broker. Learned from the revocations topic, never by asking. Entries are kept for the process's
 * life: a credential cannot come back, and they are few next to the calls.
 */
export class RevocationList {
  private readonly credentials = new Map<string, number>();
  private readonly tokens = new Map<string, number>();

  /** Applies a notice; returns true when it named something not already known. */
  apply(n: RevocationTopicNotice, at = Date.now()): boolean {
    if (n.type === 'token.revoked') {
      if (this.tokens.has(n.tokenId)) return false;
      this.tokens.set(n.tokenId, at);
      return true;
    }
    if (this.credentials.has(n.credentialId)) return false;
    this.credentials.set(n.credentialId, at);
    return true;
  }

  isRevoked(credentialId: string, tokenId: string): boolean {
    return this.credentials.has(credentialId) || this.tokens.has(tokenId);
  }

  /** When this process learned that the credential was dead (ms since the epoch), if it has. */
  learnedAt(credentialId: string): number | undefined {
    return this.credentials.get(credentialId);
  }

  get size(): number {
    return this.credentials.size + this.tokens.size;
  }
}
