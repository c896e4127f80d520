/*  zc_stream — extraction rules evaluated on SAX events.

    A plan is the rules' selectors read into compound selectors (a type
    and simple tests) and complex selectors (compounds joined by ' ' or
    '>'). The selector text is first checked with zc_css_to_xpath, so a bad
    selector gives the very error the DOM path gives; our reader then only
    sees selectors zc_css accepted (anything it does not understand makes
    the rule set non-streamable, never a wrong answer).

    Per page we keep the element stack libxml2's tree builder would keep:
    each frame records which compounds its element matched (a byte per
    compound) and how many element children it has (for :nth-child).
    Complex selectors are matched right to left against the stack: groups
    of '>'-joined compounds must sit on consecutive frames, and taking the
    deepest match of each group across ' ' is enough.

    A matching element gets a slot (in start-tag order, once per rule): an
    attribute value at once, or a text range into one page-wide buffer of
    the text inside elements, closed when the element ends. At finish each
    rule's slots become values through zc_extract's own post-processing.

    DOM quirks mirrored (libxml2 2.9 SAX2 tree builder): text outside any
    element is dropped; an element started with an empty stack after the
    document's first child was an element becomes the last child of that
    element (it is reopened); more than xmlParserMaxDepth open elements
    halt the parse (zc_html stops the parser then); a boolean attribute
    without a value (checked, ...) has its own name as value, any other
    valueless attribute "".
*/
#include "zc_stream.h"

#include "zc_css.h"
#include "zc_utf8.h"
#include "zc_util.h"

#include <czmq.h>
#include <libxml/HTMLtree.h>
#include <stdint.h>
#include <string.h>

#define ZC_STREAM_MAX_PLANS 16

typedef enum {
    S_TEST_ID,
    S_TEST_CLASS,
    S_TEST_EXISTS,
    S_TEST_EQUALS,
    S_TEST_PREFIX,
    S_TEST_SUFFIX,
    S_TEST_CONTAINS,
    S_TEST_FALSE,
    S_TEST_NTH
} s_test_kind_t;

typedef struct {
    s_test_kind_t kind;
    char *name;  //  owned attribute name (NULL for id, class, nth)
    char *value; //  owned (NULL for exists, false, nth)
    size_t value_len;
    long nth;
} s_test_t;

typedef struct {
    char *type; //  owned; NULL = any element
    s_test_t *tests;
    size_t test_count;
} s_compound_t;

typedef struct {
    size_t *parts;     //  owned; compound indexes, left to right
    char *combinators; //  owned; combinators[i] joins parts[i-1] and parts[i]
    size_t count;
} s_complex_t;

typedef struct {
    zc_extract_spec_t spec;
    s_complex_t *selectors; //  owned
    size_t selector_count;
    bool usable;
} s_rule_t;

typedef struct {
    s_rule_t *rules;
    size_t rule_count;
    s_compound_t *compounds;
    size_t compound_count;
    bool streamable;
} s_plan_t;

typedef struct {
    size_t first_slot; //  slots created at this element's start
    size_t slot_count;
    size_t children; //  element children so far
    size_t index;    //  1-based position among its parent's element children
    bool root;       //  the document's first child
    bool reopened;   //  that child, back only as the parent of a later top-level element
} s_frame_t;

typedef struct {
    size_t rule;
    char *value; //  owned attribute value (NULL: none); unused for text
    size_t text_start;
    size_t text_end;
    bool open; //  text still growing
} s_slot_t;

typedef enum { S_FIRST_NONE, S_FIRST_ELEMENT, S_FIRST_OTHER } s_first_t;

