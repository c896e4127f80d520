/*  Tests for zc_robots: one test per RFC 9309 rule, the RFC's own examples
    (section 5), the choices documented in zc_robots.c, hostile input and
    the product-token helper.
*/
#include "zc_robots.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

//  Parses TEXT for "zcrawl" and returns whether PATH is allowed.
static bool
s_allowed (const char *text, const char *path)
{
    zc_robots_matcher_t *robots = zc_robots_parse (text, strlen (text), "zcrawl");
    assert_non_null (robots);
    bool allowed = zc_robots_allowed (robots, path);
    zc_robots_destroy (&robots);
    assert_null (robots);
    return allowed;
}

static bool
s_allowed_for (const char *text, const char *token, const char *path)
{
    zc_robots_matcher_t *robots = zc_robots_parse (text, strlen (text), token);
    bool allowed = zc_robots_allowed (robots, path);
    zc_robots_destroy (&robots);
    return allowed;
}

//  RFC 9309 5.1
static const char *s_rfc_simple = "User-Agent: *\n"
                                  "Disallow: *.gif$\n"
                                  "Disallow: /example/\n"
                                  "Allow: /publications/\n"
                                  "\n"
                                  "User-Agent: foobot\n"
                                  "Disallow:/\n"
                                  "Allow:/example/page.html\n"
                                  "Allow:/example/allowed.gif\n"
                                  "\n"
                                  "User-Agent: barbot\n"
                                  "User-Agent: bazbot\n"
                                  "Disallow: /example/page.html\n"
                                  "\n"
                                  "User-Agent: quxbot\n"
                                  "\n"
                                  "EOF\n";

static void
test_rfc_example_simple (void **state)
{
    (void)state;
    const char *t = s_rfc_simple;
    //  foobot: only the two allowed paths
    assert_true (s_allowed_for (t, "foobot", "/example/page.html"));
    assert_true (s_allowed_for (t, "foobot", "/example/allowed.gif"));
    assert_false (s_allowed_for (t, "foobot", "/example/other.html"));
    assert_false (s_allowed_for (t, "foobot", "/"));
    assert_false (s_allowed_for (t, "foobot", "/publications/"));
    //  barbot and bazbot share a group
    assert_false (s_allowed_for (t, "barbot", "/example/page.html"));
    assert_false (s_allowed_for (t, "bazbot", "/example/page.html"));
    assert_true (s_allowed_for (t, "barbot", "/example/other.gif"));
    assert_true (s_allowed_for (t, "bazbot", "/"));
    //  quxbot: a matching group without rules allows all (no '*' fallback)
    assert_true (s_allowed_for (t, "quxbot", "/example/"));
    assert_true (s_allowed_for (t, "quxbot", "/a.gif"));
    //  others: the '*' group
    assert_false (s_allowed_for (t, "otherbot", "/a/b.gif"));
    assert_true (s_allowed_for (t, "otherbot", "/a/b.gif?x"));
    assert_false (s_allowed_for (t, "otherbot", "/example/x"));
    assert_true (s_allowed_for (t, "otherbot", "/publications/x"));
    assert_true (s_allowed_for (t, "otherbot", "/other"));
}

//  RFC 9309 5.2
static void
test_rfc_example_longest_match (void **state)
{
    (void)state;
    const char *t = "User-Agent: foobot\n"
                    "Allow: /example/page/\n"
                    "Disallow: /example/page/disallowed.gif\n";
    assert_true (s_allowed_for (t, "foobot", "/example/page/"));
    assert_true (s_allowed_for (t, "foobot", "/example/page/x.gif"));
    assert_false (s_allowed_for (t, "foobot", "/example/page/disallowed.gif"));
}

//  2.2.1: product token matched case-insensitively, by the leading token of
//  the user-agent value, whole
static void
test_user_agent_case_insensitive_token (void **state)
{
    (void)state;
    assert_false (s_allowed ("User-agent: ZCrawl\nDisallow: /\n", "/x"));
    assert_false (s_allowed ("USER-AGENT: zcrawl/1.0 (+http://x)\nDisallow: /\n", "/x"));
    assert_false (s_allowed_for ("user-agent: zcrawl\ndisallow: /\n", "ZCRAWL", "/x"));
    //  a longer or shorter token is another crawler
    assert_true (s_allowed ("User-agent: zcrawlbot\nDisallow: /\n", "/x"));
    assert_true (s_allowed ("User-agent: zcraw\nDisallow: /\n", "/x"));
    //  a value without a token never matches
    assert_true (s_allowed ("User-agent: /zcrawl\nDisallow: /\n", "/x"));
}

