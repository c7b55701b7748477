#!/usr/bin/env node
// The `recomart` command: dispatches to the app that owns each subcommand.
import { main } from '@recomart/cli';

main().catch((err) => {
  process.stderr.write(`recomart: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
