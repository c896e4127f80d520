/*  Tests for zc_extract: XPath and CSS rules on fixture pages, text / html
    / attr, first / all, regex capture, bad rules, and the compiled-rule
    cache.
*/
#include "zc_extract.h"
#include "zc_html.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PAGE "http://shop.example/list.html"

static char *
s_read_fixture (const char *name, size_t *size)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/html/%s", ZC_FIXTURES_DIR, name);
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    assert_int_equal (fseek (file, 0, SEEK_END), 0);
    long length = ftell (file);
    assert_true (length > 0);
    rewind (file);
    char *data = malloc ((size_t)length);
    assert_non_null (data);
    assert_int_equal (fread (data, 1, (size_t)length, file), (size_t)length);
    fclose (file);
    *size = (size_t)length;
    return data;
}

static xmlDocPtr
s_doc (const char *html, size_t size, const char *charset)
{
    zc_html_result_t parsed;
    xmlDocPtr doc = NULL;
    assert_int_equal (zc_html_parse_dom (PAGE, html, size, charset, &parsed, &doc, NULL), 0);
    assert_non_null (doc);
    zc_html_result_clear (&parsed);
    return doc;
}

static xmlDocPtr
s_fixture_doc (void)
{
    size_t size;
    char *html = s_read_fixture ("products.html", &size);
    xmlDocPtr doc = s_doc (html, size, NULL);
    free (html);
    return doc;
}

static const zc_extract_field_t *
s_field (const zc_extract_result_t *result, const char *name)
{
    for (size_t i = 0; i < result->field_count; i++)
        if (strcmp (result->fields[i].name, name) == 0)
            return &result->fields[i];
    return NULL;
}

//  Field NAME has exactly the COUNT values in EXPECTED.
static void
s_assert_field (const zc_extract_result_t *result, const char *name, const char *const *expected,
                size_t count)
{
    const zc_extract_field_t *field = s_field (result, name);
    if (!field)
        fprintf (stderr, "    field %s missing\n", name);
    assert_non_null (field);
    for (size_t i = 0; i < field->value_count; i++)
        if (i >= count || strcmp (field->values[i], expected[i]) != 0)
            fprintf (stderr, "    %s[%zu] = '%s'\n", name, i, field->values[i]);
    assert_int_equal (field->value_count, count);
    for (size_t i = 0; i < count; i++)
        assert_string_equal (field->values[i], expected[i]);
}

static void
s_assert_one (const zc_extract_result_t *result, const char *name, const char *value)
{
    s_assert_field (result, name, &value, 1);
}

static void
test_css_and_xpath (void **state)
{
    (void)state;
    xmlDocPtr doc = s_fixture_doc ();
    zc_extract_t *extract = zc_extract_new ();
    zc_extract_rule_t rules[] = {
        {.name = "heading", .selector = "h1#title"},
        {.name = "heading_x", .selector = "//h1[@id='title']", .xpath = true},
        {.name = "names", .selector = "div.product h2 > a", .all = true},
        {.name = "names_x",
         .selector = "//div[contains(concat(' ', normalize-space(@class), ' '), ' product ')]"
                     "//h2/a",
         .xpath = true,
         .all = true},
        {.name = "skus",
         .selector = "[data-sku]",
         .take = ZC_TAKE_ATTR,
         .attr = "DATA-SKU",
         .all = true},
        {.name = "first_link", .selector = "a[href^='/p/']", .take = ZC_TAKE_ATTR, .attr = "href"},
        {.name = "external",
         .selector = "a[href*='other.example']",
         .take = ZC_TAKE_ATTR,
         .attr = "href"},
        {.name = "suffix", .selector = "a[href$=b200]", .take = ZC_TAKE_ATTR, .attr = "href"},
        {.name = "quoted", .selector = "a[title=\"it's A\"]"},
        {.name = "second_tag", .selector = "#tags > li:nth-child(2)"},
        {.name = "headings", .selector = "h1, .price", .all = true},
        {.name = "desc_html", .selector = "p.desc", .take = ZC_TAKE_HTML},
        {.name = "next", .selector = "//a[@rel='next']/@href", .xpath = true},
        {.name = "count", .selector = "count(//div[@data-sku])", .xpath = true},
        {.name = "missing", .selector = "table.none td"},
        {.name = "missing_attr", .selector = "h1", .take = ZC_TAKE_ATTR, .attr = "lang"},
    };
    zc_extract_result_t result;
    assert_int_equal (zc_extract_run (extract, rules, sizeof rules / sizeof rules[0], doc, &result),
                      0);
    assert_null (result.error);
    s_assert_one (&result, "heading", "Our products");
    s_assert_one (&result, "heading_x", "Our products");
    const char *names[] = {"Alpha & co", "Beta"};
    s_assert_field (&result, "names", names, 2);
    s_assert_field (&result, "names_x", names, 2);
    const char *skus[] = {"A-100", "B-200", "C-300"};
    s_assert_field (&result, "skus", skus, 3);
    s_assert_one (&result, "first_link", "/p/a100");
    s_assert_one (&result, "external", "https://other.example/c300");
    s_assert_one (&result, "suffix", "/p/b200");
    s_assert_one (&result, "quoted", "Alpha & co");
    s_assert_one (&result, "second_tag", "green");
    const char *headings[] = {"Our products", "Price: 12.50 EUR", "Price: 7 EUR", "sold out"};
    s_assert_field (&result, "headings", headings, 4);
    s_assert_one (&result, "desc_html", "Light <b>and</b> fast");
    s_assert_one (&result, "next", "/next");
    s_assert_one (&result, "count", "3");
    assert_null (s_field (&result, "missing"));
    assert_null (s_field (&result, "missing_attr"));
    assert_int_equal (result.field_count, 14);
    zc_extract_result_clear (&result);
    assert_null (result.fields);
    zc_extract_destroy (&extract);
    assert_null (extract);
    xmlFreeDoc (doc);
}

