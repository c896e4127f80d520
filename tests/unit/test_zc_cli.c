//  Unit tests for zc_cli's crawl options: every flag with good and bad
//  values, spec loading through positional arguments and --spec, and the
//  merge rules (flags override the spec, lists add up).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "zc_cli.h"

#define FULL_SPEC ZC_FIXTURES_DIR "/spec/full.yaml"

//  Parses ARGV (NULL-terminated, argv[0] is the program) like the programs
//  do: options through getopt_long, then positional arguments, then finish.
//  Returns 0, or the exit code the program would use.
static int
s_parse (zc_cli_crawl_t *crawl, const char **args)
{
    static const struct option options[] = {ZC_CLI_CRAWL_LONG_OPTIONS, {NULL, 0, NULL, 0}};
    char *argv[64];
    int argc = 0;
    while (args[argc]) {
        assert_true (argc < 63);
        argv[argc] = (char *)args[argc];
        argc++;
    }
    argv[argc] = NULL;
    optind = 0; //  GNU: full reinitialisation
    opterr = 0;
    zc_cli_crawl_init (crawl);
    int opt;
    while ((opt = getopt_long (argc, argv, "o:", options, NULL)) != -1) {
        int handled = zc_cli_crawl_option (crawl, opt, optarg);
        if (handled <= 0)
            return ZC_CLI_EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++)
        if (zc_cli_crawl_add_argument (crawl, argv[i]) != 0)
            return ZC_CLI_EXIT_USAGE;
    return zc_cli_crawl_finish (crawl) == 0 ? 0 : ZC_CLI_EXIT_USAGE;
}

//  FLAG VALUE on its own is accepted (expect_ok) or refused.
static void
s_check_flag (const char *flag, const char *value, bool expect_ok)
{
    zc_cli_crawl_t crawl;
    const char *args[] = {"zcrawl", flag, value, "http://a.test/", NULL};
    if (!value) {
        args[2] = "http://a.test/";
        args[3] = NULL;
    }
    int rc = s_parse (&crawl, args);
    if ((rc == 0) != expect_ok) {
        print_error ("%s %s: expected %s, got rc %d\n", flag, value ? value : "",
                     expect_ok ? "success" : "a usage error", rc);
        zc_cli_crawl_fini (&crawl);
        fail ();
    }
    zc_cli_crawl_fini (&crawl);
}

