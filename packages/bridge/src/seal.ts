/**
 * Upstream tokens at rest: AES-256-GCM with a key list. The first key seals; any key opens (so keys can be
 * rotated: put the new key first, keep the old one until its sealed tokens have expired). The key id and a
 * random 96-bit IV travel with the ciphertext; the store key is bound as additional authenticated data, so a
 * sealed value moved under another user's key does not open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { BridgeConfigError } from './errors.js'

interface Key {
  id: string
  key: Buffer
}

export interface Sealer {
  seal(plaintext: string, context: string): string
  /** undefined when no key opens it or it was tampered with. */
  open(sealed: string, context: string): string | undefined
}

export function createSealer(encodedKeys: readonly string[]): Sealer {
  const keys: Key[] = encodedKeys.map((encoded, i) => {
    const key = typeof encoded === 'string' && /^[A-Za-z0-9_-]+={0,2}$/.test(encoded) ? Buffer.from(encoded, 'base64url') : undefined
    if (!key || key.length !== 32) {
      throw new BridgeConfigError(
        `encryptionKeys[${i}]`,
        "each key must be 32 random bytes, base64url-encoded (43 characters), e.g. from `node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64url'))\"`",
      )
    }
    return { id: createHash('sha256').update(key).digest('base64url').slice(0, 8), key }
  })
  const first = keys[0]
  if (!first) throw new BridgeConfigError('encryptionKeys', 'give at least one key, or omit the option for a random key per process')
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', first.key, iv)
      cipher.setAAD(Buffer.from(context))
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return ['v1', first.id, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.')
    },
    open(sealed, context) {
      const [version, id, iv, body, tag] = sealed.split('.')
      if (version !== 'v1' || !iv || body === undefined || !tag) return undefined
      const key = keys.find((k) => k.id === id)
      if (!key) return undefined
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'))
        decipher.setAAD(Buffer.from(context))
        decipher.setAuthTag(Buffer.from(tag, 'base64url'))
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
      } catch {
        return undefined
      }
    },
  }
}

export function randomKey(): string {
  return randomBytes(32).toString('base64url')
}
