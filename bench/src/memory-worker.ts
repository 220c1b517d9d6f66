/**
 * Worker entry for the memory test, in a fresh isolate: mint the tokens, then measure the heap and RSS an
 * mcp-oauth instance adds by verifying and caching every one of them (`auth.verifyAccessToken`, twice each:
 * a JWT is cached from its second use).
 */
import { runInNewContext } from 'node:vm'
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { parentPort, workerData } from 'node:worker_threads'
import { createMcpAuth } from '@mcp-oauth/core'
import { mintTokens, type SigningKeyExport } from './issuer.js'

export interface MemoryInput {
  key: SigningKeyExport
  issuer: string
  resource: string
  count: number
}

export interface MemoryResult {
  count: number
  /** Tokens found in the cache on a second pass (should equal `count`). */
  cached: number
  /** Heap the mcp-oauth instance holds after caching every token, bytes (the token strings are the caller's). */
  heapDelta: number
  /** The same for RSS, bytes. */
  rssDelta: number
  /** Total length of the tokens, bytes, for scale. */
  tokenBytes: number
  /** Cache-miss verifications per second on the first pass (200 in flight). */
  verifyRate: number
}

// --expose-gc without a command-line flag: the flag takes effect for contexts created after it is set.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function settle(): { heap: number; rss: number } {
  for (let i = 0; i < 3; i++) gc()
  return { heap: getHeapStatistics().used_heap_size, rss: process.memoryUsage.rss() }
}

const input = workerData as MemoryInput
const tokens = await mintTokens(input.key, input.issuer, input.count, input.resource)
const before = settle()
let hits = 0
const auth = createMcpAuth({
  resource: input.resource,
  issuer: input.issuer,
  cache: { max: input.count },
  onEvent: (e) => { if (e.type === 'cache' && e.hit) hits++ },
})
const fill = () => Promise.all(tokens.slice(i, i + 200).map((t) => auth.verifyAccessToken(t)))
let i = 0
const start = performance.now()
for (i = 0; i < tokens.length; i += 200) await fill()
const verifyRate = tokens.length / ((performance.now() - start) / 1000)
for (i = 0; i < tokens.length; i += 200) await fill()
const after = settle()
hits = 0
for (const t of tokens) await auth.verifyAccessToken(t)
parentPort!.postMessage({
  count: tokens.length,
  cached: hits,
  heapDelta: after.heap - before.heap,
  rssDelta: after.rss - before.rss,
  tokenBytes: tokens.reduce((n, t) => n + t.length, 0),
  verifyRate,
} satisfies MemoryResult)
