/**
 * The certificate the internal load balancers present for the service's name: a public ACM
 * certificate for `app.<pra:serviceDomain>`, validated by DNS in that domain's public Route 53
 * zone, issued in the primary and the DR region (an ALB uses a certificate of its own region).
 * ACM renews it on its own for as long as the validation record stays. The Load Balancer
 * Controller finds it by the Ingress's TLS host (charts/target/target-chart.ts).
 *
 * Why not AWS Private CA, which could name the `.internal` zone: a general-purpose CA costs
 * 400 USD a month, one per region; a public certificate costs nothing and needs only a domain
 * the account already holds (docs/aws-target.md).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ServiceCertificateArgs {
  /** The service's name (`app.<domain>`). */
  readonly domainName: string;
  /** The public domain whose hosted zone validates it (`pra:serviceDomain`). */
  readonly publicDomain: string;
  /** The providers of the regions that need the certificate: the primary first. */
  readonly providers: { readonly primary: aws.Provider; readonly dr: aws.Provider };
}

export class ServiceCertificate extends pulumi.ComponentResource {
  public readonly primaryArn: pulumi.Output<string>;
  public readonly drArn: pulumi.Output<string>;

  constructor(name: string, args: ServiceCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:ServiceCertificate", name, {}, opts);
    const inPrimary = { parent: this, provider: args.providers.primary };
    const zone = aws.route53.getZoneOutput(
      { name: args.publicDomain, privateZone: false },
      inPrimary,
    );
    const certificate = (region: "primary" | "dr") =>
      new aws.acm.Certificate(
        `${name}-${region}`,
        { domainName: args.domainName, validationMethod: "DNS", keyAlgorithm: "EC_prime256v1" },
        { parent: this, provider: args.providers[region] },
      );
    const primary = certificate("primary");
    const dr = certificate("dr");
    // ACM derives the validation record from the name and the account: both regions' requests
    // ask for the same one, so one record validates both.
    const option = primary.domainValidationOptions.apply((options) => {
      const first = options[0];
      if (!first) throw new Error(`ACM gave no DNS validation record for ${args.domainName}`);
      return first;
    });
    const record = new aws.route53.Record(
      `${name}-validation`,
      {
        zoneId: zone.zoneId,
        name: option.resourceRecordName,
        type: option.resourceRecordType,
        records: [option.resourceRecordValue],
        ttl: 300,
        allowOverwrite: true,
      },
      inPrimary,
    );
    const validated = (region: "primary" | "dr", cert: aws.acm.Certificate) =>
      new aws.acm.CertificateValidation(
        `${name}-${region}`,
        { certificateArn: cert.arn, validationRecordFqdns: [record.fqdn] },
        { parent: this, provider: args.providers[region] },
      ).certificateArn;
    this.primaryArn = validated("primary", primary);
    this.drArn = validated("dr", dr);
    this.registerOutputs({ primaryArn: this.primaryArn, drArn: this.drArn });
  }
}