struct zc_stream {
    zhashx_t *plans; //  owned; rules key -> owned s_plan_t
    size_t compiles;
    s_plan_t *plan; //  borrowed from plans; the prepared one
    //  Page state
    s_frame_t *frames;
    size_t depth;
    size_t frame_alloc;
    uint8_t *bits;       //  frame_alloc * compound_count match flags
    size_t top_children; //  element children of the document
    s_first_t first;
    bool root_saved; //  the first child element is closed, may reopen
    s_frame_t root;
    uint8_t *root_bits; //  owned; compound_count flags
    uint8_t *scratch;   //  owned; compound_count flags
    s_slot_t *slots;
    size_t slot_count;
    size_t slot_alloc;
    size_t open_text; //  open text slots
    bool *done;       //  per rule: a first value is certain, stop matching
    size_t done_alloc;
    size_t pending; //  usable rules not done: 0 = no element needs matching
    char *text;     //  text inside elements while some text slot is open
    size_t text_len;
    size_t text_alloc;
};

static void *
s_grow (void *array, size_t *alloc, size_t need, size_t size)
{
    if (need <= *alloc)
        return array;
    size_t n = *alloc ? *alloc : 16;
    while (n < need)
        n *= 2;
    array = realloc (array, n * size);
    if (!array) {
        fprintf (stderr, "zcrawl: out of memory\n");
        abort ();
    }
    *alloc = n;
    return array;
}

//  ---------------------------------------------------------------------
//  Plans

static void
s_plan_destroy (s_plan_t **self_p)
{
    s_plan_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->rule_count; i++) {
        s_rule_t *rule = &self->rules[i];
        zc_extract_spec_clear (&rule->spec);
        for (size_t j = 0; j < rule->selector_count; j++) {
            free (rule->selectors[j].parts);
            free (rule->selectors[j].combinators);
        }
        free (rule->selectors);
    }
    free (self->rules);
    for (size_t i = 0; i < self->compound_count; i++) {
        s_compound_t *compound = &self->compounds[i];
        free (compound->type);
        for (size_t j = 0; j < compound->test_count; j++) {
            free (compound->tests[j].name);
            free (compound->tests[j].value);
        }
        free (compound->tests);
    }
    free (self->compounds);
    free (self);
    *self_p = NULL;
}

static void
s_plan_free (void **item_p)
{
    s_plan_destroy ((s_plan_t **)item_p);
}

//  Selector reader, over text zc_css has accepted.
typedef struct {
    const char *p;
    bool ok;
} s_reader_t;

static bool
s_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool
s_is_name_char (char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' ||
           u == '_' || u >= 0x80;
}

static bool
s_skip_spaces (s_reader_t *r)
{
    const char *start = r->p;
    while (s_is_space (*r->p))
        r->p++;
    return r->p > start;
}

static char *
s_read_ident (s_reader_t *r, bool lower)
{
    const char *start = r->p;
    while (s_is_name_char (*r->p))
        r->p++;
    if (r->p == start) {
        r->ok = false;
        return NULL;
    }
    char *ident = zc_strndup (start, (size_t)(r->p - start));
    if (lower)
        for (char *q = ident; *q; q++)
            if (*q >= 'A' && *q <= 'Z')
                *q = (char)(*q - 'A' + 'a');
    return ident;
}

static char *
s_read_value (s_reader_t *r)
{
    char quote = *r->p;
    if (quote != '\'' && quote != '"')
        return s_read_ident (r, false);
    r->p++;
    char *value = zc_malloc (strlen (r->p) + 1);
    size_t len = 0;
    for (;;) {
        char c = *r->p;
        if (c == 0) {
            r->ok = false;
            free (value);
            return NULL;
        }
        r->p++;
        if (c == quote)
            break;
        if (c == '\\') {
            c = *r->p;
            if (c == 0)
                continue;
            r->p++;
        }
        value[len++] = c;
    }
    value[len] = 0;
    return value;
}

static s_test_t *
s_add_test (s_compound_t *compound, s_test_kind_t kind)
{
    compound->tests = realloc (compound->tests, (compound->test_count + 1) * sizeof (s_test_t));
    if (!compound->tests) {
        fprintf (stderr, "zcrawl: out of memory\n");
        abort ();
    }
    s_test_t *test = &compound->tests[compound->test_count++];
    memset (test, 0, sizeof *test);
    test->kind = kind;
    return test;
}

