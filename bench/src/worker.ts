/**
 * Run a TypeScript module in a worker thread. The servers run in workers so that the load generator (on the
 * main thread) never shares an event loop with the server it measures, while the whole bench stays one
 * process run. tsx's loader hooks are per thread on Node 20, so each worker registers them first.
 */
import { Worker } from 'node:worker_threads'

const tsxApi = import.meta.resolve('tsx/esm/api')

export function startWorker(moduleUrl: URL, workerData: unknown): Worker {
  const code = `import(${JSON.stringify(tsxApi)})
    .then((m) => { m.register(); return import(${JSON.stringify(moduleUrl.href)}) })
    .catch((err) => { console.error(err); process.exit(1) })`
  return new Worker(code, { eval: true, workerData })
}

/** The next message from a worker, or its error / early exit. */
export function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: T) => { cleanup(); resolve(m) }
    const onError = (err: Error) => { cleanup(); reject(err) }
    const onExit = (code: number) => { cleanup(); reject(new Error(`worker exited with code ${code}`)) }
    const cleanup = () => {
      worker.off('message', onMessage)
      worker.off('error', onError)
      worker.off('exit', onExit)
    }
    worker.on('message', onMessage)
    worker.on('error', onError)
    worker.on('exit', onExit)
  })
}
