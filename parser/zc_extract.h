/*  zc_extract — evaluates a crawl's extraction rules on one page's DOM.

    Each rule selects nodes by XPath, or by CSS translated with zc_css, and
    takes from each node its text (string value, whitespace collapsed and
    trimmed), inner HTML or an attribute; the first value or all of them;
    optionally filtered through a POSIX ERE whose first capture group (or
    whole match) replaces the value, a value that does not match being
    dropped. An XPath that yields a string, number or boolean gives that one
    value. Every value is valid UTF-8.

    A zc_extract_t caches the compiled rule sets (XPath, regex) of the last
    few crawls, keyed by the rules' contents, so consecutive pages of a
    crawl compile nothing. One per parser actor; not thread-safe.
*/
#ifndef ZC_EXTRACT_H_INCLUDED
#define ZC_EXTRACT_H_INCLUDED

#include "zc_msg.h"

#include <libxml/tree.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct zc_extract zc_extract_t;

//  One field of the result: a rule's name and its values (at least one).
typedef struct {
    char *name;    //  owned
    char **values; //  owned array of owned UTF-8 strings
    size_t value_count;
} zc_extract_field_t;

typedef struct {
    zc_extract_field_t *fields; //  owned; rules with no value are absent
    size_t field_count;
    char *error; //  owned; NULL, or the first bad rule ("rule 'price': ...")
} zc_extract_result_t;

//  Creates an empty rule cache. Caller owns it.
zc_extract_t *zc_extract_new (void);

//  Destroys the cache. NULL-safe; sets *self_p to NULL.
void zc_extract_destroy (zc_extract_t **self_p);

//  Evaluates RULES (RULE_COUNT, borrowed) on DOC (borrowed) into *RESULT
//  (zeroed first; caller frees with zc_extract_result_clear). A rule whose
//  selector or regex does not compile or evaluate is skipped and named in
//  RESULT->error; the other rules still run. Returns 0 if every rule was
//  usable, -1 otherwise.
int zc_extract_run (zc_extract_t *self, const zc_extract_rule_t *rules, size_t rule_count,
                    xmlDocPtr doc, zc_extract_result_t *result);

//  Rule sets compiled so far (cache misses), for tests.
size_t zc_extract_compiles (zc_extract_t *self);

//  Frees what a result owns and zeroes it.
void zc_extract_result_clear (zc_extract_result_t *result);

//  ---------------------------------------------------------------------
//  Shared with zc_stream (the same rules evaluated during the SAX pass):
//  a rule's validation and value handling, whatever selects its nodes.

typedef struct {
    char *name; //  owned
    zc_take_t take;
    char *attr; //  owned, lowercased; "" unless ZC_TAKE_ATTR
    bool all;
    regex_t regex; //  valid if has_regex
    bool has_regex;
    char *error; //  owned; why the rule is unusable, or NULL
} zc_extract_spec_t;

//  Fills *SPEC from RULES[INDEX] and checks its name (set, unique among
//  RULES[0..INDEX-1]), take and attribute. Returns 0, or -1 with
//  SPEC->error set. Clear SPEC with zc_extract_spec_clear in any case.
int zc_extract_spec_init (zc_extract_spec_t *spec, const zc_extract_rule_t *rules, size_t index);

//  Compiles RULE's regex (if any) into SPEC; to be called once the
//  selector is known to be good. Returns 0, or -1 with SPEC->error set.
int zc_extract_spec_regex (zc_extract_spec_t *spec, const zc_extract_rule_t *rule);

//  Frees what SPEC owns and zeroes it.
void zc_extract_spec_clear (zc_extract_spec_t *spec);

//  TEXT (SIZE bytes, or up to a NUL) with ASCII whitespace runs collapsed
//  to one space and trimmed: a text value. New string; caller frees.
char *zc_extract_collapse (const char *text, size_t size);

//  A page's result being built, with its byte budget.
typedef struct {
    zc_extract_result_t *result; //  borrowed
    size_t total_bytes;
} zc_extract_output_t;

//  Adds VALUE (a new string, consumed; NULL = the node has no value) taken
//  by SPEC: regex filter, UTF-8 repair, size caps, appended to SPEC's
//  field. Returns false once the rule wants no more values (first, or caps).
bool zc_extract_output_add (zc_extract_output_t *output, const zc_extract_spec_t *spec,
                            char *value);

//  A cache key for RULES: every field of every rule, length-prefixed.
//  New string; caller frees.
char *zc_extract_rules_key (const zc_extract_rule_t *rules, size_t rule_count);

//  Appends ERROR to RESULT->error ("a; b"), bounded.
void zc_extract_output_error (zc_extract_result_t *result, const char *error);

#endif