static void
s_read_attribute (s_reader_t *r, s_compound_t *compound)
{
    s_skip_spaces (r);
    char *name = s_read_ident (r, true);
    if (!name)
        return;
    s_skip_spaces (r);
    char op = *r->p;
    if (op == ']') {
        r->p++;
        s_add_test (compound, S_TEST_EXISTS)->name = name;
        return;
    }
    if (op == '=')
        r->p++;
    else if ((op == '^' || op == '$' || op == '*') && r->p[1] == '=')
        r->p += 2;
    else {
        r->ok = false;
        free (name);
        return;
    }
    s_skip_spaces (r);
    char *value = s_read_value (r);
    s_skip_spaces (r);
    if (!value || *r->p != ']') {
        r->ok = false;
        free (name);
        free (value);
        return;
    }
    r->p++;
    if (op != '=' && !*value) {
        s_add_test (compound, S_TEST_FALSE);
        free (name);
        free (value);
        return;
    }
    s_test_t *test = s_add_test (compound, op == '='   ? S_TEST_EQUALS
                                           : op == '^' ? S_TEST_PREFIX
                                           : op == '$' ? S_TEST_SUFFIX
                                                       : S_TEST_CONTAINS);
    test->name = name;
    test->value = value;
    test->value_len = strlen (value);
}

static void
s_read_pseudo (s_reader_t *r, s_compound_t *compound)
{
    char *name = s_read_ident (r, true);
    bool nth = name && streq (name, "nth-child") && *r->p == '(';
    free (name);
    if (!nth) {
        r->ok = false;
        return;
    }
    r->p++;
    s_skip_spaces (r);
    long n = 0;
    const char *digits = r->p;
    while (*r->p >= '0' && *r->p <= '9' && n < 1000000) {
        n = n * 10 + (*r->p - '0');
        r->p++;
    }
    bool number = r->p > digits;
    s_skip_spaces (r);
    if (!number || n < 1 || *r->p != ')') {
        r->ok = false;
        return;
    }
    r->p++;
    s_add_test (compound, S_TEST_NTH)->nth = n;
}

//  Reads a compound selector into a new entry of PLAN; returns its index.
static size_t
s_read_compound (s_reader_t *r, s_plan_t *plan)
{
    plan->compounds = realloc (plan->compounds, (plan->compound_count + 1) * sizeof (s_compound_t));
    if (!plan->compounds) {
        fprintf (stderr, "zcrawl: out of memory\n");
        abort ();
    }
    size_t index = plan->compound_count++;
    s_compound_t *compound = &plan->compounds[index];
    memset (compound, 0, sizeof *compound);
    if (*r->p == '*')
        r->p++;
    else if (s_is_name_char (*r->p))
        compound->type = s_read_ident (r, true);
    while (r->ok) {
        char c = *r->p;
        if (c == '#' || c == '.') {
            r->p++;
            char *value = s_read_ident (r, false);
            if (!value)
                break;
            s_test_t *test = s_add_test (compound, c == '#' ? S_TEST_ID : S_TEST_CLASS);
            test->value = value;
            test->value_len = strlen (value);
        } else if (c == '[') {
            r->p++;
            s_read_attribute (r, compound);
        } else if (c == ':') {
            r->p++;
            s_read_pseudo (r, compound);
        } else
            break;
    }
    return index;
}

static void
s_read_complex (s_reader_t *r, s_plan_t *plan, s_complex_t *complex)
{
    s_skip_spaces (r);
    char combinator = ' ';
    for (;;) {
        size_t index = s_read_compound (r, plan);
        complex->parts = realloc (complex->parts, (complex->count + 1) * sizeof (size_t));
        complex->combinators = realloc (complex->combinators, complex->count + 1);
        if (!complex->parts || !complex->combinators) {
            fprintf (stderr, "zcrawl: out of memory\n");
            abort ();
        }
        complex->parts[complex->count] = index;
        complex->combinators[complex->count] = combinator;
        complex->count++;
        if (!r->ok)
            return;
        bool spaces = s_skip_spaces (r);
        char c = *r->p;
        if (c == 0 || c == ',')
            return;
        if (c == '>') {
            r->p++;
            s_skip_spaces (r);
            combinator = '>';
        } else if (spaces)
            combinator = ' ';
        else {
            r->ok = false;
            return;
        }
    }
}

