import type { Delivery } from '../delivery';
import type { SyslogSinkConfig } from '../sinksConfig';
import { FORMATS, fitToSize, syslog5424 } from '../format';
import { SinkError } from '../errors';

/** The RFC 5424 message for a delivery, its detail cut to fit the sink's maxMessageBytes. Pure. */
export function syslogMessageFor(d: Delivery, cfg: SyslogSinkConfig, procId: string = String(process.pid)): Buffer {
  const header = { facility: cfg.facility, hostname: cfg.hostname, appName: cfg.appName, procId, enterpriseId: cfg.enterpriseId };
  let msg: Buffer | null;
  try {
    msg = fitToSize(d, cfg.maxMessageBytes, (x) => syslog5424(x, FORMATS[cfg.format].render(x), header));
  } catch (e) {
    throw new SinkError('SINK_FORMAT_FAILED', `cannot format delivery ${d.deliveryId} as ${cfg.format}: ${(e as Error).message}`, false);
  }
  if (msg === null) throw new SinkError('SINK_TOO_LARGE', `delivery ${d.deliveryId} does not fit in ${cfg.maxMessageBytes} bytes even without its detail`, false);
  return msg;
}