//  2.2.1: several groups for us are merged
static void
test_groups_merged (void **state)
{
    (void)state;
    const char *t = "User-agent: zcrawl\nDisallow: /a\n"
                    "User-agent: other\nDisallow: /b\n"
                    "User-agent: zcrawl\nDisallow: /c\n";
    assert_false (s_allowed (t, "/a"));
    assert_true (s_allowed (t, "/b"));
    assert_false (s_allowed (t, "/c"));
    assert_true (s_allowed (t, "/d"));
}

//  2.2.1: consecutive user-agent lines form one group (empty lines between
//  them too); a rule ends the run
static void
test_consecutive_user_agents (void **state)
{
    (void)state;
    const char *t = "User-agent: a\n\nUser-agent: zcrawl\n# c\nUser-agent: b\nDisallow: /x\n"
                    "User-agent: c\nDisallow: /y\n";
    assert_false (s_allowed (t, "/x"));
    assert_true (s_allowed (t, "/y"));
    assert_false (s_allowed_for (t, "a", "/x"));
    assert_false (s_allowed_for (t, "b", "/x"));
    assert_true (s_allowed_for (t, "c", "/x"));
    assert_false (s_allowed_for (t, "c", "/y"));
}

//  2.2.1: '*' groups (merged) only when no group names us
static void
test_star_fallback (void **state)
{
    (void)state;
    const char *t = "User-agent: *\nDisallow: /a\nUser-agent: x\nDisallow: /\n"
                    "User-agent: *\nDisallow: /b\n";
    assert_false (s_allowed (t, "/a"));
    assert_false (s_allowed (t, "/b"));
    assert_true (s_allowed (t, "/c"));
    //  a specific group replaces '*' entirely
    const char *u = "User-agent: *\nDisallow: /\nUser-agent: zcrawl\nDisallow: /private\n";
    assert_true (s_allowed (u, "/public"));
    assert_false (s_allowed (u, "/private/x"));
    //  a group naming both us and '*' is ours
    const char *v = "User-agent: *\nUser-agent: zcrawl\nDisallow: /both\n";
    assert_false (s_allowed (v, "/both"));
    assert_false (s_allowed_for (v, "other", "/both"));
    //  "*" followed by a comment or spaces is still '*'
    assert_false (s_allowed ("User-agent: * # all\nDisallow: /\n", "/x"));
}

//  2.2.1: no matching group and no '*' group: no rules apply
static void
test_no_group_allows_all (void **state)
{
    (void)state;
    assert_true (s_allowed ("User-agent: other\nDisallow: /\n", "/x"));
    assert_true (s_allowed ("", "/x"));
    //  rules before any user-agent line belong to no group
    assert_true (s_allowed ("Disallow: /\n", "/x"));
}

//  2.2.2: longest match wins, Allow wins ties
static void
test_longest_match_allow_ties (void **state)
{
    (void)state;
    const char *t = "User-agent: zcrawl\nDisallow: /a\nAllow: /a/b\nDisallow: /a/b/c\n";
    assert_false (s_allowed (t, "/a"));
    assert_true (s_allowed (t, "/a/b"));
    assert_false (s_allowed (t, "/a/b/c/d"));
    //  equal length: Allow wins, in either order
    assert_true (s_allowed ("User-agent: zcrawl\nDisallow: /x\nAllow: /x\n", "/x/1"));
    assert_true (s_allowed ("User-agent: zcrawl\nAllow: /x\nDisallow: /x\n", "/x/1"));
    assert_true (s_allowed ("User-agent: zcrawl\nAllow: /p*\nDisallow: /pa\n", "/pa"));
    //  the pattern's length counts wildcards: "/*x" (3) beats "/a" (2)
    assert_true (s_allowed ("User-agent: zcrawl\nDisallow: /a\nAllow: /*x\n", "/ax"));
    //  no rule matches: allowed
    assert_true (s_allowed ("User-agent: zcrawl\nDisallow: /a\n", "/b"));
    //  matching is case-sensitive
    assert_true (s_allowed ("User-agent: zcrawl\nDisallow: /A\n", "/a"));
}

