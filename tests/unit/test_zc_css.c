/*  Tests for zc_css: the CSS -> XPath translation table, quoting, and
    errors for everything outside the supported subset.
*/
#include "zc_css.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define CLASS(x) "[contains(concat(' ', normalize-space(@class), ' '), ' " x " ')]"

static void
s_check (const char *css, const char *xpath)
{
    char *error = NULL;
    char *got = zc_css_to_xpath (css, &error);
    if (!got || strcmp (got, xpath) != 0)
        fprintf (stderr, "    css %s\n    got %s (%s)\n    want %s\n", css, got ? got : "NULL",
                 error ? error : "", xpath);
    assert_null (error);
    assert_non_null (got);
    assert_string_equal (got, xpath);
    free (got);
}

//  Translation fails and the message contains NEEDLE.
static void
s_fails (const char *css, const char *needle)
{
    char *error = NULL;
    char *got = zc_css_to_xpath (css, &error);
    if (got || !error || !strstr (error, needle))
        fprintf (stderr, "    css %s\n    got %s, error %s\n    want error with %s\n", css,
                 got ? got : "NULL", error ? error : "NULL", needle);
    assert_null (got);
    assert_non_null (error);
    assert_non_null (strstr (error, needle));
    free (error);
}

static void
test_simple (void **state)
{
    (void)state;
    s_check ("p", "//p");
    s_check ("DIV", "//div");
    s_check ("*", "//*");
    s_check ("h1", "//h1");
    s_check ("#main", "//*[@id='main']");
    s_check ("div#Main", "//div[@id='Main']");
    s_check (".price", "//*" CLASS ("price"));
    s_check ("span.a.b", "//span" CLASS ("a") CLASS ("b"));
    s_check ("[data-id]", "//*[@data-id]");
    s_check ("a[HREF]", "//a[@href]");
    s_check ("a[rel=next]", "//a[@rel='next']");
    s_check ("a[rel = 'next']", "//a[@rel='next']");
    s_check ("a[title=\"it's\"]", "//a[@title=\"it's\"]");
    s_check ("a[title='say \"hi\"']", "//a[@title='say \"hi\"']");
    s_check ("a[title=\"it's \\\"x\\\"\"]", "//a[@title=concat('', 'it', \"'\", 's \"x\"')]");
    s_check ("a[href^='https:']", "//a[starts-with(@href, 'https:')]");
    s_check ("a[href$=\".pdf\"]",
             "//a[substring(@href, string-length(@href) - string-length('.pdf') + 1) = '.pdf']");
    s_check ("a[href*=shop]", "//a[contains(@href, 'shop')]");
    s_check ("a[href^='']", "//a[false()]");
    s_check ("li:nth-child(1)", "//li[count(preceding-sibling::*) = 0]");
    s_check ("li:NTH-CHILD( 3 )", "//li[count(preceding-sibling::*) = 2]");
    s_check (":nth-child(2)", "//*[count(preceding-sibling::*) = 1]");
    s_check ("caf\xc3\xa9", "//caf\xc3\xa9");
}

static void
test_combinators (void **state)
{
    (void)state;
    s_check ("div p", "//div//p");
    s_check ("div  \t p", "//div//p");
    s_check ("ul > li", "//ul/li");
    s_check ("ul>li", "//ul/li");
    s_check ("div.product > h2 a[href]", "//div" CLASS ("product") "/h2//a[@href]");
    s_check ("  #a .b  ", "//*[@id='a']//*" CLASS ("b"));
    s_check ("h1, h2", "//h1 | //h2");
    s_check ("h1,h2 , .t", "//h1 | //h2 | //*" CLASS ("t"));
    s_check ("table tr:nth-child(2) > td", "//table//tr[count(preceding-sibling::*) = 1]/td");
}

static void
test_errors (void **state)
{
    (void)state;
    s_fails ("", "empty selector");
    s_fails ("   ", "empty selector");
    s_fails ("a,", "empty selector");
    s_fails (",a", "empty selector");
    s_fails ("> a", "starts with a combinator");
    s_fails ("a >", "combinator without a selector");
    s_fails ("a > > b", "combinator without a selector");
    s_fails ("a + b", "unsupported combinator");
    s_fails ("a ~ b", "unsupported combinator");
    s_fails ("a:hover", "unsupported pseudo-class");
    s_fails ("li:first-child", "unsupported pseudo-class");
    s_fails ("li:nth-child(2n+1)", "positive integer");
    s_fails ("li:nth-child(odd)", "positive integer");
    s_fails ("li:nth-child(0)", "positive integer");
    s_fails ("li:nth-child(1", "positive integer");
    s_fails ("p::before", "pseudo-elements");
    s_fails ("a[rel~=x]", "unsupported attribute operator");
    s_fails ("a[lang|=en]", "unsupported attribute operator");
    s_fails ("a[href=x i]", "attribute flags");
    s_fails ("a[href", "expected ']'");
    s_fails ("a[='x']", "expected an attribute name");
    s_fails ("a[title='open]", "unterminated string");
    s_fails ("a[xml:lang]", "expected ']'");
    s_fails ("#", "expected an id");
    s_fails (".", "expected a class name");
    s_fails ("#a\\:b", "escapes are not supported");
    s_fails ("1a", "digit");
    s_fails ("a)", "unexpected character");
    s_fails ("a[x=']']]", "unexpected character");
    //  The message names the selector and the offset.
    char *error = NULL;
    assert_null (zc_css_to_xpath ("div:hover", &error));
    assert_string_equal (error, "CSS selector 'div:hover': unsupported pseudo-class (only "
                                ":nth-child(N)) at offset 4");
    free (error);
    //  NULL input and NULL error pointer are fine.
    assert_null (zc_css_to_xpath (NULL, NULL));
    assert_null (zc_css_to_xpath ("a +", NULL));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_simple),
        cmocka_unit_test (test_combinators),
        cmocka_unit_test (test_errors),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