//  Reads SELECTOR (accepted by zc_css) into RULE. False if not understood.
static bool
s_read_selector (s_plan_t *plan, s_rule_t *rule, const char *selector)
{
    s_reader_t r = {.p = selector, .ok = true};
    for (;;) {
        rule->selectors =
            realloc (rule->selectors, (rule->selector_count + 1) * sizeof (s_complex_t));
        if (!rule->selectors) {
            fprintf (stderr, "zcrawl: out of memory\n");
            abort ();
        }
        s_complex_t *complex = &rule->selectors[rule->selector_count++];
        memset (complex, 0, sizeof *complex);
        s_read_complex (&r, plan, complex);
        if (!r.ok || *r.p != ',')
            break;
        r.p++;
    }
    return r.ok && *r.p == 0;
}

static s_plan_t *
s_plan_compile (const zc_extract_rule_t *rules, size_t rule_count)
{
    s_plan_t *plan = zc_malloc (sizeof *plan);
    memset (plan, 0, sizeof *plan);
    plan->streamable = true;
    plan->rules = zc_malloc ((rule_count ? rule_count : 1) * sizeof (s_rule_t));
    memset (plan->rules, 0, (rule_count ? rule_count : 1) * sizeof (s_rule_t));
    plan->rule_count = rule_count;
    for (size_t i = 0; i < rule_count; i++) {
        const zc_extract_rule_t *spec = &rules[i];
        s_rule_t *rule = &plan->rules[i];
        if (zc_extract_spec_init (&rule->spec, rules, i) != 0)
            continue;
        const char *selector = spec->selector ? spec->selector : "";
        if (spec->xpath || spec->take == ZC_TAKE_HTML ||
            !zc_utf8_valid (selector, strlen (selector))) {
            plan->streamable = false;
            continue;
        }
        char *error = NULL;
        char *xpath = zc_css_to_xpath (selector, &error);
        if (!xpath) {
            rule->spec.error = zsys_sprintf ("rule '%s': %s", rule->spec.name, error);
            free (error);
            continue;
        }
        free (xpath);
        if (!s_read_selector (plan, rule, selector)) {
            plan->streamable = false;
            continue;
        }
        if (zc_extract_spec_regex (&rule->spec, spec) != 0)
            continue;
        rule->usable = true;
    }
    return plan;
}

//  ---------------------------------------------------------------------
//  Matching

//  Value of attribute NAME as libxml2's tree has it, or NULL if absent.
static const char *
s_attribute (const char **atts, const char *name)
{
    if (!atts)
        return NULL;
    for (size_t i = 0; atts[i]; i += 2)
        if (streq (atts[i], name)) {
            if (atts[i + 1])
                return atts[i + 1];
            return htmlIsBooleanAttr ((const xmlChar *)name) ? atts[i] : "";
        }
    return NULL;
}

static bool
s_has_class (const char *list, const s_test_t *test)
{
    //  normalize-space() splits on XML whitespace (no form feed).
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        if ((size_t)(p - start) == test->value_len &&
            memcmp (start, test->value, test->value_len) == 0)
            return true;
    }
    return false;
}

