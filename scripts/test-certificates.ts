// Throwaway certificates for a TLS test cluster, made with the openssl CLI:
// a CA, a server certificate for 127.0.0.1/localhost and a client
// certificate it signed, and a client certificate from a second, unrelated CA
// for tests that expect the server to refuse it.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findOnPath, lastLines } from './debian-packages';

const execFileAsync = promisify(execFile);
/** Long enough for any test run, short enough that a leaked key is worthless soon. */
const VALID_DAYS = '7';
const OPENSSL_TIMEOUT_MS = 30_000;

export interface CertificatePair {
  certPath: string;
  keyPath: string;
}

export interface TestCertificates {
  /** The CA that signed the server and client certificates; the server trusts clients it signed. */
  ca: CertificatePair;
  /** For `localhost` and `127.0.0.1`. */
  server: CertificatePair;
  serverName: 'localhost';
  /** Signed by `ca`. */
  client: CertificatePair;
  /** Signed by a CA the server does not trust. */
  wrongClient: CertificatePair;
}

/** Writes a fresh set into `dir` (replacing what was there). */
export async function createTestCertificates(dir: string): Promise<TestCertificates> {
  const openssl = findOnPath('openssl');
  if (!openssl) throw new Error('openssl is not on PATH: it makes the test cluster\'s certificates (`sudo apt-get install openssl`)');
  await rm(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const run = async (args: string[]): Promise<void> => {
    try {
      await execFileAsync(openssl, args, { cwd: dir, encoding: 'utf8', timeout: OPENSSL_TIMEOUT_MS });
    } catch (error) {
      const cause = error as { stderr?: string; message?: string };
      throw new Error(`\`openssl ${args[0]}\` failed while making test certificates in ${dir}:\n${lastLines(cause.stderr || cause.message || '')}`);
    }
  };
  const pair = (name: string): CertificatePair => ({ certPath: join(dir, `${name}.pem`), keyPath: join(dir, `${name}.key`) });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  const makeCa = async (name: string, commonName: string): Promise<CertificatePair> => {
    const ca = pair(name);
    await run([
      'req', '-x509', ...newKey, '-keyout', ca.keyPath, '-out', ca.certPath, '-days', VALID_DAYS, '-subj', `/CN=${commonName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return ca;
  };
  const makeSigned = async (name: string, commonName: string, ca: CertificatePair, extensions: string): Promise<CertificatePair> => {
    const signed = pair(name);
    const request = join(dir, `${name}.csr`);
    const extensionFile = join(dir, `${name}.ext`);
    await writeFile(extensionFile, extensions);
    await run(['req', ...newKey, '-keyout', signed.keyPath, '-out', request, '-subj', `/CN=${commonName}`]);
    await run([
      'x509', '-req', '-in', request, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', `0x${randomBytes(12).toString('hex')}`,
      '-days', VALID_DAYS, '-sha256', '-extfile', extensionFile, '-out', signed.certPath,
    ]);
    await rm(request);
    await rm(extensionFile);
    return signed;
  };
  const leaf = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n';

  const ca = await makeCa('ca', 'Switchyard test CA');
  const server = await makeSigned('server', 'localhost', ca, `${leaf}extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n`);
  const client = await makeSigned('client', 'switchyard-test-client', ca, `${leaf}extendedKeyUsage=clientAuth\n`);
  const otherCa = await makeCa('other-ca', 'Unrelated test CA');
  const wrongClient = await makeSigned('wrong-client', 'switchyard-test-client', otherCa, `${leaf}extendedKeyUsage=clientAuth\n`);
  return { ca, server, serverName: 'localhost', client, wrongClient };
}
