#!/usr/bin/env node
/**
 * The `edgerec-train` executable (started by `bin/edgerec-train.js`). Everything happens in
 * {@link runCli}; this file only wires the process to it, in the directory the user ran the
 * command in (see {@link invocationDir}).
 *
 * @module
 */
import { invocationDir } from './invocation.js'
import { runCli } from './run.js'

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: invocationDir(process.env, process.cwd()),
})
