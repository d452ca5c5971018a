#!/usr/bin/env node
// Check rendered Adaptive Cards with the real JavaScript renderer (npm adaptivecards 3.0.x).
//
//   node tools/validate-cards.mjs card.json [more.json | directory ...]
//
// Prints one JSON report on stdout: {"cards": [{"file", "bytes", "errors": [...]}]}
// and exits 1 if any card has an error, 2 on bad usage. A card fails when:
//   - it is not {"type": "AdaptiveCard", "version": "1.5"} or is larger than the byte limit;
//   - the renderer logs a parse event (unknown element or action type, a property newer
//     than 1.5, an invalid enum value, ...) or a validation event (duplicate id, ...);
//   - any object the renderer parses has a property its schema does not know (the
//     renderer silently drops those, so we compare each object's keys with its schema);
//   - a Teams-only element (Chart.*) has no fallback, or a property outside the subset
//     of Teams' chart schema listed below;
//   - Action.Execute has no verb, or Action.ToggleVisibility names an id not in the card.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

// The package's ES module build imports paths without extensions, which Node refuses;
// its UMD bundle is the same code.
const require = createRequire(import.meta.url);
const AC = require("adaptivecards/dist/adaptivecards.js");
const RENDERER = `adaptivecards ${require("adaptivecards/package.json").version}`;

const MAX_BYTES = Number(process.env.CARD_MAX_BYTES ?? 28 * 1024);

// Elements the JS renderer does not know but Teams renders natively (with these
// properties, from Teams' card schema); elsewhere their `fallback` is shown.
const ELEMENT_BASE = [
  "type", "id", "requires", "lang", "isVisible", "separator", "height",
  "horizontalAlignment", "spacing", "targetWidth", "fallback",
];
const CHART_BASE = [
  ...ELEMENT_BASE, "title", "showTitle", "colorSet", "maxWidth", "showLegend",
  "xAxisTitle", "yAxisTitle", "color", "yMin", "yMax",
];
const TEAMS_ONLY = {
  "Chart.VerticalBar": { keys: [...CHART_BASE, "data", "showBarValues"], item: ["x", "y", "color"] },
  "Chart.Line": { keys: [...CHART_BASE, "data"], item: ["legend", "values", "color"], point: ["x", "y"] },
};

// Properties read by an element's own parse code rather than through its schema.
const STRUCTURAL = {
  AdaptiveCard: ["actions", "msteams"],
  ActionSet: ["actions"],
  ColumnSet: ["columns"],
  RichTextBlock: ["inlines"],
  "Action.ShowCard": ["card"],
};

function collectFiles(args) {
  const files = [];
  for (const arg of args) {
    if (statSync(arg).isDirectory()) {
      for (const name of readdirSync(arg).sort()) {
        if (name.endsWith(".json")) files.push(join(arg, name));
      }
    } else {
      files.push(arg);
    }
  }
  return files;
}

// Every object the renderer parses reports the keys its schema does not know.
let unknownKeys = [];
const originalParse = AC.SerializableObject.prototype.internalParse;
AC.SerializableObject.prototype.internalParse = function (source, context) {
  originalParse.call(this, source, context);
  if (!source || typeof source !== "object") return;
  const typeName = typeof this.getJsonTypeName === "function" ? this.getJsonTypeName() : this.constructor.name;
  const known = new Set(["fallback", ...(STRUCTURAL[typeName] ?? [])]);
  const schema = this.getSchema();
  for (let i = 0; i < schema.getCount(); i++) known.add(schema.getItemAt(i).name);
  for (const method of ["getItemsCollectionPropertyName", "getCollectionPropertyName"]) {
    if (typeof this[method] === "function") known.add(this[method]());
  }
  for (const key of Object.keys(source)) {
    if (!known.has(key)) unknownKeys.push(`${typeName}: unknown property "${key}"`);
  }
};

