/**
 * `tsx bench/src/agree.ts [--overlap] <reference.md> <run.md>...`: does each run agree with the reference report
 * (the one docs/benchmarks.md was written from)? A ratio agrees when the reference's median lies inside the run's
 * own min–max over its rounds; with `--overlap`, when the two min–max ranges overlap (each run's spread is its
 * rounds on one set of server processes, and a new set of processes can sit a percent or two away: on Fastify's
 * narrow spreads that alone puts a median outside). Prints one line per ratio that does not, and a count; exits
 * 1 if any does not.
 */
import { readFileSync } from 'node:fs'

interface Ratio { median: number; min: number; max: number }

/** Every ratio of a report, keyed by section, subject and reference. */
function ratios(file: string): Map<string, Ratio> {
  const out = new Map<string, Ratio>()
  let section = ''
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('#')) section = line.replace(/^#+\s*/, '')
    if (!line.startsWith('|')) continue
    const cells = line.split('|').slice(1, -1).map((c) => c.trim())
    const m = cells.map((c) => /^(\d+\.\d+)× \((\d+\.\d+)–(\d+\.\d+)\)$/.exec(c)).findIndex((x) => x !== null)
    if (m < 0) continue
    const [, median, min, max] = /^(\d+\.\d+)× \((\d+\.\d+)–(\d+\.\d+)\)$/.exec(cells[m]!)!
    const key = `${section} · ${cells.slice(0, m).filter((c) => !/^≥/.test(c)).join(' · ')}`
    out.set(key, { median: Number(median), min: Number(min), max: Number(max) })
  }
  return out
}

const args = process.argv.slice(2)
const overlap = args[0] === '--overlap'
const [reference, ...runs] = overlap ? args.slice(1) : args
if (!reference || runs.length === 0) {
  process.stderr.write('usage: tsx bench/src/agree.ts [--overlap] <reference.md> <run.md>...\n')
  process.exit(2)
}
const ref = ratios(reference)
let disagree = 0
for (const run of runs) {
  const got = ratios(run)
  let checked = 0
  for (const [key, r] of ref) {
    const g = got.get(key)
    if (!g) continue
    checked++
    if (overlap ? r.max < g.min || r.min > g.max : r.median < g.min || r.median > g.max) {
      disagree++
      const what = overlap ? `${r.min.toFixed(2)}–${r.max.toFixed(2)}` : `${r.median.toFixed(2)}×`
      process.stdout.write(`${run}: ${key}: reference ${what} outside ${g.min.toFixed(2)}–${g.max.toFixed(2)} (median ${g.median.toFixed(2)}×)\n`)
    }
  }
  process.stdout.write(`${run}: ${checked} ratios checked against ${reference}\n`)
}
process.stdout.write(`${disagree} disagree\n`)
process.exit(disagree > 0 ? 1 : 0)
