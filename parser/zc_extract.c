/*  zc_extract — extraction rules on a libxml2 DOM.

    Compiling a rule set (CSS -> XPath with zc_css, xmlXPathCompile,
    regcomp) costs far more than evaluating it on one page, and every page
    of a crawl carries the same rules, so compiled sets are cached in a hash
    keyed by a length-prefixed serialisation of the rules' contents (the
    rules arrive as fresh copies with every PAGE, so their addresses mean
    nothing). The cache holds a few sets (a parser serves several crawls at
    once) and is simply emptied when full.

    Evaluation uses one XPath context per page. Node sets are taken in
    document order. Bounds for hostile pages: at most ZC_EXTRACT_MAX_VALUES
    values per field, ZC_EXTRACT_MAX_VALUE_BYTES per value (cut at a
    character boundary) and ZC_EXTRACT_MAX_TOTAL_BYTES per page, so that a
    RESULT always fits the codec's limits.
*/
#include "zc_extract.h"

#include "zc_css.h"
#include "zc_utf8.h"
#include "zc_util.h"

#include <czmq.h>
#include <libxml/HTMLtree.h>
#include <libxml/xmlerror.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <regex.h>
#include <stdbool.h>
#include <string.h>

#define ZC_EXTRACT_MAX_VALUES 10000
#define ZC_EXTRACT_MAX_VALUE_BYTES (1024u * 1024)
#define ZC_EXTRACT_MAX_TOTAL_BYTES (4u * 1024 * 1024)
#define ZC_EXTRACT_MAX_SETS 16
#define ZC_EXTRACT_MAX_ERROR_BYTES 4096

typedef struct {
    zc_extract_spec_t spec;    //  name, take, attr, regex, error
    xmlXPathCompExprPtr xpath; //  owned; NULL if the rule is unusable
} s_rule_t;

typedef struct {
    s_rule_t *rules; //  owned array
    size_t rule_count;
} s_ruleset_t;

struct zc_extract {
    zhashx_t *sets; //  owned; serialised rules -> owned s_ruleset_t
    size_t compiles;
};

//  libxml2 reports XPath syntax and evaluation errors through the
//  thread's error handlers; they are returned to the caller instead, so
//  silence the handlers around our calls and restore them after.
typedef struct {
    xmlGenericErrorFunc error;
    void *error_ctx;
    xmlStructuredErrorFunc serror;
    void *serror_ctx;
} s_quiet_t;

static void
s_silent_error (void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static void
s_quiet_begin (s_quiet_t *quiet)
{
    quiet->error = xmlGenericError;
    quiet->error_ctx = xmlGenericErrorContext;
    quiet->serror = xmlStructuredError;
    quiet->serror_ctx = xmlStructuredErrorContext;
    xmlSetGenericErrorFunc (NULL, s_silent_error);
    xmlSetStructuredErrorFunc (NULL, NULL);
}

static void
s_quiet_end (const s_quiet_t *quiet)
{
    xmlSetGenericErrorFunc (quiet->error_ctx, quiet->error);
    xmlSetStructuredErrorFunc (quiet->serror_ctx, quiet->serror);
}

static void
s_ruleset_destroy (s_ruleset_t **self_p)
{
    s_ruleset_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->rule_count; i++) {
        s_rule_t *rule = &self->rules[i];
        if (rule->xpath)
            xmlXPathFreeCompExpr (rule->xpath);
        zc_extract_spec_clear (&rule->spec);
    }
    free (self->rules);
    free (self);
    *self_p = NULL;
}

static void
s_ruleset_free (void **item_p)
{
    s_ruleset_destroy ((s_ruleset_t **)item_p);
}

static const char *
s_str (const char *s)
{
    return s ? s : "";
}

char *
zc_extract_rules_key (const zc_extract_rule_t *rules, size_t rule_count)
{
    size_t alloc = 16;
    for (size_t i = 0; i < rule_count; i++)
        alloc += strlen (s_str (rules[i].name)) + strlen (s_str (rules[i].selector)) +
                 strlen (s_str (rules[i].attr)) + strlen (s_str (rules[i].regex)) + 4 * 24 + 16;
    char *key = zc_malloc (alloc);
    size_t len = 0;
    for (size_t i = 0; i < rule_count; i++) {
        const zc_extract_rule_t *r = &rules[i];
        int n = snprintf (key + len, alloc - len, "%zu:%s%zu:%s%zu:%s%zu:%s%d%d%d;",
                          strlen (s_str (r->name)), s_str (r->name), strlen (s_str (r->selector)),
                          s_str (r->selector), strlen (s_str (r->attr)), s_str (r->attr),
                          strlen (s_str (r->regex)), s_str (r->regex), r->xpath ? 1 : 0,
                          (int)r->take, r->all ? 1 : 0);
        assert (n > 0 && (size_t)n < alloc - len);
        len += (size_t)n;
    }
    key[len] = 0;
    return key;
}

