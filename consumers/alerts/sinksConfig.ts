import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../../schema/reasons';
import { parseStrictJson } from '../../schema/crypto/strictJson';
import { AlertConfigError } from './errors';
import { FACILITIES, type Facility } from './format/syslog5424';

/**
 * Where alerts go, read from the JSON file named by IL_ALERT_SINKS. Every field is checked at load, unknown
 * fields are errors (a misspelt `severites` must not silently route everything everywhere), and secrets are never
 * in the file: a sink names the environment variable that holds its key.
 */

const Name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a sink name is 1-63 chars of [a-z0-9_-], starting with a letter or digit');
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'an environment variable name');
const Host = z.string().min(1).max(253).regex(/^[A-Za-z0-9.:-]+$/, 'a host name or IP address');
const Port = z.number().int().min(1).max(65535);
const Window = z.number().int().min(0).max(86_400);
const noInlineSecret = z
  .never({ error: 'secrets may not be written in the sinks file; put the key in an environment variable and name it in secretEnv' })
  .optional();

const Common = {
  name: Name,
  /** The severities this sink receives; all of them when absent. */
  severities: z.array(z.enum(SEVERITIES)).min(1).max(4).optional(),
  /** Overrides the file's dedupeWindowSeconds for this sink. */
  dedupeWindowSeconds: Window.optional(),
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
};

const Webhook = z
  .object({
    ...Common,
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).refine((u) => {
      const p = new URL(u);
      return p.username === '' && p.password === '';
    }, 'credentials may not be written in the URL; the body is signed with the key named in secretEnv'),
    format: z.enum(['json', 'ocsf', 'cef']).default('json'),
    /** The environment variable holding the HMAC-SHA256 key (at least 32 characters). */
    secretEnv: EnvName,
    secret: noInlineSecret,
    key: noInlineSecret,
  })
  .strict();

const Syslog = z
  .object({
    ...Common,
    type: z.literal('syslog'),
    transport: z.enum(['udp', 'tcp']),
    host: Host,
    port: Port,
    format: z.enum(['cef', 'json', 'ocsf']).default('cef'),
    facility: z.enum(Object.keys(FACILITIES) as [Facility, ...Facility[]]).default('local0'),
    appName: z.string().regex(/^[!-~]{1,48}$/, 'APP-NAME is 1-48 printable US-ASCII characters').default('intent-ledger'),
    hostname: z.string().regex(/^[!-~]{1,255}$/, 'HOSTNAME is 1-255 printable US-ASCII characters').optional(),
    /** The private enterprise number in the structured-data id; 32473 is RFC 5612's number for documentation. */
    enterpriseId: z.string().regex(/^\d+(\.\d+)*$/).default('32473'),
    /** Largest syslog message (header, structured data and text); a longer detail is cut to fit. */
    maxMessageBytes: z.number().int().min(480).max(1_048_576).optional(),
    /** UDP only: how long to wait after a send for the host to report the port closed (ICMP). */
    confirmMs: z.number().int().min(0).max(10_000).default(100),
  })
  .strict();

const KafkaSink = z
  .object({
    ...Common,
    type: z.literal('kafka'),
    topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name'),
    /** host:port,...; the ledger's own brokers when absent. */
    brokers: z.string().regex(/^[A-Za-z0-9.:[\]-]+(,[A-Za-z0-9.:[\]-]+)*$/, 'host:port[,host:port...]').optional(),
    format: z.enum(['json', 'ocsf', 'cef']).default('json'),
  })
  .strict();

const Sink = z.discriminatedUnion('type', [Webhook, Syslog, KafkaSink]);

const File = z
  .object({
    version: z.literal(1),
    /** Same agent, reason code and intent within this many seconds: one delivery with a count. 0: no folding. */
    dedupeWindowSeconds: Window.default(0),
    retry: z
      .object({
        initialDelayMs: z.number().int().min(10).max(3_600_000).default(1_000),
        maxDelayMs: z.number().int().min(10).max(86_400_000).default(300_000),
        /** Attempts before a delivery is marked failed; 0: keep trying (a sink that is down may come back). */
        maxAttempts: z.number().int().min(0).max(1_000_000).default(0),
      })
      .strict()
      .default({ initialDelayMs: 1_000, maxDelayMs: 300_000, maxAttempts: 0 }),
    dispatch: z
      .object({
        pollMs: z.number().int().min(10).max(60_000).default(500),
        batchSize: z.number().int().min(1).max(10_000).default(100),
        /** A claimed delivery whose dispatcher died is tried again after this long. */
        leaseMs: z.number().int().min(1_000).max(3_600_000).default(60_000),
      })
      .strict()
      .default({ pollMs: 500, batchSize: 100, leaseMs: 60_000 }),
    sinks: z.array(Sink).max(64),
  })
  .strict();

