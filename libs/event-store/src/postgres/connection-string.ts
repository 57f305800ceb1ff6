/**
 * The connection string with `-c name=value` added to its `options`, which PostgreSQL applies
 * when the session starts, after those it already had (a schema's search_path, say). A `SET`
 * from a pool's connect hook would run unawaited, pipelined ahead of the caller's first query,
 * which node-postgres deprecates; a separate `options` in the pool config would be overridden by
 * the connection string's own. A string that is not a URL is returned as it is, without the
 * setting.
 */
export function withSessionSetting(url: string, name: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const options = parsed.searchParams.get('options');
  parsed.searchParams.set('options', `${options ? `${options} ` : ''}-c ${name}=${value}`);
  return parsed.toString();
}

/**
 * How long a request's statement may wait for a lock (a stuck session holding a table, a head row):
 * then it fails as unavailable and the caller gets a 503 to retry, instead of waiting for as long
 * as the other session lives. Appends and idempotency records hold their locks for milliseconds.
 */
export const REQUEST_LOCK_TIMEOUT = '3s';
