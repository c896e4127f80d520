/*  zc_css — CSS selector subset to XPath 1.0.

    A hand-written recursive-descent reader over the selector text that
    writes XPath as it goes: each complex selector becomes a location path
    from the root ("//" for the first compound and after a descendant
    combinator, "/" after '>'), each simple selector a predicate, and a
    selector list a union ('|'). Values go into XPath string literals,
    quoted with ' or " (or concat() when they contain both), so no selector
    text can break out of its literal. Names are restricted to identifier
    characters, so they cannot inject XPath syntax either.
*/
#include "zc_css.h"

#include "zc_util.h"

#include <czmq.h>
#include <stdbool.h>
#include <string.h>

typedef struct {
    const char *css; //  borrowed; the whole selector
    size_t pos;      //  read position in css
    char *out;       //  owned XPath being written
    size_t len;
    size_t alloc;
    char *error; //  owned; first error, or NULL
} s_reader_t;

static void
s_put_n (s_reader_t *self, const char *s, size_t n)
{
    if (self->len + n + 1 > self->alloc) {
        while (self->len + n + 1 > self->alloc)
            self->alloc = self->alloc ? self->alloc * 2 : 128;
        self->out = realloc (self->out, self->alloc);
        if (!self->out) {
            fprintf (stderr, "zcrawl: out of memory\n");
            abort ();
        }
    }
    memcpy (self->out + self->len, s, n);
    self->len += n;
    self->out[self->len] = 0;
}

static void
s_put (s_reader_t *self, const char *s)
{
    s_put_n (self, s, strlen (s));
}

//  Records the first error (later ones are consequences of it).
static void
s_fail (s_reader_t *self, const char *what)
{
    if (!self->error)
        self->error =
            zsys_sprintf ("CSS selector '%s': %s at offset %zu", self->css, what, self->pos);
}

static char
s_peek (const s_reader_t *self)
{
    return self->css[self->pos];
}

static bool
s_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool
s_skip_spaces (s_reader_t *self)
{
    size_t start = self->pos;
    while (s_is_space (s_peek (self)))
        self->pos++;
    return self->pos > start;
}

static bool
s_is_name_char (char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' ||
           u == '_' || u >= 0x80;
}

