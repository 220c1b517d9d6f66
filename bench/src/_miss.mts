import { createPublicKey, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createMcpAuth } from '@mcp-oauth/core'
import { startLocalIssuer } from './issuer.js'
const RESOURCE = 'https://mcp.bench.example/mcp'
const local = await startLocalIssuer()
const cpu = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1000
for (const alg of ['RS256', 'EdDSA'] as const) {
  const jwks = await (await fetch(local.jwksUri)).json() as { keys: any[] }
  for (const cache of [true, false]) {
    const auth = createMcpAuth({ resource: RESOURCE, issuer: local.issuer, nativeCrypto: 'inline', cache: cache ? { max: 10_000 } : false })
    await auth.verifyAccessToken((await local.mint(alg, 1, RESOURCE))[0]!)
    let best = Infinity
    for (let r = 0; r < 4; r++) {
      const tokens = await local.mint(alg, 3000, RESOURCE)
      const c = cpu()
      await Promise.all(tokens.map((t) => auth.verifyAccessToken(t)))
      best = Math.min(best, (cpu() - c) / tokens.length)
    }
    console.log(alg, 'cache', cache, best.toFixed(1), 'µs/token (50-ish in flight: all at once)')
  }
  const tokens = await local.mint(alg, 3000, RESOURCE)
  const kid = JSON.parse(Buffer.from(tokens[0]!.split('.')[0]!, 'base64url').toString()).kid
  const key = createPublicKey({ key: jwks.keys.find((k) => k.kid === kid), format: 'jwk' })
  let best = Infinity
  for (let r = 0; r < 4; r++) {
    const c = cpu()
    for (const t of tokens) { const i = t.lastIndexOf('.'); verify(alg === 'EdDSA' ? null : 'sha256', Buffer.from(t.slice(0, i), 'latin1'), key, Buffer.from(t.slice(i + 1), 'base64url')) }
    best = Math.min(best, (cpu() - c) / tokens.length)
  }
  console.log(alg, 'bare crypto.verify', best.toFixed(1))
}
await local.close()
