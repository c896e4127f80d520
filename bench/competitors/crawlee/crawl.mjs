// Benchmark competitor: Crawlee 3 CheerioCrawler (pinned in package.json) crawling one site.
//
//     node bench/competitors/crawlee/crawl.mjs --start-url URL --out ITEMS.jsonl
//         [--concurrency 64] [--timeout S] [--max-body BYTES]
//
// Crawls every page reachable from URL by <a href> links on the same origin
// (scheme, host and port; fragments dropped), politeness off, and writes one
// JSON object per fetched 2xx HTML page: {"url", "title", "h1", "price"}, url
// being the URL first requested (before redirects, as in zcrawl's items), each
// field the text of the first match of title, h1, .price, trimmed, null when
// absent. Exits 0 when the crawl finished, 1 otherwise.
//
// Storage is in memory only (persistStorage false): nothing is written under
// ./storage. --timeout and --max-body default to zcrawl's defaults (30 s,
// 10 MiB); CheerioCrawler has no body size limit, so a larger body is
// downloaded and then dropped (no item, no links), which gives the same output.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { CheerioCrawler, Configuration, log } from 'crawlee';

function usage(message) {
    process.stderr.write(`crawl.mjs: ${message}\n`
        + 'usage: crawl.mjs --start-url URL --out ITEMS.jsonl [--concurrency 64] '
        + '[--timeout S] [--max-body BYTES]\n');
    process.exit(2);
}

let values;
try {
    ({ values } = parseArgs({
        options: {
            'start-url': { type: 'string' },
            out: { type: 'string' },
            concurrency: { type: 'string', default: '64' },
            timeout: { type: 'string', default: '30' },
            'max-body': { type: 'string', default: String(10 * 1024 * 1024) },
        },
    }));
} catch (e) {
    usage(e.message);
}
const concurrency = Number(values.concurrency);
const timeoutSecs = Number(values.timeout);
const maxBody = Number(values['max-body']);
if (!values['start-url'] || !values.out) usage('--start-url and --out are required');
if (!Number.isInteger(concurrency) || concurrency < 1) usage('bad --concurrency');
if (!(timeoutSecs > 0)) usage('bad --timeout');
if (!Number.isInteger(maxBody) || maxBody < 1) usage('bad --max-body');
let startUrl;
try {
    startUrl = new URL(values['start-url']);
} catch {
    usage(`bad --start-url ${values['start-url']}`);
}
if (startUrl.protocol !== 'http:' && startUrl.protocol !== 'https:') usage('--start-url must be http(s)');

log.setLevel(log.LEVELS.WARNING);
const out = createWriteStream(values.out);
let items = 0;
// uniqueKeys of the requests whose item is written. A handler can time out after it
// wrote its item (requestHandlerTimeoutSecs, 60 s by default: seen on a loaded 2-core
// machine with the await on enqueueLinks stalling, 14 of 21,003 pages in a 20,000-page
// run); Crawlee then retries the request as usual, and the retry (or the timed-out
// handler, which keeps running) must not write the page a second time.
const written = new Set();
let repeats = 0;

// The first match's text, trimmed; null when nothing matches.
function firstText($, selector) {
    const node = $(selector).first();
    return node.length ? node.text().trim() : null;
}

const config = new Configuration({ persistStorage: false, purgeOnStart: true });
const crawler = new CheerioCrawler({
    minConcurrency: concurrency,
    maxConcurrency: concurrency,
    // HttpCrawler's default pool options start at desiredConcurrency 10 and grow by 5%
    // every 10 s, whatever minConcurrency says: start at the full concurrency instead
    // (the snapshot options are HttpCrawler's own defaults, which these replace).
    autoscaledPoolOptions: {
        desiredConcurrency: concurrency,
        snapshotterOptions: { eventLoopSnapshotIntervalSecs: 2, maxBlockedMillis: 100 },
        systemStatusOptions: { maxEventLoopOverloadedRatio: 0.7 },
    },
    maxRequestsPerMinute: Infinity,
    navigationTimeoutSecs: timeoutSecs,
    respectRobotsTxtFile: false, // the default, stated: politeness off
    useSessionPool: false,
    persistCookiesPerSession: false,
    // Defaults kept: maxRequestRetries 3 (5xx, timeouts, network errors), redirects
    // followed by got-scraping, gzip/br/deflate decoding, uniqueKey dedupe.
    async requestHandler({ request, response, body, contentType, $, enqueueLinks }) {
        if (response.statusCode < 200 || response.statusCode >= 300) return;
        if (!contentType.type.includes('html') || body.length > maxBody) return;
        if (written.has(request.uniqueKey)) {
            repeats++;
        } else {
            written.add(request.uniqueKey);
            const item = {
                url: request.url,
                title: firstText($, 'title'),
                h1: firstText($, 'h1'),
                price: firstText($, '.price'),
            };
            if (!out.write(`${JSON.stringify(item)}\n`)) await once(out, 'drain');
            items++;
        }
        await enqueueLinks({
            selector: 'a[href]',
            strategy: 'same-origin',
            transformRequestFunction: (req) => {
                const url = new URL(req.url);
                url.hash = '';
                req.url = url.href;
                return req;
            },
        });
    },
}, config);

let stats;
try {
    stats = await crawler.run([startUrl.href]);
} catch (e) {
    process.stderr.write(`crawl.mjs: crawl failed: ${e.stack || e}\n`);
    process.exit(1);
}
out.end();
await once(out, 'finish');
process.stderr.write(`crawl.mjs: ${items} items, ${stats.requestsFinished} requests finished, `
    + `${stats.requestsFailed} failed, ${repeats} repeated handler runs not written again\n`);
process.exit(0);
