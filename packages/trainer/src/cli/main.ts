#!/usr/bin/env node
/**
 * The `edgerec-train` executable. Everything happens in {@link runCli}; this file only wires the
 * process to it.
 *
 * @module
 */
import { runCli } from './run.js'

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
})
