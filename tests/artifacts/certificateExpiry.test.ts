// Certificate expiry as on-call hears of it: the rendered rules' promtool cases, then the whole
// path for real. redis-server processes with TLS on present certificates 3, 14 and 60 days from
// expiry, and one of 60 days signed by a CA 5 days from its own; Debian's blackbox_exporter
// probes them with the rendered module (mutual TLS, PING), and Prometheus scrapes it with the
// rendered job and evaluates the rendered rules.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { requireValidStackConfig } from "../../components/validation/validate";
import { readStackConfigFile } from "../../lib/stackFiles";
import { stackModel } from "../../components/topology/model";
import { renderMonitoringFiles } from "../../components/monitoring/render";
import { renderRuleTests } from "../../components/monitoring/alertCases";
import { CERTIFICATE_EXPIRY_METRIC, CERTIFICATE_TEXTFILE_NAME, renderBlackboxConfig, renderCertificateExpiryTextfile, renderCertificateRules } from "../../components/monitoring/certificateRules";
import {
  BLACKBOX_REDIS_MODULE,
  CERTIFICATE_PROBE_JOB,
  certificateProbeScrapeConfig,
  NODE_JOB,
  RULE_FILE_NAMES,
  type CertificateProbes,
  type RuleFamily,
} from "../../components/monitoring/prometheusConfig";
import { prometheusRuleFile } from "../../components/monitoring/runbooks";
import { toYaml } from "../../components/monitoring/redisRules";
import { certificatePlan, tlsListenDirectives } from "../../components/tls/certificates";
import { caBundle, createCertificateAuthority, issueCertificate, processTlsFiles, validFor } from "../../drills/harness/certificates";
import { freePortRange, ProcessGroup, waitFor } from "../../drills/harness/processes";

const config = requireValidStackConfig(readStackConfigFile("dev").raw);
const links = { runbookBaseUrl: config.monitoring.runbookBaseUrl, grafanaUrl: "http://grafana:3000" };

