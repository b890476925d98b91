#!/usr/bin/env node
// Generates the Prisma client from schema/prisma/schema.prisma without network access.
// Prisma's CLI insists on locating its schema engine even for `generate`, which does not use it; the
// engine is a native download we cannot make, so we point the variable at an existing file.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
const cli = require.resolve('prisma/build/index.js', { paths: [root] });
const r = spawnSync(process.execPath, [cli, 'generate', '--schema', path.join(root, 'schema/prisma/schema.prisma')], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.exit(r.status === null ? 1 : r.status);
