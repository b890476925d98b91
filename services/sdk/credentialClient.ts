import { createProof, type Signer } from '../credentials';
import { IntentLedgerError } from '../common/errors';

/** A credential the broker issued: usable only with the key that asked for it. */
export interface IssuedCredential {
  accessToken: string;
  credentialId: string;
  intentId: string;
  expiresAt: Date;
}

/** The broker refused (its `reason_code` is one of schema/reasons.ts when it has one). */
export class CredentialRefused extends IntentLedgerError {
  constructor(
    readonly status: number,
    readonly reason: string | null,
    message: string,
  ) {
    super(reason ?? 'CREDENTIAL_REFUSED', message);
  }
}

export interface ToolCallResult {
  status: number;
  body: Record<string, unknown>;
}

/**
 * The agent's side of just-in-time credentials: asks the broker for a credential for one declared intent, proving
 * possession of its key, and calls tools through a gateway with a fresh proof on every call.
 */
export class CredentialClient {
  constructor(
    private readonly key: Signer,
    private readonly brokerUrl: string,
  ) {}

  /** A credential for the intent; `expiresIn` (seconds) may only shorten it. */
  async obtain(intentId: string, expiresIn?: number): Promise<IssuedCredential> {
    const url = `${this.brokerUrl}/token`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', dpop: createProof(this.key, { htm: 'POST', htu: url }) },
      body: JSON.stringify({ intent_id: intentId, ...(expiresIn !== undefined ? { expires_in: expiresIn } : {}) }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200) throw new CredentialRefused(res.status, (body.reason_code as string) ?? null, `broker refused a credential for ${intentId}: ${String(body.error_description ?? body.error)}`);
    return { accessToken: String(body.access_token), credentialId: String(body.credential_id), intentId, expiresAt: new Date(Date.now() + Number(body.expires_in) * 1000) };
  }

  /** Revokes the credential's token at the broker (RFC 7009). */
  async revoke(cred: IssuedCredential): Promise<void> {
    const url = `${this.brokerUrl}/revoke`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: createProof(this.key, { htm: 'POST', htu: url }) },
      body: new URLSearchParams({ token: cred.accessToken, token_type_hint: 'access_token' }).toString(),
    });
    if (res.status !== 200) throw new CredentialRefused(res.status, null, `broker refused the revocation: HTTP ${res.status}`);
  }

  /** RFC 7662 introspection, authenticated by this client's key. */
  async introspect(accessToken: string): Promise<Record<string, unknown>> {
    const url = `${this.brokerUrl}/introspect`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: createProof(this.key, { htm: 'POST', htu: url }) },
      body: new URLSearchParams({ token: accessToken }).toString(),
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200) throw new CredentialRefused(res.status, (body.reason_code as string) ?? null, `introspection refused: ${String(body.error_description ?? body.error)}`);
    return body;
  }

  /** Calls a tool through a gateway; a refusal is returned (status 401, `reason_code`), not thrown. */
  async callTool(gatewayUrl: string, cred: IssuedCredential, tool: string, args: Record<string, unknown>, actionId?: string, proof?: string): Promise<ToolCallResult> {
    const url = `${gatewayUrl}/tools/${tool}`;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `DPoP ${cred.accessToken}`,
        dpop: proof ?? createProof(this.key, { htm: 'POST', htu: url, accessToken: cred.accessToken }),
      },
      body: JSON.stringify({ ...(actionId ? { actionId } : {}), args }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
}
