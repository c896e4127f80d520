/*  zc-bench-parse — parser pages/s on one thread (one parser actor's work)
    compared with raw libxml2 on the same pages.

    Pages: the project's generated site (tests/testsite, zc_testsite_write_dir
    into a temporary directory, --pages N), padded with filler paragraphs
    (text and inline markup, no links) to about --pad BYTES each (default
    40000, the reference size; 0 = as generated); or the pages
    DIR/p/0.html, DIR/p/1.html ... of an existing site with --dir DIR (as
    written by `zc-testsite --write-dir`; no padding unless --pad is given).

    Measures, each cycling over all pages for at least --seconds:
      raw_sax     libxml2 HTML parser in SAX mode with no-op element and text
                  callbacks (htmlCreateMemoryParserCtxt + htmlParseDocument,
                  UTF-8, the options zc_html uses): the floor for any parser
      raw_dom     htmlReadMemory + xmlFreeDoc
      zc_links    zc_html_parse: links (resolved, canonical, deduplicated)
                  and title, no DOM (what an actor does without rules)
      zc_extract  zc_html_parse_dom + zc_extract_run of title, h1, .price
                  (CSS, text) + frees (the DOM path, for rules that cannot
                  stream)
      zc_stream   zc_stream_prepare + zc_html_parse_stream + zc_stream_finish
                  of the same rules, no DOM (what an actor does with them)
      zc_actor    what the actor does, plus its codec work: decode the PAGE,
                  parse it on the actor's path (streaming if every rule can
                  stream, else DOM + zc_extract) and encode the RESULT
                  (zc_msg), no sockets

    Output, one line per measure:
        parse NAME pages_per_s N us_per_page N MB_per_s N ratio_to_raw_sax N
    then the line the comparison harness (bench/compare.py) parses:
        raw_sax_us_per_page N
    (CPU time of this process per page of the raw SAX parse, in µs), and a
    summary line "pages N mean_bytes N mean_links N fields_found N/M".
    --json prints one JSON object instead (same names).
    --only NAME runs NAME only (e.g. for a profile of zc_actor; ratios then 0
    unless NAME is raw_sax).
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE //  nftw
#endif
#include "zc_bench.h"
#include "zc_extract.h"
#include "zc_html.h"
#include "zc_msg.h"
#include "zc_stream.h"
#include "zc_testsite.h"
#include "zc_util.h"

#include <assert.h>
#include <ftw.h>
#include <libxml/HTMLparser.h>
#include <libxml/parserInternals.h>
#include <unistd.h>

typedef struct {
    char *url;
    char *body;
    size_t size;
} s_page_t;

typedef struct {
    s_page_t *pages;
    size_t count;
    size_t bytes;
    zc_extract_t *extract;
    zc_stream_t *stream;
    zc_extract_rule_t *rules;
    size_t rule_count;
} s_corpus_t;

typedef struct {
    const char *name;
    double pages_per_s;
    double us_per_page; //  wall
    double cpu_us_per_page;
    double mb_per_s;
} s_figure_t;

typedef void (s_parse_fn) (s_corpus_t *corpus, const s_page_t *page);

static int
s_remove_entry (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove (path);
}

//  Reads PATH into a new buffer padded to PAD bytes (0 = none) with
//  filler paragraphs inserted before </body>.
static char *
s_read_page (const char *path, size_t pad, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    if (fseek (file, 0, SEEK_END) != 0) {
        fclose (file);
        return NULL;
    }
    long length = ftell (file);
    if (length < 0 || fseek (file, 0, SEEK_SET) != 0) {
        fclose (file);
        return NULL;
    }
    size_t file_size = (size_t)length;
    size_t capacity = file_size + (pad > file_size ? pad - file_size : 0) + 512;
    char *text = (char *)zmalloc (capacity + 1);
    if (fread (text, 1, file_size, file) != file_size) {
        fclose (file);
        free (text);
        return NULL;
    }
    fclose (file);
    text[file_size] = 0;
    *size = file_size;
    if (pad <= file_size)
        return text;
    const char *filler =
        "<p class=\"desc\">Handmade <b>walnut</b> desk organiser with three drawers, "
        "<em>brass</em> handles and a <span class=\"note\">lifetime warranty</span>; "
        "ships in two days from our Zürich workshop, naïve café façade crème.</p>\n";
    size_t filler_size = strlen (filler);
    char *tail = strstr (text, "</body>");
    size_t head = tail ? (size_t)(tail - text) : file_size;
    size_t rest = file_size - head;
    char *padded = (char *)zmalloc (capacity + 1);
    memcpy (padded, text, head);
    size_t at = head;
    while (at + rest + filler_size <= pad) {
        memcpy (padded + at, filler, filler_size);
        at += filler_size;
    }
    memcpy (padded + at, text + head, rest);
    at += rest;
    padded[at] = 0;
    free (text);
    *size = at;
    return padded;
}

static void
s_noop_start (void *ctx, const xmlChar *name, const xmlChar **attrs)
{
    (void)ctx;
    (void)name;
    (void)attrs;
}

static void
s_noop_end (void *ctx, const xmlChar *name)
{
    (void)ctx;
    (void)name;
}

static void
s_noop_characters (void *ctx, const xmlChar *text, int length)
{
    (void)ctx;
    (void)text;
    (void)length;
}

static void
s_silent_error (void *ctx, const char *message, ...)
{
    (void)ctx;
    (void)message;
}

#define S_HTML_OPTIONS                                                                             \
    (HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET)

//  Parses with CTXT (set up by the caller) and no-op SAX callbacks, then
//  frees the context.
static void
s_noop_parse (htmlParserCtxtPtr ctxt, int options)
{
    htmlSAXHandler sax;
    memset (&sax, 0, sizeof sax);
    sax.initialized = 1;
    sax.startElement = s_noop_start;
    sax.endElement = s_noop_end;
    sax.characters = s_noop_characters;
    sax.ignorableWhitespace = s_noop_characters;
    htmlSAXHandlerPtr old_sax = ctxt->sax;
    ctxt->sax = &sax;
    htmlCtxtUseOptions (ctxt, options);
    (void)htmlParseDocument (ctxt);
    ctxt->sax = old_sax;
    if (ctxt->myDoc)
        xmlFreeDoc (ctxt->myDoc);
    ctxt->myDoc = NULL;
    htmlFreeParserCtxt (ctxt);
}

static void
s_raw_sax (s_corpus_t *corpus, const s_page_t *page)
{
    (void)corpus;
    htmlParserCtxtPtr ctxt = htmlCreateMemoryParserCtxt (page->body, (int)page->size);
    assert (ctxt);
    int options = S_HTML_OPTIONS;
    xmlCharEncodingHandlerPtr handler = xmlFindCharEncodingHandler ("UTF-8");
    if (handler && xmlSwitchToEncoding (ctxt, handler) == 0)
        options |= HTML_PARSE_IGNORE_ENC;
    s_noop_parse (ctxt, options);
}

//  Experiments (--experiments): the raw SAX parse with other encoding
//  setups. MODE 1: xmlSwitchEncoding (UTF-8), no conversion handler;
//  MODE 2: no switch at all (the context's default).
static void
s_raw_sax_mode (const s_page_t *page, int mode)
{
    htmlParserCtxtPtr ctxt = htmlCreateMemoryParserCtxt (page->body, (int)page->size);
    assert (ctxt);
    int options = S_HTML_OPTIONS | HTML_PARSE_IGNORE_ENC;
    if (mode == 1)
        (void)xmlSwitchEncoding (ctxt, XML_CHAR_ENCODING_UTF8);
    s_noop_parse (ctxt, options);
}

static void
s_raw_sax_switch (s_corpus_t *corpus, const s_page_t *page)
{
    (void)corpus;
    s_raw_sax_mode (page, 1);
}

static void
s_raw_sax_default (s_corpus_t *corpus, const s_page_t *page)
{
    (void)corpus;
    s_raw_sax_mode (page, 2);
}

static void
s_raw_dom (s_corpus_t *corpus, const s_page_t *page)
{
    (void)corpus;
    htmlDocPtr doc =
        htmlReadMemory (page->body, (int)page->size, page->url, "UTF-8", S_HTML_OPTIONS);
    assert (doc);
    xmlFreeDoc (doc);
}

static void
s_zc_links (s_corpus_t *corpus, const s_page_t *page)
{
    (void)corpus;
    zc_html_result_t result;
    int rc = zc_html_parse (page->url, page->body, page->size, NULL, &result, NULL);
    assert (rc == 0);
    zc_html_result_clear (&result);
}

static void
s_zc_extract (s_corpus_t *corpus, const s_page_t *page)
{
    zc_html_result_t result;
    xmlDocPtr doc = NULL;
    int rc = zc_html_parse_dom (page->url, page->body, page->size, NULL, &result, &doc, NULL);
    assert (rc == 0);
    zc_extract_result_t extracted;
    rc = zc_extract_run (corpus->extract, corpus->rules, corpus->rule_count, doc, &extracted);
    assert (rc == 0);
    if (doc)
        xmlFreeDoc (doc);
    zc_extract_result_clear (&extracted);
    zc_html_result_clear (&result);
}

static void
s_zc_stream (s_corpus_t *corpus, const s_page_t *page)
{
    bool streamable = zc_stream_prepare (corpus->stream, corpus->rules, corpus->rule_count);
    assert (streamable);
    (void)streamable;
    zc_html_result_t result;
    int rc = zc_html_parse_stream (page->url, page->body, page->size, NULL, corpus->stream, &result,
                                   NULL);
    assert (rc == 0);
    zc_extract_result_t extracted;
    rc = zc_stream_finish (corpus->stream, &extracted);
    assert (rc == 0);
    (void)rc;
    zc_extract_result_clear (&extracted);
    zc_html_result_clear (&result);
}

//  As a parser actor: PAGE in (decoded), parse + extract, RESULT out
//  (encoded). The PAGE is encoded first, untimed work being impossible to
//  separate cleanly; its encode cost is small next to the rest (see
//  zc-bench-codec) and is reported as part of this figure.
static void
s_zc_actor (s_corpus_t *corpus, const s_page_t *page)
{
    zc_msg_t page_msg = {.type = ZC_MSG_PAGE,
                         .page = {.meta = {.crawl = "bench",
                                           .id = 1,
                                           .url = page->url,
                                           .final_url = page->url,
                                           .depth = 1,
                                           .attempt = 1,
                                           .status = 200,
                                           .content_type = "text/html",
                                           .fetched_at_ms = 1},
                                  .rules = corpus->rules,
                                  .rule_count = corpus->rule_count,
                                  .body = page->body,
                                  .body_size = page->size}};
    zmsg_t *zmsg = zc_msg_encode (&page_msg);
    zc_msg_t *in = zc_msg_decode (&zmsg, NULL);
    assert (in);
    const zc_page_t *got = &in->page;
    zc_html_result_t parsed;
    zc_extract_result_t extracted;
    int rc;
    //  The actor's choice (zc_parser.c): stream when every rule can.
    if (zc_stream_prepare (corpus->stream, got->rules, got->rule_count)) {
        rc = zc_html_parse_stream (got->meta.final_url, got->body, got->body_size, NULL,
                                   corpus->stream, &parsed, NULL);
        assert (rc == 0);
        rc = zc_stream_finish (corpus->stream, &extracted);
        assert (rc == 0);
    } else {
        xmlDocPtr doc = NULL;
        rc = zc_html_parse_dom (got->meta.final_url, got->body, got->body_size, NULL, &parsed, &doc,
                                NULL);
        assert (rc == 0);
        rc = zc_extract_run (corpus->extract, got->rules, got->rule_count, doc, &extracted);
        assert (rc == 0);
        if (doc)
            xmlFreeDoc (doc);
    }
    (void)rc;
    zc_field_t fields[8];
    size_t field_count = extracted.field_count < 8 ? extracted.field_count : 8;
    for (size_t i = 0; i < field_count; i++)
        fields[i] = (zc_field_t){.name = extracted.fields[i].name,
                                 .values = (const char **)extracted.fields[i].values,
                                 .value_count = extracted.fields[i].value_count};
    zc_msg_t out = {.type = ZC_MSG_RESULT,
                    .result = {.meta = got->meta,
                               .title = parsed.title,
                               .links = (const char **)parsed.links,
                               .link_count = parsed.link_count,
                               .fields = fields,
                               .field_count = field_count,
                               .body_bytes = got->body_size,
                               .canonical = parsed.canonical ? parsed.canonical : "",
                               .charset = parsed.charset}};
    zmsg_t *result = zc_msg_encode (&out);
    zmsg_destroy (&result);
    zc_extract_result_clear (&extracted);
    zc_html_result_clear (&parsed);
    zc_msg_destroy (&in);
}

static s_figure_t
s_measure (const char *name, s_parse_fn *fn, s_corpus_t *corpus, double seconds)
{
    //  Warm-up: one pass (caches, the extraction rule cache)
    for (size_t i = 0; i < corpus->count; i++)
        fn (corpus, &corpus->pages[i]);
    uint64_t pages = 0, bytes = 0;
    double start = zc_bench_wall_s (), cpu_start = zc_bench_cpu_s (), elapsed = 0;
    while (elapsed < seconds) {
        for (size_t i = 0; i < corpus->count; i++) {
            fn (corpus, &corpus->pages[i]);
            bytes += corpus->pages[i].size;
        }
        pages += corpus->count;
        elapsed = zc_bench_wall_s () - start;
    }
    double cpu = zc_bench_cpu_s () - cpu_start;
    return (s_figure_t){.name = name,
                        .pages_per_s = (double)pages / elapsed,
                        .us_per_page = elapsed / (double)pages * 1e6,
                        .cpu_us_per_page = cpu / (double)pages * 1e6,
                        .mb_per_s = (double)bytes / elapsed / 1e6};
}

static void
s_usage (void)
{
    printf ("Usage: zc-bench-parse [--pages N] [--pad BYTES] [--dir DIR] [--seconds S] "
            "[--json] [--experiments] [--only NAME]\n"
            "Parser pages/s per actor (one thread) vs raw libxml2 SAX and DOM.\n"
            "Defaults: --pages 200 --pad 40000 (generated site) --seconds 3.\n"
            "--experiments: also the raw SAX parse with other encoding setups.\n"
            "--only NAME: measure NAME only (zc_links, zc_stream, zc_actor...).\n");
}

int
main (int argc, char *argv[])
{
    uint64_t page_count = 200, pad = 40000, seconds = 3;
    bool pad_given = false, json = false, experiments = false;
    const char *site_dir = NULL;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp (arg, "--pages") == 0 && has_value)
            page_count = zc_bench_parse_u64 (arg, argv[++i]);
        else if (strcmp (arg, "--pad") == 0 && has_value) {
            pad = zc_bench_parse_u64 (arg, argv[++i]);
            pad_given = true;
        } else if (strcmp (arg, "--seconds") == 0 && has_value)
            seconds = zc_bench_parse_u64 (arg, argv[++i]);
        else if (strcmp (arg, "--dir") == 0 && has_value)
            site_dir = argv[++i];
        else if (strcmp (arg, "--only") == 0 && has_value)
            only = argv[++i];
        else if (strcmp (arg, "--json") == 0)
            json = true;
        else if (strcmp (arg, "--experiments") == 0)
            experiments = true;
        else {
            s_usage ();
            return strcmp (arg, "--help") == 0 ? 0 : 2;
        }
    }
    if (page_count == 0 || page_count > 1000000 || seconds == 0) {
        s_usage ();
        return 2;
    }
    if (site_dir && !pad_given)
        pad = 0;
    char temp_dir[] = "/tmp/zc-bench-parse-XXXXXX";
    if (!site_dir) {
        if (!mkdtemp (temp_dir)) {
            perror ("mkdtemp");
            return 1;
        }
        zc_testsite_config_t site = {.pages = (uint32_t)page_count,
                                     .host = "127.0.0.1",
                                     .port = 8080,
                                     .external_port = 8081,
                                     .big_bytes = 1024};
        if (zc_testsite_write_dir (&site, temp_dir) != 0) {
            fprintf (stderr, "zc-bench-parse: cannot write the site in %s\n", temp_dir);
            return 1;
        }
    }
    const char *dir = site_dir ? site_dir : temp_dir;
    s_corpus_t corpus = {0};
    corpus.pages = (s_page_t *)zmalloc (page_count * sizeof (s_page_t));
    for (uint64_t i = 0; i < page_count; i++) {
        char path[4096];
        snprintf (path, sizeof path, "%s/p/%llu.html", dir, (unsigned long long)i);
        size_t size = 0;
        char *body = s_read_page (path, (size_t)pad, &size);
        if (!body)
            break;
        char url[128];
        snprintf (url, sizeof url, "http://127.0.0.1:8080/p/%llu.html", (unsigned long long)i);
        corpus.pages[corpus.count++] =
            (s_page_t){.url = zc_strdup (url), .body = body, .size = size};
        corpus.bytes += size;
    }
    if (!site_dir && nftw (temp_dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf (stderr, "zc-bench-parse: cannot remove %s\n", temp_dir);
    if (corpus.count == 0) {
        fprintf (stderr, "zc-bench-parse: no pages in %s/p/\n", dir);
        return 1;
    }
    xmlSetGenericErrorFunc (NULL, s_silent_error);
    xmlSetStructuredErrorFunc (NULL, NULL);
    zc_extract_rule_t rules[] = {
        {.name = "title", .selector = "title", .take = ZC_TAKE_TEXT, .attr = "", .regex = ""},
        {.name = "h1", .selector = "h1", .take = ZC_TAKE_TEXT, .attr = "", .regex = ""},
        {.name = "price", .selector = ".price", .take = ZC_TAKE_TEXT, .attr = "", .regex = ""},
    };
    corpus.extract = zc_extract_new ();
    corpus.stream = zc_stream_new ();
    corpus.rules = rules;
    corpus.rule_count = 3;

    //  What the pages hold (sanity: links and the three fields are found)
    uint64_t links = 0, fields_found = 0;
    for (size_t i = 0; i < corpus.count; i++) {
        zc_html_result_t result;
        xmlDocPtr doc = NULL;
        if (zc_html_parse_dom (corpus.pages[i].url, corpus.pages[i].body, corpus.pages[i].size,
                               NULL, &result, &doc, NULL) != 0)
            continue;
        links += result.link_count;
        zc_extract_result_t extracted;
        if (zc_extract_run (corpus.extract, rules, 3, doc, &extracted) == 0)
            fields_found += extracted.field_count;
        if (doc)
            xmlFreeDoc (doc);
        zc_extract_result_clear (&extracted);
        zc_html_result_clear (&result);
    }

    double secs = (double)seconds;
    struct {
        const char *name;
        s_parse_fn *fn;
    } measures[] = {{"raw_sax", s_raw_sax},     {"raw_dom", s_raw_dom},
                    {"zc_links", s_zc_links},   {"zc_extract", s_zc_extract},
                    {"zc_stream", s_zc_stream}, {"zc_actor", s_zc_actor}};
    s_figure_t figures[sizeof measures / sizeof measures[0]];
    size_t figure_count = 0;
    for (size_t i = 0; i < sizeof measures / sizeof measures[0]; i++)
        if (!only || strcmp (only, measures[i].name) == 0)
            figures[figure_count++] = s_measure (measures[i].name, measures[i].fn, &corpus, secs);
    if (experiments) {
        s_figure_t a = s_measure ("raw_sax_utf8_switch", s_raw_sax_switch, &corpus, secs);
        s_figure_t b = s_measure ("raw_sax_no_switch", s_raw_sax_default, &corpus, secs);
        s_figure_t c = s_measure ("raw_sax", s_raw_sax, &corpus, secs);
        printf ("experiment %s cpu_us_per_page %.1f\nexperiment %s cpu_us_per_page %.1f\n"
                "experiment %s cpu_us_per_page %.1f (handler, as zc_html)\n",
                a.name, a.cpu_us_per_page, b.name, b.cpu_us_per_page, c.name, c.cpu_us_per_page);
    }
    bool have_raw = figure_count > 0 && strcmp (figures[0].name, "raw_sax") == 0;
    double raw_sax_us = have_raw ? figures[0].us_per_page : 0;
    double raw_sax_cpu_us = have_raw ? figures[0].cpu_us_per_page : 0;
    double mean_bytes = (double)corpus.bytes / (double)corpus.count;
    double mean_links = (double)links / (double)corpus.count;
    if (json) {
        printf (
            "{\"bench\": \"parse\", \"pages\": %zu, \"mean_bytes\": %.0f, \"mean_links\": %.1f, "
            "\"fields_found\": %llu, \"fields_expected\": %zu, \"raw_sax_us_per_page\": %.1f, "
            "\"raw_sax_cpu_us_per_page\": %.1f, \"measures\": {",
            corpus.count, mean_bytes, mean_links, (unsigned long long)fields_found,
            corpus.count * 3, raw_sax_us, raw_sax_cpu_us);
        for (size_t i = 0; i < figure_count; i++)
            printf ("%s\"%s\": {\"pages_per_s\": %.1f, \"us_per_page\": %.1f, \"cpu_us_per_page\": "
                    "%.1f, \"MB_per_s\": %.1f, \"ratio_to_raw_sax\": %.2f}",
                    i ? ", " : "", figures[i].name, figures[i].pages_per_s, figures[i].us_per_page,
                    figures[i].cpu_us_per_page, figures[i].mb_per_s,
                    have_raw ? figures[i].us_per_page / raw_sax_us : 0);
        printf ("}}\n");
    } else {
        for (size_t i = 0; i < figure_count; i++)
            printf ("parse %s pages_per_s %.1f us_per_page %.1f MB_per_s %.1f ratio_to_raw_sax "
                    "%.2f\n",
                    figures[i].name, figures[i].pages_per_s, figures[i].us_per_page,
                    figures[i].mb_per_s, have_raw ? figures[i].us_per_page / raw_sax_us : 0);
        printf ("raw_sax_us_per_page %.1f\n", raw_sax_cpu_us);
        printf ("pages %zu mean_bytes %.0f mean_links %.1f fields_found %llu/%zu\n", corpus.count,
                mean_bytes, mean_links, (unsigned long long)fields_found, corpus.count * 3);
    }
    zc_extract_destroy (&corpus.extract);
    zc_stream_destroy (&corpus.stream);
    for (size_t i = 0; i < corpus.count; i++) {
        free (corpus.pages[i].url);
        free (corpus.pages[i].body);
    }
    free (corpus.pages);
    return 0;
}
