/**
 * The page's inline stylesheet and script. Fixed text: nothing from the results ever goes in
 * here (the page's Content-Security-Policy allows exactly these two by hash).
 */

export const STYLE = `
:root {
  --bg: #f6f8fa; --panel: #fff; --text: #1f2328; --muted: #59636e; --line: #d1d9e0;
  --passed: #1a7f37; --failed: #cf222e; --skipped: #9a6700; --other: #0969da;
  --passed-bg: #dafbe1; --failed-bg: #ffebe9; --skipped-bg: #fff8c5; --other-bg: #ddf4ff;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --panel: #151b23; --text: #e6edf3; --muted: #9198a1; --line: #3d444d;
    --passed: #3fb950; --failed: #f85149; --skipped: #d29922; --other: #4493f8;
    --passed-bg: #12261e; --failed-bg: #25171c; --skipped-bg: #272115; --other-bg: #121d2f;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
h2 { font-size: 18px; margin: 0 0 12px; }
.source { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 15px; overflow-wrap: anywhere; }
.run { color: var(--muted); margin: 0 0 16px; overflow-wrap: anywhere; }
.run span + span::before { content: " · "; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 28px; font-weight: 600; font-variant-numeric: tabular-nums; }
.nodes { width: 100%; border-collapse: collapse; }
.nodes th, .nodes td { text-align: left; vertical-align: top; padding: 4px 8px; border-top: 1px solid var(--line); overflow-wrap: anywhere; }
.nodes tr.not-ready td { background: var(--failed-bg); }
.nodes tr.not-ready td.ready, strong.not-ready { color: var(--failed); font-weight: 600; }
.nodes .why { color: var(--muted); font-weight: 400; font-size: 12px; }
.nodes .none { color: var(--muted); }
.card.passed .value { color: var(--passed); } .card.failed .value { color: var(--failed); }
.card.skipped .value { color: var(--skipped); } .card.other .value { color: var(--other); }
.badge { display: inline-block; border-radius: 999px; padding: 0 10px; font-size: 12px; font-weight: 600; line-height: 20px; white-space: nowrap; border: 1px solid currentColor; }
.badge.passed { color: var(--passed); background: var(--passed-bg); }
.badge.failed { color: var(--failed); background: var(--failed-bg); }
.badge.skipped { color: var(--skipped); background: var(--skipped-bg); }
.badge.other { color: var(--other); background: var(--other-bg); }
.chart { width: 100%; height: auto; display: block; margin-bottom: 12px; }
.chart text { fill: var(--text); font-size: 13px; }
.chart text.count { fill: var(--muted); font-variant-numeric: tabular-nums; }
.chart .passed { fill: var(--passed); } .chart .failed { fill: var(--failed); }
.chart .skipped { fill: var(--skipped); } .chart .other { fill: var(--other); }
.chart .empty { fill: var(--line); }
.legend { display: flex; gap: 16px; flex-wrap: wrap; color: var(--muted); margin: 0 0 8px; padding: 0; list-style: none; }
.legend li::before { content: ""; display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; background: var(--c); }
.legend .passed { --c: var(--passed); } .legend .failed { --c: var(--failed); }
.legend .skipped { --c: var(--skipped); } .legend .other { --c: var(--other); }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.node td:first-child { padding-left: 28px; color: var(--muted); }
tr.plugin td:first-child { font-weight: 600; }
.error-text { color: var(--failed); }
.toolbar { position: sticky; top: 0; z-index: 1; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; margin: 16px 0; }
.toolbar input[type=search] { flex: 1 1 280px; font: inherit; padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--text); }
.toolbar select, .toolbar button { font: inherit; padding: 5px 10px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--text); cursor: pointer; }
.toolbar .shown { color: var(--muted); }
details.test { border: 1px solid var(--line); border-left: 4px solid var(--failed); border-radius: 6px; margin: 8px 0; }
details.test > summary { cursor: pointer; padding: 8px 12px; display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
details.test[open] > summary { border-bottom: 1px solid var(--line); }
.name { font-weight: 600; overflow-wrap: anywhere; white-space: pre-wrap; }
a.name { color: inherit; text-decoration: underline dotted var(--failed); text-underline-offset: 3px; }
a.name:hover { color: var(--failed); }
.where { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.body { padding: 8px 12px 12px; }
.body h4 { margin: 8px 0 4px; font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
pre { margin: 0; padding: 8px 10px; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 420px; overflow: auto; font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.note { color: var(--muted); font-style: italic; }
td.test-name { overflow-wrap: anywhere; }
td.test-name .where { display: block; }
footer { color: var(--muted); font-size: 12px; padding-bottom: 24px; }
[hidden] { display: none !important; }
`;

export const SCRIPT = `
(() => {
  "use strict";
  const search = document.getElementById("search");
  const statusFilter = document.getElementById("status-filter");
  const shown = document.getElementById("shown");
  const noFailures = document.getElementById("no-matching-failures");
  const entries = Array.from(document.querySelectorAll("[data-status]"), (el) => ({
    el,
    status: el.getAttribute("data-status"),
    failure: el.tagName === "DETAILS",
    text: Array.from(el.querySelectorAll(".name, .where, .status-text"), (n) => n.textContent).join(" ").toLowerCase(),
  }));
  const rows = entries.filter((e) => !e.failure).length;
  function apply() {
    const terms = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    const wanted = statusFilter.value;
    let shownRows = 0;
    let shownFailures = 0;
    for (const e of entries) {
      const ok = (wanted === "all" || e.status === wanted) && terms.every((t) => e.text.includes(t));
      e.el.hidden = !ok;
      if (ok && e.failure) shownFailures++;
      else if (ok) shownRows++;
    }
    shown.textContent = "Showing " + shownRows + " of " + rows + " tests";
    if (noFailures) noFailures.hidden = shownFailures > 0 || entries.every((e) => !e.failure);
  }
  search.addEventListener("input", apply);
  statusFilter.addEventListener("change", apply);
  for (const button of document.querySelectorAll("button[data-open]")) {
    button.addEventListener("click", () => {
      const open = button.getAttribute("data-open") === "true";
      for (const d of document.querySelectorAll("details.test")) if (!d.hidden) d.open = open;
    });
  }
  function openTarget() {
    const id = decodeURIComponent(location.hash.slice(1));
    const target = id && document.getElementById(id);
    if (target && target.tagName === "DETAILS") {
      target.hidden = false;
      target.open = true;
    }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  apply();
})();
`;