static bool
s_test_match (const s_test_t *test, const char **atts, size_t index)
{
    const char *value;
    switch (test->kind) {
    case S_TEST_ID:
        value = s_attribute (atts, "id");
        return value && streq (value, test->value);
    case S_TEST_CLASS:
        value = s_attribute (atts, "class");
        return value && s_has_class (value, test);
    case S_TEST_EXISTS:
        return s_attribute (atts, test->name) != NULL;
    case S_TEST_EQUALS:
        value = s_attribute (atts, test->name);
        return value && streq (value, test->value);
    case S_TEST_PREFIX:
        value = s_attribute (atts, test->name);
        return value && strncmp (value, test->value, test->value_len) == 0;
    case S_TEST_SUFFIX: {
        value = s_attribute (atts, test->name);
        size_t len = value ? strlen (value) : 0;
        return value && len >= test->value_len &&
               memcmp (value + len - test->value_len, test->value, test->value_len) == 0;
    }
    case S_TEST_CONTAINS:
        value = s_attribute (atts, test->name);
        return value && strstr (value, test->value) != NULL;
    case S_TEST_FALSE:
        return false;
    case S_TEST_NTH:
        return (long)index == test->nth;
    }
    return false;
}

static bool
s_compound_match (const s_compound_t *compound, const char *name, const char **atts, size_t index)
{
    if (compound->type && (compound->type[0] != name[0] || !streq (compound->type, name)))
        return false;
    for (size_t i = 0; i < compound->test_count; i++)
        if (!s_test_match (&compound->tests[i], atts, index))
            return false;
    return true;
}

//  True if COMPLEX matches the element on top of the stack.
static bool
s_complex_match (const zc_stream_t *self, const s_complex_t *complex)
{
    size_t stride = self->plan->compound_count;
    size_t top = self->depth - 1;
    size_t limit = self->depth; //  frames below this one are still free
    bool anchored = true;
    size_t j = complex->count; //  one past the group's last compound
    while (j > 0) {
        size_t g = j - 1; //  the group's first compound
        while (g > 0 && complex->combinators[g] == '>')
            g--;
        size_t len = j - g;
        if (limit < len)
            return false;
        bool found = false;
        for (size_t end = anchored ? top : limit - 1;; end--) {
            bool ok = end + 1 >= len;
            for (size_t t = 0; ok && t < len; t++)
                ok = self->bits[(end - t) * stride + complex->parts[j - 1 - t]] != 0;
            if (ok) {
                found = true;
                limit = end + 1 - len;
                break;
            }
            if (anchored || end + 1 <= len)
                break;
        }
        if (!found)
            return false;
        anchored = false;
        j = g;
    }
    return true;
}

//  ---------------------------------------------------------------------
//  Page events

static void
s_page_reset (zc_stream_t *self)
{
    for (size_t i = 0; i < self->slot_count; i++)
        free (self->slots[i].value);
    self->slot_count = 0;
    self->depth = 0;
    self->top_children = 0;
    self->first = S_FIRST_NONE;
    self->root_saved = false;
    self->open_text = 0;
    self->text_len = 0;
}

zc_stream_t *
zc_stream_new (void)
{
    zc_stream_t *self = zc_malloc (sizeof *self);
    memset (self, 0, sizeof *self);
    self->plans = zhashx_new ();
    assert (self->plans);
    zhashx_set_destructor (self->plans, s_plan_free);
    return self;
}

void
zc_stream_destroy (zc_stream_t **self_p)
{
    zc_stream_t *self = *self_p;
    if (!self)
        return;
    s_page_reset (self);
    zhashx_destroy (&self->plans);
    free (self->frames);
    free (self->bits);
    free (self->root_bits);
    free (self->scratch);
    free (self->slots);
    free (self->done);
    free (self->text);
    free (self);
    *self_p = NULL;
}

bool
zc_stream_prepare (zc_stream_t *self, const zc_extract_rule_t *rules, size_t rule_count)
{
    assert (self);
    char *key = zc_extract_rules_key (rules, rule_count);
    s_plan_t *plan = (s_plan_t *)zhashx_lookup (self->plans, key);
    if (!plan) {
        if (zhashx_size (self->plans) >= ZC_STREAM_MAX_PLANS) {
            self->plan = NULL;
            zhashx_purge (self->plans);
        }
        plan = s_plan_compile (rules, rule_count);
        self->compiles++;
        int rc = zhashx_insert (self->plans, key, plan);
        assert (rc == 0);
    }
    free (key);
    self->plan = plan;
    return plan->streamable;
}

