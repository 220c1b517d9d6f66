import { createHash, timingSafeEqual } from 'node:crypto'

/** Constant-time comparison of two secrets of any length (hashing first equalises the lengths). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}

/** RFC 6749 §2.3.1 client_secret_basic: both parts form-urlencoded before base64. */
export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
}
