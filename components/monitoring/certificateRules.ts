// Certificate expiry, measured on the live TLS endpoints: blackbox_exporter's tcp prober does a
// full mutual-TLS handshake with each Redis and Sentinel process and exports when the chain it
// verified expires (probe_ssl_last_chain_expiry_timestamp_seconds: the earliest expiry in the
// chain, the CA from its bundle included; probe_ssl_earliest_cert_expiry would see only the
// leaf Redis sends). A certificate on disk that no process loaded yet is not what clients see:
// the endpoint is. Client certificates are shown by no server: not measured here.
import { alertRule, RUNBOOK_PAGES, type AlertLinks, type AlertRow, type RuleFile } from "./runbooks";
import { BLACKBOX_REDIS_MODULE, CERTIFICATE_PROBE_JOB, type CertificateProbes } from "./prometheusConfig";
import { CERTIFICATE_EXPIRY_DAYS, type ClientTlsFiles } from "../tls/certificates";

export { CERTIFICATE_EXPIRY_DAYS };

export const CERTIFICATE_EXPIRY_METRIC = "probe_ssl_last_chain_expiry_timestamp_seconds";

export interface CertificateRulesInput extends AlertLinks {
  /** Set when TLS is on: the endpoints probed. */
  probes?: CertificateProbes;
}

export const DAY_SECONDS = 86_400;

/**
 * Client certificates are shown by no server, so no probe sees them: each `up` writes when every
 * client certificate it declared ends into node_exporter's textfile directory on the monitoring
 * host. The same thresholds as the served ones'; what is measured is the declaration (a file no
 * client loaded yet counts as loaded: the clients re-read theirs at each connection).
 */
export const DECLARED_CERTIFICATE_EXPIRY_METRIC = "veza_tls_certificate_expiry_timestamp_seconds";
export const CERTIFICATE_TEXTFILE_NAME = "veza-tls-certificates.prom";

/** The textfile collector's file: one sample per client certificate, its end in Unix seconds. */
export function renderCertificateExpiryTextfile(certificates: ReadonlyArray<{ name: string; notAfter: string }>): string {
  const lines = certificates.map(({ name, notAfter }) => {
    const seconds = Date.parse(notAfter) / 1000;
    if (!Number.isFinite(seconds)) throw new Error(`certificate ${name}: end ${JSON.stringify(notAfter)} is not a date`);
    return `${DECLARED_CERTIFICATE_EXPIRY_METRIC}{certificate="${name}"} ${Math.floor(seconds)}`;
  });
  return [`# HELP ${DECLARED_CERTIFICATE_EXPIRY_METRIC} When each client certificate the last pulumi up declared ends.`, `# TYPE ${DECLARED_CERTIFICATE_EXPIRY_METRIC} gauge`, ...lines, ""].join("\n");
}