static void
test_flags_good_and_bad (void **state)
{
    (void)state;
    struct {
        const char *flag, *good, *bad;
    } cases[] = {
        {"--crawl-delay-cap", "2.5", "0"},
        {"--crawl-delay-cap", "30", "-1"},
        {"--max-attempts", "5", "0"},
        {"--max-attempts", "1", "101"},
        {"--retry-base", "50", "0"},
        {"--retry-base", "1000", "1s"},
        {"--allow-host", "example.org:8080", "http://example.org/"},
        {"--allow-host", "[::1]:80", "a b"},
        {"--allow-domain", "example.org", ".example.org"},
        {"--include", "^https?://a\\.test/(docs|blog)/", "(unclosed"},
        {"--exclude", "\\.pdf$", "a{2,1}"},
        {"--max-pages-per-host", "100", "0"},
        {"--max-url-length", "2048", "8"},
        {"--max-path-segments", "32", "0"},
        {"--max-segment-repeats", "3", "x"},
        {"--header", "X-Test: 1", "X-Test"},
        {"--header", "Accept:text/html", "Bad Name: 1"},
        {"--header", "X-A: b", "X-A:"},
        {"--header", "X-A: b", "Host: evil"},
        {"--resolve", "a.test:80:127.0.0.1", "a.test:80"},
        {"--resolve", "a.test:443:[::1]", "a.test:x:127.0.0.1"},
        {"--resolve", "a.test:80:10.0.0.1,10.0.0.2", "a.test:80:localhost"},
        {"--extract", "title=h1", "title"},
        {"--extract", "price=div.p > span", "=h1"},
        {"--extract", "x=a[href]", "x="},
        {"--host-delay", "50", "0"},
        {"--host-concurrency", "2", "0"},
        {"--max-depth", "0", "-1"},
        {"--max-redirects", "5", "101"},
        {"--user-agent", "bot/1", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_check_flag (cases[i].flag, cases[i].good, true);
        s_check_flag (cases[i].flag, cases[i].bad, false);
    }
    s_check_flag ("--impolite", NULL, true);
    s_check_flag ("--ignore-robots", NULL, true);
    //  A header value with CR/LF cannot be smuggled through a flag either.
    s_check_flag ("--header", "X-A: 1\r\nX-B: 2", false);
    s_check_flag ("--extract", "a b=h1", false);
}

static void
test_flags_without_spec (void **state)
{
    (void)state;
    zc_cli_crawl_t crawl;
    const char *args[] = {"zcrawl",
                          "--impolite",
                          "--ignore-robots",
                          "--crawl-delay-cap",
                          "2.5",
                          "--max-attempts",
                          "5",
                          "--retry-base",
                          "50",
                          "--allow-host",
                          "a.test:8080",
                          "--allow-host",
                          "b.test",
                          "--allow-domain",
                          "example.org",
                          "--include",
                          "/docs/",
                          "--exclude",
                          "\\.pdf$",
                          "--exclude",
                          "/login",
                          "--max-pages-per-host",
                          "7",
                          "--max-url-length",
                          "500",
                          "--max-path-segments",
                          "9",
                          "--max-segment-repeats",
                          "2",
                          "--header",
                          "X-A: 1",
                          "--resolve",
                          "a.test:8080:127.0.0.1",
                          "--extract",
                          "title=h1",
                          "--extract",
                          "lead=p.lead",
                          "--host-delay",
                          "50",
                          "http://a.test:8080/",
                          "http://b.test/",
                          NULL};
    assert_int_equal (s_parse (&crawl, args), 0);
    assert_int_equal (crawl.seed_count, 2);
    assert_string_equal (crawl.seeds[0], "http://a.test:8080/");
    assert_string_equal (crawl.seeds[1], "http://b.test/");
    const zc_crawl_opts_t *o = &crawl.opts;
    assert_true (o->impolite);
    assert_true (o->ignore_robots);
    assert_int_equal (o->crawl_delay_cap_ms, 2500);
    assert_int_equal (o->max_attempts, 5);
    assert_int_equal (o->retry_base_ms, 50);
    assert_int_equal (o->host_delay_ms, 50);
    assert_int_equal (o->allowed_host_count, 2);
    assert_string_equal (o->allowed_hosts[0], "a.test:8080");
    assert_string_equal (o->allowed_hosts[1], "b.test");
    assert_int_equal (o->allowed_domain_count, 1);
    assert_string_equal (o->allowed_domains[0], "example.org");
    assert_int_equal (o->include_count, 1);
    assert_string_equal (o->include[0], "/docs/");
    assert_int_equal (o->exclude_count, 2);
    assert_string_equal (o->exclude[1], "/login");
    assert_int_equal (o->max_pages_per_host, 7);
    assert_int_equal (o->max_url_bytes, 500);
    assert_int_equal (o->max_path_segments, 9);
    assert_int_equal (o->max_segment_repeats, 2);
    assert_int_equal (o->fetch.header_count, 1);
    assert_string_equal (o->fetch.headers[0], "X-A: 1");
    assert_int_equal (o->fetch.resolve_count, 1);
    assert_string_equal (o->fetch.resolve[0], "a.test:8080:127.0.0.1");
    assert_int_equal (o->rule_count, 2);
    assert_string_equal (o->rules[0].name, "title");
    assert_string_equal (o->rules[0].selector, "h1");
    assert_false (o->rules[0].xpath);
    assert_int_equal (o->rules[0].take, ZC_TAKE_TEXT);
    assert_false (o->rules[0].all);
    assert_string_equal (o->rules[0].attr, "");
    assert_string_equal (o->rules[0].regex, "");
    assert_string_equal (o->rules[1].name, "lead");
    assert_string_equal (o->rules[1].selector, "p.lead");
    //  Untouched options stay "broker default".
    assert_int_equal (o->max_depth, -1);
    assert_int_equal (o->host_concurrency, 0);
    assert_string_equal (o->fetch.user_agent, "");
    assert_string_equal (crawl.output, "");
    zc_cli_crawl_fini (&crawl);

    //  Nothing at all: an empty crawl with no seeds (the programs refuse it).
    const char *nothing[] = {"zcrawl", NULL};
    assert_int_equal (s_parse (&crawl, nothing), 0);
    assert_int_equal (crawl.seed_count, 0);
    assert_int_equal (crawl.opts.rule_count, 0);
    assert_int_equal (crawl.opts.fetch.header_count, 0);
    zc_cli_crawl_fini (&crawl);

    //  Twice the same --extract field is refused.
    const char *twice[] = {"zcrawl", "--extract", "t=h1", "--extract", "t=h2", "http://a/", NULL};
    assert_int_equal (s_parse (&crawl, twice), ZC_CLI_EXIT_USAGE);
    zc_cli_crawl_fini (&crawl);
}

static void
test_spec_and_overrides (void **state)
{
    (void)state;
    zc_cli_crawl_t crawl;
    const char *args[] = {"zcrawlctl",      FULL_SPEC,   "--max-depth",  "2",
                          "--host-delay",   "50",        "--impolite",   "--ignore-robots",
                          "--max-attempts", "9",         "--timeout",    "1.5",
                          "--user-agent",   "flagbot/2", "--header",     "x-crawl: no",
                          "--header",       "X-New: 1",  "--extract",    "title=h2",
                          "--extract",      "extra=p",   "--allow-host", "c.test",
                          "--exclude",      "/logout",   "--errors",     "e.jsonl",
                          "http://c.test/", NULL};
    assert_int_equal (s_parse (&crawl, args), 0);
    //  Seeds: the spec's then the command line's.
    assert_int_equal (crawl.seed_count, 3);
    assert_string_equal (crawl.seeds[0], "https://example.org/");
    assert_string_equal (crawl.seeds[1], "https://blog.example.org/start");
    assert_string_equal (crawl.seeds[2], "http://c.test/");
    //  Output: spec's items (no -o), flag's errors.
    assert_string_equal (crawl.output, "out/items.jsonl");
    assert_string_equal (crawl.errors, "e.jsonl");
    const zc_crawl_opts_t *o = &crawl.opts;
    //  Flags override scalars...
    assert_int_equal (o->max_depth, 2);
    assert_int_equal (o->host_delay_ms, 50);
    assert_true (o->impolite);
    assert_true (o->ignore_robots);
    assert_int_equal (o->max_attempts, 9);
    assert_int_equal (o->fetch.timeout_ms, 1500);
    assert_string_equal (o->fetch.user_agent, "flagbot/2");
    //  ...and the spec's other values stay.
    assert_int_equal (o->max_pages, 10000);
    assert_int_equal (o->host_concurrency, 4);
    assert_int_equal (o->crawl_delay_cap_ms, 10000);
    assert_int_equal (o->retry_base_ms, 500);
    assert_int_equal (o->fetch.connect_timeout_ms, 5000);
    assert_int_equal (o->fetch.max_body_bytes, 5 * 1024 * 1024);
    assert_true (o->fetch.allow_private);
    assert_int_equal (o->max_url_bytes, 1024);
    //  Lists add up.
    assert_int_equal (o->allowed_host_count, 3);
    assert_string_equal (o->allowed_hosts[2], "c.test");
    assert_int_equal (o->exclude_count, 3);
    assert_string_equal (o->exclude[2], "/logout");
    assert_int_equal (o->include_count, 1);
    assert_int_equal (o->fetch.resolve_count, 2);
    //  A header flag replaces the spec's header of the same name (any case).
    assert_int_equal (o->fetch.header_count, 4);
    assert_string_equal (o->fetch.headers[0], "Accept-Language: en");
    assert_string_equal (o->fetch.headers[1], "Cookie: session=abc123; consent=1");
    assert_string_equal (o->fetch.headers[2], "x-crawl: no");
    assert_string_equal (o->fetch.headers[3], "X-New: 1");
    //  An --extract flag replaces the spec's rule of the same name.
    assert_int_equal (o->rule_count, 6);
    assert_string_equal (o->rules[0].name, "price");
    assert_string_equal (o->rules[3].name, "body");
    assert_string_equal (o->rules[4].name, "title");
    assert_string_equal (o->rules[4].selector, "h2");
    assert_string_equal (o->rules[5].name, "extra");
    zc_cli_crawl_fini (&crawl);

    //  --spec works the same; -o overrides the spec's items path.
    const char *with_option[] = {"zcrawl", "--spec", FULL_SPEC, "-o", "mine.jsonl", NULL};
    assert_int_equal (s_parse (&crawl, with_option), 0);
    assert_int_equal (crawl.seed_count, 2);
    assert_string_equal (crawl.output, "mine.jsonl");
    assert_string_equal (crawl.errors, "out/errors.jsonl");
    assert_int_equal (crawl.opts.max_depth, 5);
    assert_false (crawl.opts.impolite);
    assert_int_equal (crawl.opts.host_delay_ms, 1500);
    zc_cli_crawl_fini (&crawl);
}

static void
test_spec_errors (void **state)
{
    (void)state;
    zc_cli_crawl_t crawl;
    //  At most one spec, whether positional or --spec.
    const char *two[] = {"zcrawl", FULL_SPEC, "other.yml", NULL};
    assert_int_equal (s_parse (&crawl, two), ZC_CLI_EXIT_USAGE);
    zc_cli_crawl_fini (&crawl);
    const char *two_ways[] = {"zcrawl", "--spec", FULL_SPEC, "b.yaml", NULL};
    assert_int_equal (s_parse (&crawl, two_ways), ZC_CLI_EXIT_USAGE);
    zc_cli_crawl_fini (&crawl);
    //  A spec that does not load is a usage error.
    const char *missing[] = {"zcrawl", "/nonexistent/spec.yaml", NULL};
    assert_int_equal (s_parse (&crawl, missing), ZC_CLI_EXIT_USAGE);
    zc_cli_crawl_fini (&crawl);

    char path[] = "/tmp/test_zc_cli_XXXXXX.yaml";
    int fd = mkstemps (path, 5);
    assert_true (fd >= 0);
    const char *bad = "seeds: [http://a.test/]\nscope:\n  max_depth: ten\n";
    assert_int_equal (write (fd, bad, strlen (bad)), (ssize_t)strlen (bad));
    close (fd);
    const char *bad_spec[] = {"zcrawl", path, "--max-depth", "3", NULL};
    assert_int_equal (s_parse (&crawl, bad_spec), ZC_CLI_EXIT_USAGE);
    zc_cli_crawl_fini (&crawl);
    unlink (path);

    //  A bad seed on the command line.
    const char *bad_seed[] = {"zcrawl", "ftp://a.test/", NULL};
    assert_int_equal (s_parse (&crawl, bad_seed), ZC_CLI_EXIT_USAGE);
    zc_cli_crawl_fini (&crawl);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_flags_good_and_bad),
        cmocka_unit_test (test_flags_without_spec),
        cmocka_unit_test (test_spec_and_overrides),
        cmocka_unit_test (test_spec_errors),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
