/**
 * A real redis-server (the Debian package) for tests: started on a free loopback port with its own temporary
 * directory, no persistence unless a test asks for it (then an append-only file, fsync on every write, so a
 * stop and a start lose nothing). `stop()` and `start()` again reuse the same port, which is how outage tests
 * make the real server go away and come back.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createConnection, createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  readonly running: boolean
  /** Start it again (same port, same directory) after `stop()`. */
  start(): Promise<void>
  /** Stop it (SIGTERM, then wait for the process to exit). With persistence, nothing written is lost. */
  stop(): Promise<void>
  /** Stop it and remove its directory. */
  close(): Promise<void>
  /** Send one command with the inline protocol and return the raw reply (for INFO, DBSIZE, MEMORY USAGE, …). */
  command(...args: string[]): Promise<string>
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** One RESP request/reply over a fresh socket: enough for test assertions, no client library involved. */
function rawCommand(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    socket.setTimeout(5_000, () => socket.destroy(new Error('redis-server did not answer')))
    socket.on('error', reject)
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8')
      if (complete(reply)) {
        socket.end()
        resolve(reply)
      }
    })
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
  })
}

/** Is this a whole RESP2 reply (simple string, error, integer, or one bulk string)? */
function complete(reply: string): boolean {
  const type = reply[0]
  const eol = reply.indexOf('\r\n')
  if (eol < 0) return false
  if (type === '+' || type === '-' || type === ':') return true
  if (type === '$') {
    const length = Number(reply.slice(1, eol))
    return length < 0 || Buffer.byteLength(reply) >= eol + 2 + length + 2
  }
  return true
}

/** The value of a `$`/`:`/`+` reply as a string. */
export function replyValue(reply: string): string {
  const eol = reply.indexOf('\r\n')
  if (reply[0] === '$') return Number(reply.slice(1, eol)) < 0 ? '' : reply.slice(eol + 2, reply.length - 2)
  return reply.slice(1, eol)
}

export async function startRedisServer(options: { persistence?: boolean } = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-oauth-redis-'))
  const port = await freePort()
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()

  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--appendonly', options.persistence ? 'yes' : 'no',
    '--appendfsync', 'always',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--loglevel', 'warning',
    '--logfile', join(dir, 'redis.log'),
  ]

  async function start(): Promise<void> {
    if (child) return
    const proc = spawn('redis-server', args, { stdio: 'ignore' })
    child = proc
    exited = new Promise((resolve) => proc.once('exit', () => resolve()))
    const failed = new Promise<never>((_, reject) => {
      proc.once('error', (err) => reject(new Error('redis-server could not be started; install it with `apt-get install -y redis-server`', { cause: err })))
      void exited.then(() => reject(new Error(`redis-server exited at start; see ${join(dir, 'redis.log')}`)))
    })
    failed.catch(() => undefined)
    const deadline = Date.now() + 10_000
    for (;;) {
      try {
        const pong = await Promise.race([rawCommand(port, ['PING']), failed])
        if (pong.startsWith('+PONG')) return
      } catch (err) {
        if (child !== proc || proc.exitCode !== null) throw err
      }
      if (Date.now() > deadline) throw new Error('redis-server did not become ready within 10 s')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  async function stop(): Promise<void> {
    const proc = child
    if (!proc) return
    child = undefined
    proc.kill('SIGTERM')
    await exited
  }

  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined
    },
    start,
    stop,
    async close() {
      await stop()
      await rm(dir, { recursive: true, force: true })
    },
    command: (...cmd) => rawCommand(port, cmd),
  }
}
