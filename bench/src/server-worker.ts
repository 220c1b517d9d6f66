/**
 * Worker entry: start one server from `workerData`, report its port, sample this isolate's heap while it runs,
 * and on 'stop' close it and report the peak.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { getHeapStatistics } from 'node:v8'
import { startServer, type ServerSpec } from './servers.js'

export interface ServerReady {
  type: 'ready'
  port: number
}

export interface ServerStopped {
  type: 'stopped'
  peakHeap: number
}

const port = parentPort!
const server = await startServer(workerData as ServerSpec)
let peakHeap = getHeapStatistics().used_heap_size
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size)
}, 50)
port.on('message', async (m: { type: string }) => {
  if (m.type !== 'stop') return
  clearInterval(sampler)
  peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size)
  await server.close()
  port.postMessage({ type: 'stopped', peakHeap } satisfies ServerStopped)
  port.close()
})
port.postMessage({ type: 'ready', port: server.port } satisfies ServerReady)
