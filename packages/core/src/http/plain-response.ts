/**
 * A response as plain data, so adapters can write it to a native response without going through a web
 * `Response` (which costs allocations and an async body read on Node). `toResponse` makes the web one.
 */
export interface PlainResponse {
  status: number
  headers: Readonly<Record<string, string>>
  /** Empty for HEAD, 204 and 405 without body. */
  body: string
}

export function toResponse(plain: PlainResponse): Response {
  return new Response(plain.body === '' ? null : plain.body, { status: plain.status, headers: plain.headers })
}