int
zc_extract_spec_init (zc_extract_spec_t *spec, const zc_extract_rule_t *rules, size_t index)
{
    const zc_extract_rule_t *rule = &rules[index];
    memset (spec, 0, sizeof *spec);
    spec->name = zc_strdup (s_str (rule->name));
    spec->take = rule->take;
    spec->all = rule->all;
    spec->attr = zc_strdup (rule->take == ZC_TAKE_ATTR ? s_str (rule->attr) : "");
    for (char *p = spec->attr; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    if (!*spec->name) {
        spec->error = zsys_sprintf ("rule #%zu: no name", index + 1);
        return -1;
    }
    for (size_t i = 0; i < index; i++)
        if (streq (s_str (rules[i].name), spec->name)) {
            spec->error = zsys_sprintf ("rule '%s': duplicate name", spec->name);
            return -1;
        }
    if ((int)rule->take < (int)ZC_TAKE_TEXT || (int)rule->take > (int)ZC_TAKE_ATTR) {
        spec->error = zsys_sprintf ("rule '%s': unknown take %d", spec->name, (int)rule->take);
        return -1;
    }
    if (rule->take == ZC_TAKE_ATTR && !*spec->attr) {
        spec->error = zsys_sprintf ("rule '%s': take attr needs an attribute name", spec->name);
        return -1;
    }
    return 0;
}

int
zc_extract_spec_regex (zc_extract_spec_t *spec, const zc_extract_rule_t *rule)
{
    if (!rule->regex || !*rule->regex)
        return 0;
    int rc = regcomp (&spec->regex, rule->regex, REG_EXTENDED);
    if (rc != 0) {
        char message[256];
        regerror (rc, &spec->regex, message, sizeof message);
        spec->error =
            zsys_sprintf ("rule '%s': invalid regex '%s': %s", spec->name, rule->regex, message);
        return -1;
    }
    spec->has_regex = true;
    return 0;
}

void
zc_extract_spec_clear (zc_extract_spec_t *spec)
{
    free (spec->name);
    free (spec->attr);
    if (spec->has_regex)
        regfree (&spec->regex);
    free (spec->error);
    memset (spec, 0, sizeof *spec);
}

//  Compiles one rule; on failure sets rule->spec.error (naming the rule).
static void
s_rule_compile (s_rule_t *rule, const zc_extract_rule_t *rules, size_t index)
{
    const zc_extract_rule_t *spec = &rules[index];
    if (zc_extract_spec_init (&rule->spec, rules, index) != 0)
        return;
    const char *selector = s_str (spec->selector);
    char *translated = NULL;
    if (!spec->xpath) {
        char *error = NULL;
        translated = zc_css_to_xpath (selector, &error);
        if (!translated) {
            rule->spec.error = zsys_sprintf ("rule '%s': %s", rule->spec.name, error);
            free (error);
            return;
        }
    }
    rule->xpath = *selector || translated
                      ? xmlXPathCompile ((const xmlChar *)(translated ? translated : selector))
                      : NULL;
    free (translated);
    if (!rule->xpath) {
        rule->spec.error =
            zsys_sprintf ("rule '%s': invalid XPath '%s'", rule->spec.name, selector);
        return;
    }
    if (zc_extract_spec_regex (&rule->spec, spec) != 0) {
        xmlXPathFreeCompExpr (rule->xpath);
        rule->xpath = NULL;
    }
}

//  The compiled set for RULES, from the cache or compiled now.
static s_ruleset_t *
s_ruleset_get (zc_extract_t *self, const zc_extract_rule_t *rules, size_t rule_count)
{
    char *key = zc_extract_rules_key (rules, rule_count);
    s_ruleset_t *set = (s_ruleset_t *)zhashx_lookup (self->sets, key);
    if (set) {
        free (key);
        return set;
    }
    if (zhashx_size (self->sets) >= ZC_EXTRACT_MAX_SETS)
        zhashx_purge (self->sets);
    set = zc_malloc (sizeof *set);
    set->rules = zc_malloc (rule_count * sizeof *set->rules);
    memset (set->rules, 0, rule_count * sizeof *set->rules);
    set->rule_count = rule_count;
    for (size_t i = 0; i < rule_count; i++)
        s_rule_compile (&set->rules[i], rules, i);
    self->compiles++;
    int rc = zhashx_insert (self->sets, key, set);
    assert (rc == 0);
    free (key);
    return set;
}

zc_extract_t *
zc_extract_new (void)
{
    zc_extract_t *self = zc_malloc (sizeof *self);
    memset (self, 0, sizeof *self);
    self->sets = zhashx_new ();
    assert (self->sets);
    zhashx_set_destructor (self->sets, s_ruleset_free);
    return self;
}

void
zc_extract_destroy (zc_extract_t **self_p)
{
    zc_extract_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->sets);
    free (self);
    *self_p = NULL;
}

