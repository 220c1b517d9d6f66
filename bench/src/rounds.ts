/**
 * The pieces of the bench's rounds (main.ts runs them): a server in its own process, kept up while its group
 * runs; a pair window, in which two servers are loaded over the same interval; and the median and min–max of a
 * ratio over the rounds, so a neighbour's load that slows one window shows up as spread, not as a verdict.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { buildSync } from 'esbuild'
import { dropConnections, load, type LoadOptions } from './load.js'
import { InterferenceMeter } from './machine.js'
import type { ServerSpec } from './servers.js'
import type { ProcessWindow } from './server-process.js'

/**
 * The server process's entry, bundled once per run (esbuild: the bench's own TypeScript in one file, every
 * package left to Node's resolution from here), so a server starts on plain Node: 0.55 s of CPU here, against
 * 1.25 s under tsx's loader. The bench starts two processes of every server (main.ts), so this is what keeps
 * the run's start-up time where it was.
 */
let bundled: string | undefined
export function serverEntry(): string {
  if (bundled) return bundled
  const here = new URL('./server-process.ts', import.meta.url).pathname
  // Inside the bench's node_modules, not in /tmp: the bundle's bare imports resolve from there.
  const outfile = new URL('../node_modules/.bench-build/server-process.mjs', import.meta.url).pathname
  buildSync({ entryPoints: [here], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'warning' })
  bundled = outfile
  return outfile
}

export interface LiveServer {
  port: number
  /** Starts the server's CPU window. */
  mark(): Promise<void>
  /** CPU of the server since `mark` (its main thread, and the whole process) and its heap peak so far. */
  read(): Promise<ProcessWindow>
  close(): Promise<void>
}

function reply<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: T) => { cleanup(); resolve(m) }
    const onExit = (code: number | null) => { cleanup(); reject(new Error(`server process exited with code ${code}`)) }
    const cleanup = () => { child.off('message', onMessage); child.off('exit', onExit) }
    child.on('message', onMessage)
    child.on('exit', onExit)
  })
}

/**
 * Cores: with taskset (util-linux) and at least two CPUs, the load generator (this process) keeps CPU 0 and
 * every server runs on the last CPU. Then the servers of a pair share one core, which the kernel's scheduler
 * divides evenly between runnable threads, and never compete with the load generator: left to itself, the
 * scheduler put one of the pair beside the load generator for a whole window, and identical servers measured
 * 0.5× to 1.0× of each other. A server's thread pool is on that core too, so what a pair compares is the
 * whole CPU each spends per request. `BENCH_PIN=0` turns it off.
 */
