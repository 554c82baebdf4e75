#!/usr/bin/env node
// Loads the ltrr dashboard in headless Chromium and checks that its charts
// receive data and change between two samples; saves a screenshot.
//
//   node dashboard_check.js --url http://127.0.0.1:PORT --out DIR
//        [--chromium /usr/bin/chromium] [--require c-traffic,c-latency,...]
//        [--timeout-s 90] [--min-points N]
//
// Exit 0 when every required chart has data and at least the traffic and
// latency charts changed between the two samples; 1 otherwise (reason on
// stderr). Prints one JSON summary line on stdout.
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

function args(argv) {
  const a = { chromium: "/usr/bin/chromium", timeoutS: 90, minPoints: 1,
    require: "c-traffic,c-latency,c-armshare,c-errors" };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i], v = argv[i + 1];
    if (v === undefined) throw new Error(`${k} needs a value`);
    if (k === "--url") a.url = v.replace(/\/$/, "");
    else if (k === "--out") a.out = v;
    else if (k === "--chromium") a.chromium = v;
    else if (k === "--require") a.require = v;
    else if (k === "--timeout-s") a.timeoutS = Number(v);
    else if (k === "--min-points") a.minPoints = Number(v);
    else throw new Error(`unknown option ${k}`);
  }
  if (!a.url || !a.out) throw new Error("--url and --out are required");
  a.require = a.require.split(",").filter(Boolean);
  return a;
}

// Per chart: values drawn, newest value, and the drawn paths.
function snapshot(page) {
  return page.evaluate(() => {
    const out = {};
    for (const svg of document.querySelectorAll("svg.chart")) {
      out[svg.id] = {
        points: Number(svg.dataset.points || 0),
        last: svg.dataset.last || "",
        paths: [...svg.querySelectorAll("path.series")].map(p => p.getAttribute("d")).join("|"),
        series: svg.querySelectorAll("path.series").length,
      };
    }
    out.status = document.getElementById("status").textContent;
    out.topRows = document.querySelectorAll("#topq tbody tr td.num").length;
    return out;
  });
}

async function main() {
  const a = args(process.argv);
  fs.mkdirSync(a.out, { recursive: true });
  const browser = await chromium.launch({ executablePath: a.chromium, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const errors = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on("pageerror", e => errors.push(String(e)));
    page.on("console", m => { if (m.type() === "error") errors.push(m.text()); });
    const resp = await page.goto(a.url + "/dashboard", { waitUntil: "load" });
    if (!resp || resp.status() !== 200) throw new Error(`GET /dashboard: ${resp && resp.status()}`);
    const deadline = Date.now() + a.timeoutS * 1000;
    // Every required chart has data and the page holds minPoints points.
    await page.waitForFunction(([ids, min]) =>
      Number(document.body.dataset.points || 0) >= min && ids.every(id => {
        const s = document.getElementById(id);
        return s && Number(s.dataset.points || 0) > 0;
      }), [a.require, a.minPoints], { timeout: a.timeoutS * 1000, polling: 250 });
    const first = await snapshot(page);
    // Two polls later (1 s period), the fast charts must have moved.
    await page.waitForTimeout(2500);
    const second = await snapshot(page);
    const changed = Object.keys(first).filter(k => first[k].paths !== undefined &&
      first[k].paths !== second[k].paths);
    await page.screenshot({ path: path.join(a.out, "dashboard.png"), fullPage: true });
    const summary = { first, second, changed, errors, left_s: (deadline - Date.now()) / 1000 };
    fs.writeFileSync(path.join(a.out, "dashboard.json"), JSON.stringify(summary, null, 1));
    console.log(JSON.stringify({ changed, status: second.status,
      points: Object.fromEntries(Object.keys(second).filter(k => k.startsWith("c-"))
        .map(k => [k, second[k].points])), top_rows: second.topRows, errors }));
    for (const id of ["c-traffic", "c-latency"])
      if (!changed.includes(id)) throw new Error(`${id} did not change between two samples`);
    for (const id of a.require)
      if (!(second[id] && second[id].points > 0)) throw new Error(`${id} has no data`);
    if (!second.status.startsWith("live")) throw new Error(`status: ${second.status}`);
    if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  } finally {
    await browser.close();
  }
}

main().catch(e => { console.error("dashboard_check: " + e.message); process.exit(1); });
