// Config carriers (components/base/hardening.ts): a container's files live in a volume that a
// never-started carrier received them in; the volume carries a digest of what it holds, so a
// changed file replaces it (and the carrier and container that mount it), and nothing else does.
import fc from "fast-check";
import { CONFIG_CARRIER_KIND, CONFIG_FOR_LABEL, configCarrierFor, configDigest, uploadsOutsideRoot, type ConfigCarrierContent } from "../../components/base/hardening";

const content: ConfigCarrierContent = {
  image: "sha256:1111111111111111111111111111111111111111111111111111111111111111",
  configRoot: "/etc/veza",
  uploads: [
    { file: "/etc/veza/redis.conf", content: "port 6379\n" },
    { file: "/etc/veza/entrypoint.sh", content: "exec redis-server\n" },
  ],
};

describe("a config volume's digest", () => {
  it("stays the same while nothing it holds changes (no replacement on a no-op up)", () => {
    expect(configDigest(content)).toBe(configDigest(structuredClone(content)));
    expect(configDigest(content)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("changes with any file, the image or the mount point: each replaces the volume", () => {
    const variants: ConfigCarrierContent[] = [
      { ...content, uploads: [{ ...content.uploads[0], content: "port 6380\n" }, content.uploads[1]] },
      { ...content, uploads: [{ ...content.uploads[0], file: "/etc/veza/redis-other.conf" }, content.uploads[1]] },
      { ...content, uploads: content.uploads.slice(0, 1) },
      { ...content, image: content.image.replace(/1$/, "2") },
      { ...content, configRoot: "/etc/veza2" },
    ];
    const digests = new Set([content, ...variants].map((c) => configDigest(c)));
    expect(digests.size).toBe(variants.length + 1);
  });

  it("cannot be made equal by moving text between a file's name and its content", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (a, b, c) => {
        const one = configDigest({ ...content, uploads: [{ file: a, content: b + c }] });
        const other = configDigest({ ...content, uploads: [{ file: a + b, content: c }] });
        return b === "" || one !== other;
      }),
    );
  });
});

describe("a config carrier's files and labels", () => {
  it("refuses files outside the mount point: they would land in the carrier's own root, never seen", () => {
    expect(uploadsOutsideRoot("/etc/grafana", ["/etc/grafana/provisioning/datasources/veza.yml", "/etc/grafana-other/x", "/etc/grafana", "/tmp/x"])).toEqual([
      "/etc/grafana-other/x",
      "/etc/grafana",
      "/tmp/x",
    ]);
  });

  it("names the container it is for only when labelled a carrier", () => {
    const carrierLabels = [
      { label: "veza.component", value: CONFIG_CARRIER_KIND },
      { label: `veza.${CONFIG_FOR_LABEL}`, value: "veza-redis-0" },
    ];
    expect(configCarrierFor(carrierLabels)).toBe("veza-redis-0");
    expect(
      configCarrierFor([
        { label: "veza.component", value: "redis" },
        { label: `veza.${CONFIG_FOR_LABEL}`, value: "veza-redis-0" },
      ]),
    ).toBeUndefined();
    expect(configCarrierFor(undefined)).toBeUndefined();
  });
});
