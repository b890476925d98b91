import type { SinkConfig } from '../sinksConfig';
import type { Sink } from './sink';
import { webhookSink } from './webhookSink';
import { syslogTcpSink } from './syslogTcpSink';
import { syslogUdpSink } from './syslogUdpSink';
import { kafkaSink } from './kafkaSink';

/** The sink a configuration describes. Nothing connects until the first delivery. */
export function createSink(cfg: SinkConfig, ctx: { kafkaBrokers: string[]; clientId: string }): Sink {
  switch (cfg.type) {
    case 'webhook':
      return webhookSink(cfg);
    case 'syslog':
      return cfg.transport === 'tcp' ? syslogTcpSink(cfg) : syslogUdpSink(cfg);
    case 'kafka':
      return kafkaSink(cfg, ctx.kafkaBrokers, ctx.clientId);
  }
}
