/** The report as text a person reads: one line per check (✔ ✘ ! ·), details indented, then the verdict. */
import type { CheckStatus, DoctorReport } from './diagnose.js'

const MARK: Record<CheckStatus, string> = { pass: '✔', fail: '✘', warn: '!', info: '·' }

/** Wrap `text` at `width` columns, every line after the first indented by `indent`. */
function wrap(text: string, indent: string, width = 100): string {
  const words = text.split(' ')
  const lines: string[] = []
  let line = ''
  for (const word of words) {
    if (line && line.length + 1 + word.length > width - indent.length) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(line)
  return lines.join(`\n${indent}`)
}

export function formatReport(report: DoctorReport): string {
  const out: string[] = [`mcp-oauth doctor: ${report.issuer}${report.resource ? `  (resource ${report.resource})` : ''}`]
  if (report.provider) out.push(`Provider: ${report.provider.name} — profile ${report.provider.profile}, guide ${report.provider.guide}`)
  out.push('')
  for (const check of report.checks) {
    out.push(`${MARK[check.status]} ${check.title}`)
    for (const detail of check.details) out.push(`    ${detail}`)
    if (check.fix && check.status !== 'pass') out.push(`    ${check.status === 'info' ? 'note' : 'fix'}: ${wrap(check.fix, '         ')}`)
  }
  const count = (s: CheckStatus): number => report.checks.filter((c) => c.status === s).length
  const problems = count('fail')
  const warnings = count('warn')
  const tally = `${problems} problem${problems === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`
  out.push('')
  out.push(report.verdict === 'fail'
    ? `✘ MCP clients will not work with this authorization server as it is (${tally}).`
    : report.verdict === 'warn'
      ? `! MCP clients will work, with caveats (${tally}).`
      : '✔ MCP clients will work with this authorization server.')
  return out.join('\n')
}
