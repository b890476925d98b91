import { IntentLedgerError } from '../common/errors';

/** A refusal from the analyst API, with its status and reason code. */
export class ApiRequestFailed extends IntentLedgerError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** The analyst API over HTTP, as the CLI (and any script) uses it. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
    const q = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    return this.call<T>('GET', `${path}${q.size ? `?${q}` : ''}`);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw new ApiRequestFailed(0, 'API_UNREACHABLE', `cannot reach the analyst API at ${this.baseUrl} (${(e as Error).cause ? String((e as Error & { cause: Error }).cause.message) : (e as Error).message}); start it with \`intent-ledger api\` or set IL_API_URL`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiRequestFailed(res.status, 'API_BAD_RESPONSE', `${method} ${path}: HTTP ${res.status}, not JSON`);
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } }).error;
      throw new ApiRequestFailed(res.status, err?.code ?? `HTTP_${res.status}`, `${method} ${path}: ${err?.message ?? `HTTP ${res.status}`}`);
    }
    return json as T;
  }
}
