/**
 * `mcp-oauth login <mcp-url>` as a real process against a real MCP server behind the bridge (GitHub-like
 * upstream): PRM discovery → AS metadata → DCR → device flow; the test plays the user in a browser when the CLI
 * prints the URL. Then `mcp-oauth token` hands out the stored token, and a refreshed one once it expired.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { browse } from '../helpers/browser.js'
import { startBridgeWorld, type BridgeWorld } from '../helpers/bridge-world.js'

const cli = fileURLToPath(new URL('../../packages/login/dist/cli.js', import.meta.url))

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Run the CLI; `onLine` sees each stderr line as it comes (to open the printed URL like a user would). */
function run(args: string[], onLine?: (line: string) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCP_OAUTH_TOKENS: '' } })
    let stdout = ''
    let stderr = ''
    let partial = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      partial += chunk.toString()
      const lines = partial.split('\n')
      partial = lines.pop()!
      for (const line of lines) onLine?.(line)
    })
    const timer = setTimeout(() => child.kill(), 40_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, stdout, stderr })
    })
  })
}

async function mcpStatus(url: string, token: string): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  })
  await res.body?.cancel()
  return res.status
}

let world: BridgeWorld
let dir: string
beforeAll(async () => {
  world = await startBridgeWorld({ mode: 'github-like' })
  dir = await mkdtemp(join(tmpdir(), 'mcp-oauth-login-'))
})
afterAll(async () => world?.close())

describe('mcp-oauth login', () => {
  it('discovers the bridge, runs the device flow, stores the token (0600); mcp-oauth token prints it and refreshes it', async () => {
    const store = join(dir, 'tokens.json')
    let browser: Promise<unknown> | undefined
    const result = await run(['login', world.mcpUrl, '--store', store], (line) => {
      const url = /Open\s+(\S+)/.exec(line)?.[1]
      if (url) browser = browse(url, { origins: [world.origin, world.idp.url] })
    })
    expect(await browser).toEqual({ kind: 'device-done' })
    expect(result.stderr).toContain(`authorization server: ${world.bridge.issuer}`)
    expect(result.stderr).toMatch(/and check the code\s+[A-Z]{4}-[A-Z]{4}/)
    expect(result.stderr).toContain(`✔ signed in to ${world.mcpUrl} with mcp:tools`)
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('')
    expect((await stat(store)).mode & 0o777).toBe(0o600)

    const file = JSON.parse(await readFile(store, 'utf8')) as { logins: Record<string, { accessToken: string; refreshToken: string; expiresAt: number }> }
    const saved = file.logins[world.mcpUrl]!
    expect(decodeJwt(saved.accessToken)).toMatchObject({ iss: world.bridge.issuer, aud: world.mcpUrl, sub: 'demo-user' })
    expect(await mcpStatus(world.mcpUrl, saved.accessToken)).toBe(200)

    const printed = await run(['token', world.mcpUrl, '--store', store])
    expect(printed.code).toBe(0)
    expect(printed.stdout.trim()).toBe(saved.accessToken)

    // Make the stored token look expired: `token` refreshes it (a rotated refresh token is stored).
    saved.expiresAt = Math.floor(Date.now() / 1000) - 10
    await writeFile(store, JSON.stringify(file))
    const refreshed = await run(['token', world.mcpUrl, '--store', store])
    expect(refreshed.code).toBe(0)
    const fresh = refreshed.stdout.trim()
    expect(fresh).not.toBe(saved.accessToken)
    expect(await mcpStatus(world.mcpUrl, fresh)).toBe(200)
    const after = JSON.parse(await readFile(store, 'utf8')) as typeof file
    expect(after.logins[world.mcpUrl]!.refreshToken).not.toBe(saved.refreshToken)
  }, 60_000)

  it('--no-store prints the token on stdout only', async () => {
    let browser: Promise<unknown> | undefined
    const result = await run(['login', world.mcpUrl, '--no-store'], (line) => {
      const url = /Open\s+(\S+)/.exec(line)?.[1]
      if (url) browser = browse(url, { origins: [world.origin, world.idp.url] })
    })
    await browser
    expect(result.code).toBe(0)
    expect(await mcpStatus(world.mcpUrl, result.stdout.trim())).toBe(200)
  }, 60_000)

  it('the user denies on the consent page → a clear failure, exit 1', async () => {
    const result = await run(['login', world.mcpUrl, '--no-store'], (line) => {
      const url = /Open\s+(\S+)/.exec(line)?.[1]
      if (url) void browse(url, { origins: [world.origin, world.idp.url], consent: () => 'deny' })
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/✘ the sign-in was refused in the browser/)
  }, 60_000)

  it('an authorization server without the device flow → says so, exit 2', async () => {
    const noDevice = await startBridgeWorld({ mode: 'github-like', bridge: { deviceFlow: false } })
    try {
      const result = await run(['login', noDevice.mcpUrl, '--no-store'])
      expect(result.code).toBe(2)
      expect(result.stderr).toContain(`✘ ${noDevice.bridge.issuer} offers no device flow`)
      expect(result.stderr).toContain('put @mcp-oauth/bridge in front of it')
    } finally {
      await noDevice.close()
    }
  })

  it('a URL that is not a protected MCP endpoint → says so, exit 2', async () => {
    const result = await run(['login', `${world.origin}/oauth/jwks`, '--no-store'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/not an OAuth-protected MCP endpoint/)
  })

  it('token without a stored login → exit 1 and what to run', async () => {
    const result = await run(['token', world.mcpUrl, '--store', join(dir, 'empty.json')])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`run mcp-oauth login ${world.mcpUrl}`)
  })

  it('usage errors → exit 2 with the usage', async () => {
    const result = await run(['login'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('usage:')
  })
})