//  2.2.3: '*' matches any run, '$' anchors the end
static void
test_wildcards (void **state)
{
    (void)state;
    const char *t = "User-agent: zcrawl\nDisallow: /*.php$\nDisallow: /f*/b*z\n"
                    "Disallow: /exact$\nDisallow: /a$b\n";
    assert_false (s_allowed (t, "/index.php"));
    assert_false (s_allowed (t, "/x/y.php"));
    assert_true (s_allowed (t, "/index.php?x=1"));
    assert_true (s_allowed (t, "/index.phps"));
    assert_false (s_allowed (t, "/foo/bar/baz"));
    assert_false (s_allowed (t, "/f/bz/tail"));
    assert_true (s_allowed (t, "/foo/bar"));
    assert_false (s_allowed (t, "/exact"));
    assert_true (s_allowed (t, "/exact/"));
    assert_true (s_allowed (t, "/exactly"));
    //  '$' not at the end is a literal
    assert_false (s_allowed (t, "/a$b"));
    assert_true (s_allowed (t, "/ab"));
    //  '*' alone and "/$"
    assert_false (s_allowed ("User-agent: zcrawl\nDisallow: *\n", "/anything"));
    const char *root = "User-agent: zcrawl\nDisallow: /\nAllow: /$\n";
    assert_true (s_allowed (root, "/"));
    assert_true (s_allowed (root, ""));
    assert_false (s_allowed (root, "/page"));
    //  repeated stars and backtracking
    assert_false (s_allowed ("User-agent: zcrawl\nDisallow: /**a*a*a$\n", "/xaxaxa"));
    assert_true (s_allowed ("User-agent: zcrawl\nDisallow: /*a*a*a$\n", "/xaxaxab"));
}

//  2.2.2: percent-encoding equivalence
static void
test_percent_encoding (void **state)
{
    (void)state;
    //  encoded unreserved == plain, both ways
    assert_false (s_allowed ("User-agent: zcrawl\nDisallow: /foo/bar/%62%61%7A\n", "/foo/bar/baz"));
    assert_false (s_allowed ("User-agent: zcrawl\nDisallow: /foo/bar/baz\n", "/foo/bar/%62az"));
    //  hex case does not matter
    assert_false (s_allowed ("User-agent: zcrawl\nDisallow: /a%3cb\n", "/a%3Cb"));
    //  UTF-8 in the file == its percent-encoding in the URL (RFC table)
    assert_false (
        s_allowed ("User-agent: zcrawl\nDisallow: /foo/bar/\xE3\x83\x84\n", "/foo/bar/%E3%83%84"));
    assert_false (
        s_allowed ("User-agent: zcrawl\nDisallow: /foo/bar/%E3%83%84\n", "/foo/bar/\xE3\x83\x84"));
    //  %2F stays distinct from '/'
    assert_true (s_allowed ("User-agent: zcrawl\nDisallow: /a/b\n", "/a%2Fb"));
    assert_true (s_allowed ("User-agent: zcrawl\nDisallow: /a%2Fb\n", "/a/b"));
    assert_false (s_allowed ("User-agent: zcrawl\nDisallow: /a%2fb\n", "/a%2Fb"));
    //  %2A is a literal '*', not a wildcard
    assert_true (s_allowed ("User-agent: zcrawl\nDisallow: /%2A.x\n", "/a.x"));
    //  query strings take part
    assert_false (s_allowed ("User-agent: zcrawl\nDisallow: /s?q=%61\n", "/s?q=abc"));
}