static void
test_regex (void **state)
{
    (void)state;
    xmlDocPtr doc = s_fixture_doc ();
    zc_extract_t *extract = zc_extract_new ();
    zc_extract_rule_t rules[] = {
        //  Group 1 replaces the value; "sold out" does not match and is dropped.
        {.name = "prices", .selector = ".price", .all = true, .regex = "([0-9]+(\\.[0-9]+)?) EUR"},
        //  No group: the whole match.
        {.name = "currency", .selector = ".price", .regex = "[A-Z]{3}$"},
        //  First: the first value that survives the regex.
        {.name = "first_b", .selector = "h2 a", .regex = "^B(.*)"},
        {.name = "none", .selector = ".price", .regex = "^nothing"},
    };
    zc_extract_result_t result;
    assert_int_equal (zc_extract_run (extract, rules, sizeof rules / sizeof rules[0], doc, &result),
                      0);
    const char *prices[] = {"12.50", "7"};
    s_assert_field (&result, "prices", prices, 2);
    s_assert_one (&result, "currency", "EUR");
    s_assert_one (&result, "first_b", "eta");
    assert_null (s_field (&result, "none"));
    zc_extract_result_clear (&result);
    zc_extract_destroy (&extract);
    xmlFreeDoc (doc);
}

static void
test_bad_rules (void **state)
{
    (void)state;
    xmlDocPtr doc = s_fixture_doc ();
    zc_extract_t *extract = zc_extract_new ();
    zc_extract_rule_t rules[] = {
        {.name = "bad_css", .selector = "a:hover"},
        {.name = "good", .selector = "h1"},
        {.name = "bad_xpath", .selector = "//a[", .xpath = true},
        {.name = "bad_regex", .selector = "h1", .regex = "(unclosed"},
        {.name = "no_attr", .selector = "a", .take = ZC_TAKE_ATTR, .attr = ""},
        {.name = "bad_eval", .selector = "nosuchfunction(1)", .xpath = true},
        {.name = "good", .selector = "h2"},
        {.name = "", .selector = "h1"},
        {.name = "bad_take", .selector = "h1", .take = (zc_take_t)42},
    };
    zc_extract_result_t result;
    assert_int_equal (zc_extract_run (extract, rules, sizeof rules / sizeof rules[0], doc, &result),
                      -1);
    s_assert_one (&result, "good", "Our products");
    assert_int_equal (result.field_count, 1);
    assert_non_null (result.error);
    const char *needles[] = {
        "rule 'bad_css': CSS selector 'a:hover': unsupported pseudo-class",
        "rule 'bad_xpath': invalid XPath '//a['",
        "rule 'bad_regex': invalid regex '(unclosed'",
        "rule 'no_attr': take attr needs an attribute name",
        "rule 'bad_eval': XPath evaluation failed",
        "rule 'good': duplicate name",
        "rule #8: no name",
        "rule 'bad_take': unknown take 42",
    };
    for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++) {
        if (!strstr (result.error, needles[i]))
            fprintf (stderr, "    error '%s'\n    lacks '%s'\n", result.error, needles[i]);
        assert_non_null (strstr (result.error, needles[i]));
    }
    zc_extract_result_clear (&result);

    //  NULL strings in a rule and a NULL document do not crash.
    zc_extract_rule_t nulls[] = {{.name = "n"}};
    assert_int_equal (zc_extract_run (extract, nulls, 1, doc, &result), -1);
    assert_non_null (strstr (result.error, "rule 'n'"));
    zc_extract_result_clear (&result);
    zc_extract_rule_t ok[] = {{.name = "h", .selector = "h1"}};
    assert_int_equal (zc_extract_run (extract, ok, 1, NULL, &result), 0);
    assert_int_equal (result.field_count, 0);
    zc_extract_result_clear (&result);
    assert_int_equal (zc_extract_run (extract, NULL, 0, doc, &result), 0);
    zc_extract_result_clear (&result);
    zc_extract_destroy (&extract);
    xmlFreeDoc (doc);
}

