// The gate's nginx.conf as a plain function: its permission map is GATE_PERMISSIONS and nothing
// else, and no input can add a directive of its own (each spliced value is checked against a
// grammar: a value outside it is refused, naming it, before anything is rendered).
import fc from "fast-check";
import { GATE_PERMISSIONS, renderAlertmanagerGateConfig, renderGateHtpasswd, renderGateUpstreamAuthorization } from "../../components/monitoring/alertmanagerGate";

const input = { listenAddress: "10.20.0.14", listenPort: 9093, loopbackPort: 9193, tls: false };

describe("the Alertmanager gate's config", () => {
  it("lets each user through only to its declared permissions, and anyone without a name on to the password check", () => {
    const config = renderAlertmanagerGateConfig(input);
    const entries = [...config.matchAll(/^\s*"([^"]*)" 0;$/gm)].map((m) => m[1]);
    expect(entries).toEqual(["~^ ", "prometheus POST /api/v2/alerts", "prometheus GET /metrics", "~^operator "]);
    expect(GATE_PERMISSIONS.prometheus).toHaveLength(2);
    expect(config).toMatch(/^\s*default 1;$/m);
    // Alertmanager's port on the loopback, and nowhere else.
    expect([...config.matchAll(/proxy_pass (\S+);/g)].map((m) => m[1])).toEqual(["http://127.0.0.1:9193", "http://127.0.0.1:9193"]);
    expect(renderAlertmanagerGateConfig({ ...input, tls: true })).toContain("listen 10.20.0.14:9093 ssl;");
  });

  it("refuses, naming it, a listen address, a port, a user's hash that would add nginx directives", () => {
    expect(() => renderAlertmanagerGateConfig({ ...input, listenAddress: "10.0.0.1:1; include /etc/passwd" })).toThrow(/listen address "10\.0\.0\.1:1; include \/etc\/passwd" does not match/);
    expect(() => renderAlertmanagerGateConfig({ ...input, loopbackPort: 70000 })).toThrow(/loopback port 70000 is not a port \(1-65535\)/);
    expect(() => renderGateHtpasswd({ prometheus: "$2a$10$abc\noperator:x" })).toThrow(/prometheus's bcrypt hash/);
    expect(renderGateUpstreamAuthorization("alertmanager-gate", 'pw";\nallow all')).toMatch(/^proxy_set_header Authorization "Basic [A-Za-z0-9+/=]+";\n$/);
  });

  it("whatever string comes as the listen address, the config either is refused or keeps its structure: one listen directive, the same lines", () => {
    const baseline = renderAlertmanagerGateConfig(input).split("\n").length;
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (address) => {
        let config: string;
        try {
          config = renderAlertmanagerGateConfig({ ...input, listenAddress: address });
        } catch {
          return true;
        }
        return config.split("\n").length === baseline && [...config.matchAll(/^\s*listen /gm)].length === 1 && !/[;{}"'\s#$]/.test(address);
      }),
      { numRuns: 500 },
    );
  });
});
