/**
 * Worker entry: start one server from `workerData`, report its port, and while it runs sample this isolate's
 * heap. 'mark' starts a measured window; 'read' reports the window's CPU time of this thread and the heap peak
 * so far (the server keeps running, for the next round); 'stop' closes the server and reports the same.
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
  type: 'stopped' | 'window'
  /** Peak V8 heap of this isolate, bytes. */
  peakHeap: number
  /** CPU time of the server's thread between 'mark' and this answer, ns; undefined where Linux schedstat is missing. */
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
const window = (type: ServerStopped['type']): ServerStopped => {
  const cpu = threadCpuNs()
  peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size)
  return { type, peakHeap, cpuNs: cpu !== undefined && cpuAtMark !== undefined ? cpu - cpuAtMark : undefined }
}
port.on('message', async (m: { type: string }) => {
  if (m.type === 'mark') {
    cpuAtMark = threadCpuNs()
    port.postMessage({ type: 'marked' })
    return
  }
  if (m.type === 'read') {
    port.postMessage(window('window'))
    return
  }
  if (m.type !== 'stop') return
  const stopped = window('stopped')
  clearInterval(sampler)
  await server.close()
  port.postMessage(stopped)
  port.close()
})
port.postMessage({ type: 'ready', port: server.port } satisfies ServerReady)