export function renderCertificateRules(input: CertificateRulesInput): RuleFile {
  // TLS off: the file Prometheus loads stays, empty.
  if (!input.probes) return { groups: [] };
  const expiry = `${CERTIFICATE_EXPIRY_METRIC}{job="${CERTIFICATE_PROBE_JOB}"}`;
  const left = (days: number) => `${expiry} - time() < ${days * DAY_SECONDS}`;
  const rows: AlertRow[] = [
    {
      alert: "RedisCertificateExpiringSoon",
      expr: left(CERTIFICATE_EXPIRY_DAYS.ticket),
      severity: "ticket",
      summary: `The certificate chain of {{ $labels.instance }} expires in less than ${CERTIFICATE_EXPIRY_DAYS.ticket} days`,
      description:
        `The certificate {{ $labels.instance }} presents, or the CA that signed it, expires in less than ${CERTIFICATE_EXPIRY_DAYS.ticket} days. Renewal must come well before this: ` +
        "it did not happen, or the renewed certificate was never loaded by the process (a data node loads it on CONFIG SET tls-cert-file, a sentinel only at its start).",
      runbook: RUNBOOK_PAGES.certificates,
    },
    {
      alert: "RedisCertificateExpiresThisWeek",
      expr: left(CERTIFICATE_EXPIRY_DAYS.page),
      severity: "page",
      forOmittedBecause: "an expiry date moves only forward, on renewal: the alert cannot flap, and each hour of waiting is an hour less to renew",
      summary: `The certificate chain of {{ $labels.instance }} expires in less than ${CERTIFICATE_EXPIRY_DAYS.page} days`,
      description:
        `The certificate {{ $labels.instance }} presents, or the CA that signed it, expires in less than ${CERTIFICATE_EXPIRY_DAYS.page} days. When it passes, every client and peer refuses the handshake: ` +
        "replication, Sentinel and the API's connections stop. Renew now (runbook). Once it has passed, the probe's own check fails too and RedisTlsProbeFailed takes over this page.",
      runbook: RUNBOOK_PAGES.certificates,
    },
    {
      alert: "RedisTlsProbeFailed",
      expr: `probe_success{job="${CERTIFICATE_PROBE_JOB}"} == 0`,
      for: "5m",
      // A page: an expired certificate fails the probe's own verification, which ends the expiry
      // series and with it RedisCertificateExpiresThisWeek. This is what pages once the date passed.
      severity: "page",
      summary: "The TLS probe of {{ $labels.instance }} has failed for 5 minutes",
      description:
        "blackbox_exporter could not complete a mutual-TLS handshake and a PING with {{ $labels.instance }}: its certificate (or its CA) has expired or is not signed by the CA bundle, so no client can connect; " +
        "or the probe's own certificate is refused, as every other client's would be after a broken rotation; or the process is down (its own alerts say so).",
      runbook: RUNBOOK_PAGES.certificates,
    },
    {
      alert: "RedisClientCertificateExpiringSoon",
      expr: `${DECLARED_CERTIFICATE_EXPIRY_METRIC} - time() < ${CERTIFICATE_EXPIRY_DAYS.ticket * DAY_SECONDS}`,
      severity: "ticket",
      summary: `The client certificate {{ $labels.certificate }} expires in less than ${CERTIFICATE_EXPIRY_DAYS.ticket} days`,
      description:
        `The client certificate {{ $labels.certificate }}, as the last pulumi up declared it, expires in less than ${CERTIFICATE_EXPIRY_DAYS.ticket} days. ` +
        "No server shows a client certificate, so this is read from what the stack wrote: no `up` has run within the renewal lead time (tls.renewBeforeDays). Run one.",
      runbook: RUNBOOK_PAGES.certificates,
    },
    {
      alert: "RedisClientCertificateExpiresThisWeek",
      expr: `${DECLARED_CERTIFICATE_EXPIRY_METRIC} - time() < ${CERTIFICATE_EXPIRY_DAYS.page * DAY_SECONDS}`,
      severity: "page",
      forOmittedBecause: "an expiry date moves only forward, on renewal: the alert cannot flap, and each hour of waiting is an hour less to renew",
      summary: `The client certificate {{ $labels.certificate }} expires in less than ${CERTIFICATE_EXPIRY_DAYS.page} days`,
      description:
        `The client certificate {{ $labels.certificate }} expires in less than ${CERTIFICATE_EXPIRY_DAYS.page} days. When it passes, every server refuses that client's handshake ` +
        "(the API, the exporters, replication or Sentinel, by the certificate's role). Run pulumi up now (runbook).",
      runbook: RUNBOOK_PAGES.certificates,
    },
  ];
  return { groups: [{ name: "redis-certificates", rules: rows.map((row) => alertRule(row, input)) }] };
}

/** blackbox_exporter's files in its container: the module config (an upload) and the probe role's TLS files (a volume). */
export const BLACKBOX_CONFIG_PATH = "/etc/blackbox/blackbox.yml";
export const BLACKBOX_CREDENTIALS_DIR = "/run/veza-credentials";
export const BLACKBOX_TLS_FILES: ClientTlsFiles = {
  caCertFile: `${BLACKBOX_CREDENTIALS_DIR}/redis-ca.crt`,
  certFile: `${BLACKBOX_CREDENTIALS_DIR}/redis-client.crt`,
  keyFile: `${BLACKBOX_CREDENTIALS_DIR}/redis-client.key`,
};

/**
 * blackbox.yml, with the CA bundle and the probe's own client certificate (role probe): a tcp module that completes a mutual-TLS handshake with the probe's client
 * certificate, then sends PING. Under TLS 1.3 the server checks the client certificate after the
 * client considers the handshake done, so only a reply proves the connection was accepted:
 * NOAUTH (the default user is off) is that reply.
 */
export function renderBlackboxConfig(files: ClientTlsFiles) {
  return {
    modules: {
      [BLACKBOX_REDIS_MODULE]: {
        prober: "tcp",
        timeout: "5s",
        tcp: {
          tls: true,
          tls_config: { ca_file: files.caCertFile, cert_file: files.certFile, key_file: files.keyFile, min_version: "TLS12" },
          query_response: [{ send: "PING" }, { expect: "^(-NOAUTH|\\+PONG)" }],
        },
      },
    },
  };
}
