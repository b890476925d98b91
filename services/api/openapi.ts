import { z } from 'zod';
import type { Route } from './routes';
import { ApiError } from './apiSchemas';

/** The OpenAPI 3.1 document of the analyst API, generated from the same zod schemas the server validates with. */
export function openApiDocument(routes: Route[], version: string): Record<string, unknown> {
  const json = (schema: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  const error = json(ApiError, 'output');
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const q = json(r.query, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
    const pathParams = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const queryParams = Object.entries(q.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: (q.required ?? []).includes(name) && schema.default === undefined, schema }));
    const errors = Object.fromEntries(
      [
        ['400', 'bad request (REQUEST_INVALID)'],
        ['401', 'no valid analyst token (UNAUTHENTICATED)'],
        ['403', 'the analyst lacks the role (FORBIDDEN)'],
        ['404', 'no such resource (NOT_FOUND)'],
        ['409', 'not possible in the current state'],
        ['503', 'the request could not be recorded in the ledger (AUDIT_NOT_RECORDED)'],
      ].map(([code, description]) => [code, { description, content: { 'application/json': { schema: error } } }]),
    );
    paths[r.path] = {
      ...(paths[r.path] ?? {}),
      [r.method.toLowerCase()]: {
        summary: r.summary,
        description: `Role: ${r.role} or above. Recorded in the ledger as an analyst.activity event (${r.action}).`,
        security: [{ analystToken: [] }],
        parameters: [...pathParams, ...queryParams],
        ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: json(r.body, 'input') } } } } : {}),
        responses: { '200': { description: 'OK', content: { 'application/json': { schema: json(r.response, 'output') } } }, ...errors },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Intent Ledger analyst API', version, description: 'Drift findings, agents, intents, credentials, ledger integrity and evidence bundles.' },
    components: { securitySchemes: { analystToken: { type: 'http', scheme: 'bearer', description: 'an analyst token (intent-ledger api-token NAME ROLE)' } } },
    paths,
  };
}
