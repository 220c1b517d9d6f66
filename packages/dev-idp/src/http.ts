import type { IncomingMessage, ServerResponse } from 'node:http'

export class BodyTooLarge extends Error {}

/** Read a request body fully, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = 56 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of req) {
    const buf = chunk as Buffer
    total += buf.length
    if (total > limit) throw new BodyTooLarge('request body too large')
    chunks.push(buf)
  }
  return Buffer.concat(chunks, total)
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  })
  res.end(text)
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
  })
  res.end(html)
}

export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

const STYLE =
  'body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:40px 16px}' +
  '.box{max-width:340px;margin:0 auto;background:#fff;border-radius:8px;padding:24px 28px;box-shadow:0 1px 4px rgba(0,0,0,.15)}' +
  'h1{font-size:1.3em;margin:0 0 12px}label{display:block;font-size:.9em;margin:10px 0 4px}' +
  'input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:8px;font-size:1em;border:1px solid #bbb;border-radius:4px}' +
  'button{margin-top:16px;width:100%;padding:10px;font-size:1em;border:0;border-radius:4px;background:#2563eb;color:#fff;cursor:pointer}' +
  '.err{color:#b91c1c}.muted{color:#666;font-size:.85em}code{background:#eee;padding:1px 4px;border-radius:3px}a{color:#2563eb}'

export function page(title: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><div class="box">${body}</div></body></html>`
}
