import { createTestSchema } from './services';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

/** A fresh PostgreSQL schema reached through a TCP proxy, so a test can take the database away from the service under test. */
export interface PostgresBehindProxy {
  readonly proxy: TcpProxy;
  /** What the service under test connects to: the schema, through the proxy. */
  readonly url: string;
  /** Closes the proxy and drops the schema: after the service under test has stopped. */
  close(): Promise<void>;
}

export async function postgresBehindProxy(schemaPrefix: string): Promise<PostgresBehindProxy> {
  const schema = await createTestSchema(schemaPrefix);
  const target = new URL(schema.url);
  const proxy = await startTcpProxy(Number(target.port || 5432));
  target.port = String(proxy.port);
  return {
    proxy,
    url: target.toString(),
    async close() {
      await proxy.close();
      await schema.drop();
    },
  };
}
