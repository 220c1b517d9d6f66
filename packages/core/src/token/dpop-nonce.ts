/**
 * Resource-server DPoP nonces (RFC 9449 §8, §9): with nonces on, a proof must carry a recent nonce this server
 * (or another instance with the same secret) supplied, which bounds how long a proof made in advance — by a
 * client whose key was briefly stolen — can be used. Stateless: a nonce is the time window it belongs to and
 * an HMAC of it, so instances that share the secret accept each other's nonces and nothing is stored.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-8
 */

const encoder = new TextEncoder()

function base64url(bytes: ArrayBuffer): string {
  let binary = ''
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Nonces of `lifetime`-second windows; the current and the previous window's nonce are accepted. */
export class DpopNonces {
  readonly #key: Promise<CryptoKey>
  readonly #byWindow = new Map<number, Promise<string>>()

  constructor(secret: Uint8Array, private readonly lifetime: number) {
    this.#key = crypto.subtle.importKey('raw', secret as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  }

  /** The nonce to hand out at `now` (seconds). */
  current(now: number): Promise<string> {
    return this.#nonce(Math.floor(now / this.lifetime))
  }

  /** Was `nonce` handed out by this server (or one sharing its secret) in this window or the previous one? */
  async valid(nonce: string, now: number): Promise<boolean> {
    const window = Math.floor(now / this.lifetime)
    for (const w of [window, window - 1]) if (nonce === await this.#nonce(w)) return true
    return false
  }

  #nonce(window: number): Promise<string> {
    let nonce = this.#byWindow.get(window)
    if (!nonce) {
      const id = window.toString(36)
      nonce = this.#key.then((key) => crypto.subtle.sign('HMAC', key, encoder.encode(`dpop-nonce:${id}`))).then((mac) => `${id}.${base64url(mac)}`)
      // Only the windows that can still be valid are kept.
      for (const w of this.#byWindow.keys()) if (w < window - 1) this.#byWindow.delete(w)
      this.#byWindow.set(window, nonce)
    }
    return nonce
  }
}