size_t
zc_stream_compiles (zc_stream_t *self)
{
    return self->compiles;
}

void
zc_stream_begin (zc_stream_t *self)
{
    assert (self && self->plan);
    s_page_reset (self);
    self->done = s_grow (self->done, &self->done_alloc, self->plan->rule_count + 1, sizeof (bool));
    memset (self->done, 0, (self->plan->rule_count + 1) * sizeof (bool));
    self->pending = 0;
    for (size_t i = 0; i < self->plan->rule_count; i++)
        self->pending += self->plan->rules[i].usable;
    free (self->root_bits);
    self->root_bits = zc_malloc (self->plan->compound_count + 1);
    free (self->scratch);
    self->scratch = zc_malloc (self->plan->compound_count + 1);
    //  The plan may differ from the last page's: size the flags for it.
    self->bits = realloc (self->bits, self->frame_alloc * self->plan->compound_count + 1);
    if (!self->bits) {
        fprintf (stderr, "zcrawl: out of memory\n");
        abort ();
    }
}

size_t
zc_stream_depth (const zc_stream_t *self)
{
    return self->depth > 0 && self->frames[0].reopened ? self->depth - 1 : self->depth;
}

//  Closes the text slots of FRAME at the current text length.
static void
s_close_slots (zc_stream_t *self, const s_frame_t *frame)
{
    for (size_t i = frame->first_slot; i < frame->first_slot + frame->slot_count; i++) {
        s_slot_t *slot = &self->slots[i];
        if (slot->open) {
            slot->open = false;
            slot->text_end = self->text_len;
            self->open_text--;
        }
    }
}

static void
s_push (zc_stream_t *self, const s_frame_t *frame, const uint8_t *bits)
{
    size_t stride = self->plan->compound_count;
    size_t old_alloc = self->frame_alloc;
    self->frames = s_grow (self->frames, &self->frame_alloc, self->depth + 1, sizeof (s_frame_t));
    if (self->frame_alloc != old_alloc) {
        self->bits = realloc (self->bits, self->frame_alloc * stride + 1);
        if (!self->bits) {
            fprintf (stderr, "zcrawl: out of memory\n");
            abort ();
        }
    }
    self->frames[self->depth] = *frame;
    if (stride)
        memcpy (self->bits + self->depth * stride, bits, stride);
    self->depth++;
}

void
zc_stream_start_element (zc_stream_t *self, const char *name, const char **atts)
{
    const s_plan_t *plan = self->plan;
    size_t stride = plan->compound_count;
    if (zc_stream_depth (self) == 0 && self->first == S_FIRST_ELEMENT && self->root_saved) {
        //  libxml2 makes it the last child of the document's first child
        //  (which is not on its node stack: when this one ends, the stack
        //  is empty again).
        s_frame_t root = self->root;
        root.reopened = true;
        s_push (self, &root, self->root_bits);
        self->root_saved = false;
    }
    size_t *siblings = self->depth ? &self->frames[self->depth - 1].children : &self->top_children;
    s_frame_t frame = {.first_slot = self->slot_count, .index = ++*siblings};
    if (self->depth == 0 && self->first == S_FIRST_NONE) {
        self->first = S_FIRST_ELEMENT;
        frame.root = true;
    }
    //  Once every rule has its value, match flags are never read again.
    if (self->pending == 0) {
        if (stride)
            memset (self->scratch, 0, stride);
        s_push (self, &frame, self->scratch);
        return;
    }
    //  The frame goes on first so that its match flags are in place.
    for (size_t i = 0; i < stride; i++)
        self->scratch[i] = s_compound_match (&plan->compounds[i], name, atts, frame.index);
    s_push (self, &frame, self->scratch);
    for (size_t i = 0; i < plan->rule_count; i++) {
        const s_rule_t *rule = &plan->rules[i];
        if (!rule->usable || self->done[i])
            continue;
        bool match = false;
        for (size_t j = 0; j < rule->selector_count && !match; j++)
            match = s_complex_match (self, &rule->selectors[j]);
        if (!match)
            continue;
        self->slots =
            s_grow (self->slots, &self->slot_alloc, self->slot_count + 1, sizeof (s_slot_t));
        s_slot_t *slot = &self->slots[self->slot_count++];
        memset (slot, 0, sizeof *slot);
        slot->rule = i;
        if (rule->spec.take == ZC_TAKE_ATTR) {
            const char *value = s_attribute (atts, rule->spec.attr);
            slot->value = value ? zc_strdup (value) : NULL;
            self->done[i] = value && !rule->spec.all && !rule->spec.has_regex;
        } else {
            slot->text_start = self->text_len;
            slot->open = true;
            self->open_text++;
            self->done[i] = !rule->spec.all && !rule->spec.has_regex;
        }
        self->pending -= self->done[i];
        self->frames[self->depth - 1].slot_count++;
    }
}

