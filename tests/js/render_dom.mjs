// Loads an `lg-testkit show --html` page in jsdom, runs its script, and prints what it drew.
import { readFileSync } from "node:fs";
import { JSDOM, VirtualConsole } from "jsdom";

const errors = [];
const console_ = new VirtualConsole();
console_.on("jsdomError", (e) => errors.push(String(e.message ?? e)));
const dom = new JSDOM(readFileSync(process.argv[2], "utf8"), {
  runScripts: "dangerously",
  pretendToBeVisual: true,
  virtualConsole: console_,
});
await new Promise((resolve) => dom.window.addEventListener("load", resolve));
const { document } = dom.window;
console.log(
  JSON.stringify({
    errors,
    error: document.body.dataset.error ?? null,
    rendered: Number(document.body.dataset.rendered ?? -1),
    circles: document.querySelectorAll("circle.event").length,
    svgs: document.querySelectorAll("svg").length,
    gaps: document.querySelectorAll(".gap").length,
    text: document.body.textContent,
  }),
);
