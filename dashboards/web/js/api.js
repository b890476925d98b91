/** The analyst API as the dashboard uses it: the token lives in sessionStorage (gone with the tab) and goes with every call. */
const TOKEN_KEY = 'intent-ledger.analyst-token';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(path, query = {}) {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  let res;
  try {
    res = await fetch(`${path}${q.size ? `?${q}` : ''}`, { headers: { authorization: `Bearer ${token.get() ?? ''}`, accept: 'application/json' }, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'API_UNREACHABLE', `cannot reach the analyst API (${e.message})`);
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(res.status, 'API_BAD_RESPONSE', `${path}: HTTP ${res.status}, not JSON`);
  }
  if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

let reasonCodes = null;
/** The reason codes the findings filter offers, read from the OpenAPI document (which needs no token). */
export async function findingReasonCodes() {
  if (reasonCodes) return reasonCodes;
  const doc = await (await fetch('/openapi.json')).json();
  const p = doc.paths['/v1/findings'].get.parameters.find((x) => x.name === 'reason');
  reasonCodes = p?.schema?.enum ?? [];
  return reasonCodes;
}
