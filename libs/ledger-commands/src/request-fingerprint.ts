import { hash } from 'node:crypto';

/**
 * SHA-256 of the request's JSON with object keys sorted, so a retry that serialises the same body
 * in another key order is still recognised as the same request.
 */
export function requestFingerprint(json: unknown): string {
  return hash('sha256', canonicalJson(json), 'hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
