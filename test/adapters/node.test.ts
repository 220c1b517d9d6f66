/**
 * What only the node:http adapter has: the MCP SDK's StreamableHTTPServerTransport receiving `req.auth` as
 * `extra.authInfo`, with the body parsed before the adapter or left for the transport to read.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { createMcpAuth } from '@mcp-oauth/core'
import { createMcpServer } from '@mcp-oauth/example-express/tools'
import { withMcpAuth } from '@mcp-oauth/node'
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js'
import { send } from './http-client.js'

let idp: TestIssuer
beforeAll(async () => {
  idp = await startTestIssuer()
})
afterAll(() => idp.close())

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  return (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
    ? Object.fromEntries(new URLSearchParams(text))
    : JSON.parse(text || 'null')
}

interface Running {
  origin: string
  resource: string
  calls: number
  close(): Promise<void>
}

/** An SDK transport behind withMcpAuth; with `parseFirst`, a body parser runs before the adapter (as in Connect stacks). */
async function start(parseFirst: boolean): Promise<Running> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const running: Running = {
    origin,
    resource: `${origin}/mcp`,
    calls: 0,
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
  const listener = withMcpAuth(createMcpAuth({ resource: running.resource, issuer: idp.issuer }), async (req, res) => {
    running.calls++
    const mcp = createMcpServer()
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    await mcp.connect(transport)
    await transport.handleRequest(req, res, req.body)
  })
  server.on('request', (req: IncomingMessage & { body?: unknown }, res) => {
    void (async () => {
      if (parseFirst && req.method === 'POST') req.body = await readBody(req)
      await listener(req, res)
    })()
  })
  return running
}

async function whoami(url: string, token: string): Promise<Record<string, unknown>> {
  const client = new Client({ name: 'node-adapter-test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
  try {
    const result = await client.callTool({ name: 'whoami', arguments: {} })
    return (result.structuredContent as { authInfo: Record<string, unknown> }).authInfo
  } finally {
    await client.close()
  }
}

describe.each([
  ['the body left for the transport to read', false],
  ['the body parsed before the adapter', true],
])('withMcpAuth with %s', (_name, parseFirst) => {
  let running: Running
  beforeAll(async () => {
    running = await start(parseFirst)
  })
  afterAll(() => running.close())

  it('req.auth reaches the tool as extra.authInfo', async () => {
    const token = await idp.sign({ aud: running.resource, scope: 'mcp:tools', sub: 'alice', client_id: 'app-1' })
    expect(await whoami(running.resource, token)).toMatchObject({
      clientId: 'app-1', scopes: ['mcp:tools'], subject: 'alice', issuer: idp.issuer, resource: running.resource,
    })
  })

  it('a refused request never reaches the handler', async () => {
    const before = running.calls
    const res = await send(running.origin, 'POST', '/mcp', { 'content-type': 'application/json' }, '{"jsonrpc":"2.0","id":1,"method":"ping"}')
    expect(res.status).toBe(401)
    expect(running.calls).toBe(before)
  })
})

describe('withMcpAuth and form bodies', () => {
  let running: Running
  beforeAll(async () => {
    running = await start(true)
  })
  afterAll(() => running.close())

  it('a parsed form body carrying access_token is refused (RFC 6750 §2.2 is not an MCP method)', async () => {
    const token = await idp.sign({ aud: running.resource, scope: 'mcp:tools' })
    const res = await send(running.origin, 'POST', '/mcp', { 'content-type': 'application/x-www-form-urlencoded' }, `access_token=${token}`)
    expect(res.status).toBe(400)
    expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_request"/)
  })

  it('exposes the core object', () => {
    const auth = createMcpAuth({ resource: 'https://mcp.example.com/mcp', issuer: idp.issuer })
    expect(withMcpAuth(auth, () => undefined).auth).toBe(auth)
    expect(withMcpAuth({ resource: 'https://mcp.example.com/mcp', issuer: idp.issuer }, () => undefined).auth.resource).toBe('https://mcp.example.com/mcp')
  })

  it('bad options throw at creation', () => {
    expect(() => withMcpAuth({ resource: 'https://mcp.example.com/mcp', issuer: 'not a url' }, () => undefined)).toThrow(/issuer/)
  })
})
