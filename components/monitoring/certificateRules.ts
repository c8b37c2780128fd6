// Certificate expiry, measured on the live TLS endpoints: blackbox_exporter's tcp prober does a
// full mutual-TLS handshake with each Redis and Sentinel process and exports the earliest expiry
// in the chain it was shown (probe_ssl_earliest_cert_expiry). A certificate on disk that no
// process loaded yet is not what clients see: the endpoint is.
import { alertRule, RUNBOOK_PAGES, type AlertLinks, type AlertRow, type RuleFile } from "./runbooks";
import { BLACKBOX_REDIS_MODULE, CERTIFICATE_PROBE_JOB, type CertificateProbes } from "./prometheusConfig";

/** Days left at which on-call hears of it: a ticket first, a page a week out. Renewal must come before both. */
export const CERTIFICATE_EXPIRY_DAYS = { ticket: 21, page: 7 } as const;

export interface CertificateRulesInput extends AlertLinks {
  /** Set when TLS is on: the endpoints probed. */
  probes?: CertificateProbes;
}

const DAY_SECONDS = 86_400;

export function renderCertificateRules(input: CertificateRulesInput): RuleFile {
  // TLS off: the file Prometheus loads stays, empty.
  if (!input.probes) return { groups: [] };
  const expiry = `probe_ssl_earliest_cert_expiry{job="${CERTIFICATE_PROBE_JOB}"}`;
  const left = (days: number) => `${expiry} - time() < ${days * DAY_SECONDS}`;
  const rows: AlertRow[] = [
    {
      alert: "RedisCertificateExpiringSoon",
      expr: left(CERTIFICATE_EXPIRY_DAYS.ticket),
      severity: "ticket",
      summary: `A certificate {{ $labels.instance }} presents expires in less than ${CERTIFICATE_EXPIRY_DAYS.ticket} days`,
      description:
        `The earliest expiry in the chain {{ $labels.instance }} presents is less than ${CERTIFICATE_EXPIRY_DAYS.ticket} days away. Renewal must come well before this: ` +
        "it did not happen, or the renewed certificate was never loaded by the process (a data node loads it on CONFIG SET tls-cert-file, a sentinel only at its start).",
      runbook: RUNBOOK_PAGES.certificates,
    },
    {
      alert: "RedisCertificateExpiresThisWeek",
      expr: left(CERTIFICATE_EXPIRY_DAYS.page),
      severity: "page",
      forOmittedBecause: "an expiry date moves only forward, on renewal; a failed probe has no expiry series, so the alert cannot flap",
      summary: `A certificate {{ $labels.instance }} presents expires in less than ${CERTIFICATE_EXPIRY_DAYS.page} days`,
      description:
        `The earliest expiry in the chain {{ $labels.instance }} presents is less than ${CERTIFICATE_EXPIRY_DAYS.page} days away. When it passes, every client and peer refuses the handshake: ` +
        "replication, Sentinel and the API's connections stop. Renew now (runbook).",
      runbook: RUNBOOK_PAGES.certificates,
    },
    {
      alert: "RedisTlsProbeFailed",
      expr: `probe_success{job="${CERTIFICATE_PROBE_JOB}"} == 0`,
      for: "5m",
      severity: "ticket",
      summary: "The TLS probe of {{ $labels.instance }} has failed for 5 minutes",
      description:
        "blackbox_exporter could not complete a mutual-TLS handshake and a PING with {{ $labels.instance }}: the process is down (its own alerts page), its certificate has expired or is not signed by the CA bundle, " +
        "or the probe's own client certificate is refused. While this fires the certificate's expiry is not measured.",
      runbook: RUNBOOK_PAGES.certificates,
    },
  ];
  return { groups: [{ name: "redis-certificates", rules: rows.map((row) => alertRule(row, input)) }] };
}

/** The files blackbox_exporter reads: the CA bundle and its own client certificate (role probe). */
export interface BlackboxTlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * blackbox.yml: a tcp module that completes a mutual-TLS handshake with the probe's client
 * certificate, then sends PING. Under TLS 1.3 the server checks the client certificate after the
 * client considers the handshake done, so only a reply proves the connection was accepted:
 * NOAUTH (the default user is off) is that reply.
 */
export function renderBlackboxConfig(files: BlackboxTlsFiles) {
  return {
    modules: {
      [BLACKBOX_REDIS_MODULE]: {
        prober: "tcp",
        timeout: "5s",
        tcp: {
          tls: true,
          tls_config: { ca_file: files.caFile, cert_file: files.certFile, key_file: files.keyFile, min_version: "TLS12" },
          query_response: [{ send: "PING" }, { expect: "^(-NOAUTH|\\+PONG)" }],
        },
      },
    },
  };
}
