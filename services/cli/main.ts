import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, UsageError } from './args';
import { IntentLedgerError } from '../common/errors';

const USAGE = `intent-ledger: signed intent and action ledger for AI agents

Usage:
  intent-ledger demo [--traces FILE] [--report FILE]       replay the vendored AgentDojo runs through the pipeline
  intent-ledger eval agentdojo [--traces FILE] [--report FILE]  the same, listing every misclassified call; any trace file in the AgentDojo format
  intent-ledger services up|down|status                    the project's own Kafka and Postgres on 127.0.0.1
  intent-ledger migrate                                    apply the SQL migrations
  intent-ledger bench [--agents N] [--events N] [--consumers N] [--report FILE]  ingest throughput against the same run's ceilings
        [--section ingest|revocation|all] [--samples N] [--rate N]      and drift -> gateway refusal latency under fleet load
  intent-ledger ingest                                     run the ingest consumer until interrupted
  intent-ledger reconcile                                  run the reconciler until interrupted
  intent-ledger authz                                      run the request-time authorisation endpoint (needs IL_AUTHZ_TOKEN)
  intent-ledger api                                        run the analyst API and dashboard
  intent-ledger api-token NAME viewer|responder|admin      make an analyst token (printed once)
  intent-ledger drift ls [--agent A] [--intent I] [--reason R] [--severity S] [--since T] [--until T] [--limit N] [--all]
  intent-ledger drift show|ack ID [--note TEXT]            one finding; acknowledge it (responder)
  intent-ledger agents ls | agents show ID                 agents, and one agent's timeline
  intent-ledger revoke CREDENTIAL_ID --reason TEXT         revoke a credential now (responder)
  intent-ledger evidence --intent ID | --agent ID [--out FILE]  evidence bundle, checked by verify --bundle
  intent-ledger alerts                                     deliver drift alerts to the sinks in IL_ALERT_SINKS until interrupted
  intent-ledger alerts status [--json]                     delivery state per sink: delivered, pending, failed, last errors
  intent-ledger alerts retry [--sink NAME]                 put failed deliveries back in the queue (after fixing the cause)
  intent-ledger broker                                     run the credential broker (HTTP) until interrupted
  intent-ledger gateway                                    run the demo tool gateway (HTTP) until interrupted
  intent-ledger verify [--public-key KEY] [--json]         re-check every signature, chain and signed tree head
  intent-ledger verify --proof FILE [--public-key KEY]     check an inclusion proof, with no database
  intent-ledger verify --bundle FILE [--public-key KEY]    check an evidence bundle (from the API), with no database
  intent-ledger proof EVENT_ID                             inclusion proof of an event against the latest tree head
  intent-ledger ledger-key [--json]                        the ledger's public key, for auditors to pin

Options:
  --traces FILE    AgentDojo traces (JSON lines)   default: the vendored sample
  --report FILE    where to write the JSON report  default: demo-report.json
  --no-adversarial do not add the few forged and malformed records the demo sends
  --catalogue FILE tool catalogue (effects, targets) default: schema/catalogues/agentdojo.json
  --public-key KEY ledger public key to trust (base64url) default: IL_LEDGER_PUBLIC_KEY, else the key file's
  --proof FILE     a proof printed by \`intent-ledger proof\`
  --json           machine-readable output
  (drift, agents, revoke and evidence talk to the analyst API: IL_API_URL, IL_API_TOKEN)
  --sink NAME      only this sink's deliveries

Environment: see README.md (KAFKA_BROKERS, DATABASE_URL, IL_REVOKE_AT_SEVERITY, ...).`;

const OPTIONS = {
  traces: 'value', report: 'value', catalogue: 'value', 'no-adversarial': 'flag', help: 'flag', agents: 'value', events: 'value', consumers: 'value',
  'public-key': 'value', proof: 'value', bundle: 'value', json: 'flag', sink: 'value',
  agent: 'value', intent: 'value', reason: 'value', severity: 'value', since: 'value', until: 'value', limit: 'value', cursor: 'value', note: 'value', out: 'value', all: 'flag', section: 'value', samples: 'value', rate: 'value',
} as const;

function requireFile(file: string, what: string): string {
  const abs = path.resolve(file);
  if (!existsSync(abs) || !statSync(abs).isFile()) throw new UsageError(`${what} ${file} does not exist or is not a file`);
  return abs;
}

