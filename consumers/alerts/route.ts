import type { DriftAlert } from '../reconciler/reconcileNotice';
import type { SinkConfig } from './sinksConfig';

/** The sinks an alert goes to: those whose severities include the alert's. Pure; order is the file's. */
export function routeAlert<S extends Pick<SinkConfig, 'name' | 'severities'>>(alert: Pick<DriftAlert, 'severity'>, sinks: readonly S[]): S[] {
  return sinks.filter((s) => s.severities.includes(alert.severity));
}
