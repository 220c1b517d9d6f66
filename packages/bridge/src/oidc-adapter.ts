/**
 * oidc-provider's storage adapter over a {@link BridgeStore}. Token-like models whose id IS the credential
 * (authorization codes, refresh tokens, device codes, opaque access tokens, registration access tokens) are
 * stored under a SHA-256 of the id, and their payload keeps no copy of it (`jti` is put back on read): a
 * leaked store holds no usable refresh token or code.
 *
 * Secondary indexes (session uid → session, user code → device code) are plain entries; the grant → members
 * index uses the store's atomic `indexAdd` / `indexTake` when it has them (RedisStore, MemoryBridgeStore).
 */
import { createHash } from 'node:crypto'
import type { Adapter, AdapterPayload } from 'oidc-provider'
import type { Sealer } from './seal.js'
import type { BridgeStore } from './store.js'

const HASHED = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'AccessToken',
  'ClientCredentials',
  'RegistrationAccessToken',
  'InitialAccessToken',
  'BackchannelAuthenticationRequest',
])

const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest'])
/** One-time credentials: `consume()` redeems a take-once marker, so of two concurrent redemptions exactly one wins. */
const ONE_TIME = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode'])

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

/**
 * @param maxTtl lifetime of entries oidc-provider stores without one (registered clients) and of the indexes.
 * @param sealer seals the credentials an index must give back (the device code behind a user code, the session id behind its uid).
 * @param alreadyUsed the error a lost race for a one-time credential throws (oidc-provider's InvalidGrant).
 */
export function createOidcAdapter(store: BridgeStore, maxTtl: number, sealer: Sealer, alreadyUsed: (message: string) => Error): (model: string) => Adapter {
  const now = () => Math.floor(Date.now() / 1000)
  const INDEX = 'bridge-oidc-grant-index'
  async function indexAdd(grantId: string, member: string, ttl: number): Promise<void> {
    if (store.indexAdd) return store.indexAdd(INDEX, grantId, member, ttl)
    // Read-modify-write fallback (see BridgeStore.indexAdd).
    const members = new Set(JSON.parse((await store.get(INDEX, grantId)) ?? '[]') as string[])
    members.add(member)
    await store.set(INDEX, grantId, JSON.stringify([...members]), ttl)
  }
  async function indexTake(grantId: string): Promise<string[]> {
    if (store.indexTake) return store.indexTake(INDEX, grantId)
    return JSON.parse((await store.take(INDEX, grantId)) ?? '[]') as string[]
  }
  async function revokeGrant(grantId: string): Promise<void> {
    const members = await indexTake(grantId)
    await Promise.all(members.map((m) => {
      const [k, i] = JSON.parse(m) as [string, string]
      return store.delete(k, i)
    }))
  }
  return (model: string): Adapter => {
    const hashed = HASHED.has(model)
    const kind = `bridge-oidc-${model}`
    const idOf = (id: string) => (hashed ? sha256(id) : id)
    const ttlOf = (expiresIn: number | undefined) => (typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : maxTtl)

    async function read(id: string): Promise<AdapterPayload | undefined> {
      const text = await store.get(kind, idOf(id))
      if (text === undefined) return undefined
      const payload = JSON.parse(text) as AdapterPayload
      if (hashed) payload.jti = id
      return payload
    }

    return {
      async upsert(id, payload, expiresIn) {
        const copy: AdapterPayload = { ...payload }
        if (hashed) delete copy.jti
        const ttl = ttlOf(expiresIn)
        await store.set(kind, idOf(id), JSON.stringify(copy), ttl)
        if (ONE_TIME.has(model) && !payload.consumed) await store.set('bridge-oidc-unused', `${model}:${idOf(id)}`, '1', ttl)
        // The session id is the browser's cookie value: the index keeps it sealed, like the device code below.
        if (model === 'Session' && typeof payload.uid === 'string') await store.set('bridge-oidc-session-uid', payload.uid, sealer.seal(id, `session-uid:${payload.uid}`), ttl)
        if (typeof payload.userCode === 'string') {
          const userCode = sha256(payload.userCode)
          await store.set('bridge-oidc-usercode', userCode, sealer.seal(id, `usercode:${userCode}`), ttl)
        }
        if (GRANTABLE.has(model) && typeof payload.grantId === 'string') await indexAdd(payload.grantId, JSON.stringify([kind, idOf(id)]), Math.max(ttl, maxTtl))
      },
      find: read,
      async findByUid(uid) {
        const sealed = await store.get('bridge-oidc-session-uid', uid)
        const id = sealed === undefined ? undefined : sealer.open(sealed, `session-uid:${uid}`)
        return id === undefined ? undefined : read(id)
      },
      async findByUserCode(userCode) {
        const hashed = sha256(userCode)
        const sealed = await store.get('bridge-oidc-usercode', hashed)
        const id = sealed === undefined ? undefined : sealer.open(sealed, `usercode:${hashed}`)
        return id === undefined ? undefined : read(id)
      },
      async consume(id) {
        const text = await store.get(kind, idOf(id))
        if (text === undefined) return
        // oidc-provider checks `consumed`, then consumes: two concurrent redemptions (two requests, two instances)
        // could both pass the check. The take-once marker lets exactly one through; the other is a replay.
        if (ONE_TIME.has(model) && (await store.take('bridge-oidc-unused', `${model}:${idOf(id)}`)) === undefined) {
          const grantId = (JSON.parse(text) as AdapterPayload).grantId
          if (typeof grantId === 'string') await revokeGrant(grantId)
          throw alreadyUsed(`${model === 'RefreshToken' ? 'refresh token' : model === 'DeviceCode' ? 'device code' : 'authorization code'} already used`)
        }
        const payload = JSON.parse(text) as AdapterPayload
        payload.consumed = now()
        const left = typeof payload.exp === 'number' ? payload.exp - now() : maxTtl
        await store.set(kind, idOf(id), JSON.stringify(payload), Math.max(1, left))
      },
      async destroy(id) {
        await store.delete(kind, idOf(id))
      },
      revokeByGrantId: revokeGrant,
    }
  }
}