size_t
zc_extract_compiles (zc_extract_t *self)
{
    return self->compiles;
}

char *
zc_extract_collapse (const char *text, size_t size)
{
    char *out = zc_malloc (size + 1);
    size_t len = 0;
    bool space = false;
    for (const char *p = text; p < text + size && *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f') {
            space = len > 0;
            continue;
        }
        if (space)
            out[len++] = ' ';
        space = false;
        out[len++] = *p;
    }
    out[len] = 0;
    return out;
}

//  Inner HTML of NODE: its children serialised as HTML.
static char *
s_inner_html (xmlDocPtr doc, xmlNodePtr node)
{
    xmlBufferPtr buffer = xmlBufferCreate ();
    if (!buffer)
        return NULL;
    for (xmlNodePtr child = node->children; child; child = child->next)
        if (htmlNodeDump (buffer, doc, child) < 0)
            break;
    const xmlChar *content = xmlBufferContent (buffer);
    char *html = zc_strdup (content ? (const char *)content : "");
    xmlBufferFree (buffer);
    return html;
}

//  The raw value RULE takes from NODE (new string), or NULL if none.
static char *
s_node_value (const zc_extract_spec_t *rule, xmlDocPtr doc, xmlNodePtr node)
{
    bool element = node->type == XML_ELEMENT_NODE || node->type == XML_DOCUMENT_NODE ||
                   node->type == XML_HTML_DOCUMENT_NODE;
    switch (rule->take) {
    case ZC_TAKE_TEXT: {
        xmlChar *content = xmlNodeGetContent (node);
        if (!content)
            return NULL;
        char *text = zc_extract_collapse ((const char *)content, strlen ((const char *)content));
        xmlFree (content);
        return text;
    }
    case ZC_TAKE_HTML: {
        if (element)
            return s_inner_html (doc, node);
        xmlChar *content = xmlNodeGetContent (node);
        char *text = content ? zc_strdup ((const char *)content) : NULL;
        xmlFree (content);
        return text;
    }
    case ZC_TAKE_ATTR: {
        if (node->type != XML_ELEMENT_NODE)
            return NULL;
        xmlChar *value = xmlGetProp (node, (const xmlChar *)rule->attr);
        char *attr = value ? zc_strdup ((const char *)value) : NULL;
        xmlFree (value);
        return attr;
    }
    }
    return NULL;
}

//  Applies the rule's regex to VALUE (consumed). Returns the value to keep
//  (new string), or NULL if it is dropped.
static char *
s_filter (const zc_extract_spec_t *rule, char *value)
{
    if (!rule->has_regex || !value)
        return value;
    regmatch_t match[2];
    if (regexec (&rule->regex, value, 2, match, 0) != 0) {
        free (value);
        return NULL;
    }
    regmatch_t *take = match[1].rm_so >= 0 ? &match[1] : &match[0];
    char *kept = zc_strndup (value + take->rm_so, (size_t)(take->rm_eo - take->rm_so));
    free (value);
    return kept;
}

//  Adds VALUE (consumed) to the field of RULE, creating it on first use.
//  Returns false once the rule wants no more values.
static bool
s_add_value (zc_extract_output_t *output, const zc_extract_spec_t *rule, char *value)
{
    zc_extract_result_t *result = output->result;
    zc_extract_field_t *field =
        result->field_count && streq (result->fields[result->field_count - 1].name, rule->name)
            ? &result->fields[result->field_count - 1]
            : NULL;
    if (field && field->value_count >= ZC_EXTRACT_MAX_VALUES) {
        free (value);
        return false;
    }
    //  Valid UTF-8, cut at a character boundary below the size cap.
    size_t len;
    char *clean = zc_utf8_sanitise (value, strlen (value), &len);
    free (value);
    if (len > ZC_EXTRACT_MAX_VALUE_BYTES) {
        len = ZC_EXTRACT_MAX_VALUE_BYTES;
        while (len > 0 && ((unsigned char)clean[len] & 0xc0) == 0x80)
            len--;
        clean[len] = 0;
    }
    if (output->total_bytes + len > ZC_EXTRACT_MAX_TOTAL_BYTES) {
        free (clean);
        return false;
    }
    output->total_bytes += len;
    if (!field) {
        result->fields =
            realloc (result->fields, (result->field_count + 1) * sizeof *result->fields);
        if (!result->fields) {
            fprintf (stderr, "zcrawl: out of memory\n");
            abort ();
        }
        field = &result->fields[result->field_count++];
        memset (field, 0, sizeof *field);
        field->name = zc_strdup (rule->name);
    }
    if ((field->value_count & (field->value_count - 1)) == 0) {
        //  Grow at 0, 1, 2, 4, 8, ...: capacity is the next power of two.
        size_t alloc = field->value_count ? field->value_count * 2 : 1;
        field->values = realloc (field->values, alloc * sizeof *field->values);
        if (!field->values) {
            fprintf (stderr, "zcrawl: out of memory\n");
            abort ();
        }
    }
    field->values[field->value_count++] = clean;
    return rule->all;
}

