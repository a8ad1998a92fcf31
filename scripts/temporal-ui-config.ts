// The Temporal UI server's config (its base.yaml) for a cluster with mTLS on
// the frontend. Pure: builds the YAML text, writes nothing. The API key is not
// in it: temporal-ui-server reads that from its own file (-api-key-file).
import { stringify } from 'yaml';

export interface TemporalUiConfigInput {
  /** The frontend, `host:port`. */
  frontendAddress: string;
  /** The namespace the UI opens on. */
  namespace: string;
  host: string;
  port: number;
  tls: { clientCertPath: string; clientKeyPath: string; serverCaPath: string; serverName: string };
}

export function temporalUiConfigYaml(input: TemporalUiConfigInput): string {
  const url = `http://${input.host}:${input.port}`;
  const config = {
    temporalGrpcAddress: input.frontendAddress,
    host: input.host,
    port: input.port,
    enableUi: true,
    defaultNamespace: input.namespace,
    // Read once: nothing here changes while the UI runs.
    refreshInterval: '0s',
    // The request log (method, path, status; no headers) is the UI's log file, for a failure message.
    hideLogs: false,
    // No calls out to GitHub or Docker Hub for release news: the machine may not reach them.
    disableNewsFetch: true,
    notifyOnNewVersion: false,
    cors: {
      // Same-origin only: the UI's pages and its API are served from this one address.
      allowOrigins: [url],
      unsafeAllowAllOrigins: false,
      // The UI is plain HTTP on loopback; a Secure CSRF cookie would not come back over it.
      cookieInsecure: true,
    },
    tls: {
      caFile: input.tls.serverCaPath,
      certFile: input.tls.clientCertPath,
      keyFile: input.tls.clientKeyPath,
      serverName: input.tls.serverName,
      // Off, the ui-server skips verifying the frontend's certificate altogether (InsecureSkipVerify).
      enableHostVerification: true,
    },
    auth: { enabled: false },
    forwardHeaders: [],
  };
  return stringify(config);
}
