#!/usr/bin/env node
// Shim: runs the compiled CLI and sets the exit code; a closed stdout pipe (EPIPE) exits 0 quietly.
import { main } from '../dist/cli/main.js'

process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})
process.exitCode = await main(process.argv.slice(2), process)
