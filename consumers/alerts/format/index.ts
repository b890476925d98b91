import type { Delivery } from '../delivery';
import { formatJson } from './json';
import { formatCef } from './cef';
import { formatOcsf } from './ocsf';

export type AlertFormat = 'json' | 'ocsf' | 'cef';

/** The body of a delivery in a sink's format, and the media type a receiver should read it as. */
export const FORMATS: Record<AlertFormat, { render: (d: Delivery) => string; contentType: string }> = {
  json: { render: formatJson, contentType: 'application/json' },
  ocsf: { render: formatOcsf, contentType: 'application/json' },
  cef: { render: formatCef, contentType: 'text/plain; charset=utf-8' },
};

export { formatJson, alertJson } from './json';
export { formatCef, cefHeaderEscape, cefValueEscape, CEF_SEVERITY } from './cef';
export { formatOcsf, ocsfDetectionFinding, OCSF_SEVERITY, OCSF_VERSION } from './ocsf';
export { syslog5424, octetCountingFrame, sdEscape, FACILITIES, SYSLOG_SEVERITY, type Facility, type SyslogHeader } from './syslog5424';
export { fitToSize, TRUNCATED } from './fitToSize';
export { PRODUCT, reasonTitle } from './product';
