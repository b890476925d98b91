/** The one error type the dev servers raise on purpose: a code to branch on and a message a person can act on. */

export type DevServersErrorCode =
  | 'JAVA_MISSING'
  | 'MAVEN_MISSING'
  | 'POSTGRES_MISSING'
  | 'CONFIG_INVALID'
  | 'NOT_MANAGED'
  | 'START_FAILED';

export class DevServersError extends Error {
  readonly code: DevServersErrorCode;

  constructor(code: DevServersErrorCode, message: string) {
    super(message);
    this.name = 'DevServersError';
    this.code = code;
  }
}

export type ServiceName = 'kafka' | 'postgres';

/** The ways around a missing local tool, named in every preflight error. */
export function alternatives(service: ServiceName): string {
  const envHint =
    service === 'kafka'
      ? 'set KAFKA_BROKERS=host:port[,host:port] to use an existing Kafka broker'
      : 'set DATABASE_URL=postgresql://user@host:port/intent_ledger to use an existing Postgres (15 or newer)';
  return `Alternatives: ${envHint}; or, where a Docker engine exists, run \`docker compose up\` and export KAFKA_BROKERS / DATABASE_URL for it.`;
}
