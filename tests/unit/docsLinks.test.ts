// The README and docs/ link to each other and into the code: every relative link must lead to a
// file that exists, and every #anchor to a heading of that file (GitHub's anchor rules).
import * as fs from "node:fs";
import * as path from "node:path";
import { headingAnchor } from "../../components/failureModes";
import { PROJECT_ROOT } from "../../lib/stackFiles";

const pages = [
  "README.md",
  ...fs
    .readdirSync(path.join(PROJECT_ROOT, "docs"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".md"))
    .map((f) => path.join("docs", f)),
];

function anchorsOf(file: string): Set<string> {
  let fenced = false;
  const anchors = new Set<string>();
  for (const line of fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8").split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = /^#{1,6} (.*)$/.exec(line);
    if (heading && !fenced) anchors.add(headingAnchor(heading[1]));
  }
  return anchors;
}

/** Links outside code: [label](target), target relative (no scheme). */
function relativeLinks(file: string): string[] {
  const text = fs
    .readFileSync(path.join(PROJECT_ROOT, file), "utf8")
    .replace(/```[\s\S]*?```/g, "")
    .replace(/`[^`\n]*`/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((target) => !/^[a-z]+:/.test(target));
}

describe("the documentation's links", () => {
  it.each(pages)("%s: every relative link leads to a file, and every anchor to a heading", (page) => {
    const broken = relativeLinks(page).filter((link) => {
      const [target, fragment] = link.split("#");
      const file = target === "" ? page : path.normalize(path.join(path.dirname(page), target));
      if (!fs.existsSync(path.join(PROJECT_ROOT, file))) return true;
      return fragment !== undefined && file.endsWith(".md") && !anchorsOf(file).has(fragment);
    });
    expect(broken).toEqual([]);
  });

  it("keeps the README a front door: at most 250 lines", () => {
    expect(fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(250);
  });
});
