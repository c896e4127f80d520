/*  zc-bench-codec — encode + decode rate of the wire codec (common/zc_msg.h)
    on three realistic messages: a JOBS batch of 64 jobs (with fetch options
    and three extraction rules), a PAGE with a 40 KB body, and a RESULT with
    44 links and 3 fields.

    For each type it encodes batches of 256 messages (timed), then decodes
    and frees them (timed), for about 2 x --seconds, and prints one line:
        codec TYPE bytes B encode_per_s N roundtrip_per_s N decode_per_s N
              roundtrip_MB_per_s N
    (one line, wrapped here); the decode time includes zc_msg_destroy, the
    round trip is encode + decode. MB/s counts the encoded bytes (all
    frames) once per round trip. --json prints one JSON object instead.
*/
#include "zc_bench.h"
#include "zc_msg.h"
#include "zc_util.h"

#include <assert.h>

#define JOB_COUNT 64
#define LINK_COUNT 44
#define PAGE_BODY_BYTES (40 * 1024)

typedef struct {
    const char *name;
    size_t bytes;
    double encode_per_s;
    double roundtrip_per_s;
    double decode_per_s;
    double roundtrip_mb_per_s;
} s_figure_t;

static size_t
s_encoded_bytes (const zc_msg_t *msg)
{
    zmsg_t *zmsg = zc_msg_encode (msg);
    size_t bytes = zmsg_content_size (zmsg);
    zmsg_destroy (&zmsg);
    return bytes;
}

//  Runs encode-only, then encode+decode, each for at least SECONDS.
static s_figure_t
s_measure (const char *name, const zc_msg_t *msg, double seconds)
{
    s_figure_t figure = {.name = name, .bytes = s_encoded_bytes (msg)};
    //  Sanity: the message decodes to its own type.
    zmsg_t *check = zc_msg_encode (msg);
    zc_msg_decode_status_t status;
    zc_msg_t *decoded = zc_msg_decode (&check, &status);
    if (!decoded || decoded->type != msg->type) {
        fprintf (stderr, "zc-bench-codec: %s does not decode: %s\n", name,
                 zc_msg_decode_status_str (status));
        exit (1);
    }
    zc_msg_destroy (&decoded);

    //  Batches of 256: encode them (timed), then decode them (timed)
    zmsg_t *batch[256];
    uint64_t count = 0;
    double encode_total = 0, decode_total = 0;
    while (encode_total + decode_total < 2 * seconds) {
        double t0 = zc_bench_wall_s ();
        for (int i = 0; i < 256; i++)
            batch[i] = zc_msg_encode (msg);
        double t1 = zc_bench_wall_s ();
        for (int i = 0; i < 256; i++) {
            zc_msg_t *back = zc_msg_decode (&batch[i], NULL);
            assert (back);
            zc_msg_destroy (&back);
        }
        double t2 = zc_bench_wall_s ();
        encode_total += t1 - t0;
        decode_total += t2 - t1;
        count += 256;
    }
    double encode_s = encode_total / (double)count;
    double decode_s = decode_total / (double)count;
    double roundtrip_s = encode_s + decode_s;
    figure.encode_per_s = 1 / encode_s;
    figure.roundtrip_per_s = 1 / roundtrip_s;
    figure.decode_per_s = 1 / decode_s;
    figure.roundtrip_mb_per_s = (double)figure.bytes * figure.roundtrip_per_s / 1e6;
    return figure;
}

static void
s_usage (void)
{
    printf ("Usage: zc-bench-codec [--seconds S] [--json]\n"
            "Encode and encode+decode rates of JOBS (64 jobs), PAGE (40 KB body) and\n"
            "RESULT (44 links, 3 fields) messages, single thread.\n");
}