describe("certificate expiry alerts", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-cert-expiry-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("fire in promtool: a ticket under 21 days, a page under 7 (served and client certificates alike), a page when the probe fails for 5 minutes, nothing at 22 days", () => {
    const files = renderMonitoringFiles(config, stackModel(config));
    const probes: CertificateProbes = {
      blackbox: "monitoring:9115",
      targets: files.scrape.redisExporters.map((t) => ({ address: t.labels!.redis_address, instance: t.instance, labels: { host: t.labels!.host } })),
    };
    const rules = { ...files.rules, certificates: renderCertificateRules({ ...links, probes }) };
    const tests = renderRuleTests(rules, { ...files.testInput, scrape: { ...files.testInput.scrape, certificateProbes: probes } });
    const work = path.join(dir, "promtool");
    fs.mkdirSync(work);
    for (const family of Object.keys(RULE_FILE_NAMES) as RuleFamily[]) fs.writeFileSync(path.join(work, RULE_FILE_NAMES[family]), toYaml(prometheusRuleFile(rules[family])));
    fs.writeFileSync(path.join(work, "certificates.test.yml"), toYaml(tests["certificates.test.yml"]));
    // 4 on the served certificates, 3 on the probe failing, 4 on the client certificates' declared ends.
    expect((tests["certificates.test.yml"] as { tests: unknown[] }).tests).toHaveLength(11);
    const run = spawnSync("promtool", ["test", "rules", "certificates.test.yml"], { cwd: work, encoding: "utf8", timeout: 60_000 });
    expect(`${run.stdout}${run.stderr}`).toMatch(/SUCCESS/);
    expect(run.status).toBe(0);
  }, 90_000);

  describe("on live endpoints, through blackbox_exporter and Prometheus", () => {
    const processes = new ProcessGroup();
    // Each endpoint: its leaf's days left, and whether the CA that signed it is the short-lived one.
    const endpoints = [
      { instance: "redis-3d", leafDays: 3, shortCa: false },
      { instance: "redis-14d", leafDays: 14, shortCa: false },
      { instance: "redis-60d", leafDays: 60, shortCa: false },
      { instance: "redis-ca-5d", leafDays: 60, shortCa: true },
    ];
    // Client certificates: their declared ends, 3, 14 and 60 days away.
    const clients = [
      { name: "client-app", days: 3 },
      { name: "client-exporter", days: 14 },
      { name: "client-backup", days: 60 },
    ];
    let prometheusPort: number;
    let blackboxAddress: string;
    let healthyTarget: string;

    beforeAll(async () => {
      const ca = createCertificateAuthority(path.join(dir, "ca"), "veza-redis test CA");
      const shortCa = createCertificateAuthority(path.join(dir, "short-ca"), "veza-redis CA near its end", validFor(5));
      const bundle = caBundle(path.join(dir, "bundle.crt"), [ca, shortCa]);
      const probeClient = issueCertificate(
        ca,
        certificatePlan({ dataNodes: [], sentinels: [] }).find((request) => request.name === "client-probe")!,
        path.join(dir, "certs"),
      );
      const base = await freePortRange(endpoints.length + 3);
      const targets = endpoints.map((e, i) => ({ address: `127.0.0.1:${base + i}`, instance: e.instance, labels: { host: "local" } }));
      healthyTarget = targets[2].address;
      endpoints.forEach((e, i) => {
        const request = { name: e.instance, commonName: `veza-${e.instance}`, usage: "server" as const, dnsNames: [], ipAddresses: ["127.0.0.1"] };
        const server = issueCertificate(e.shortCa ? shortCa : ca, request, path.join(dir, "certs"), validFor(e.leafDays));
        const tls = processTlsFiles(bundle, server, probeClient);
        const nodeDir = path.join(dir, e.instance);
        fs.mkdirSync(nodeDir);
        fs.writeFileSync(path.join(nodeDir, "redis.conf"), [`bind 127.0.0.1`, `dir ${nodeDir}`, "user default off", ...tlsListenDirectives(base + i, tls), ""].join("\n"));
        processes.start(e.instance, "redis-server", [path.join(nodeDir, "redis.conf")], path.join(nodeDir, "log"));
      });
      const blackboxPort = base + endpoints.length;
      prometheusPort = base + endpoints.length + 1;
      // Beside the rendered module, the same one without a client certificate: what it takes for
      // a probe to see a refusal (under TLS 1.3 the handshake itself succeeds client-side).
      const blackbox = renderBlackboxConfig({ caCertFile: bundle, ...probeClient });
      const rendered = blackbox.modules[BLACKBOX_REDIS_MODULE];
      const withoutCertificate = { ...rendered, tcp: { ...rendered.tcp, tls_config: { ca_file: bundle } } };
      fs.writeFileSync(path.join(dir, "blackbox.yml"), toYaml({ modules: { ...blackbox.modules, no_client_certificate: withoutCertificate } }));
      processes.start(
        "blackbox",
        "prometheus-blackbox-exporter",
        [`--config.file=${path.join(dir, "blackbox.yml")}`, `--web.listen-address=127.0.0.1:${blackboxPort}`],
        path.join(dir, "blackbox.log"),
      );
      blackboxAddress = `127.0.0.1:${blackboxPort}`;
      const probes = { blackbox: blackboxAddress, targets };
      // The client certificates' ends as an `up` writes them, read by node_exporter's textfile collector.
      const textfileDir = path.join(dir, "textfile");
      fs.mkdirSync(textfileDir);
      const endsIn = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
      fs.writeFileSync(path.join(textfileDir, CERTIFICATE_TEXTFILE_NAME), renderCertificateExpiryTextfile(clients.map((c) => ({ name: c.name, notAfter: endsIn(c.days) }))));
      const nodeExporterAddress = `127.0.0.1:${base + endpoints.length + 2}`;
      processes.start(
        "node-exporter",
        "prometheus-node-exporter",
        ["--collector.disable-defaults", "--collector.textfile", `--collector.textfile.directory=${textfileDir}`, `--web.listen-address=${nodeExporterAddress}`],
        path.join(dir, "node-exporter.log"),
      );
      fs.writeFileSync(path.join(dir, "certificates.yml"), toYaml(prometheusRuleFile(renderCertificateRules({ ...links, probes }))));
      fs.writeFileSync(
        path.join(dir, "prometheus.yml"),
        toYaml({
          global: { scrape_interval: "1s", evaluation_interval: "1s" },
          rule_files: [path.join(dir, "certificates.yml")],
          scrape_configs: [certificateProbeScrapeConfig(probes), { job_name: NODE_JOB, static_configs: [{ targets: [nodeExporterAddress], labels: { instance: "monitoring" } }] }],
        }),
      );
      processes.start(
        "prometheus",
        "prometheus",
        [`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "tsdb")}`, `--web.listen-address=127.0.0.1:${prometheusPort}`],
        path.join(dir, "prometheus.log"),
      );
    }, 60_000);

    afterAll(async () => {
      await processes.stop();
    });

    const firing = async () => {
      const response = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/alerts`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      if (!response?.ok) return [];
      const body = (await response.json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } };
      return body.data.alerts.filter((a) => a.state === "firing").map((a) => `${a.labels.alertname} ${a.labels.certificate ?? a.labels.instance}`);
    };

    it("pages for the certificate 3 days from expiry and the one whose CA ends in 5, tickets for those and the one 14 days out, and says nothing of the one 60 days out; the same for the client certificates' declared ends", async () => {
      const expected = [
        "RedisCertificateExpiresThisWeek redis-3d",
        "RedisCertificateExpiresThisWeek redis-ca-5d",
        "RedisCertificateExpiringSoon redis-14d",
        "RedisCertificateExpiringSoon redis-3d",
        "RedisCertificateExpiringSoon redis-ca-5d",
        "RedisClientCertificateExpiresThisWeek client-app",
        "RedisClientCertificateExpiringSoon client-app",
        "RedisClientCertificateExpiringSoon client-exporter",
      ];
      const seen = await waitFor(
        "the expiry alerts to fire",
        async () => {
          const alerts = (await firing()).sort();
          return alerts.length >= expected.length ? alerts : undefined;
        },
        60_000,
        500,
      );
      expect(seen).toEqual(expected);
      // The probe completed the mutual-TLS handshake and the PING on every endpoint.
      const query = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/query?query=${encodeURIComponent(`probe_success{job="${CERTIFICATE_PROBE_JOB}"}`)}`);
      const results = ((await query.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
      expect(results.map((r) => `${r.metric.instance}=${r.value[1]}`).sort()).toEqual(["redis-14d=1", "redis-3d=1", "redis-60d=1", "redis-ca-5d=1"]);
    }, 90_000);

    it("sees the refusal of a probe without a client certificate only at the PING: its TLS 1.3 handshake had completed", async () => {
      const probe = async (module: string) => {
        const response = await fetch(`http://${blackboxAddress}/probe?module=${module}&target=${healthyTarget}`, { signal: AbortSignal.timeout(10_000) });
        const text = await response.text();
        return { success: /^probe_success (\d)/m.exec(text)?.[1], chainExpiry: new RegExp(`^${CERTIFICATE_EXPIRY_METRIC} `, "m").test(text) };
      };
      expect(await probe(BLACKBOX_REDIS_MODULE)).toEqual({ success: "1", chainExpiry: true });
      // The handshake completed (the chain was verified and measured), and only the missing reply failed the probe.
      expect(await probe("no_client_certificate")).toEqual({ success: "0", chainExpiry: true });
    }, 30_000);
  });
});