//  Reads an identifier into a new string (lowercased if LOWER), or NULL
//  (error recorded). NAME_START: must be a valid XPath name start too.
static char *
s_read_ident (s_reader_t *self, bool lower, const char *what)
{
    size_t start = self->pos;
    while (s_is_name_char (s_peek (self)))
        self->pos++;
    if (self->pos == start) {
        if (s_peek (self) == '\\')
            s_fail (self, "escapes are not supported");
        else {
            char message[64];
            snprintf (message, sizeof message, "expected %s", what);
            s_fail (self, message);
        }
        return NULL;
    }
    if (s_peek (self) == '\\') {
        s_fail (self, "escapes are not supported");
        return NULL;
    }
    char *ident = zc_strndup (self->css + start, self->pos - start);
    if (lower)
        for (char *p = ident; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    return ident;
}

//  A type or attribute name must also be an XPath NCName: it may not start
//  with a digit, '-' or '.'.
static char *
s_read_name (s_reader_t *self, const char *what)
{
    size_t start = self->pos;
    char *name = s_read_ident (self, true, what);
    if (name && ((name[0] >= '0' && name[0] <= '9') || name[0] == '-')) {
        self->pos = start;
        s_fail (self, "names starting with a digit or '-' are not supported");
        free (name);
        return NULL;
    }
    return name;
}

//  Reads a '...' or "..." string (a backslash escapes the next character)
//  or an identifier. Returns a new string or NULL (error recorded).
static char *
s_read_value (s_reader_t *self)
{
    char quote = s_peek (self);
    if (quote != '\'' && quote != '"')
        return s_read_ident (self, false, "a value");
    self->pos++;
    size_t alloc = strlen (self->css + self->pos) + 1;
    char *value = zc_malloc (alloc);
    size_t len = 0;
    for (;;) {
        char c = s_peek (self);
        if (c == 0) {
            s_fail (self, "unterminated string");
            free (value);
            return NULL;
        }
        self->pos++;
        if (c == quote)
            break;
        if (c == '\\') {
            c = s_peek (self);
            if (c == 0)
                continue; //  reported as unterminated
            self->pos++;
        }
        value[len++] = c;
    }
    value[len] = 0;
    return value;
}

//  Writes VALUE as an XPath 1.0 string literal.
static void
s_put_literal (s_reader_t *self, const char *value)
{
    if (!strchr (value, '\'')) {
        s_put (self, "'");
        s_put (self, value);
        s_put (self, "'");
        return;
    }
    if (!strchr (value, '"')) {
        s_put (self, "\"");
        s_put (self, value);
        s_put (self, "\"");
        return;
    }
    //  Both quote kinds: concat('...', "'", '...').
    s_put (self, "concat(''");
    for (const char *p = value; *p;) {
        size_t n = strcspn (p, "'");
        if (n > 0) {
            s_put (self, ", '");
            s_put_n (self, p, n);
            s_put (self, "'");
        }
        p += n;
        if (*p == '\'') {
            s_put (self, ", \"'\"");
            p++;
        }
    }
    s_put (self, ")");
}

//  [name], [name=v], [name^=v], [name$=v], [name*=v]; the '[' is read.
static void
s_read_attribute (s_reader_t *self)
{
    s_skip_spaces (self);
    char *name = s_read_name (self, "an attribute name");
    if (!name)
        return;
    s_skip_spaces (self);
    char op = s_peek (self);
    if (op == ']') {
        self->pos++;
        s_put (self, "[@");
        s_put (self, name);
        s_put (self, "]");
        free (name);
        return;
    }
    if (op == '=')
        self->pos++;
    else if ((op == '^' || op == '$' || op == '*') && self->css[self->pos + 1] == '=')
        self->pos += 2;
    else {
        s_fail (self, op == '~' || op == '|' ? "unsupported attribute operator"
                                             : "expected ']' or an attribute operator");
        free (name);
        return;
    }
    s_skip_spaces (self);
    char *value = s_read_value (self);
    if (!value) {
        free (name);
        return;
    }
    s_skip_spaces (self);
    if (s_peek (self) != ']') {
        s_fail (self, "expected ']' (attribute flags are not supported)");
        free (name);
        free (value);
        return;
    }
    self->pos++;
    if (op != '=' && !*value)
        //  CSS: ^=, $= and *= with an empty value match nothing.
        s_put (self, "[false()]");
    else if (op == '=') {
        s_put (self, "[@");
        s_put (self, name);
        s_put (self, "=");
        s_put_literal (self, value);
        s_put (self, "]");
    } else if (op == '^' || op == '*') {
        s_put (self, op == '^' ? "[starts-with(@" : "[contains(@");
        s_put (self, name);
        s_put (self, ", ");
        s_put_literal (self, value);
        s_put (self, ")]");
    } else {
        //  XPath 1.0 has no ends-with().
        s_put (self, "[substring(@");
        s_put (self, name);
        s_put (self, ", string-length(@");
        s_put (self, name);
        s_put (self, ") - string-length(");
        s_put_literal (self, value);
        s_put (self, ") + 1) = ");
        s_put_literal (self, value);
        s_put (self, "]");
    }
    free (name);
    free (value);
}

//  :nth-child(N); the ':' is read.
static void
s_read_pseudo (s_reader_t *self)
{
    if (s_peek (self) == ':') {
        s_fail (self, "pseudo-elements are not supported");
        return;
    }
    size_t start = self->pos;
    char *name = s_read_ident (self, true, "a pseudo-class name");
    if (!name)
        return;
    bool nth = streq (name, "nth-child");
    free (name);
    if (!nth || s_peek (self) != '(') {
        self->pos = start;
        s_fail (self, "unsupported pseudo-class (only :nth-child(N))");
        return;
    }
    self->pos++;
    s_skip_spaces (self);
    size_t digits = self->pos;
    long n = 0;
    while (s_peek (self) >= '0' && s_peek (self) <= '9' && n < 1000000) {
        n = n * 10 + (s_peek (self) - '0');
        self->pos++;
    }
    bool number = self->pos > digits;
    s_skip_spaces (self);
    if (!number || n < 1 || s_peek (self) != ')') {
        s_fail (self, ":nth-child needs a positive integer (formulas are not supported)");
        return;
    }
    self->pos++;
    char predicate[64];
    snprintf (predicate, sizeof predicate, "[count(preceding-sibling::*) = %ld]", n - 1);
    s_put (self, predicate);
}

//  A compound selector: optional type or '*', then #id .class [attr] :pseudo.
//  Returns false (error recorded) if there is none or it is malformed.
static bool
s_read_compound (s_reader_t *self)
{
    char c = s_peek (self);
    if (c == '*') {
        self->pos++;
        s_put (self, "*");
    } else if (s_is_name_char (c) || c == '\\') {
        char *name = s_read_name (self, "a type selector");
        if (!name)
            return false;
        s_put (self, name);
        free (name);
    } else
        s_put (self, "*");
    while (!self->error) {
        c = s_peek (self);
        if (c == '#' || c == '.') {
            self->pos++;
            char *value = s_read_ident (self, false, c == '#' ? "an id" : "a class name");
            if (!value)
                return false;
            if (c == '#') {
                s_put (self, "[@id=");
                s_put_literal (self, value);
                s_put (self, "]");
            } else {
                s_put (self, "[contains(concat(' ', normalize-space(@class), ' '), ");
                char *padded = zsys_sprintf (" %s ", value);
                s_put_literal (self, padded);
                free (padded);
                s_put (self, ")]");
            }
            free (value);
        } else if (c == '[') {
            self->pos++;
            s_read_attribute (self);
        } else if (c == ':') {
            self->pos++;
            s_read_pseudo (self);
        } else
            break;
    }
    return !self->error;
}

//  A complex selector: compounds joined by ' ' or '>'.
static void
s_read_complex (s_reader_t *self)
{
    s_skip_spaces (self);
    char c = s_peek (self);
    if (c == 0 || c == ',' || c == '>' || c == '+' || c == '~') {
        s_fail (self, c == 0 || c == ',' ? "empty selector" : "selector starts with a combinator");
        return;
    }
    s_put (self, "//");
    for (;;) {
        if (!s_read_compound (self))
            return;
        bool spaces = s_skip_spaces (self);
        c = s_peek (self);
        if (c == 0 || c == ',')
            return;
        if (c == '+' || c == '~') {
            s_fail (self, "unsupported combinator (only ' ' and '>')");
            return;
        }
        if (c == '>') {
            self->pos++;
            s_skip_spaces (self);
            s_put (self, "/");
        } else if (spaces)
            s_put (self, "//");
        else {
            s_fail (self, "unexpected character");
            return;
        }
        c = s_peek (self);
        if (c == 0 || c == ',' || c == '>' || c == '+' || c == '~') {
            s_fail (self, "combinator without a selector after it");
            return;
        }
    }
}

char *
zc_css_to_xpath (const char *css, char **error)
{
    if (error)
        *error = NULL;
    s_reader_t self = {.css = css ? css : ""};
    for (;;) {
        s_read_complex (&self);
        if (self.error || s_peek (&self) != ',')
            break;
        self.pos++;
        s_put (&self, " | ");
    }
    if (!self.error && s_peek (&self) != 0)
        s_fail (&self, "unexpected character");
    if (self.error) {
        free (self.out);
        if (error)
            *error = self.error;
        else
            free (self.error);
        return NULL;
    }
    return self.out;
}
