/** One HTTP request of the doctor: a timeout, redirects followed (as clients do) but reported, never a throw. */

export interface HttpOptions {
  fetch: typeof fetch
  timeout: number
}

export interface Fetched {
  url: string
  /** HTTP status, or `undefined` when no response came (then `error` says why). */
  status: number | undefined
  error: string | undefined
  /** The body as a JSON object, when it is one. */
  json: Record<string, unknown> | undefined
  headers: Headers | undefined
  /** Set when the response came from another URL after redirects. */
  redirectedTo: string | undefined
}

const MAX_BODY = 1024 * 1024

export async function request(url: string, options: HttpOptions, init: RequestInit = {}): Promise<Fetched> {
  const out: Fetched = { url, status: undefined, error: undefined, json: undefined, headers: undefined, redirectedTo: undefined }
  try {
    const res = await options.fetch(url, { ...init, headers: { accept: 'application/json', ...init.headers }, signal: AbortSignal.timeout(options.timeout) })
    out.status = res.status
    out.headers = res.headers
    if (res.redirected && res.url !== url) out.redirectedTo = res.url
    const text = await res.text()
    if (text.length > MAX_BODY) {
      out.error = `body over ${MAX_BODY} bytes`
      return out
    }
    try {
      const parsed: unknown = JSON.parse(text)
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) out.json = parsed as Record<string, unknown>
    } catch {
      // Not JSON: callers report the status and that the body was not a JSON object.
    }
  } catch (err) {
    out.error = describe(err)
  }
  return out
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out'
    const cause = err.cause as { code?: unknown; errors?: { code?: unknown }[] } | undefined
    const code = cause?.code ?? cause?.errors?.[0]?.code
    return typeof code === 'string' ? code : err.message
  }
  return String(err)
}

/** "200", "404", "ECONNREFUSED", … for a report line. */
export function outcome(f: Fetched): string {
  return f.status !== undefined ? String(f.status) : (f.error ?? 'no response')
}