const cpus = availableParallelism()
const pinned = (() => {
  if (process.env.BENCH_PIN === '0' || cpus < 2) return false
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

/**
 * Address-space layout: every server starts with ASLR off (`setarch -R`, util-linux), so every process of the
 * run gets the same layout. With it on, two processes of the *same* server measured 0.83× or 1.19× of each
 * other in 4 of 8 fresh pairs (the rest 0.98–1.03), and a pair kept its bias for its whole life, every round: a
 * layout effect (where the binary, the heap and the stacks land), not noise that rounds average out. With it
 * off, 8 of 8 pairs measured 0.98–1.05. `BENCH_ASLR=1` leaves it on.
 */
const fixedLayout = (() => {
  if (process.env.BENCH_ASLR === '1') return false
  try {
    execFileSync('setarch', ['-R', 'true'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

/** The CPU layout of this run, for the report. */
export const cpuLayout = `${pinned
  ? `load generator on CPU 0, every server on CPU ${cpus - 1} (taskset)`
  : 'not pinned (the kernel places every thread)'}; ${fixedLayout ? 'servers with ASLR off (setarch -R)' : 'servers with ASLR on'}`

/**
 * `--no-memory-reducer`: V8 shrinks the heap of an isolate that looks idle, and every server here idles while
 * the other pairs are measured; the next window then paid for growing it back (extra GC, seen as a server of
 * the same code measuring 0.5× of its twin in the full run and 1.0× alone). A server under steady load never
 * looks idle, so this only removes an artefact of interleaving.
 */
const NODE_FLAGS = ['--no-memory-reducer']

/** A server in its own Node process (its own event loop, heap and thread pool), up until `close`. */
export async function startLive(spec: ServerSpec): Promise<LiveServer> {
  const options = {
    // Its own session, so its own scheduler autogroup: the kernel then splits the core evenly between the two
    // processes of a pair, not between their threads (a server whose signatures run on the thread pool would
    // otherwise get more of the core than one that checks them inline, just by having more threads runnable).
    detached: true,
    env: { ...process.env, BENCH_SERVER_SPEC: JSON.stringify(spec) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'] as ('ignore' | 'inherit' | 'ipc')[],
  }
  const entry = serverEntry()
  const node = [process.execPath, ...NODE_FLAGS, entry]
  const command = [...(fixedLayout ? ['setarch', '-R'] : []), ...(pinned ? ['taskset', '-c', String(cpus - 1)] : []), ...node]
  const child = command.length > node.length
    ? spawn(command[0]!, command.slice(1), options)
    : fork(entry, [], { ...options, execArgv: NODE_FLAGS })
  const ready = await reply<{ port: number }>(child)
  return {
    port: ready.port,
    mark: async () => {
      child.send({ type: 'mark' })
      await reply(child)
    },
    read: async () => {
      child.send({ type: 'read' })
      return reply<ProcessWindow>(child)
    },
    close: async () => {
      dropConnections(ready.port)
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.send({ type: 'stop' })
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))])
      child.kill()
    },
  }
}

/** One measured window on one server. */
export interface Sample {
  rps: number
  p50: number
  p99: number
  requests: number
  failures: number
  /** CPU of the server's main thread per request, µs (Linux); the thread pool is not in it. */
  serverCpuUs: number | undefined
  /** CPU of the whole server process per request, µs: main thread, thread pool (signatures), GC helpers. */
  processCpuUs: number
  /** CPU other processes took during the window, as a share of one core. */
  interference: number | undefined
  peakHeap: number
  peakRss: number
}

type Work = Omit<LoadOptions, 'port'>

export interface Spread {
  median: number
  min: number
  max: number
}

export function spread(values: readonly number[]): Spread {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return { median: NaN, min: NaN, max: NaN }
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! }
}

/**
 * One window in which `subject` and `reference` are loaded at the same time, each by its own connections, over
 * the same interval (the reference's load stops when the subject's ends). Both see the same machine, moment by
 * moment: on a shared 2-core VM whose speed swings by a third from one second to the next, the ratio of what
 * the two complete in the same interval is far steadier than the ratio of two windows taken one after the other.
 * Each answers about half of what it would alone; the ratio is what the pair is for.
 */
export async function pairWindow(subject: LiveServer, subjectWork: Work, reference: LiveServer, referenceWork: Work): Promise<[Sample, Sample]> {
  await Promise.all([subject.mark(), reference.mark()])
  const meter = new InterferenceMeter()
  let peakRss = process.memoryUsage.rss()
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()) }, 50)
  const ours = load({ ...subjectWork, port: subject.port })
  const theirs = load({ ...referenceWork, port: reference.port, until: ours })
  const [a, b] = await Promise.all([ours, theirs]).finally(() => clearInterval(sampler))
  const [wa, wb] = await Promise.all([subject.read(), reference.read()])
  const interference = meter.stop((wa.processUs + wb.processUs) / 1000)
  const toSample = (r: typeof a, w: ProcessWindow): Sample => ({
    rps: r.rps, p50: r.p50, p99: r.p99, requests: r.requests, failures: r.failures,
    serverCpuUs: w.threadNs === undefined ? undefined : w.threadNs / 1000 / r.requests,
    processCpuUs: w.processUs / r.requests, interference, peakHeap: w.peakHeap, peakRss,
  })
  return [toSample(a, wa), toSample(b, wb)]
}
