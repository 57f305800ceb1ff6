import { connect } from 'node:net';

/**
 * Writes `request` as is on a fresh connection and returns everything the server answers: for
 * requests no HTTP client would send (a broken request line, headers too large).
 */
export function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}
