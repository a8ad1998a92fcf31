// scripts/redis-server.ts: a real redis-server (from PATH or installed into
// .tools/redis/ on first use), spoken to over a raw socket in RESP.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startRedisServer, type RedisServer } from '../../scripts/redis-server';

let server: RedisServer;

before(async () => {
  server = await startRedisServer();
});

after(async () => {
  await server?.stop();
});

/** RESP array of bulk strings. */
function encode(args: string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

/** Sends the commands then QUIT, and returns everything the server wrote before closing. */
function exchange(port: number, commands: string[][]): Promise<string> {
  return new Promise((resolveReply, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no end of reply after 5 s; got ${JSON.stringify(data)}`)));
    socket.once('error', reject);
    socket.once('connect', () => socket.write([...commands, ['QUIT']].map(encode).join('')));
    socket.on('data', (chunk) => (data += chunk.toString('utf8')));
    socket.once('end', () => resolveReply(data));
  });
}

function connectError(port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolveResult) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolveResult(undefined);
    });
    socket.once('error', (error) => resolveResult(error));
  });
}

test('answers SET and GET in RESP on 127.0.0.1', async () => {
  assert.equal(server.url, `redis://127.0.0.1:${server.port}`);
  const reply = await exchange(server.port, [['SET', 'k', 'v'], ['GET', 'k'], ['GET', 'missing']]);
  assert.equal(reply, '+OK\r\n$1\r\nv\r\n$-1\r\n+OK\r\n');
});

test('keeps nothing on disk', async () => {
  const reply = await exchange(server.port, [['CONFIG', 'GET', 'save'], ['CONFIG', 'GET', 'appendonly']]);
  assert.equal(reply, '*2\r\n$4\r\nsave\r\n$0\r\n\r\n*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n+OK\r\n');
});

test('stop() ends the process and frees the port', async () => {
  await server.stop();
  assert.ok(server.process.exitCode !== null || server.process.signalCode !== null, 'process has exited');
  const error = await connectError(server.port);
  assert.equal(error?.code, 'ECONNREFUSED');
  await server.stop(); // a second stop is a no-op
});
