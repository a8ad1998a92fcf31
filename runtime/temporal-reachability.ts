import { connect } from 'node:net';

/** Longest wait for a TCP connection to the Temporal frontend. */
const PROBE_TIMEOUT_MS = 500;

const addresses = new WeakMap<object, string>();

/** Records the frontend address behind `client` (a Client or its connection), so a slow call can tell "down" from "busy". */
export function rememberTemporalAddress(client: object, address: string): void {
  addresses.set(client, address);
}

function addressOf(client: object): string | undefined {
  // Every Client of a process shares its connection: look it up by either.
  return addresses.get(client) ?? addresses.get((client as { connection?: object }).connection ?? client);
}

/**
 * Whether the Temporal frontend behind `client` accepts a TCP connection
 * now (undefined: its address is unknown). A busy server still accepts one
 * at once (the kernel completes the handshake); a stopped or cut-off one does
 * not, which is what tells an outage from a slow answer.
 */
export async function temporalReachable(client: object): Promise<boolean | undefined> {
  const address = addressOf(client);
  if (address === undefined) return undefined;
  const { host, port } = splitAddress(address);
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    const done = (reachable: boolean) => {
      socket.destroy();
      resolve(reachable);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** `host:port`, `[v6]:port` or a bare host (port 7233). */
function splitAddress(address: string): { host: string; port: number } {
  const withoutScheme = address.replace(/^[a-z]+:\/\//i, '');
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(withoutScheme) ?? /^([^:]+)(?::(\d+))?$/.exec(withoutScheme);
  return { host: match?.[1] ?? withoutScheme, port: Number(match?.[2] ?? 7233) };
}