//  2.2 and 2.2.3: comments, whitespace, key case, BOM, line endings
static void
test_syntax (void **state)
{
    (void)state;
    assert_false (
        s_allowed ("# head\n  uSeR-aGeNt  :  zcrawl # me\n DISALLOW\t:\t/x # no\n", "/x/1"));
    assert_false (s_allowed ("User-agent: zcrawl\nDisallow: /x#y\n", "/xz"));
    assert_true (s_allowed ("User-agent: zcrawl\nDisallow: /x#y\n", "/y"));
    assert_false (s_allowed ("User-agent: zcrawl\nDisallow: /x#y\n", "/x"));
    //  BOM
    assert_false (s_allowed ("\xEF\xBB\xBFUser-agent: zcrawl\nDisallow: /x\n", "/x"));
    //  CR, LF, CRLF and mixtures
    assert_false (s_allowed ("User-agent: zcrawl\rDisallow: /x\r", "/x"));
    assert_false (s_allowed ("User-agent: zcrawl\r\nDisallow: /x\r\n", "/x"));
    assert_false (s_allowed ("User-agent: zcrawl\r\n\rDisallow: /y\n\r\nDisallow: /x", "/x"));
    assert_false (s_allowed ("User-agent: zcrawl\r\n\rDisallow: /y\n\r\nDisallow: /x", "/y"));
}

//  Lines without a colon are not records (the RFC grammar requires it)
static void
test_line_without_colon_ignored (void **state)
{
    (void)state;
    assert_true (s_allowed ("User-agent: zcrawl\nDisallow /x\n", "/x"));
    assert_true (s_allowed ("User-agent zcrawl\nDisallow: /x\n", "/x"));
    //  ... and do not break a group
    assert_false (s_allowed ("User-agent: zcrawl\ngarbage line\nDisallow: /x\n", "/x"));
    //  unknown keys are ignored too
    assert_false (s_allowed ("User-agent: zcrawl\nNoindex: /y\nDisallow: /x\n", "/x"));
}

//  Empty Disallow is no rule; patterns must start with '/' or '*'
static void
test_empty_and_invalid_rules (void **state)
{
    (void)state;
    assert_true (s_allowed ("User-agent: zcrawl\nDisallow:\n", "/x"));
    assert_true (s_allowed ("User-agent: zcrawl\nDisallow: \n", "/"));
    //  the empty Disallow still belongs to our group: '*' is not used
    assert_true (s_allowed ("User-agent: *\nDisallow: /\nUser-agent: zcrawl\nDisallow:\n", "/x"));
    assert_true (s_allowed ("User-agent: zcrawl\nDisallow: x\n", "/x"));
    zc_robots_matcher_t *r =
        zc_robots_parse ("User-agent: zcrawl\nDisallow:\nAllow: y\n",
                         strlen ("User-agent: zcrawl\nDisallow:\nAllow: y\n"), "zcrawl");
    size_t count = 99;
    zc_robots_rules (r, &count);
    assert_int_equal (count, 0);
    zc_robots_destroy (&r);
}

//  /robots.txt is always allowed
static void
test_robots_txt_allowed (void **state)
{
    (void)state;
    const char *t = "User-agent: *\nDisallow: /\n";
    assert_true (s_allowed (t, "/robots.txt"));
    assert_false (s_allowed (t, "/robots.txt.bak"));
    zc_robots_matcher_t *none = zc_robots_disallow_all ();
    assert_true (zc_robots_allowed (none, "/robots.txt"));
    assert_true (zc_robots_allowed_url (none, "http://h:8/robots.txt"));
    assert_false (zc_robots_allowed (none, "/"));
    zc_robots_destroy (&none);
}

