/**
 * Run one scenario: a server in its own worker thread, a warm-up, then the measured load.
 */
import type { Worker } from 'node:worker_threads'
import { nextMessage, startWorker } from './worker.js'
import type { ServerSpec } from './servers.js'
import type { ServerReady, ServerStopped } from './server-worker.js'

export interface ServerRun<T> {
  result: T
  /** Peak V8 heap of the server's isolate, bytes. */
  peakHeap: number
  /** Peak RSS of the whole bench process while the scenario ran, bytes. */
  peakRss: number
  /** CPU time of the server thread during the measured load, ns (Linux only). */
  cpuNs: number | undefined
}

export interface ServerHandle {
  port: number
  /** Call right before the measured load: starts the server-thread CPU window. */
  mark(): Promise<void>
}

const serverWorker = new URL('./server-worker.ts', import.meta.url)

export async function withServer<T>(spec: ServerSpec, run: (server: ServerHandle) => Promise<T>): Promise<ServerRun<T>> {
  const worker: Worker = startWorker(serverWorker, spec)
  let peakRss = process.memoryUsage.rss()
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()) }, 50)
  try {
    const ready = await nextMessage<ServerReady>(worker)
    const result = await run({
      port: ready.port,
      mark: async () => {
        worker.postMessage({ type: 'mark' })
        await nextMessage(worker)
      },
    })
    worker.postMessage({ type: 'stop' })
    const stopped = await nextMessage<ServerStopped>(worker)
    return { result, peakHeap: stopped.peakHeap, peakRss, cpuNs: stopped.cpuNs }
  } finally {
    clearInterval(sampler)
    await worker.terminate()
  }
}
