import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Who emits the alerts, as CEF's device and OCSF's product name it. */
export const PRODUCT = {
  vendor: 'Intent Ledger',
  name: 'intent-ledger',
  version: (JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version,
};

/** `TOOL_NOT_ALLOWED` -> `Tool not allowed`: a title for people, the code stays in its own field. */
export function reasonTitle(code: string): string {
  const words = code.toLowerCase().split('_');
  return words.map((w, i) => (i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w)).join(' ');
}
