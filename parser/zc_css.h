/*  zc_css — translates a small subset of CSS selectors to XPath 1.0, so
    that extraction rules written as CSS run on libxml2's XPath engine.

    Supported: type selectors and *, #id, .class (whitespace token match),
    [attr], [attr=v], [attr^=v], [attr$=v], [attr*=v] (v an identifier or a
    '...' / "..." string), the descendant (' ') and child ('>') combinators,
    selector lists (','), and :nth-child(N) for a positive integer N.
    Type and attribute names are lowercased (libxml2's HTML parser
    lowercases them). Anything else is an error that says what and where.
*/
#ifndef ZC_CSS_H_INCLUDED
#define ZC_CSS_H_INCLUDED

//  Translates CSS (a selector list) to an XPath expression selecting the
//  same elements from the document root. Returns a new string (caller
//  frees), or NULL and, if ERROR is not NULL, a new message in *ERROR
//  (caller frees) naming the unsupported or malformed part and its offset.
char *zc_css_to_xpath (const char *css, char **error);

#endif
