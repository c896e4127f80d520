#!/usr/bin/python3
"""Benchmark competitor: Scrapy (Debian's python3-scrapy, 2.8) crawling one site.

    /usr/bin/python3 bench/competitors/scrapy_crawl.py --start-url URL --out ITEMS.jsonl
        [--concurrency 64] [--timeout S] [--max-body BYTES]

Crawls every page reachable from URL by <a href> links on the same host:port
(scheme, host and port compared; fragments dropped), politeness off, and
writes one JSON object per fetched 2xx HTML page:
    {"url", "title", "h1", "price"}
url being the URL first requested (before redirects, as in zcrawl's items),
each field the first match of title::text, h1::text, .price::text, stripped,
null when absent. Exits 0 when the crawl finished, 1 otherwise.

Settings are what a Scrapy user would set for a fast single-site crawl with
politeness off (see bench/competitors/README.md). --timeout and --max-body
default to zcrawl's own defaults (30 s, 10 MiB); give the harness's zcrawl
values to make the runs equivalent.
"""
import argparse
import sys
from urllib.parse import urldefrag, urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import HtmlResponse

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url):
    """(scheme, host, port) of URL, or None when it is not http(s)."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            return None
        return scheme, parts.hostname.lower(), parts.port or DEFAULT_PORTS[scheme]
    except ValueError:  # bad port, bad IPv6 literal
        return None


def first_text(response, query):
    value = response.css(query).get()
    return value.strip() if value is not None else None


class SiteSpider(scrapy.Spider):
    name = "site"

    def __init__(self, start_url, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start_url]
        self.site = origin(start_url)

    def start_requests(self):
        # The default start request has dont_filter=True, which keeps it out of
        # the dupefilter: the home page would be fetched again when linked.
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response):
        if not isinstance(response, HtmlResponse):
            return  # not HTML (by Content-Type): no item, no links
        yield {
            "url": response.meta.get("redirect_urls", [response.url])[0],
            "title": first_text(response, "title::text"),
            "h1": first_text(response, "h1::text"),
            "price": first_text(response, ".price::text"),
        }
        for href in response.css("a::attr(href)").getall():
            url = urldefrag(response.urljoin(href.strip())).url
            if origin(url) == self.site:
                yield scrapy.Request(url, callback=self.parse)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start-url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--max-body", type=int, default=10 * 1024 * 1024, help="bytes")
    args = parser.parse_args()
    if origin(args.start_url) is None:
        parser.error(f"--start-url must be an http(s) URL: {args.start_url}")

    settings = {
        "CONCURRENT_REQUESTS": args.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
        "CONCURRENT_REQUESTS_PER_IP": 0,  # the per-domain limit applies
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "DOWNLOAD_TIMEOUT": args.timeout,
        "DOWNLOAD_MAXSIZE": args.max_body,
        "DOWNLOAD_WARNSIZE": 0,
        "LOG_LEVEL": "WARNING",
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",  # silences 2.8's deprecation warning
        "FEEDS": {args.out: {"format": "jsonlines", "encoding": "utf8", "overwrite": True}},
        # Defaults kept: RETRY_TIMES 2 (5xx/408/429/timeouts), REDIRECT_MAX_TIMES 20,
        # HttpErrorMiddleware (non-2xx never reach parse), gzip/deflate decoding,
        # the fingerprint dupefilter, LIFO scheduling (DEPTH_PRIORITY 0).
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(SiteSpider)
    process.crawl(crawler, start_url=args.start_url)
    process.start()
    stats = crawler.stats.get_stats()
    reason = stats.get("finish_reason")
    print(f"scrapy_crawl: {stats.get('item_scraped_count', 0)} items, "
          f"{stats.get('downloader/response_count', 0)} responses, finish_reason {reason}",
          file=sys.stderr)
    return 0 if reason == "finished" else 1


if __name__ == "__main__":
    sys.exit(main())
