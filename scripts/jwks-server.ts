// A JSON Web Key Set served over HTTP on 127.0.0.1, and the RS256 tokens its
// key signs: what a Temporal server's `jwtKeyProvider.keySourceURIs` reads,
// standing in for an identity provider. node:crypto only.
import { createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/** How long a token stays valid: longer than any test run. */
const TOKEN_LIFETIME_SECONDS = 24 * 3600;

export interface JwtClaims {
  sub: string;
  /** Temporal's default claim mapper reads `<namespace>:<role>` or `temporal-system:<role>` strings here. */
  permissions: string[];
  [claim: string]: unknown;
}

export interface JwksServer {
  /** `http://127.0.0.1:<port>/.well-known/jwks.json` */
  url: string;
  /** Signs `claims` (plus `iat`, `exp`) as an RS256 JWT with the served key's `kid`. */
  signToken(claims: JwtClaims): string;
  stop(): Promise<void>;
}

const base64url = (value: Buffer | string): string => Buffer.from(value).toString('base64url');

/** Generates an RSA key and serves its public half; resolves once listening. */
export async function startJwksServer(): Promise<JwksServer> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyId = randomUUID();
  const jwks = JSON.stringify({ keys: [{ ...publicJwk(privateKey), kid: keyId, alg: 'RS256', use: 'sig' }] });

  const server: Server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/.well-known/jwks.json') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('the JWKS server has no address');
  // Keep-alive sockets from the Temporal server would hold close() open.
  server.keepAliveTimeout = 1_000;

  return {
    url: `http://127.0.0.1:${address.port}/.well-known/jwks.json`,
    signToken: (claims) => signJwt(privateKey, keyId, claims),
    stop: () =>
      new Promise((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}

function publicJwk(privateKey: KeyObject): Record<string, unknown> {
  const { kty, n, e } = createPublicKey(privateKey).export({ format: 'jwk' });
  return { kty, n, e };
}

function signJwt(privateKey: KeyObject, keyId: string, claims: JwtClaims): string {
  const issuedAt = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: keyId }));
  const payload = base64url(JSON.stringify({ iat: issuedAt, exp: issuedAt + TOKEN_LIFETIME_SECONDS, ...claims }));
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), privateKey);
  return `${header}.${payload}.${base64url(signature)}`;
}