async function main(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  const [cmd, ...rest] = positional;
  if (argv.includes('-h')) options.help = true;
  const takesArgs: Record<string, number> = { eval: 1, services: 1, proof: 1, drift: 2, agents: 2, revoke: 1, 'api-token': 2, alerts: 1 };
  if (cmd && rest.length > (takesArgs[cmd] ?? 0)) throw new UsageError(`unexpected argument "${rest[takesArgs[cmd] ?? 0]}" for ${cmd}`);
  if (!cmd || options.help || cmd === 'help') {
    process.stdout.write(USAGE + '\n');
    return cmd || options.help ? 0 : 2;
  }
  switch (cmd) {
    case 'demo':
    case 'eval': {
      if (cmd === 'eval' && rest[0] === undefined) throw new UsageError('eval needs a format: `intent-ledger eval agentdojo --traces FILE`');
      if (cmd === 'eval' && rest[0] !== 'agentdojo') throw new UsageError(`unknown trace format "${rest[0]}"; the one supported is agentdojo`);
      const { runAgentDojo, DEFAULT_TRACES } = await import('../demo/runAgentDojo');
      const tracesPath = options.traces ? requireFile(String(options.traces), 'traces file') : DEFAULT_TRACES;
      await runAgentDojo({
        tracesPath,
        reportPath: path.resolve(String(options.report ?? 'demo-report.json')),
        cataloguePath: options.catalogue ? requireFile(String(options.catalogue), 'catalogue') : undefined,
        adversarial: !options['no-adversarial'],
        listMisclassified: cmd === 'eval',
      });
      return 0;
    }
    case 'services': {
      const { runServicesCommand } = await import('../devservers/main');
      return runServicesCommand(rest[0] ?? 'status');
    }
    case 'migrate': {
      const { ensureServices } = await import('../devservers');
      const { migrate } = await import('../../schema/migrate');
      const s = await ensureServices();
      const applied = await migrate(s.databaseUrl);
      process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'schema is up to date\n');
      return 0;
    }
    case 'bench': {
      const { runBench } = await import('../bench/runBench');
      const positive = (v: unknown, name: string, dflt: number) => {
        if (v === undefined) return dflt;
        if (!/^[1-9]\d{0,6}$/.test(String(v))) throw new UsageError(`--${name} must be a positive integer; got "${v}"`);
        return Number(v);
      };
      const agents = positive(options.agents, 'agents', 1000);
      const events = positive(options.events, 'events', 30_000);
      const section = options.section === undefined ? 'all' : String(options.section);
      if (section !== 'all' && section !== 'ingest' && section !== 'revocation') throw new UsageError(`--section must be ingest, revocation or all; got "${section}"`);
      await runBench({
        agents,
        eventsPerAgent: Math.max(1, Math.ceil(events / agents)),
        consumers: options.consumers === undefined ? undefined : positive(options.consumers, 'consumers', 1),
        reportPath: options.report ? path.resolve(String(options.report)) : undefined,
        section,
        revocationSamples: positive(options.samples, 'samples', 100),
        revocationRate: positive(options.rate, 'rate', 1200),
      });
      return 0;
    }
    case 'ingest':
    case 'reconcile': {
      const { runConsumerCommand } = await import('./runConsumer');
      return runConsumerCommand(cmd);
    }
    case 'api': {
      const { runApiCommand } = await import('../api/runApi');
      return runApiCommand();
    }
    case 'api-token': {
      const { runApiToken } = await import('./analystCommands');
      return runApiToken(rest[0], rest[1]);
    }
    case 'drift': {
      const { runDrift } = await import('./analystCommands');
      return runDrift(rest[0], rest[1], options);
    }
    case 'agents': {
      const { runAgents } = await import('./analystCommands');
      return runAgents(rest[0], rest[1], options);
    }
    case 'revoke': {
      const { runRevoke } = await import('./analystCommands');
      return runRevoke(rest[0], options);
    }
    case 'evidence': {
      const { runEvidence } = await import('./analystCommands');
      return runEvidence(options);
    }
    case 'authz': {
      const { runAuthzCommand } = await import('../authz/runAuthz');
      return runAuthzCommand();
    }
    case 'alerts': {
      if (rest[0] === undefined) {
        const { runConsumerCommand } = await import('./runConsumer');
        return runConsumerCommand('alerts');
      }
      const { runAlertsStatus, runAlertsRetry } = await import('./alertsCommands');
      if (rest[0] === 'status') return runAlertsStatus(options);
      if (rest[0] === 'retry') return runAlertsRetry(options);
      throw new UsageError(`unknown alerts command "${rest[0]}"; use \`intent-ledger alerts\`, \`alerts status\` or \`alerts retry\``);
    }
    case 'broker':
    case 'gateway': {
      const { runHttpServiceCommand } = await import('./runHttpService');
      return runHttpServiceCommand(cmd);
    }
    case 'verify': {
      const { runVerify } = await import('./integrityCommands');
      return runVerify(options);
    }
    case 'proof': {
      const { runProof } = await import('./integrityCommands');
      return runProof(rest[0]);
    }
    case 'ledger-key': {
      const { runLedgerKey } = await import('./integrityCommands');
      return runLedgerKey(options);
    }
    default:
      throw new UsageError(`unknown command "${cmd}"; run \`intent-ledger help\``);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof IntentLedgerError) {
      process.stderr.write(`intent-ledger: ${e.message} [${e.code}]\n`);
      process.exit(e instanceof UsageError ? 2 : 1);
    }
    process.stderr.write(`intent-ledger: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
