/**
 * The MCP Inspector, from npm, started the way its own launchers start it, on free loopback ports:
 *
 * - v2 (`@modelcontextprotocol/inspector`, the current line): one web server that serves the app and an
 *   `/api/*` backend; the browser never talks to the MCP server itself — MCP traffic and the OAuth requests
 *   (discovery, registration, token) go through `/api/mcp/*` and `/api/fetch`. Its only connection mode.
 * - v1 (`inspector-v1` = `@modelcontextprotocol/inspector@1.0.3`, the last v1 release): a static client and
 *   an "MCP proxy" server, and a Connection Type select: "Direct" (the browser fetches the MCP server and
 *   the IdP itself: CORS) or "Via Proxy".
 *
 * Each instance gets its own HOME, storage and random token; output is kept for error messages.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const testModules = fileURLToPath(new URL('../node_modules/', import.meta.url))
const V2_LAUNCHER = join(testModules, '@modelcontextprotocol/inspector/clients/launcher/build/index.js')
/** pnpm keeps v1's own packages next to it, not under test/node_modules. */
const v1Packages = (): string => dirname(realpathSync(join(testModules, 'inspector-v1')))

export interface InspectorProcess {
  /** The app's origin, e.g. http://127.0.0.1:PORT. */
  readonly origin: string
  readonly token: string
  /** The URL to open for `serverUrl` (the Inspector's own deep-link parameters). */
  linkFor(serverUrl: string): string
  /** What the processes printed (for failure messages). */
  output(): string
  close(): Promise<void>
}

/** A port that was free a moment ago (the Inspector needs fixed ports: it derives its origin allow-list from them). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

interface Started {
  child: ChildProcess
  output: string[]
}

function start(script: string, env: Record<string, string>, ready: RegExp, args: string[] = []): Promise<Started> {
  const output: string[] = []
  const child = spawn(process.execPath, [script, ...args], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`timed out waiting for ${script} to start:\n${output.join('')}`)), 30_000)
    const fail = (err: Error) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(err)
    }
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString())
      if (ready.test(output.join(''))) {
        clearTimeout(timer)
        resolve({ child, output })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => fail(new Error(`${script} exited (${code}) before it was ready:\n${output.join('')}`)))
  })
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/** Inspector v2's web server (`mcp-inspector --web`), secrets in memory, nothing written outside a temp dir. */
export async function startInspectorV2(): Promise<InspectorProcess> {
  const home = mkdtempSync(join(tmpdir(), 'mcp-inspector-v2-'))
  const port = await freePort()
  const token = randomBytes(16).toString('hex')
  const { child, output } = await start(V2_LAUNCHER, {
    HOME: home,
    HOST: '127.0.0.1',
    CLIENT_PORT: String(port),
    MCP_SANDBOX_PORT: '0',
    MCP_APP_ORIGIN_PORT: '0',
    MCP_AUTO_OPEN_ENABLED: 'false',
    MCP_INSPECTOR_API_TOKEN: token,
    MCP_INSPECTOR_SECRET_STORE: 'memory',
    MCP_STORAGE_DIR: join(home, 'storage'),
    MCP_CATALOG_PATH: join(home, 'mcp.json'),
  }, /is up and running at/, ['--web'])
  const origin = `http://127.0.0.1:${port}`
  return {
    origin,
    token,
    // The deep link connects at once; autoConnect must equal the per-launch token (its CSRF gate).
    linkFor: (serverUrl) => `${origin}/?MCP_INSPECTOR_API_TOKEN=${token}&serverUrl=${encodeURIComponent(serverUrl)}&transport=http&autoConnect=${token}`,
    output: () => output.join(''),
    async close() {
      await stop(child)
      rmSync(home, { recursive: true, force: true })
    },
  }
}

/** Inspector v1: its proxy server and its static client, as its `start.js` launches them. */
export async function startInspectorV1(): Promise<InspectorProcess> {
  const packages = v1Packages()
  const clientPort = await freePort()
  const proxyPort = await freePort()
  const token = randomBytes(16).toString('hex')
  const origin = `http://127.0.0.1:${clientPort}`
  const proxy = await start(join(packages, 'inspector-server/build/index.js'), {
    HOST: '127.0.0.1',
    SERVER_PORT: String(proxyPort),
    CLIENT_PORT: String(clientPort),
    ALLOWED_ORIGINS: origin,
    MCP_PROXY_AUTH_TOKEN: token,
  }, /Proxy server listening/)
  let client: Started
  try {
    client = await start(join(packages, 'inspector-client/bin/client.js'), {
      HOST: '127.0.0.1',
      CLIENT_PORT: String(clientPort),
      MCP_AUTO_OPEN_ENABLED: 'false',
    }, /is up and running at/)
  } catch (err) {
    await stop(proxy.child)
    throw err
  }
  const proxyAddress = `http://127.0.0.1:${proxyPort}`
  return {
    origin,
    token,
    // MCP_PROXY_FULL_ADDRESS rather than MCP_PROXY_PORT: v1 keeps the former across the OAuth callback
    // (it reads no query parameter on /oauth/callback), so the proxy address it saved still matches.
    linkFor: (serverUrl) => `${origin}/?MCP_PROXY_FULL_ADDRESS=${encodeURIComponent(proxyAddress)}&MCP_PROXY_AUTH_TOKEN=${token}&transport=streamable-http&serverUrl=${encodeURIComponent(serverUrl)}`,
    output: () => proxy.output.join('') + client.output.join(''),
    async close() {
      await Promise.all([stop(client.child), stop(proxy.child)])
    },
  }
}
