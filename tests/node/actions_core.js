// Runs @actions/core's setSecret, exportVariable and setOutput on a corpus
// and prints what each wrote, for tests/it/github_commands.rs.
//
// Usage: node tests/node/actions_core.js <path to @actions/core> < corpus.json
//
// stdin: a JSON array of {"name": NAME, "value": VALUE}.
// stdout: a JSON array, one object per case:
//   {"mask": what setSecret(VALUE) wrote to stdout,
//    "env": the GITHUB_ENV file after exportVariable(NAME, VALUE),
//    "output": the GITHUB_OUTPUT file after setOutput(NAME, VALUE),
//    "error": a message when @actions/core threw (the other fields are then
//             what was written before)}
// Each case starts with empty files.
'use strict'

const fs = require('fs')
const os = require('os')
const path = require('path')

const corePath = process.argv[2]
if (!corePath) {
  process.stderr.write('usage: node actions_core.js <path to @actions/core> < corpus.json\n')
  process.exit(2)
}
const core = require(path.resolve(corePath))

const corpus = JSON.parse(fs.readFileSync(0, 'utf8'))
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsops-actions-core-'))
const envFile = path.join(dir, 'set_env')
const outputFile = path.join(dir, 'set_output')
process.env.GITHUB_ENV = envFile
process.env.GITHUB_OUTPUT = outputFile

// Calls f with process.stdout.write captured; returns what was written.
function captureStdout(f) {
  const chunks = []
  const write = process.stdout.write
  process.stdout.write = (chunk, encoding, callback) => {
    chunks.push(Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk))
    if (typeof encoding === 'function') encoding()
    else if (typeof callback === 'function') callback()
    return true
  }
  try {
    f()
  } finally {
    process.stdout.write = write
  }
  return chunks.join('')
}

const results = []
for (const {name, value} of corpus) {
  fs.writeFileSync(envFile, '')
  fs.writeFileSync(outputFile, '')
  const result = {mask: '', env: '', output: ''}
  try {
    result.mask = captureStdout(() => core.setSecret(value))
    core.exportVariable(name, value)
    core.setOutput(name, value)
  } catch (e) {
    result.error = String(e && e.message ? e.message : e)
  }
  delete process.env[name]
  result.env = fs.readFileSync(envFile, 'utf8')
  result.output = fs.readFileSync(outputFile, 'utf8')
  results.push(result)
}
fs.rmSync(dir, {recursive: true, force: true})
process.stdout.write(JSON.stringify(results))
