// Opens an edgebench report in real headless Chromium (Debian's /usr/bin/chromium, driven
// over the DevTools protocol by puppeteer-core), takes a full-page screenshot and checks that
// the page rendered, that each expected chart is there and drawn, and that the page made no
// network request. When search charts (search-*) are expected: that they are in the search's
// section, above the cells table, with its tables of steps, and that its latency chart has a
// threshold line and an answer label.
//
// usage: node browser_check.mjs REPORT.html SCREENSHOT.png RUNS CHART_ID...
//   RUNS: how many runs the report shows; CHART_ID: every chart the page must have (and no
//   other). Exit 0: every check passed; 1: a check failed (each printed); 2: bad usage.
import path from 'node:path';
import process from 'node:process';
import puppeteer from 'puppeteer-core';

const [reportArg, screenshot, runsArg, ...chartIds] = process.argv.slice(2);
if (!reportArg || !screenshot || !runsArg || chartIds.length === 0) {
  console.error('usage: node browser_check.mjs REPORT.html SCREENSHOT.png RUNS CHART_ID...');
  process.exit(2);
}
const reportUrl = 'file://' + path.resolve(reportArg);
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  // Every request but the report itself is a failure: the page must need nothing else.
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  const response = await page.goto(reportUrl, { waitUntil: 'networkidle0', timeout: 60000 });
  check(response !== null && response.ok(), `the report did not load: ${reportUrl}`);

  const facts = await page.evaluate(() => {
    const drawn = (svg) => {
      // The plot groups gnuplot writes (id ...gnuplot_plot_N) and what is painted in them.
      const plots = [...svg.querySelectorAll('g[id*="gnuplot_plot_"]')];
      const painted = plots.filter((g) => {
        const b = g.getBBox();
        // A flat line has no height and a vertical one no width, but neither is empty.
        return (b.width > 0 || b.height > 0) && g.querySelector('path, rect, use, text') !== null;
      });
      return { plots: plots.length, painted: painted.length,
               paths: svg.querySelectorAll('path').length };
    };
    return {
      title: document.title,
      h1: document.querySelector('h1')?.textContent ?? '',
      bodyHeight: document.body.getBoundingClientRect().height,
      cellRows: document.querySelectorAll('table.cells tr').length,
      runs: document.querySelectorAll('details.run').length,
      notices: [...document.querySelectorAll('.notice')].map((n) => n.textContent),
      // A search's section: where it is, its step tables, the charts in it, and the texts
      // gnuplot drew in its latency chart (threshold titles, answer labels).
      search: (() => {
        const section = document.querySelector('section#search');
        if (!section) return null;
        const cells = document.querySelector('table.cells');
        const latency = section.querySelector('figure[data-chart="search-latency"] svg');
        return {
          top: section.getBoundingClientRect().top,
          cellsTop: cells ? cells.getBoundingClientRect().top : Infinity,
          stepTables: section.querySelectorAll('table.search-steps').length,
          charts: [...section.querySelectorAll('figure.chart')].map((f) => f.dataset.chart),
          latencyTexts: latency ? [...latency.querySelectorAll('text')].map((t) => t.textContent)
                                : [],
        };
      })(),
      charts: [...document.querySelectorAll('figure.chart')].map((f) => {
        const svg = f.querySelector('svg');
        const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
        return { id: f.dataset.chart, width: box.width, height: box.height,
                 ...(svg ? drawn(svg) : { plots: 0, painted: 0, paths: 0 }) };
      }),
    };
  });

  check(facts.title.length > 0 && facts.h1.length > 0, 'the page has no title or heading');
  check(facts.bodyHeight > 900, `the page is ${facts.bodyHeight}px tall: did it render?`);
  check(facts.cellRows >= 2, `the cells table has ${facts.cellRows} rows (header and cells)`);
  check(facts.runs === Number(runsArg), `${facts.runs} runs shown, expected ${runsArg}`);
  check(facts.notices.length === 0, `notices on the page: ${facts.notices.join(' | ')}`);
  const found = facts.charts.map((c) => c.id);
  check(JSON.stringify(found) === JSON.stringify(chartIds),
        `charts ${JSON.stringify(found)}, expected ${JSON.stringify(chartIds)}`);
  for (const c of facts.charts) {
    check(c.width > 300 && c.height > 150, `chart ${c.id} is ${c.width}x${c.height}px`);
    check(c.plots > 0 && c.painted === c.plots,
          `chart ${c.id}: ${c.painted} of ${c.plots} plot elements drawn`);
    check(c.paths >= 10, `chart ${c.id} has only ${c.paths} paths`);
  }
  const searchIds = chartIds.filter((id) => id.startsWith('search-'));
  if (searchIds.length > 0) {
    const s = facts.search;
    check(s !== null, 'search charts expected, but the page has no search section');
    if (s !== null) {
      check(JSON.stringify(s.charts) === JSON.stringify(searchIds),
            `the search section has charts ${JSON.stringify(s.charts)}, expected ` +
            `${JSON.stringify(searchIds)}`);
      check(s.top < s.cellsTop, 'the search section is not above the cells table');
      check(s.stepTables > 0, 'the search section has no table of steps');
      check(s.latencyTexts.some((t) => /^latency_\w+ (max|min) /.test(t)),
            'the search latency chart has no threshold line title');
      check(s.latencyTexts.some((t) => / holds up to /.test(t)),
            'the search latency chart has no answer label');
    }
  }
  const others = requests.filter((u) => u !== reportUrl);
  check(others.length === 0, `network requests: ${others.join(', ')}`);
  check(errors.length === 0, `console errors: ${errors.join(' | ')}`);

  // Open one run's files: the collapsed text must become visible.
  const opened = await page.evaluate(() => {
    const d = document.querySelector('details.run');
    if (!d) return 0;
    d.open = true;
    return d.querySelector('pre')?.getBoundingClientRect().height ?? 0;
  });
  check(opened > 0, 'an opened run shows no scenario text');

  await page.screenshot({ path: screenshot, fullPage: true });
  const summary = facts.charts.map((c) => `${c.id} ${Math.round(c.width)}x${Math.round(c.height)}` +
                                          ` ${c.painted}/${c.plots} plots`).join('; ');
  console.log(`rendered ${facts.charts.length} charts (${summary}), ${facts.runs} runs, ` +
              `${requests.length} request(s): ${requests.join(', ')}; screenshot ${screenshot}`);
} finally {
  await browser.close();
}
if (failures.length > 0) {
  for (const f of failures) console.error(`browser check failed: ${f}`);
  process.exit(1);
}
