#!/usr/bin/env node
// The `intent-ledger` command. Runs the TypeScript sources through tsx so there is no build step to forget.
'use strict';
const path = require('node:path');
require('tsx/cjs/api').register();
require(path.join(__dirname, '..', 'services', 'cli', 'main.ts'));
