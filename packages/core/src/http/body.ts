/** Request bodies the core reads itself (the policy needs the JSON-RPC body), and the shared UTF-8 decoding. */

/** Largest JSON-RPC body the fetch host reads for the policy (as `nodeJsonBody` on Node hosts). */
export const MAX_REQUEST_BODY_BYTES = 4 * 1024 * 1024

/** What a host passes as the body when it was over {@link MAX_REQUEST_BODY_BYTES}: the core answers 413. */
export const BODY_TOO_LARGE: unique symbol = Symbol('mcp-oauth.bodyTooLarge')

/** UTF-8 text of the chunks read (`size` bytes in all). */
export function decodeChunks(chunks: readonly Uint8Array[], size: number): string {
  const all = new Uint8Array(size)
  let offset = 0
  for (const c of chunks) {
    all.set(c, offset)
    offset += c.byteLength
  }
  return new TextDecoder().decode(all)
}