static void
s_pop (zc_stream_t *self)
{
    s_frame_t *frame = &self->frames[--self->depth];
    if (frame->root && self->first == S_FIRST_ELEMENT) {
        //  It may be reopened: its text slots stay open.
        self->root = *frame;
        self->root.reopened = false;
        size_t stride = self->plan->compound_count;
        if (stride)
            memcpy (self->root_bits, self->bits + self->depth * stride, stride);
        self->root_saved = true;
        return;
    }
    s_close_slots (self, frame);
}

void
zc_stream_end_element (zc_stream_t *self)
{
    if (zc_stream_depth (self) == 0)
        return;
    s_pop (self);
    if (self->depth == 1 && self->frames[0].reopened)
        s_pop (self);
}

void
zc_stream_characters (zc_stream_t *self, const char *text, size_t len)
{
    //  Text outside any element is not in the tree; inside, only needed
    //  while a text slot is open.
    if (self->open_text == 0 || len == 0 || zc_stream_depth (self) == 0)
        return;
    self->text = s_grow (self->text, &self->text_alloc, self->text_len + len + 1, 1);
    memcpy (self->text + self->text_len, text, len);
    self->text_len += len;
}

void
zc_stream_doc_node (zc_stream_t *self, bool doctype)
{
    //  A DOCTYPE becomes the document's first child wherever it appears;
    //  a comment or PI only if it comes first.
    if (!doctype && self->first != S_FIRST_NONE)
        return;
    if (self->root_saved)
        s_close_slots (self, &self->root);
    self->root_saved = false;
    if (self->first == S_FIRST_ELEMENT)
        for (size_t i = 0; i < self->depth; i++)
            self->frames[i].root = false;
    self->first = S_FIRST_OTHER;
}

int
zc_stream_finish (zc_stream_t *self, zc_extract_result_t *result)
{
    assert (self && self->plan && result);
    memset (result, 0, sizeof *result);
    const s_plan_t *plan = self->plan;
    int rc = 0;
    zc_extract_output_t output = {.result = result};
    for (size_t i = 0; i < plan->rule_count; i++) {
        const s_rule_t *rule = &plan->rules[i];
        if (rule->spec.error) {
            zc_extract_output_error (result, rule->spec.error);
            rc = -1;
            continue;
        }
        if (!rule->usable)
            continue;
        for (size_t j = 0; j < self->slot_count; j++) {
            s_slot_t *slot = &self->slots[j];
            if (slot->rule != i)
                continue;
            char *value;
            if (rule->spec.take == ZC_TAKE_ATTR) {
                value = slot->value;
                slot->value = NULL;
            } else {
                size_t end = slot->open ? self->text_len : slot->text_end;
                value = zc_extract_collapse (self->text ? self->text + slot->text_start : "",
                                             end - slot->text_start);
            }
            if (!zc_extract_output_add (&output, &rule->spec, value))
                break;
        }
    }
    s_page_reset (self);
    return rc;
}
