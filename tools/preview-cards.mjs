#!/usr/bin/env node
// Write an HTML page that renders cards with the adaptivecards JS renderer, to look at.
//
//   node tools/preview-cards.mjs OUT.html card.json [more.json | directory ...]
//   chromium --headless --no-sandbox --disable-gpu --window-size=800,2400 \
//     --screenshot=cards.png file://$PWD/OUT.html
//
// Teams renders Adaptive Cards with this renderer too, with its own host config and a
// markdown subset; the page approximates both (bold, italics, links, "- " lists).
// Charts are Teams-only elements, so their fallback is what shows here.
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
const script = pathToFileURL(require.resolve("adaptivecards/dist/adaptivecards.min.js")).href;

const [out, ...args] = process.argv.slice(2);
if (!out || args.length === 0) {
  console.error("usage: node tools/preview-cards.mjs OUT.html CARD.json|DIRECTORY ...");
  process.exit(2);
}
const files = args.flatMap((arg) =>
  statSync(arg).isDirectory()
    ? readdirSync(arg).filter((n) => n.endsWith(".json")).sort().map((n) => join(arg, n))
    : [arg],
);
const cards = files.map((file) => ({ name: basename(file, ".json"), card: JSON.parse(readFileSync(file, "utf8")) }));

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>Card preview</title>
<style>
  body { font-family: "Segoe UI", system-ui, sans-serif; background: #f5f5f5; margin: 16px; }
  h2 { font-size: 13px; color: #616161; margin: 24px 0 6px; font-weight: 600; }
  .card { background: #fff; border-radius: 6px; box-shadow: 0 1px 2px rgba(0,0,0,.14); width: 720px; }
  .ac-pushButton { border: 1px solid #d1d1d1; border-radius: 4px; background: #fff; padding: 5px 12px; font: 600 13px "Segoe UI", sans-serif; }
  .ac-pushButton.style-positive { background: #5b5fc7; color: #fff; border-color: #5b5fc7; }
</style>
<script src="${script}"></script></head>
<body><div id="cards"></div>
<script>
const cards = ${JSON.stringify(cards).replace(/</g, "\\u003c")};
function escape(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}
function markdown(text) {
  let html = escape(text)
    .replace(/\\*\\*(.+?)\\*\\*/g, "<strong>$1</strong>")
    .replace(/(^|\\W)_(.+?)_(?=\\W|$)/g, "$1<em>$2</em>")
    .replace(/\`([^\`]+)\`/g, "<code>$1</code>")
    .replace(/\\[([^\\]]+)\\]\\((https:[^)\\s]+)\\)/g, '<a href="$2">$1</a>');
  if (/^- /m.test(html)) html = "<ul>" + html.split(/\\n/).map((l) => "<li>" + l.replace(/^- /, "") + "</li>").join("") + "</ul>";
  return html;
}
AdaptiveCards.AdaptiveCard.onProcessMarkdown = (text, result) => {
  result.outputHtml = markdown(text);
  result.didProcess = true;
};
const root = document.getElementById("cards");
for (const { name, card } of cards) {
  const title = document.createElement("h2");
  title.textContent = name;
  const holder = document.createElement("div");
  holder.className = "card";
  const adaptive = new AdaptiveCards.AdaptiveCard();
  adaptive.parse(card);
  holder.appendChild(adaptive.render());
  root.append(title, holder);
}
</script></body></html>`;
writeFileSync(resolve(out), page);
console.log(`${resolve(out)}: ${cards.length} card(s)`);