//  Crawl-delay: decimal seconds, of the selected group
static void
test_crawl_delay (void **state)
{
    (void)state;
    struct {
        const char *text;
        int64_t ms;
    } cases[] = {
        {"User-agent: zcrawl\nCrawl-delay: 2\n", 2000},
        {"User-agent: zcrawl\nCrawl-delay: 0.5\n", 500},
        {"User-agent: zcrawl\nCrawl-delay: .25\n", 250},
        {"User-agent: zcrawl\nCrawl-delay: 1.2345\n", 1234},
        {"User-agent: zcrawl\ncrawl-DELAY: 3 # slow\n", 3000},
        {"User-agent: zcrawl\nCrawl-delay: -1\n", -1},
        {"User-agent: zcrawl\nCrawl-delay: abc\n", -1},
        {"User-agent: zcrawl\nCrawl-delay: 1e3\n", -1},
        {"User-agent: zcrawl\nCrawl-delay:\n", -1},
        {"User-agent: zcrawl\nCrawl-delay: .\n", -1},
        {"User-agent: zcrawl\nCrawl-delay: 99999999999999999999\n", 86400000},
        {"User-agent: zcrawl\nDisallow: /\n", -1},
        {"User-agent: other\nCrawl-delay: 5\n", -1},
        {"User-agent: *\nCrawl-delay: 5\n", 5000},
        {"User-agent: *\nCrawl-delay: 5\nUser-agent: zcrawl\nCrawl-delay: 1\n", 1000},
        {"User-agent: zcrawl\nCrawl-delay: 1\nUser-agent: zcrawl\nCrawl-delay: 4\n", 4000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zc_robots_matcher_t *r = zc_robots_parse (cases[i].text, strlen (cases[i].text), "zcrawl");
        if (zc_robots_crawl_delay_ms (r) != cases[i].ms)
            fail_msg ("case %zu: %lld", i, (long long)zc_robots_crawl_delay_ms (r));
        zc_robots_destroy (&r);
    }
    zc_robots_matcher_t *all = zc_robots_allow_all ();
    assert_int_equal (zc_robots_crawl_delay_ms (all), -1);
    zc_robots_destroy (&all);
}

//  Sitemap records are group-independent
static void
test_sitemaps (void **state)
{
    (void)state;
    const char *t = "Sitemap: http://a/s1.xml\nUser-agent: other\nSitemap: http://a/s2.xml\n"
                    "Disallow: /\nsitemap:http://a/s3.xml\nSitemap:\n";
    zc_robots_matcher_t *r = zc_robots_parse (t, strlen (t), "zcrawl");
    size_t count = 0;
    const char *const *maps = zc_robots_sitemaps (r, &count);
    assert_int_equal (count, 3);
    assert_string_equal (maps[0], "http://a/s1.xml");
    assert_string_equal (maps[1], "http://a/s2.xml");
    assert_string_equal (maps[2], "http://a/s3.xml");
    //  a Sitemap line does not break a user-agent run
    zc_robots_destroy (&r);
    assert_false (
        s_allowed ("User-agent: a\nSitemap: http://x\nUser-agent: zcrawl\nDisallow: /\n", "/x"));
    assert_false (s_allowed_for (
        "User-agent: a\nSitemap: http://x\nUser-agent: zcrawl\nDisallow: /\n", "a", "/x"));
}

//  2.5: only the first 500 KiB are parsed
static void
test_parse_limit (void **state)
{
    (void)state;
    size_t size = 600 * 1024;
    char *text = malloc (size + 64);
    assert_non_null (text);
    size_t n = (size_t)snprintf (text, 64, "User-agent: zcrawl\nDisallow: /a\n");
    for (; n < size; n++)
        text[n] = n % 64 == 0 ? '\n' : '#';
    n += (size_t)snprintf (text + n, 64, "\nDisallow: /b\n");
    zc_robots_matcher_t *r = zc_robots_parse (text, n, "zcrawl");
    assert_false (zc_robots_allowed (r, "/a"));
    assert_true (zc_robots_allowed (r, "/b"));
    zc_robots_destroy (&r);
    //  a rule that straddles the limit is cut: "/bc" becomes "/b" or less
    memset (text, '\n', size);
    const char *head = "User-agent: zcrawl\n";
    memcpy (text, head, strlen (head));
    memcpy (text + ZC_ROBOTS_MAX_BYTES - 12, "Disallow: /bc", 13);
    r = zc_robots_parse (text, size, "zcrawl");
    assert_false (zc_robots_allowed (r, "/bz"));
    zc_robots_destroy (&r);
    free (text);
}

//  Hostile input: random bytes, huge lines, NUL bytes
static void
test_hostile_input (void **state)
{
    (void)state;
    size_t size = 600 * 1024;
    unsigned char *buf = malloc (size);
    assert_non_null (buf);
    uint32_t x = 12345;
    for (int round = 0; round < 8; round++) {
        for (size_t i = 0; i < size; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (unsigned char)(x >> 16);
            //  sprinkle syntax so the parser gets past the first line
            if (round % 2 && (x & 0x3F) == 0)
                buf[i] = (unsigned char)"\n:*$%/"[(x >> 8) % 6];
        }
        zc_robots_matcher_t *r = zc_robots_parse ((const char *)buf, size, "zcrawl");
        assert_non_null (r);
        (void)zc_robots_allowed (r, "/some/path?q=%41");
        (void)zc_robots_allowed_url (r, "http://h/x");
        zc_robots_destroy (&r);
    }
    //  one huge line with a huge pattern, matched against a huge path
    const char *head = "User-agent: *\nDisallow: /";
    memcpy (buf, head, strlen (head));
    for (size_t i = strlen (head); i < size - 1; i++)
        buf[i] = (i % 7) ? 'a' : '*';
    buf[size - 1] = '\0';
    zc_robots_matcher_t *r = zc_robots_parse ((const char *)buf, size - 1, "zcrawl");
    char *path = malloc (20001);
    assert_non_null (path);
    path[0] = '/';
    memset (path + 1, 'a', 19999);
    path[20000] = '\0';
    assert_true (zc_robots_allowed (r, path)); //  the pattern is longer than the path
    zc_robots_destroy (&r);
    //  a long pattern with many stars that fails only at the end
    const char *stars = "User-agent: *\nDisallow: /*a*a*a*a*a*a*b\n";
    r = zc_robots_parse (stars, strlen (stars), "zcrawl");
    assert_true (zc_robots_allowed (r, path));
    path[19999] = 'b';
    assert_false (zc_robots_allowed (r, path));
    zc_robots_destroy (&r);
    free (path);
    free (buf);
    //  NUL bytes inside the file, NULL body, NULL token
    const char nul[] = "User-agent: zcrawl\n\0\nDisallow: /x\0y\n";
    r = zc_robots_parse (nul, sizeof nul - 1, "zcrawl");
    assert_true (zc_robots_allowed (r, "/x")); //  the NUL is part of the pattern
    assert_false (zc_robots_allowed (r, "/x%00y"));
    zc_robots_destroy (&r);
    r = zc_robots_parse (NULL, 10, "zcrawl");
    assert_true (zc_robots_allowed (r, "/"));
    zc_robots_destroy (&r);
    r = zc_robots_parse ("User-agent: *\nDisallow: /\n", 26, NULL);
    assert_false (zc_robots_allowed (r, "/"));
    zc_robots_destroy (&r);
    zc_robots_destroy (&r);
    zc_robots_destroy (NULL);
}

static void
test_allowed_url (void **state)
{
    (void)state;
    const char *t = "User-agent: zcrawl\nDisallow: /p?q\nDisallow: /$\n";
    zc_robots_matcher_t *r = zc_robots_parse (t, strlen (t), "zcrawl");
    assert_false (zc_robots_allowed_url (r, "http://h.example:8080/p?q=1"));
    assert_true (zc_robots_allowed_url (r, "http://h.example:8080/p?r=1"));
    assert_true (zc_robots_allowed_url (r, "http://h.example/p#?q"));
    assert_false (zc_robots_allowed_url (r, "https://h.example/"));
    assert_false (zc_robots_allowed_url (r, "https://h.example"));
    assert_true (zc_robots_allowed_url (r, "https://h.example?q")); //  "/?q"
    assert_true (zc_robots_allowed_url (r, "https://h.example/x"));
    //  a long URL with a fragment (copied off the stack)
    char *url = malloc (10000);
    assert_non_null (url);
    strcpy (url, "http://h/p?q");
    memset (url + 12, 'z', 9000);
    strcpy (url + 9012, "#frag");
    assert_false (zc_robots_allowed_url (r, url));
    free (url);
    zc_robots_destroy (&r);
}

//  from_rules reproduces the selected rules (as jobs carry them)
static void
test_rules_round_trip (void **state)
{
    (void)state;
    const char *t = "User-agent: zcrawl\nDisallow: /a%7e\nAllow: /a~/b\nDisallow: /*.gif$\n";
    zc_robots_matcher_t *r = zc_robots_parse (t, strlen (t), "zcrawl");
    size_t count = 0;
    const zc_robots_rule_t *rules = zc_robots_rules (r, &count);
    assert_int_equal (count, 3);
    assert_false (rules[0].allow);
    assert_string_equal (rules[0].path, "/a~"); //  normalised
    assert_true (rules[1].allow);
    assert_string_equal (rules[2].path, "/*.gif$");
    zc_robots_matcher_t *copy = zc_robots_from_rules (rules, count);
    const char *paths[] = {"/a~", "/a%7E/b", "/a~/c", "/x.gif", "/x.gif?", "/b"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        assert_int_equal (zc_robots_allowed (r, paths[i]), zc_robots_allowed (copy, paths[i]));
    assert_false (zc_robots_allowed (copy, "/a~/c"));
    assert_true (zc_robots_allowed (copy, "/a~/b"));
    zc_robots_destroy (&copy);
    zc_robots_destroy (&r);
    //  hostile rules from a job: NULL or relative paths are dropped
    zc_robots_rule_t bad[] = {{false, NULL}, {false, "x"}, {false, ""}, {false, "/y"}};
    copy = zc_robots_from_rules (bad, 4);
    zc_robots_rules (copy, &count);
    assert_int_equal (count, 1);
    assert_true (zc_robots_allowed (copy, "/x"));
    assert_false (zc_robots_allowed (copy, "/y"));
    zc_robots_destroy (&copy);
    copy = zc_robots_from_rules (NULL, 3);
    assert_true (zc_robots_allowed (copy, "/"));
    assert_null (zc_robots_rules (copy, &count));
    assert_int_equal (count, 0);
    zc_robots_destroy (&copy);
    //  disallow_all exports one rule
    r = zc_robots_disallow_all ();
    rules = zc_robots_rules (r, &count);
    assert_int_equal (count, 1);
    assert_false (rules[0].allow);
    assert_string_equal (rules[0].path, "/");
    zc_robots_destroy (&r);
}

static void
test_product_token (void **state)
{
    (void)state;
    char buf[16];
    assert_int_equal (
        zc_robots_product_token ("zcrawl/0.1 (+https://example.invalid/c)", buf, sizeof buf), 0);
    assert_string_equal (buf, "zcrawl");
    assert_int_equal (zc_robots_product_token ("My_Bot-X", buf, sizeof buf), 0);
    assert_string_equal (buf, "My_Bot-X");
    assert_int_equal (zc_robots_product_token ("/1.0", buf, sizeof buf), -1);
    assert_int_equal (zc_robots_product_token ("", buf, sizeof buf), -1);
    assert_int_equal (zc_robots_product_token ("9bot", buf, sizeof buf), -1);
    assert_int_equal (zc_robots_product_token ("abcdefghijklmnopq", buf, sizeof buf), -1);
    assert_int_equal (zc_robots_product_token ("abcdefghijklmno", buf, sizeof buf), 0);
    assert_int_equal (zc_robots_product_token ("abc", buf, 3), -1);
    assert_int_equal (zc_robots_product_token (NULL, buf, sizeof buf), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_rfc_example_simple),
        cmocka_unit_test (test_rfc_example_longest_match),
        cmocka_unit_test (test_user_agent_case_insensitive_token),
        cmocka_unit_test (test_groups_merged),
        cmocka_unit_test (test_consecutive_user_agents),
        cmocka_unit_test (test_star_fallback),
        cmocka_unit_test (test_no_group_allows_all),
        cmocka_unit_test (test_longest_match_allow_ties),
        cmocka_unit_test (test_wildcards),
        cmocka_unit_test (test_percent_encoding),
        cmocka_unit_test (test_syntax),
        cmocka_unit_test (test_line_without_colon_ignored),
        cmocka_unit_test (test_empty_and_invalid_rules),
        cmocka_unit_test (test_robots_txt_allowed),
        cmocka_unit_test (test_crawl_delay),
        cmocka_unit_test (test_sitemaps),
        cmocka_unit_test (test_parse_limit),
        cmocka_unit_test (test_hostile_input),
        cmocka_unit_test (test_allowed_url),
        cmocka_unit_test (test_rules_round_trip),
        cmocka_unit_test (test_product_token),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
