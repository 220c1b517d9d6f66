/** The command line: `mcp-oauth-doctor <issuer> [--resource <url>] [--json] [--strict] [--timeout <ms>]`. */
import { parseArgs } from 'node:util'
import { diagnose } from './diagnose.js'
import { formatReport } from './format.js'

export const USAGE = `Usage: mcp-oauth-doctor <issuer> [--resource <url>] [--json] [--strict] [--timeout <ms>]

Checks whether MCP clients will work with an authorization server: discovery, issuer, PKCE S256,
client registration (DCR / CIMD), audience, JWKS, introspection — and, with --resource, the MCP
server's protected resource metadata and 401 challenge.

  <issuer>          the issuer URL, exactly as your tokens' "iss" claim
  --resource <url>  the MCP server's URL (its canonical resource URI)
  --json            print the report as JSON (for CI)
  --strict          exit 1 on warnings too
  --timeout <ms>    timeout per request (default 5000)

Exit code: 0 when MCP clients will work, 1 when they will not, 2 for a usage error.`

export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  fetch?: typeof fetch
}

/** Run the doctor on `argv` (without the node and script paths); resolves with the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (err) {
    io.stderr(`${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help) {
    io.stdout(USAGE)
    return 0
  }
  const timeout = values.timeout === undefined ? 5000 : Number(values.timeout)
  if (positionals.length !== 1 || !Number.isInteger(timeout) || timeout < 1) {
    io.stderr(USAGE)
    return 2
  }
  const report = await diagnose(positionals[0]!, {
    timeout,
    ...(values.resource !== undefined ? { resource: values.resource } : {}),
    ...(io.fetch ? { fetch: io.fetch } : {}),
  })
  io.stdout(values.json ? JSON.stringify(report, null, 2) : formatReport(report))
  return !report.ok || (values.strict && report.verdict === 'warn') ? 1 : 0
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      resource: { type: 'string' },
      json: { type: 'boolean' },
      strict: { type: 'boolean' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}
