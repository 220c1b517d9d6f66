/**
 * HTTP scenarios: one server per run in its own worker thread, autocannon on the main thread, a warm-up
 * before every measured window, and the CPU other processes took during the window.
 */
import { CONNECTIONS, load, type LoadResult, type TokenSource } from './load.js'
import { InterferenceMeter } from './machine.js'
import { withServer } from './run-server.js'
import type { ServerSpec } from './servers.js'

export interface HttpMeasurement extends LoadResult {
  /** CPU time of the server thread per request, µs (Linux). */
  cpuUsPerRequest: number | undefined
  /** Peak V8 heap of the server isolate, bytes. */
  peakHeap: number
  /** Peak RSS of the bench process, bytes. */
  peakRss: number
  /** CPU other processes used during the window, as a share of one core. */
  interference: number | undefined
  /** Servers started to get this measurement (a disturbed run is repeated). */
  runs: number
}

export type Load =
  /** Fixed time with one repeated token (or none); `request` replaces the default request. */
  | { type: 'duration'; seconds: number; tokens: TokenSource; request?: { body: string; headers: Record<string, string> } }
  /** Each token of `measure` once, after each token of `warmup` once. */
  | { type: 'pool'; warmup: readonly string[]; measure: readonly string[] }
  /** Each header set of `measure` once (e.g. a DPoP token with a fresh proof each), after each of `warmup` once. */
  | { type: 'headers'; warmup: readonly Record<string, string>[]; measure: readonly Record<string, string>[] }

/** Interference above this share of a core marks a run as disturbed; it is repeated (up to `retries` times). */
export const DISTURBED = 0.15

export async function measureHttp(spec: ServerSpec, work: Load): Promise<HttpMeasurement> {
  const run = await withServer(spec, async (server) => {
    if (work.type === 'duration') {
      await load({ port: server.port, tokens: work.tokens, duration: 1, ...(work.request ? { request: work.request } : {}) })
    } else if (work.type === 'headers') {
      await load({ port: server.port, tokens: { type: 'headers', headers: work.warmup }, amount: work.warmup.length - 2 * CONNECTIONS })
    } else {
      await load({ port: server.port, tokens: { type: 'pool', tokens: work.warmup }, amount: work.warmup.length - 2 * CONNECTIONS })
    }
    await server.mark()
    const meter = new InterferenceMeter()
    const result = work.type === 'duration'
      ? await load({ port: server.port, tokens: work.tokens, duration: work.seconds, ...(work.request ? { request: work.request } : {}) })
      // A little short of the pool, so no connection's first request wraps round to an already used token.
      : work.type === 'headers'
        ? await load({ port: server.port, tokens: { type: 'headers', headers: work.measure }, amount: work.measure.length - 2 * CONNECTIONS })
        : await load({ port: server.port, tokens: { type: 'pool', tokens: work.measure }, amount: work.measure.length - 2 * CONNECTIONS })
    return { result, interference: meter.stop() }
  })
  const { result, interference } = run.result
  return {
    ...result,
    cpuUsPerRequest: run.cpuNs === undefined ? undefined : run.cpuNs / 1000 / result.requests,
    peakHeap: run.peakHeap,
    peakRss: run.peakRss,
    interference,
    runs: 1,
  }
}

/** The better of two runs: fewer failures, then more requests/s (interference only ever slows a run down). */
export function better(a: HttpMeasurement | undefined, b: HttpMeasurement): HttpMeasurement {
  if (!a) return b
  if (a.failures !== b.failures) return a.failures < b.failures ? a : b
  return b.rps > a.rps ? b : a
}

/** Measure, and repeat while the run was disturbed by other processes; keep the best. */
export async function measureSteady(spec: ServerSpec, work: Load, retries: number): Promise<HttpMeasurement> {
  let best: HttpMeasurement | undefined
  let runs = 0
  for (let attempt = 0; attempt <= retries; attempt++) {
    const m = await measureHttp(spec, work)
    runs++
    best = better(best, m)
    if (m.failures === 0 && (m.interference ?? 0) <= DISTURBED) break
  }
  return { ...best!, runs }
}
