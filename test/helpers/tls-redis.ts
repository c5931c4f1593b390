import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/redis/managed-server.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

const run = promisify(execFile);

/** A real redis-server that also listens with TLS, on a certificate of its own. */
export interface TlsRedisServer {
  /** `rediss://127.0.0.1:<tls port>`. */
  readonly url: string;
  /**
   * The server's self-signed certificate (PEM). Node trusts it only through `NODE_EXTRA_CA_CERTS`,
   * which it reads at start: a client of `url` runs in a child process with it in its environment.
   */
  readonly certFile: string;
  /** The redis-server itself; its `url`, `port` and `cli` are its plain (non-TLS) port, for checks. */
  readonly server: RedisServer;
  /** Stops the server, removes its folder and the certificate. */
  close(): Promise<void>;
}

/**
 * Makes a self-signed certificate for 127.0.0.1 with openssl (an EC key: a few milliseconds,
 * where RSA takes up to a second) and starts redis-server with `--tls-port` on it, besides its
 * plain port. There is no fallback: without openssl the test fails with what to install.
 */
export async function startTlsRedisServer(): Promise<TlsRedisServer> {
  await run('openssl', ['version']).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new Error(
      'openssl is not installed: the TLS tests need it to make a self-signed certificate. ' +
        'Install it (Debian/Ubuntu: `sudo apt-get install openssl`, or run `bash scripts/install-system-deps.sh`).',
      { cause: error },
    );
  });
  const dir = await mkdtemp(join(tmpdir(), 'sluice-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  try {
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
    ]);
    const tlsPort = await freePort();
    const server = await startRedisServer({
      args: ['--tls-port', String(tlsPort), '--tls-cert-file', certFile, '--tls-key-file', keyFile, '--tls-auth-clients', 'no'],
    });
    return {
      url: `rediss://127.0.0.1:${tlsPort}`,
      certFile,
      server,
      async close() {
        try {
          await server.close();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