// Walks the raw JSON for the checks the renderer does not make.
function walk(node, visit, path = "$") {
  if (Array.isArray(node)) {
    node.forEach((item, index) => walk(item, visit, `${path}[${index}]`));
  } else if (node && typeof node === "object") {
    visit(node, path);
    for (const [key, value] of Object.entries(node)) {
      // An action's data is our payload, not card structure.
      const payload = key === "data" && String(node.type).startsWith("Action.");
      if (!payload) walk(value, visit, `${path}.${key}`);
    }
  }
}

function checkTeamsOnly(node, path, errors) {
  const spec = TEAMS_ONLY[node.type];
  if (!spec) return;
  if (!node.fallback || typeof node.fallback !== "object") {
    errors.push(`${path}: ${node.type} renders only in Teams and needs a fallback element`);
  }
  const extra = (object, allowed, where) => {
    for (const key of Object.keys(object)) {
      if (!allowed.includes(key)) errors.push(`${where}: ${node.type}: unknown property "${key}"`);
    }
  };
  extra(node, spec.keys, path);
  if (!Array.isArray(node.data) || node.data.length === 0) {
    errors.push(`${path}: ${node.type} needs a non-empty data array`);
    return;
  }
  node.data.forEach((item, index) => {
    extra(item, spec.item, `${path}.data[${index}]`);
    if (spec.point) {
      (item.values ?? []).forEach((point, p) => extra(point, spec.point, `${path}.data[${index}].values[${p}]`));
    }
  });
}

function checkRaw(card, errors) {
  const ids = new Set();
  const toggles = [];
  walk(card, (node, path) => {
    if (typeof node.id === "string" && typeof node.type === "string") ids.add(node.id);
    if (node.type === "Action.Execute" && !node.verb) errors.push(`${path}: Action.Execute without a verb`);
    if (node.type === "Action.ToggleVisibility") toggles.push([node, path]);
    checkTeamsOnly(node, path, errors);
  });
  for (const [node, path] of toggles) {
    for (const target of node.targetElements ?? []) {
      const id = typeof target === "string" ? target : target.elementId;
      if (!ids.has(id)) errors.push(`${path}: Action.ToggleVisibility targets unknown id "${id}"`);
    }
  }
}

function validate(text) {
  const errors = [];
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_BYTES) errors.push(`card is ${bytes} bytes, over the ${MAX_BYTES}-byte limit`);
  let json;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { bytes, errors: [...errors, `not JSON: ${error.message}`] };
  }
  if (json.type !== "AdaptiveCard") errors.push(`type is ${JSON.stringify(json.type)}, not "AdaptiveCard"`);
  if (json.version !== "1.5") errors.push(`version is ${JSON.stringify(json.version)}, not "1.5"`);

  unknownKeys = [];
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  const card = new AC.AdaptiveCard();
  card.parse(json, context);
  for (let i = 0; i < context.eventCount; i++) {
    const event = context.getEventAt(i);
    const teamsOnly = Object.keys(TEAMS_ONLY).some((type) => event.message.includes(`"${type}"`));
    if (!(event.event === AC.ValidationEvent.UnknownElementType && teamsOnly)) {
      errors.push(`parse: ${AC.ValidationEvent[event.event]}: ${event.message}`);
    }
  }
  errors.push(...unknownKeys);
  const results = card.validateProperties();
  for (const event of results.validationEvents) {
    errors.push(`validate: ${AC.ValidationEvent[event.event]}: ${event.message}`);
  }
  checkRaw(json, errors);
  return { bytes, errors };
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error("usage: node tools/validate-cards.mjs CARD.json|DIRECTORY ...");
  process.exit(2);
}
const report = collectFiles(args).map((file) => ({ file, ...validate(readFileSync(file, "utf8")) }));
console.log(JSON.stringify({ renderer: RENDERER, cards: report }, null, 2));
process.exit(report.some((card) => card.errors.length > 0) ? 1 : 0);
