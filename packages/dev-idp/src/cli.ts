#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { startDevIdp } from './index.js'

const HELP = `mcp-oauth-dev-idp — a local OAuth 2.1 / OpenID Connect server for developing MCP servers

Usage: mcp-oauth-dev-idp [--port 9000] [--host 127.0.0.1] [--issuer-path /tenant] [--alg ES256]

Options:
  --port N             port to listen on (default 9000; 0 picks a free port)
  --host HOST          interface to listen on (default 127.0.0.1)
  --issuer-path PATH   mount the issuer under a path, e.g. /tenant-a (default: none)
  --alg ALG            signing algorithm: ES256 (default), RS256, PS256 or EdDSA
  --rs-secret SECRET   secret of the 'mcp-resource-server' client (default: mcp-resource-server-secret)
  --service-secret S   secret of the 'mcp-service' client (default: mcp-service-secret)
  -h, --help           show this help

Development only: everything is kept in memory and every requested scope is granted after sign-in.`

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'issuer-path': { type: 'string' },
      alg: { type: 'string' },
      'rs-secret': { type: 'string' },
      'service-secret': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) {
    console.log(HELP)
    return
  }
  const port = values.port === undefined ? 9000 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0–65535 (got ${values.port})`)
  const alg = (values.alg ?? 'ES256') as 'ES256' | 'RS256' | 'PS256' | 'EdDSA'
  if (!['ES256', 'RS256', 'PS256', 'EdDSA'].includes(alg)) throw new Error(`--alg must be ES256, RS256, PS256 or EdDSA (got ${alg})`)

  const idp = await startDevIdp({
    port,
    host: values.host ?? '127.0.0.1',
    issuerPath: values['issuer-path'] ?? '',
    signingAlg: alg,
    resourceServerClientSecret: values['rs-secret'] ?? 'mcp-resource-server-secret',
    serviceClientSecret: values['service-secret'] ?? 'mcp-service-secret',
  })

  console.log(`mcp-oauth dev IdP running

  issuer                ${idp.issuer}
  metadata              ${idp.issuer}/.well-known/openid-configuration
  sign in as            username "demo", password "demo"

  resource-server client (RFC 7662 introspection, client_secret_basic or client_secret_post)
    client_id           ${idp.resourceServerClient.clientId}
    client_secret       ${idp.resourceServerClient.clientSecret}
  service client (client credentials)
    client_id           ${idp.serviceClient.clientId}
    client_secret       ${idp.serviceClient.clientSecret}
  public client         ${idp.publicClient.clientId}  (or register with DCR, or use a Client ID Metadata Document)

Press Ctrl+C to stop.`)

  let stopping = false
  const stop = () => {
    if (stopping) process.exit(1)
    stopping = true
    idp.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((err: unknown) => {
  console.error(`mcp-oauth-dev-idp: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