bool
zc_extract_output_add (zc_extract_output_t *output, const zc_extract_spec_t *spec, char *value)
{
    value = s_filter (spec, value);
    return value ? s_add_value (output, spec, value) : true;
}

void
zc_extract_output_error (zc_extract_result_t *result, const char *error)
{
    if (!result->error) {
        result->error = zc_strdup (error);
        return;
    }
    if (strlen (result->error) + strlen (error) + 2 > ZC_EXTRACT_MAX_ERROR_BYTES)
        return;
    char *joined = zsys_sprintf ("%s; %s", result->error, error);
    free (result->error);
    result->error = joined;
}

//  Evaluates one usable rule. Returns 0, or -1 if evaluation failed.
static int
s_rule_run (const s_rule_t *compiled, xmlDocPtr doc, xmlXPathContextPtr context,
            zc_extract_output_t *output)
{
    const zc_extract_spec_t *rule = &compiled->spec;
    xmlXPathObjectPtr object = xmlXPathCompiledEval (compiled->xpath, context);
    if (!object)
        return -1;
    int rc = 0;
    if (object->type == XPATH_NODESET) {
        xmlNodeSetPtr nodes = object->nodesetval;
        if (nodes && nodes->nodeNr > 1)
            xmlXPathNodeSetSort (nodes);
        for (int i = 0; nodes && i < nodes->nodeNr; i++) {
            if (!zc_extract_output_add (output, rule, s_node_value (rule, doc, nodes->nodeTab[i])))
                break;
        }
    } else if (object->type == XPATH_STRING || object->type == XPATH_NUMBER ||
               object->type == XPATH_BOOLEAN) {
        xmlChar *string = xmlXPathCastToString (object);
        char *value = string ? zc_strdup ((const char *)string) : NULL;
        xmlFree (string);
        if (rule->take == ZC_TAKE_TEXT && value) {
            char *collapsed = zc_extract_collapse (value, strlen (value));
            free (value);
            value = collapsed;
        }
        (void)zc_extract_output_add (output, rule, value);
    } else
        rc = -1;
    xmlXPathFreeObject (object);
    return rc;
}

int
zc_extract_run (zc_extract_t *self, const zc_extract_rule_t *rules, size_t rule_count,
                xmlDocPtr doc, zc_extract_result_t *result)
{
    assert (self);
    assert (result);
    memset (result, 0, sizeof *result);
    if (rule_count == 0)
        return 0;
    s_quiet_t quiet;
    s_quiet_begin (&quiet);
    s_ruleset_t *set = s_ruleset_get (self, rules, rule_count);
    xmlXPathContextPtr context = doc ? xmlXPathNewContext (doc) : NULL;
    zc_extract_output_t output = {.result = result};
    int rc = 0;
    for (size_t i = 0; i < set->rule_count; i++) {
        const s_rule_t *rule = &set->rules[i];
        if (rule->spec.error) {
            zc_extract_output_error (result, rule->spec.error);
            rc = -1;
        } else if (context && s_rule_run (rule, doc, context, &output) != 0) {
            char *error = zsys_sprintf ("rule '%s': XPath evaluation failed", rule->spec.name);
            zc_extract_output_error (result, error);
            free (error);
            rc = -1;
        }
    }
    if (context)
        xmlXPathFreeContext (context);
    s_quiet_end (&quiet);
    return rc;
}

void
zc_extract_result_clear (zc_extract_result_t *result)
{
    if (!result)
        return;
    for (size_t i = 0; i < result->field_count; i++) {
        zc_extract_field_t *field = &result->fields[i];
        for (size_t j = 0; j < field->value_count; j++)
            free (field->values[j]);
        free (field->values);
        free (field->name);
    }
    free (result->fields);
    free (result->error);
    memset (result, 0, sizeof *result);
}