static void
test_cache (void **state)
{
    (void)state;
    zc_extract_t *extract = zc_extract_new ();
    zc_extract_rule_t rules[] = {{.name = "h", .selector = "h1"},
                                 {.name = "r", .selector = "h1", .regex = "(.)"}};
    const char *pages[] = {"<h1>one</h1>", "<h1>two</h1>", "<h1>three</h1>"};
    const char *expected[] = {"one", "two", "three"};
    for (int i = 0; i < 3; i++) {
        xmlDocPtr doc = s_doc (pages[i], strlen (pages[i]), NULL);
        //  A fresh copy of the rules for every page, as they come off the wire.
        zc_extract_rule_t copy[2];
        memcpy (copy, rules, sizeof copy);
        char selector[8];
        strcpy (selector, "h1");
        copy[0].selector = selector;
        zc_extract_result_t result;
        assert_int_equal (zc_extract_run (extract, copy, 2, doc, &result), 0);
        s_assert_one (&result, "h", expected[i]);
        zc_extract_result_clear (&result);
        xmlFreeDoc (doc);
    }
    assert_int_equal (zc_extract_compiles (extract), 1);
    //  Another rule set compiles once; switching back costs nothing.
    xmlDocPtr doc = s_doc (pages[0], strlen (pages[0]), NULL);
    zc_extract_rule_t other[] = {{.name = "h", .selector = "h1", .take = ZC_TAKE_HTML}};
    zc_extract_result_t result;
    for (int i = 0; i < 2; i++) {
        assert_int_equal (zc_extract_run (extract, other, 1, doc, &result), 0);
        zc_extract_result_clear (&result);
        assert_int_equal (zc_extract_run (extract, rules, 2, doc, &result), 0);
        zc_extract_result_clear (&result);
    }
    assert_int_equal (zc_extract_compiles (extract), 2);
    //  Many distinct sets: the cache stays bounded and keeps working.
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf (name, sizeof name, "f%d", i);
        zc_extract_rule_t one[] = {{.name = name, .selector = "h1"}};
        assert_int_equal (zc_extract_run (extract, one, 1, doc, &result), 0);
        s_assert_one (&result, name, "one");
        zc_extract_result_clear (&result);
    }
    assert_int_equal (zc_extract_compiles (extract), 42);
    xmlFreeDoc (doc);
    zc_extract_destroy (&extract);
}

static void
test_encoding (void **state)
{
    (void)state;
    zc_extract_t *extract = zc_extract_new ();
    //  A windows-1252 page (declared by <meta>): values come out as UTF-8,
    //  inner HTML keeps characters rather than entities.
    const char *html = "<html><head><meta charset='windows-1252'></head><body>"
                       "<p class=q>\x93quoted\x94 caf\xe9</p><div id=d><i>\xe9</i> &amp; x</div>"
                       "</body></html>";
    xmlDocPtr doc = s_doc (html, strlen (html), NULL);
    zc_extract_rule_t rules[] = {
        {.name = "q", .selector = "p.q"},
        {.name = "d", .selector = "#d", .take = ZC_TAKE_HTML},
        {.name = "byte", .selector = "p.q", .regex = "caf(.)"},
    };
    zc_extract_result_t result;
    assert_int_equal (zc_extract_run (extract, rules, 3, doc, &result), 0);
    s_assert_one (&result, "q", "\xe2\x80\x9cquoted\xe2\x80\x9d caf\xc3\xa9");
    const zc_extract_field_t *field = s_field (&result, "d");
    assert_non_null (field);
    assert_true (strstr (field->values[0], "<i>") != NULL);
    assert_true (strstr (field->values[0], "&amp; x") != NULL);
    //  A regex group that cuts a character in half still gives valid UTF-8.
    s_assert_one (&result, "byte", "\xef\xbf\xbd");
    zc_extract_result_clear (&result);
    xmlFreeDoc (doc);
    zc_extract_destroy (&extract);
}

static void
test_limits (void **state)
{
    (void)state;
    //  20,000 matches: the field is capped, nothing crashes.
    size_t size = 20000 * 16 + 64;
    char *html = malloc (size);
    assert_non_null (html);
    size_t len = (size_t)snprintf (html, size, "<ul>");
    for (int i = 0; i < 20000; i++)
        len += (size_t)snprintf (html + len, size - len, "<li>%d</li>", i);
    xmlDocPtr doc = s_doc (html, len, NULL);
    free (html);
    zc_extract_t *extract = zc_extract_new ();
    zc_extract_rule_t rules[] = {{.name = "li", .selector = "li", .all = true}};
    zc_extract_result_t result;
    assert_int_equal (zc_extract_run (extract, rules, 1, doc, &result), 0);
    assert_int_equal (result.fields[0].value_count, 10000);
    assert_string_equal (result.fields[0].values[9999], "9999");
    zc_extract_result_clear (&result);
    xmlFreeDoc (doc);
    zc_extract_destroy (&extract);
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    xmlInitParser ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_css_and_xpath), cmocka_unit_test (test_regex),
        cmocka_unit_test (test_bad_rules),     cmocka_unit_test (test_cache),
        cmocka_unit_test (test_encoding),      cmocka_unit_test (test_limits),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    xmlCleanupParser ();
    curl_global_cleanup ();
    return rc;
}
