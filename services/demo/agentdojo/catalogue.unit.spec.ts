import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CatalogueError, loadCatalogue, lookupTool, toolsOf, addressesInText } from '../../../schema/catalogue';
import { DEFAULT_CATALOGUE } from './offlineEval';

interface SourceTool {
  name: string;
  args: string[];
}
const source = JSON.parse(readFileSync(path.join(__dirname, 'data', 'tools.json'), 'utf8')) as Record<string, SourceTool[]>;
const catalogue = loadCatalogue(DEFAULT_CATALOGUE);

describe('the AgentDojo tool catalogue', () => {
  it('covers every tool of every suite in tools.json, in the right toolset', () => {
    for (const [suite, tools] of Object.entries(source)) {
      for (const t of tools) {
        const spec = lookupTool(catalogue, t.name);
        expect({ suite, tool: t.name, known: spec !== undefined }).toEqual({ suite, tool: t.name, known: true });
        expect(spec!.toolsets).toContain(suite);
      }
      expect(toolsOf(catalogue, suite)).toEqual(tools.map((t) => t.name).sort());
    }
  });

  it('only names arguments the tools have', () => {
    const argsOf = new Map(Object.values(source).flat().map((t) => [t.name, t.args]));
    for (const [name, spec] of Object.entries(catalogue.tools)) {
      for (const arg of [...Object.keys(spec.targetArgs), ...spec.contentArgs]) expect(argsOf.get(name)).toContain(arg);
    }
  });

  it('marks the tools that send outside the principal as external', () => {
    for (const t of ['send_email', 'send_money', 'post_webpage', 'invite_user_to_slack', 'share_file']) {
      expect(lookupTool(catalogue, t)?.effect).toBe('external');
    }
    for (const t of ['delete_file', 'delete_email', 'remove_user_from_slack', 'cancel_calendar_event']) {
      expect(lookupTool(catalogue, t)?.effect).toBe('destructive');
    }
  });
});

describe('loadCatalogue', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'catalogue-'));
  const write = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('refuses a missing file, bad JSON and a bad schema with typed errors', () => {
    expect(() => loadCatalogue(path.join(dir, 'missing.json'))).toThrow(CatalogueError);
    expect(() => loadCatalogue(write('bad.json', '{'))).toThrow(/is not valid JSON: MALFORMED_JSON/);
    // Read strictly: a second "effect" must not quietly turn a send into a read.
    expect(() => loadCatalogue(write('dup.json', '{"name":"x","version":1,"tools":{"t":{"effect":"external","effect":"read","dataClass":"d"}}}'))).toThrow(/DUPLICATE_KEY/);
    const badEffect = { name: 'x', version: 1, tools: { t: { effect: 'teleport', dataClass: 'd' } } };
    expect(() => loadCatalogue(write('effect.json', JSON.stringify(badEffect)))).toThrow(/tools\.t\.effect/);
    const badKind = { name: 'x', version: 1, tools: { t: { effect: 'read', dataClass: 'd', targetArgs: { a: 'Not Snake' } } } };
    expect(() => loadCatalogue(write('kind.json', JSON.stringify(badKind)))).toThrow(CatalogueError);
  });

  it('fills defaults for optional fields', () => {
    const c = loadCatalogue(write('min.json', JSON.stringify({ name: 'x', version: 1, tools: { t: { effect: 'read', dataClass: 'd' } } })));
    expect(c.tools.t).toEqual({ effect: 'read', dataClass: 'd', toolsets: [], targetArgs: {}, contentArgs: [] });
    expect(c.nameKinds).toEqual([]);
  });
});

describe('addressesInText', () => {
  it('finds e-mails, URLs and IBANs but not file names or e-mail domains', () => {
    const found = addressesInText(
      'Mail Bob@X.com, see https://www.site.org/a. and www.other.net; pay GB29 NWBK 6016 1331 9268 19 for bill-2023.txt',
    );
    expect(found).toEqual([
      { kind: 'email', value: 'bob@x.com' },
      { kind: 'url', value: 'site.org/a' },
      { kind: 'url', value: 'other.net' },
      { kind: 'iban', value: 'GB29NWBK60161331926819' },
    ]);
  });
});
