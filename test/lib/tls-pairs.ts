// Certificates for TLS tests: self-signed pairs that serve as their own CA (OpenSSL takes a self-signed
// certificate as a trust anchor), usable on both ends (serverAuth and clientAuth), written to `dir` as
// NAME.key (0600) and NAME.crt.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface PemPair {
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
}

export async function selfSignedPair(dir: string, name: string): Promise<PemPair> {
  const p = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', keyCertSign: true, digitalSignature: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    ],
  });
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  writeFileSync(keyFile, p.private, { mode: 0o600 });
  writeFileSync(certFile, p.cert);
  return { key: p.private, cert: p.cert, keyFile, certFile };
}
