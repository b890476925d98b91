#!/usr/bin/env node
// The `intent-ledger` command. Runs the TypeScript sources through tsx so there is no build step to forget.
// Both hooks are needed: require() of .ts files, and the dynamic import() the CLI uses to load commands lazily.
'use strict';
const path = require('node:path');
require('tsx/cjs/api').register();
require('tsx/esm/api').register();
require(path.join(__dirname, '..', 'services', 'cli', 'main.ts'));
