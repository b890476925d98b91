/**
 * Proof nonces (jti) seen within the acceptance window, per key thumbprint, so a captured proof cannot be sent
 * again. Entries are forgotten once a proof with that iat would be refused as stale anyway. One process's memory:
 * gateways behind a load balancer need sticky routing per agent, or a shared store in its place.
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  private sweptAt = 0;

  constructor(private readonly retainMs: number) {}

  /** Records the nonce; false when it was already there (a replay). */
  remember(jkt: string, jti: string, iatMs: number, now: number): boolean {
    this.sweep(now);
    const k = `${jkt}\u0000${jti}`;
    if (this.seen.has(k)) return false;
    this.seen.set(k, Math.max(iatMs, now) + this.retainMs);
    return true;
  }

  has(jkt: string, jti: string): boolean {
    return this.seen.has(`${jkt}\u0000${jti}`);
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < 1000) return;
    this.sweptAt = now;
    for (const [k, until] of this.seen) if (until <= now) this.seen.delete(k);
  }
}
