import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** `127.0.0.1:<port>`, to give a process in place of the target. */
  address: string;
  /** Drops every connection and stops listening: the target looks unreachable. */
  cut(): Promise<void>;
  /** Listens again on the same port after `cut()`. */
  restore(): Promise<void>;
}

/** A TCP proxy on a free loopback port in front of `target` (`host:port`). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host = '127.0.0.1', port = ''] = target.split(':');
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = server.address() as { port: number };
  let closed: Promise<void> | undefined;
  return {
    address: `127.0.0.1:${proxyPort}`,
    cut() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
    async restore() {
      await closed;
      closed = undefined;
      await new Promise<void>((resolve) => server.listen(proxyPort, '127.0.0.1', resolve));
    },
  };
}
