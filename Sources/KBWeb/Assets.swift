/// The stylesheet and the one script, served by the app itself (`/static/…`): nothing comes from
/// another origin, and every page works without the script.
enum Assets {
  static let script = #"""
    // Casebook: live updates (server-sent events) and a character count. Pages work without it.
    (function () {
      "use strict";
      function counters(root) {
        root.querySelectorAll("textarea[data-limit]").forEach(function (box) {
          var out = document.getElementById(box.id + "-count");
          if (!out) return;
          var limit = parseInt(box.getAttribute("data-limit"), 10) || 0;
          function update() {
            var n = Array.from(box.value).length;
            out.textContent = n + (limit ? " / " + limit : "") + " characters";
            out.classList.toggle("over", limit > 0 && n > limit);
          }
          box.addEventListener("input", update);
          update();
        });
      }
      function refreshQueue() {
        fetch(location.href, { headers: { "X-Requested-With": "live" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            if (!html) return;
            var doc = new DOMParser().parseFromString(html, "text/html");
            var fresh = doc.getElementById("live"), current = document.getElementById("live");
            if (fresh && current) { current.replaceWith(fresh); counters(fresh); }
            document.body.setAttribute("data-updated", String(Date.now()));
          });
      }
      document.addEventListener("DOMContentLoaded", function () {
        counters(document);
        if (!window.EventSource) return;
        var live = document.body.getAttribute("data-live");
        var events = new EventSource("/events");
        events.addEventListener("changed", function () {
          if (live === "queue") refreshQueue();
          else if (live) document.getElementById("changed").hidden = false;
        });
        events.addEventListener("open", function () { document.body.setAttribute("data-events", "open"); });
      });
    })();
    """#

  static let stylesheet = #"""
    :root { --ink: #1d2330; --muted: #5f6b7a; --line: #dde2ea; --bg: #f6f7fa; --card: #fff;
      --accent: #2457c5; --warn: #b3261e; --ok: #1e7d3a; --hold: #8a5a00; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
    a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
    header.top { display: flex; align-items: center; gap: 1.2rem; padding: .6rem 1.2rem; background: #1d2330; color: #fff; flex-wrap: wrap; }
    header.top a { color: #cfd8ea; } header.top a[aria-current] { color: #fff; font-weight: 600; border-bottom: 2px solid #7fa6ff; }
    header.top .brand { color: #fff; font-weight: 700; font-size: 1.1rem; }
    header.top nav { display: flex; gap: 1rem; flex-wrap: wrap; } header.top .who { margin-left: auto; color: #aab4c6; font-size: .85rem; }
    main { max-width: 1100px; margin: 1.2rem auto; padding: 0 1.2rem; }
    footer { max-width: 1100px; margin: 2rem auto; padding: 0 1.2rem; color: var(--muted); font-size: .8rem; }
    h1 { font-size: 1.45rem; margin: .2rem 0 .8rem; } h2 { font-size: 1.1rem; margin: 1.4rem 0 .6rem; }
    .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; margin-bottom: 1rem; }
    table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
    th, td { text-align: left; padding: .5rem .7rem; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); background: #fafbfd; }
    td.num, th.num { text-align: right; white-space: nowrap; }
    .muted { color: var(--muted); } .small { font-size: .85rem; }
    .badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-size: .78rem; background: #e8ecf3; color: #334; white-space: nowrap; }
    .status-open { background: #fde8e6; color: var(--warn); } .status-acknowledged { background: #e6eeff; color: #2347a0; }
    .status-offline, .status-escalated { background: #fff1d6; color: var(--hold); }
    .status-resolved { background: #e3f4e7; color: var(--ok); } .status-closed { background: #eceff3; color: #555; }
    .conf-high { background: #e3f4e7; color: var(--ok); } .conf-medium { background: #fff1d6; color: var(--hold); } .conf-low { background: #eceff3; color: #555; }
    .waiting { color: var(--warn); font-weight: 600; }
    .sla-breached { background: #fde8e6; color: var(--warn); font-weight: 600; } .sla-at-risk { background: #fff1d6; color: var(--hold); }
    .sla-ok { background: #e6eeff; color: #2347a0; } .sla-met { background: #e3f4e7; color: var(--ok); }
    form.filters { display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; margin-bottom: .8rem; }
    label { font-size: .88rem; color: var(--muted); }
    input[type=text], input[type=search], select, textarea { font: inherit; padding: .4rem .5rem; border: 1px solid #c5ccd8; border-radius: 6px; background: #fff; color: var(--ink); }
    textarea { width: 100%; min-height: 6rem; } input[type=search] { min-width: 22rem; }
    button { font: inherit; padding: .42rem .9rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
    button.secondary { background: #fff; color: var(--accent); }
    .row { display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; margin: .4rem 0; }
    .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; } @media (max-width: 800px) { .grid { grid-template-columns: 1fr; } }
    blockquote.complaint { margin: 0; padding: .8rem 1rem; background: #fbfcfe; border-left: 4px solid #7fa6ff; white-space: pre-wrap; overflow-wrap: anywhere; }
    ol.timeline { list-style: none; padding: 0; margin: 0; border-left: 2px solid var(--line); }
    ol.timeline li { position: relative; padding: .2rem 0 .8rem 1.1rem; }
    ol.timeline li::before { content: ""; position: absolute; left: -6px; top: .55rem; width: 10px; height: 10px; border-radius: 50%; background: #7fa6ff; }
    ol.timeline .text { white-space: pre-wrap; overflow-wrap: anywhere; }
    .error { background: #fde8e6; color: var(--warn); border: 1px solid #f3c2bd; padding: .6rem .8rem; border-radius: 6px; }
    .notice { background: #e3f4e7; color: var(--ok); border: 1px solid #bfe3c8; padding: .6rem .8rem; border-radius: 6px; }
    .guard { background: #fff1d6; border: 1px solid #f0d49b; padding: .5rem .8rem; border-radius: 6px; margin: .4rem 0; }
    .changed { background: #fff1d6; text-align: center; padding: .4rem; }
    .count { font-size: .85rem; color: var(--muted); } .count.over { color: var(--warn); font-weight: 600; }
    mark { background: #ffe58a; padding: 0 .1rem; }
    .suggestion { border-top: 1px solid var(--line); padding: .6rem 0; } .suggestion:first-of-type { border-top: 0; }
    .figures { display: flex; gap: 1rem; flex-wrap: wrap; margin-bottom: 1rem; }
    .figure { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .7rem 1rem; min-width: 10rem; }
    .figure b { display: block; font-size: 1.4rem; }
    .chart { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .6rem; }
    .chart svg { width: 100%; height: auto; display: block; }
    .markdown pre { background: #f3f5f9; padding: .6rem; border-radius: 6px; overflow-x: auto; }
    dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; } dl.facts dt { color: var(--muted); }
    details summary { cursor: pointer; color: var(--accent); }
    """#
}