int
main (int argc, char *argv[])
{
    double seconds = 2;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = (double)zc_bench_parse_u64 ("--seconds", argv[++i]);
        else if (strcmp (argv[i], "--json") == 0)
            json = true;
        else {
            s_usage ();
            return strcmp (argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (seconds <= 0)
        seconds = 1;

    //  Crawl-wide pieces shared by the messages
    const char *headers[] = {"Accept-Language: en"};
    zc_extract_rule_t rules[] = {
        {.name = "title", .selector = "title", .take = ZC_TAKE_TEXT, .attr = "", .regex = ""},
        {.name = "h1", .selector = "h1", .take = ZC_TAKE_TEXT, .attr = "", .regex = ""},
        {.name = "price", .selector = ".price", .take = ZC_TAKE_TEXT, .attr = "", .regex = ""},
    };
    zc_fetch_opts_t opts = {.connect_timeout_ms = 10000,
                            .timeout_ms = 30000,
                            .max_body_bytes = 10u * 1024 * 1024,
                            .max_redirects = 10,
                            .allow_private = true,
                            .user_agent = "zcrawl/0.1 (+https://example.org/bot)",
                            .headers = headers,
                            .header_count = 1};
    const char *crawl = "c-5f3a9e1b2c7d4e60";
    int64_t now = zc_now_ms ();

    //  JOBS: 64 jobs of one crawl
    char urls[JOB_COUNT][96];
    zc_job_t jobs[JOB_COUNT];
    for (int i = 0; i < JOB_COUNT; i++) {
        snprintf (urls[i], sizeof urls[i], "http://shop%d.example.com:8080/catalog/p/%d.html",
                  i % 8, 1000 + i * 37);
        jobs[i] = (zc_job_t){.crawl = crawl,
                             .id = 1000000 + (uint64_t)i,
                             .kind = ZC_JOB_PAGE,
                             .url = urls[i],
                             .depth = 3,
                             .attempt = 1,
                             .deadline_ms = (uint64_t)now + 60000,
                             .opts = opts,
                             .rules = rules,
                             .rule_count = 3,
                             .origin = ""};
    }
    zc_msg_t jobs_msg = {.type = ZC_MSG_JOBS, .jobs = {.jobs = jobs, .job_count = JOB_COUNT}};

    zc_page_meta_t meta = {.crawl = crawl,
                           .id = 1000042,
                           .url = "http://shop3.example.com:8080/catalog/p/2554.html",
                           .final_url = "http://shop3.example.com:8080/catalog/p/2554.html",
                           .depth = 3,
                           .attempt = 1,
                           .status = 200,
                           .content_type = "text/html; charset=utf-8",
                           .fetched_at_ms = (uint64_t)now,
                           .timings = {.total_ms = 12, .connect_ms = 1, .ttfb_ms = 4}};

    //  PAGE: 40 KB of HTML-like text
    char *body = (char *)malloc (PAGE_BODY_BYTES);
    assert (body);
    const char *filler =
        "<p>Lorem ipsum <b>dolor</b> sit amet, <a href=\"/p/1.html\">link</a>.</p>\n";
    size_t filler_size = strlen (filler);
    for (size_t at = 0; at < PAGE_BODY_BYTES; at += filler_size)
        memcpy (body + at, filler,
                PAGE_BODY_BYTES - at < filler_size ? PAGE_BODY_BYTES - at : filler_size);
    zc_msg_t page_msg = {.type = ZC_MSG_PAGE,
                         .page = {.meta = meta,
                                  .rules = rules,
                                  .rule_count = 3,
                                  .body = body,
                                  .body_size = PAGE_BODY_BYTES}};

    //  RESULT: 44 links, 3 fields
    char links[LINK_COUNT][96];
    const char *link_ptrs[LINK_COUNT];
    for (int i = 0; i < LINK_COUNT; i++) {
        snprintf (links[i], sizeof links[i], "http://shop3.example.com:8080/catalog/p/%d.html",
                  (i * 7919) % 20000);
        link_ptrs[i] = links[i];
    }
    const char *title[] = {"Page 2554 — indigo kestrel kestrel & umber"};
    const char *price[] = {"$253.13"};
    zc_field_t fields[] = {{.name = "title", .values = title, .value_count = 1},
                           {.name = "h1", .values = title, .value_count = 1},
                           {.name = "price", .values = price, .value_count = 1}};
    zc_msg_t result_msg = {.type = ZC_MSG_RESULT,
                           .result = {.meta = meta,
                                      .title = title[0],
                                      .links = link_ptrs,
                                      .link_count = LINK_COUNT,
                                      .fields = fields,
                                      .field_count = 3,
                                      .body_bytes = PAGE_BODY_BYTES,
                                      .canonical = "",
                                      .charset = "utf-8"}};

    s_figure_t figures[3] = {s_measure ("JOBS", &jobs_msg, seconds),
                             s_measure ("PAGE", &page_msg, seconds),
                             s_measure ("RESULT", &result_msg, seconds)};
    free (body);

    if (json) {
        printf ("{\"bench\": \"codec\", \"seconds_per_measure\": %.1f, \"types\": {", seconds);
        for (int i = 0; i < 3; i++)
            printf ("%s\"%s\": {\"bytes\": %zu, \"encode_per_s\": %.1f, \"roundtrip_per_s\": %.1f, "
                    "\"decode_per_s\": %.1f, \"roundtrip_MB_per_s\": %.1f}",
                    i ? ", " : "", figures[i].name, figures[i].bytes, figures[i].encode_per_s,
                    figures[i].roundtrip_per_s, figures[i].decode_per_s,
                    figures[i].roundtrip_mb_per_s);
        printf ("}}\n");
    } else
        for (int i = 0; i < 3; i++)
            printf ("codec %s bytes %zu encode_per_s %.1f roundtrip_per_s %.1f decode_per_s %.1f "
                    "roundtrip_MB_per_s %.1f\n",
                    figures[i].name, figures[i].bytes, figures[i].encode_per_s,
                    figures[i].roundtrip_per_s, figures[i].decode_per_s,
                    figures[i].roundtrip_mb_per_s);
    return 0;
}
