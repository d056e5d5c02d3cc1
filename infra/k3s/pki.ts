/**
 * The cluster's PKI as @pulumi/tls resources, built from `pki-spec.ts`. Keys and certificates live only in
 * Pulumi state (private keys as secrets). Nothing here expires on its own schedule except the admin
 * certificate, which `pulumi up` re-issues in its last 30 days; CAs change only when someone replaces them.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import {
  adminCertSpec,
  CaId,
  CaSpec,
  CertificateSpec,
  k3sCaSpecs,
  KeySpec,
  LEAF_CA_FILES,
  LeafCaId,
  SERVICE_ACCOUNT_KEY,
} from "./pki-spec";
import { ServerTlsMaterial } from "./server-tls";

export interface K3sPkiArgs {
  /** Prefix of the certificate common names, e.g. the stack's resource prefix. */
  readonly clusterName: string;
}

export interface IssuedCertificate {
  readonly certPem: pulumi.Output<string>;
  readonly keyPem: pulumi.Output<string>;
}

function privateKeyArgs(key: KeySpec): tls.PrivateKeyArgs {
  return key.algorithm === "RSA" ? { algorithm: "RSA", rsaBits: key.rsaBits } : { algorithm: "ECDSA", ecdsaCurve: key.ecdsaCurve };
}

function subject(spec: CertificateSpec): tls.types.input.CertRequestSubject {
  return spec.organization === undefined
    ? { commonName: spec.commonName }
    : { commonName: spec.commonName, organization: spec.organization };
}

export class K3sPki extends pulumi.ComponentResource {
  readonly cas: Readonly<Record<CaId, IssuedCertificate>>;
  readonly admin: IssuedCertificate;
  readonly serviceAccountKeyPem: pulumi.Output<string>;
  /** Everything node1 needs under /var/lib/rancher/k3s/server/tls, resolved together (secret). */
  readonly serverTls: pulumi.Output<ServerTlsMaterial>;

  constructor(name: string, args: K3sPkiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:k3s:Pki", name, {}, opts);
    const child = { parent: this };

    const issued: Partial<Record<CaId, IssuedCertificate>> = {};
    for (const spec of k3sCaSpecs(args.clusterName)) {
      issued[spec.id] = this.issue(`${name}-${spec.id}-ca`, spec, spec.issuer === undefined ? undefined : issued[spec.issuer], child);
    }
    this.cas = issued as Record<CaId, IssuedCertificate>;
    this.admin = this.issue(`${name}-admin`, adminCertSpec(args.clusterName), this.cas.client, child);
    this.serviceAccountKeyPem = pulumi.secret(
      new tls.PrivateKey(`${name}-service-account-key`, privateKeyArgs(SERVICE_ACCOUNT_KEY), child).privateKeyPem,
    );

    const leafPems = LEAF_CA_FILES.map(({ id }) =>
      pulumi.all([this.cas[id].certPem, this.cas[id].keyPem]).apply(([certPem, keyPem]) => ({ id, certPem, keyPem })),
    );
    this.serverTls = pulumi.secret(
      pulumi
        .all([this.cas.root.certPem, this.cas.intermediate.certPem, this.serviceAccountKeyPem, pulumi.all(leafPems)])
        .apply(([rootCertPem, intermediateCertPem, serviceAccountKeyPem, leaves]) => ({
          rootCertPem,
          intermediateCertPem,
          serviceAccountKeyPem,
          leafCas: Object.fromEntries(leaves.map((l) => [l.id, { certPem: l.certPem, keyPem: l.keyPem }])) as Record<
            LeafCaId,
            { certPem: string; keyPem: string }
          >,
        })),
    );

    this.registerOutputs({
      rootCertPem: this.cas.root.certPem,
      serverCaCertPem: this.cas.server.certPem,
      adminCertPem: this.admin.certPem,
    });
  }

  /** A key plus a certificate: self-signed when there is no issuer, otherwise a CSR signed by the issuer. */
  private issue(
    resourceName: string,
    spec: CertificateSpec | CaSpec,
    issuer: IssuedCertificate | undefined,
    opts: pulumi.CustomResourceOptions,
  ): IssuedCertificate {
    const key = new tls.PrivateKey(`${resourceName}-key`, privateKeyArgs(spec.key), opts);
    const common = {
      allowedUses: [...spec.allowedUses],
      isCaCertificate: spec.isCa,
      validityPeriodHours: spec.validityHours,
      earlyRenewalHours: spec.earlyRenewalHours,
      // k3s identifies the root of a CA bundle by its key identifiers when it hashes the join token.
      setSubjectKeyId: true,
    };
    let certPem: pulumi.Output<string>;
    if (issuer === undefined) {
      certPem = new tls.SelfSignedCert(
        resourceName,
        { ...common, privateKeyPem: key.privateKeyPem, subject: subject(spec), setAuthorityKeyId: true },
        opts,
      ).certPem;
    } else {
      const csr = new tls.CertRequest(`${resourceName}-csr`, { privateKeyPem: key.privateKeyPem, subject: subject(spec) }, opts);
      certPem = new tls.LocallySignedCert(
        resourceName,
        { ...common, certRequestPem: csr.certRequestPem, caCertPem: issuer.certPem, caPrivateKeyPem: issuer.keyPem },
        opts,
      ).certPem;
    }
    return { certPem, keyPem: pulumi.secret(key.privateKeyPem) };
  }
}