export type WebhookSinkConfig = Omit<z.infer<typeof Webhook>, 'secret' | 'key'> & { severities: Severity[]; dedupeWindowSeconds: number; hmacKey: Buffer };
export type SyslogSinkConfig = z.infer<typeof Syslog> & { severities: Severity[]; dedupeWindowSeconds: number; hostname: string; maxMessageBytes: number };
export type KafkaSinkConfig = z.infer<typeof KafkaSink> & { severities: Severity[]; dedupeWindowSeconds: number };
export type SinkConfig = WebhookSinkConfig | SyslogSinkConfig | KafkaSinkConfig;

export interface RetryPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
}

export interface AlertSinksConfig {
  /** The file it came from; null when IL_ALERT_SINKS is unset (alerts are then only recorded). */
  source: string | null;
  retry: RetryPolicy;
  dispatch: { pollMs: number; batchSize: number; leaseMs: number };
  sinks: SinkConfig[];
}

export const NO_SINKS: AlertSinksConfig = {
  source: null,
  retry: { initialDelayMs: 1_000, maxDelayMs: 300_000, maxAttempts: 0 },
  dispatch: { pollMs: 500, batchSize: 100, leaseMs: 60_000 },
  sinks: [],
};

/** The shortest HMAC key accepted: 32 characters (RFC 2104 wants at least the hash's 32 bytes of strength). */
export const MIN_HMAC_KEY_CHARS = 32;

/** Validates a parsed sinks file and resolves each sink's secret from `env`. */
export function parseSinksConfig(json: unknown, source: string, env: NodeJS.ProcessEnv = process.env): AlertSinksConfig {
  const parsed = File.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AlertConfigError('ALERT_SINKS_INVALID', `${source} is not a valid sinks file: ${issues}`);
  }
  const f = parsed.data;
  if (f.retry.maxDelayMs < f.retry.initialDelayMs) {
    throw new AlertConfigError('ALERT_SINKS_INVALID', `${source} is not a valid sinks file: retry.maxDelayMs (${f.retry.maxDelayMs}) is below retry.initialDelayMs (${f.retry.initialDelayMs})`);
  }
  const seen = new Set<string>();
  const sinks = f.sinks.map((s, i): SinkConfig => {
    if (seen.has(s.name)) throw new AlertConfigError('ALERT_SINK_DUPLICATE', `${source}: sinks.${i}.name: "${s.name}" names two sinks; delivery state is kept per sink name`);
    seen.add(s.name);
    const common = { severities: s.severities ?? [...SEVERITIES], dedupeWindowSeconds: s.dedupeWindowSeconds ?? f.dedupeWindowSeconds };
    switch (s.type) {
      case 'webhook': {
        const { secret: _s, key: _k, ...rest } = s;
        const value = env[s.secretEnv];
        if (value === undefined || value === '') {
          throw new AlertConfigError('ALERT_SINK_SECRET_MISSING', `${source}: sink "${s.name}" signs with the key in ${s.secretEnv}, which is not set`);
        }
        if (value.length < MIN_HMAC_KEY_CHARS) {
          throw new AlertConfigError('ALERT_SINKS_INVALID', `${source}: sink "${s.name}": ${s.secretEnv} holds ${value.length} characters; an HMAC key needs at least ${MIN_HMAC_KEY_CHARS}`);
        }
        return { ...rest, ...common, hmacKey: Buffer.from(value, 'utf8') };
      }
      case 'syslog':
        return { ...s, ...common, hostname: s.hostname ?? syslogHostname(), maxMessageBytes: s.maxMessageBytes ?? (s.transport === 'udp' ? 8_192 : 65_536) };
      case 'kafka':
        return { ...s, ...common };
    }
  });
  return { source, retry: f.retry, dispatch: f.dispatch, sinks };
}

/** Reads and validates the sinks file; no path means no sinks (alerts are recorded, not sent anywhere). */
export function loadSinksConfig(path: string | null, env: NodeJS.ProcessEnv = process.env): AlertSinksConfig {
  if (path === null) return NO_SINKS;
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (e) {
    throw new AlertConfigError('ALERT_SINKS_UNREADABLE', `cannot read sinks file ${path} (IL_ALERT_SINKS): ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = parseStrictJson(text, { maxDepth: 16, maxBytes: 1024 * 1024 });
  } catch (e) {
    throw new AlertConfigError('ALERT_SINKS_NOT_JSON', `sinks file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseSinksConfig(json, `sinks file ${path}`, env);
}

/** RFC 5424 HOSTNAME: printable US-ASCII, no spaces. */
function syslogHostname(): string {
  const h = hostname().replace(/[^!-~]/g, '');
  return h.length > 0 ? h.slice(0, 255) : '-';
}
