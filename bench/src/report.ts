/**
 * The printed report: markdown tables (readable in a terminal, pasted as is into docs/benchmarks.md).
 */
import type { HttpMeasurement } from './http-scenarios.js'

export interface HttpRow {
  scenario: string
  m: HttpMeasurement
  /** The unprotected server of the same framework in this run; undefined for a baseline row itself. */
  baseline?: HttpMeasurement
}

export interface Target {
  name: string
  goal: string
  measured: string
  pass: boolean
}

/** Decimal megabytes (10^6 bytes): the stricter reading of the issue's "64 MB". */
const MB = 1e6

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  return [line(headers), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n')
}

export const int = (n: number): string => Math.round(n).toLocaleString('en-US')
export const fixed = (n: number | undefined, digits = 2): string => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits))
export const mb = (bytes: number): string => (bytes / MB).toFixed(1)
export const ratio = (n: number): string => `${n.toFixed(2)}×`

export function httpTable(rows: HttpRow[]): string {
  return table(
    ['scenario', 'req/s', 'p50 ms', 'p99 ms', '× baseline', 'server CPU µs/req', 'peak heap MB (server)', 'peak RSS MB (process)', 'other load', 'failed'],
    rows.map(({ scenario, m, baseline }) => [
      scenario,
      int(m.rps),
      fixed(m.p50),
      fixed(m.p99),
      baseline ? ratio(m.rps / baseline.rps) : 'baseline',
      fixed(m.cpuUsPerRequest, 1),
      mb(m.peakHeap),
      mb(m.peakRss),
      m.interference === undefined ? '–' : `${Math.round(m.interference * 100)}%`,
      String(m.failures),
    ]),
  )
}

export function targetTable(targets: Target[]): string {
  return table(['target', 'goal', 'measured', 'result'], targets.map((t) => [t.name, t.goal, t.measured, t.pass ? 'PASS' : 'MISS']))
}
