/**
 * Child-process entry: start one server from the spec in `BENCH_SERVER_SPEC`, report its port over IPC, and
 * answer 'mark' / 'read' with the CPU it used since the mark — its main thread alone (Linux schedstat) and the
 * whole process (main thread, libuv's thread pool where signatures are checked, V8's helpers) — and its heap
 * peak. Each server in its own process has its own thread pool: two servers loaded at once do not queue their
 * signature checks behind each other's.
 */
import { readFileSync } from 'node:fs'
import { getHeapStatistics } from 'node:v8'
import { startServer, type ServerSpec } from './servers.js'

export interface ProcessWindow {
  type: 'window'
  /** Main-thread CPU since the mark, ns (undefined off Linux). */
  threadNs: number | undefined
  /** CPU of the whole process since the mark, µs. */
  processUs: number
  peakHeap: number
}

const threadNs = (): number | undefined => {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0])
  } catch {
    return undefined
  }
}

const server = await startServer(JSON.parse(process.env.BENCH_SERVER_SPEC!) as ServerSpec)
let peakHeap = getHeapStatistics().used_heap_size
const sample = () => { peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size) }
// The heap is sampled only inside a window: a dozen idle servers sampling on the measured core took 10 % of it.
let sampler: ReturnType<typeof setInterval> | undefined
let mark = { thread: threadNs(), cpu: process.cpuUsage() }
process.on('message', async (m: { type: string }) => {
  if (m.type === 'mark') {
    mark = { thread: threadNs(), cpu: process.cpuUsage() }
    sampler ??= setInterval(sample, 50)
    process.send!({ type: 'marked' })
  } else if (m.type === 'read') {
    clearInterval(sampler)
    sampler = undefined
    const t = threadNs()
    const used = process.cpuUsage(mark.cpu)
    peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size)
    process.send!({ type: 'window', threadNs: t !== undefined && mark.thread !== undefined ? t - mark.thread : undefined, processUs: used.user + used.system, peakHeap } satisfies ProcessWindow)
  } else if (m.type === 'stop') {
    await server.close()
    process.exit(0)
  }
})
process.send!({ type: 'ready', port: server.port })
