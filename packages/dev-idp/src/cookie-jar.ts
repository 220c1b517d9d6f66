/** A minimal cookie jar for driving the IdP's browser flow with fetch (single origin, path matching). */
export class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string; expires: number | undefined }>()

  store(requestUrl: URL, res: Response): void {
    for (const header of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = header.split(';')
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      let path = defaultPath(requestUrl.pathname)
      let expires: number | undefined
      for (const attr of attrs) {
        const i = attr.indexOf('=')
        const key = (i === -1 ? attr : attr.slice(0, i)).trim().toLowerCase()
        const val = i === -1 ? '' : attr.slice(i + 1).trim()
        if (key === 'path' && val.startsWith('/')) path = val
        else if (key === 'max-age' && /^-?\d+$/.test(val)) expires = Date.now() + Number(val) * 1000
        else if (key === 'expires' && expires === undefined) {
          const t = Date.parse(val)
          if (!Number.isNaN(t)) expires = t
        }
      }
      const id = `${name};${path}`
      if (expires !== undefined && expires <= Date.now()) this.cookies.delete(id)
      else this.cookies.set(id, { name, value, path, expires })
    }
  }

  header(url: URL): string {
    const now = Date.now()
    const out: string[] = []
    for (const [id, c] of this.cookies) {
      if (c.expires !== undefined && c.expires <= now) {
        this.cookies.delete(id)
        continue
      }
      if (pathMatches(url.pathname, c.path)) out.push(`${c.name}=${c.value}`)
    }
    return out.join('; ')
  }
}

function defaultPath(pathname: string): string {
  const i = pathname.lastIndexOf('/')
  return i <= 0 ? '/' : pathname.slice(0, i)
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true
  if (!requestPath.startsWith(cookiePath)) return false
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'
}
