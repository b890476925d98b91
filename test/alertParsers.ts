/**
 * Independent readers of what the alert sinks emit, as a SIEM would parse it: RFC 5424 syslog, RFC 6587 octet
 * counting, and CEF. Written from the specifications, not from our formatters, so a test that round-trips through
 * them checks the format and not our own assumptions twice.
 */

export interface Syslog5424 {
  pri: number;
  facility: number;
  severity: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sd: Record<string, Record<string, string>>;
  msg: string;
  bom: boolean;
}

export function parseSyslog5424(buf: Buffer): Syslog5424 {
  const s = buf.toString('utf8');
  const m = /^<(\d{1,3})>(\d{1,2}) /.exec(s);
  if (!m) throw new Error(`not RFC 5424: ${s.slice(0, 40)}`);
  let i = m[0].length;
  const token = () => {
    const j = s.indexOf(' ', i);
    if (j < 0) throw new Error('truncated header');
    const t = s.slice(i, j);
    i = j + 1;
    return t;
  };
  const [timestamp, hostname, appName, procId, msgId] = [token(), token(), token(), token(), token()];
  const sd: Record<string, Record<string, string>> = {};
  if (s[i] === '-') i += 1;
  else {
    while (s[i] === '[') {
      i += 1;
      const idEnd = s.slice(i).search(/[ \]]/) + i;
      const id = s.slice(i, idEnd);
      i = idEnd;
      const params: Record<string, string> = {};
      while (s[i] === ' ') {
        i += 1;
        const eq = s.indexOf('="', i);
        const name = s.slice(i, eq);
        i = eq + 2;
        let v = '';
        while (s[i] !== '"') {
          if (s[i] === '\\' && ['"', '\\', ']'].includes(s[i + 1]!)) {
            v += s[i + 1];
            i += 2;
          } else v += s[i++];
          if (i >= s.length) throw new Error('unterminated SD-PARAM');
        }
        i += 1;
        params[name] = v;
      }
      if (s[i] !== ']') throw new Error(`bad SD-ELEMENT at ${i}`);
      i += 1;
      sd[id] = params;
    }
  }
  let rest = s.slice(i);
  if (rest.startsWith(' ')) rest = rest.slice(1);
  const bom = rest.startsWith('\ufeff');
  const pri = Number(m[1]);
  return { pri, facility: pri >> 3, severity: pri & 7, version: Number(m[2]), timestamp, hostname, appName, procId, msgId, sd, msg: bom ? rest.slice(1) : rest, bom };
}

/** Splits an RFC 6587 octet-counted stream into messages; returns them and the unconsumed tail. */
export function splitOctetCounted(stream: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let at = 0;
  for (;;) {
    const sp = stream.indexOf(0x20, at);
    if (sp < 0) break;
    const len = Number(stream.subarray(at, sp).toString('ascii'));
    if (!Number.isInteger(len) || len <= 0) throw new Error(`bad MSG-LEN at ${at}`);
    if (stream.length < sp + 1 + len) break;
    messages.push(stream.subarray(sp + 1, sp + 1 + len));
    at = sp + 1 + len;
  }
  return { messages, rest: stream.subarray(at) };
}

export interface Cef {
  version: number;
  vendor: string;
  product: string;
  deviceVersion: string;
  signatureId: string;
  name: string;
  severity: string;
  ext: Record<string, string>;
}

export function parseCef(line: string): Cef {
  if (!line.startsWith('CEF:')) throw new Error(`not CEF: ${line.slice(0, 40)}`);
  const header: string[] = [];
  let cur = '';
  let i = 4;
  while (header.length < 7) {
    const ch = line[i];
    if (ch === undefined) throw new Error('CEF header has fewer than 7 fields');
    if (ch === '\\' && (line[i + 1] === '|' || line[i + 1] === '\\')) {
      cur += line[i + 1];
      i += 2;
    } else if (ch === '|') {
      header.push(cur);
      cur = '';
      i += 1;
    } else {
      cur += ch;
      i += 1;
    }
  }
  const extText = line.slice(i);
  // A key starts the text or follows a space, and is followed by an unescaped '='.
  const keys: Array<{ key: string; start: number; valueStart: number }> = [];
  const re = /(?:^| )([A-Za-z0-9_]+)=/g;
  for (let m = re.exec(extText); m; m = re.exec(extText)) {
    const eqAt = m.index + m[0].length - 1;
    let backslashes = 0;
    for (let k = eqAt - 1; k >= 0 && extText[k] === '\\'; k--) backslashes++;
    if (backslashes % 2 === 1) continue;
    keys.push({ key: m[1]!, start: m.index, valueStart: m.index + m[0].length });
  }
  const ext: Record<string, string> = {};
  keys.forEach((k, n) => {
    const raw = extText.slice(k.valueStart, n + 1 < keys.length ? keys[n + 1]!.start : extText.length);
    ext[k.key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
  });
  return { version: Number(header[0]), vendor: header[1]!, product: header[2]!, deviceVersion: header[3]!, signatureId: header[4]!, name: header[5]!, severity: header[6]!, ext };
}
