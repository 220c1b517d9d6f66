/**
 * Worker entry: start one server from `workerData`, report its port, and while it runs sample this isolate's
 * heap. 'mark' starts the measured window; 'stop' closes the server and reports the window's CPU time of this
 * thread and the heap peak.
 */
import { readFileSync } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import { getHeapStatistics } from 'node:v8'
import { startServer, type ServerSpec } from './servers.js'

export interface ServerReady {
  type: 'ready'
  port: number
}

export interface ServerStopped {
  type: 'stopped'
  /** Peak V8 heap of this isolate, bytes. */
  peakHeap: number
  /** CPU time of the server's thread between 'mark' and 'stop', ns; undefined where Linux schedstat is missing. */
  cpuNs: number | undefined
}

/** CPU time this thread has run, in ns (Linux). Robust to other processes competing for the cores. */
function threadCpuNs(): number | undefined {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0])
  } catch {
    return undefined
  }
}

const port = parentPort!
const server = await startServer(workerData as ServerSpec)
let peakHeap = getHeapStatistics().used_heap_size
let cpuAtMark: number | undefined
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size)
}, 50)
port.on('message', async (m: { type: string }) => {
  if (m.type === 'mark') {
    cpuAtMark = threadCpuNs()
    port.postMessage({ type: 'marked' })
    return
  }
  if (m.type !== 'stop') return
  const cpu = threadCpuNs()
  clearInterval(sampler)
  peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size)
  await server.close()
  const cpuNs = cpu !== undefined && cpuAtMark !== undefined ? cpu - cpuAtMark : undefined
  port.postMessage({ type: 'stopped', peakHeap, cpuNs } satisfies ServerStopped)
  port.close()
})
port.postMessage({ type: 'ready', port: server.port } satisfies ServerReady)
