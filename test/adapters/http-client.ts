/**
 * A raw HTTP/1.1 client for the batteries: the path is sent exactly as written (`//mcp`, `/%6Dcp` are not
 * normalized the way `fetch` would) and a header given as a list is sent as several header lines.
 */
import { request as httpRequest } from 'node:http'

export interface RawResponse {
  status: number
  headers: Record<string, string | undefined>
  text: string
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  json: unknown
}

export function send(origin: string, method: string, path: string, headers: Record<string, string | string[]> = {}, body?: string): Promise<RawResponse> {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, method, path, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: unknown
        try {
          json = text === '' ? undefined : JSON.parse(text)
        } catch {
          json = undefined
        }
        const flat: Record<string, string | undefined> = {}
        for (const [k, v] of Object.entries(res.headers)) flat[k] = Array.isArray(v) ? v.join(', ') : v
        resolve({ status: res.statusCode ?? 0, headers: flat, text, json })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    for (const [name, value] of Object.entries(headers)) req.setHeader(name, value)
    // DELETE and OPTIONS are not chunked by default: without a length the body would read as the next request.
    if (body !== undefined) req.setHeader('content-length', Buffer.byteLength(body))
    req.end(body)
  })
}
