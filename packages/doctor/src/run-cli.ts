/** The command line: `mcp-oauth-doctor <issuer> [--resource <url>] [--json] [--strict] [--timeout <ms>]`. */
import { parseArgs } from 'node:util'
import { diagnose } from './diagnose.js'
import { formatReport } from './format.js'

export const USAGE = `Usage: mcp-oauth-doctor <issuer> [--resource <url>] [--client-id <id>] [--json] [--strict] [--timeout <ms>]

Checks whether MCP clients will work with an authorization server: discovery, issuer, PKCE S256,
client registration (DCR / CIMD), what MCP 2026-07-28 clients look for (CIMD, RFC 9207 iss), audience,
JWKS, introspection — and, with --resource, the MCP server's protected resource metadata and 401
challenge, for a 2025-11-25 initialize and a 2026-07-28 server/discover.

  <issuer>          the issuer URL, exactly as your tokens' "iss" claim
  --resource <url>  the MCP server's URL (its canonical resource URI)
  --client-id <id>  the MCP server's introspection client: check that the IdP accepts its
                    credentials (the secret is read from MCP_OAUTH_CLIENT_SECRET, never an argument)
  --json            print the report as JSON (for CI)
  --strict          exit 1 on warnings too
  --timeout <ms>    timeout per request (default 5000)

Exit code: 0 when MCP clients will work, 1 when they will not, 2 for a usage error.`

export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  fetch?: typeof fetch
  /** Environment variables (`MCP_OAUTH_CLIENT_SECRET`). Default: none. */
  env?: Record<string, string | undefined>
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
  const clientSecret = io.env?.MCP_OAUTH_CLIENT_SECRET
  if (values['client-id'] !== undefined && !clientSecret) {
    io.stderr(`--client-id needs the client secret in the MCP_OAUTH_CLIENT_SECRET environment variable.\n\n${USAGE}`)
    return 2
  }
  const report = await diagnose(positionals[0]!, {
    timeout,
    ...(values.resource !== undefined ? { resource: values.resource } : {}),
    ...(values['client-id'] !== undefined ? { introspection: { clientId: values['client-id'], clientSecret: clientSecret! } } : {}),
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
      'client-id': { type: 'string' },
      json: { type: 'boolean' },
      strict: { type: 'boolean' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}
