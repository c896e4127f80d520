/*  zc_robots — robots.txt (RFC 9309) parsing and matching; see zc_robots.h.

    Parsing is one pass over the first 500 KiB (RFC 9309 2.5), after a UTF-8
    BOM. Lines end at CR, LF or CRLF; '#' starts a comment (2.2.3); a record
    is "key: value" with the key compared case-insensitively and whitespace
    around key and value ignored. Choices where the RFC leaves room, or where
    we follow its grammar rather than Google's typo tolerance:
    - A line without a colon is not a record and is ignored entirely (the
      RFC grammar requires the colon; "Disallow /x" is NOT read as a rule).
      Misspelt keys ("useragent", "dissallow") are unknown keys, ignored.
    - Groups (2.2.1): consecutive user-agent lines (empty lines, comments,
      Sitemap and unknown records in between do not break the run) start a
      group; its first Allow/Disallow/Crawl-delay ends the run, so the next
      user-agent line starts a new group. A user-agent value is matched by
      its leading [A-Za-z_-]+ token ("zcrawl/1.0" -> "zcrawl"), compared
      whole and case-insensitively with ours; "*" (alone, or followed by a
      non-token character) is the fallback. Every group that names us is
      merged; only if none names us (not even one without rules) are the
      "*" groups merged and used; else no rules apply.
    - Rules before any user-agent line belong to no group and are ignored.
      An empty Allow/Disallow value is no rule (but still ends the run). A
      pattern must start with '/' or '*' (RFC grammar; others are ignored).
    - Patterns and paths are normalised alike (2.2.2): %XX of an unreserved
      character (ALPHA DIGIT - . _ ~) is decoded, other %xx get uppercase
      hex, and octets outside printable ASCII are percent-encoded, so
      "%62az" == "baz" and "/ツ" == "/%E3%83%84", while "%2F" stays distinct
      from '/' and "%2A"/"%24" stay literal. Reserved characters that appear
      unencoded are compared as they are (the RFC's "https://" query example
      is not applied: canonical URLs from zc_url keep them unencoded too).
    - Longest match wins, by the octet length of the normalised pattern
      (including '*' and '$'); Allow wins a tie. '*' matches any run of
      octets; '$' is an anchor only as the last character.
    - Crawl-delay: decimal seconds ("2", "0.5"; no sign, no exponent), the
      largest valid value among the selected groups; invalid values are
      ignored; capped at one day.
    - Sitemap records are collected from anywhere in the file.
    Matching allocates nothing unless a path is longer than 4 KiB once
    normalised (worst case O(pattern * path) per rule).
*/
#include "zc_robots.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "zc_util.h"

#define S_PATH_STACK_BYTES 4096
#define S_MAX_CRAWL_DELAY_MS (86400 * 1000LL)

typedef struct {
    bool allow;
    char *pattern; //  owned, normalised, with the trailing '$' if any
    size_t size;   //  strlen (pattern): the match length for precedence
} s_rule_t;

typedef struct {
    s_rule_t *items; //  owned
    size_t count;
    size_t cap;
} s_rule_list_t;

struct zc_robots_matcher {
    s_rule_list_t rules;        //  the selected rules
    zc_robots_rule_t *exported; //  owned array, paths borrowed from rules
    int64_t crawl_delay_ms;     //  -1 = none
    char **sitemaps;            //  owned
    size_t sitemap_count;
    size_t sitemap_cap;
};

static bool
s_is_unreserved (unsigned char c)
{
    return isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int
s_hex (unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

//  Normalises SIZE bytes of SRC into DST (room for at least 3 * SIZE + 1
//  bytes; NUL-terminated). Returns the output length.
static size_t
s_normalise (const char *src, size_t size, char *dst)
{
    const char *digits = "0123456789ABCDEF";
    size_t out = 0;
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%' && i + 2 < size && s_hex ((unsigned char)src[i + 1]) >= 0 &&
            s_hex ((unsigned char)src[i + 2]) >= 0) {
            unsigned char v = (unsigned char)(s_hex ((unsigned char)src[i + 1]) * 16 +
                                              s_hex ((unsigned char)src[i + 2]));
            i += 2;
            if (s_is_unreserved (v))
                dst[out++] = (char)v;
            else {
                dst[out++] = '%';
                dst[out++] = digits[v >> 4];
                dst[out++] = digits[v & 15];
            }
        } else if (c <= 0x20 || c >= 0x7F) {
            dst[out++] = '%';
            dst[out++] = digits[c >> 4];
            dst[out++] = digits[c & 15];
        } else
            dst[out++] = (char)c;
    }
    dst[out] = '\0';
    return out;
}

static void
s_rule_list_add (s_rule_list_t *list, bool allow, const char *pattern, size_t size)
{
    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        list->items = realloc (list->items, list->cap * sizeof *list->items);
        if (!list->items)
            abort ();
    }
    char *normalised = zc_malloc (3 * size + 1);
    size_t n = s_normalise (pattern, size, normalised);
    list->items[list->count++] = (s_rule_t){.allow = allow, .pattern = normalised, .size = n};
}

static void
s_rule_list_free (s_rule_list_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        free (list->items[i].pattern);
    free (list->items);
    *list = (s_rule_list_t){0};
}

static zc_robots_matcher_t *
s_new (void)
{
    zc_robots_matcher_t *self = zc_malloc (sizeof *self);
    memset (self, 0, sizeof *self);
    self->crawl_delay_ms = -1;
    return self;
}

//  Builds the exported view of the selected rules.
static void
s_export (zc_robots_matcher_t *self)
{
    if (self->rules.count == 0)
        return;
    self->exported = zc_malloc (self->rules.count * sizeof *self->exported);
    for (size_t i = 0; i < self->rules.count; i++)
        self->exported[i] = (zc_robots_rule_t){.allow = self->rules.items[i].allow,
                                               .path = self->rules.items[i].pattern};
}

void
zc_robots_destroy (zc_robots_matcher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zc_robots_matcher_t *self = *self_p;
    s_rule_list_free (&self->rules);
    free (self->exported);
    for (size_t i = 0; i < self->sitemap_count; i++)
        free (self->sitemaps[i]);
    free (self->sitemaps);
    free (self);
    *self_p = NULL;
}

zc_robots_matcher_t *
zc_robots_allow_all (void)
{
    return s_new ();
}

zc_robots_matcher_t *
zc_robots_disallow_all (void)
{
    zc_robots_matcher_t *self = s_new ();
    s_rule_list_add (&self->rules, false, "/", 1);
    s_export (self);
    return self;
}

zc_robots_matcher_t *
zc_robots_from_rules (const zc_robots_rule_t *rules, size_t count)
{
    zc_robots_matcher_t *self = s_new ();
    for (size_t i = 0; rules && i < count; i++) {
        const char *path = rules[i].path;
        //  Same validity rule as the parser: untrusted job data
        if (path && (path[0] == '/' || path[0] == '*'))
            s_rule_list_add (&self->rules, rules[i].allow, path, strlen (path));
    }
    s_export (self);
    return self;
}

int
zc_robots_product_token (const char *user_agent, char *buf, size_t size)
{
    if (!user_agent || !buf)
        return -1;
    size_t n = 0;
    while (isalpha ((unsigned char)user_agent[n]) || user_agent[n] == '_' || user_agent[n] == '-')
        n++;
    if (n == 0 || n + 1 > size)
        return -1;
    memcpy (buf, user_agent, n);
    buf[n] = '\0';
    return 0;
}

//  ---------------------------------------------------------------------
//  Parsing

typedef struct {
    const char *token; //  our product token
    size_t token_size;
    bool in_agent_run; //  the last record was a user-agent line
    bool cur_specific; //  the current group names us
    bool cur_star;     //  the current group is a '*' group
    bool found_specific;
    s_rule_list_t specific;
    s_rule_list_t star;
    int64_t specific_delay_ms;
    int64_t star_delay_ms;
} s_parser_t;

static bool
s_is_ws (char c)
{
    return c == ' ' || c == '\t';
}

static bool
s_key_is (const char *key, size_t size, const char *name)
{
    return strlen (name) == size && strncasecmp (key, name, size) == 0;
}

static bool
s_is_token_char (char c)
{
    return isalpha ((unsigned char)c) || c == '_' || c == '-';
}

static void
s_on_user_agent (s_parser_t *p, const char *value, size_t size)
{
    if (!p->in_agent_run) {
        p->in_agent_run = true;
        p->cur_specific = false;
        p->cur_star = false;
    }
    if (size >= 1 && value[0] == '*' && (size == 1 || !s_is_token_char (value[1]))) {
        p->cur_star = true;
        return;
    }
    size_t n = 0;
    while (n < size && s_is_token_char (value[n]))
        n++;
    if (n > 0 && n == p->token_size && strncasecmp (value, p->token, n) == 0) {
        p->cur_specific = true;
        p->found_specific = true;
    }
}

//  Parses a Crawl-delay value; -1 if invalid.
static int64_t
s_parse_delay_ms (const char *value, size_t size)
{
    size_t i = 0;
    int64_t seconds = 0;
    size_t int_digits = 0;
    while (i < size && isdigit ((unsigned char)value[i])) {
        if (seconds < 1000000)
            seconds = seconds * 10 + (value[i] - '0');
        i++;
        int_digits++;
    }
    int64_t millis = 0;
    size_t frac_digits = 0;
    if (i < size && value[i] == '.') {
        i++;
        int64_t scale = 100;
        while (i < size && isdigit ((unsigned char)value[i])) {
            millis += (value[i] - '0') * scale;
            scale /= 10;
            i++;
            frac_digits++;
        }
    }
    if (i != size || (int_digits == 0 && frac_digits == 0))
        return -1;
    int64_t ms = seconds * 1000 + millis;
    return ms > S_MAX_CRAWL_DELAY_MS ? S_MAX_CRAWL_DELAY_MS : ms;
}

static void
s_add_sitemap (zc_robots_matcher_t *self, const char *value, size_t size)
{
    if (size == 0)
        return;
    if (self->sitemap_count == self->sitemap_cap) {
        self->sitemap_cap = self->sitemap_cap ? self->sitemap_cap * 2 : 4;
        self->sitemaps = realloc (self->sitemaps, self->sitemap_cap * sizeof *self->sitemaps);
        if (!self->sitemaps)
            abort ();
    }
    self->sitemaps[self->sitemap_count++] = zc_strndup (value, size);
}

static void
s_on_group_record (s_parser_t *p, bool is_delay, bool allow, const char *value, size_t size)
{
    p->in_agent_run = false;
    if (!p->cur_specific && !p->cur_star)
        return;
    if (is_delay) {
        int64_t ms = s_parse_delay_ms (value, size);
        if (ms < 0)
            return;
        if (p->cur_specific && ms > p->specific_delay_ms)
            p->specific_delay_ms = ms;
        if (p->cur_star && ms > p->star_delay_ms)
            p->star_delay_ms = ms;
        return;
    }
    if (size == 0 || (value[0] != '/' && value[0] != '*'))
        return;
    if (p->cur_specific)
        s_rule_list_add (&p->specific, allow, value, size);
    if (p->cur_star)
        s_rule_list_add (&p->star, allow, value, size);
}

static void
s_parse_line (s_parser_t *p, zc_robots_matcher_t *self, const char *line, size_t size)
{
    const char *hash = memchr (line, '#', size);
    if (hash)
        size = (size_t)(hash - line);
    const char *colon = memchr (line, ':', size);
    if (!colon)
        return;
    const char *key = line;
    size_t key_size = (size_t)(colon - line);
    while (key_size > 0 && s_is_ws (*key))
        key++, key_size--;
    while (key_size > 0 && s_is_ws (key[key_size - 1]))
        key_size--;
    const char *value = colon + 1;
    size_t value_size = (size_t)(line + size - value);
    while (value_size > 0 && s_is_ws (*value))
        value++, value_size--;
    while (value_size > 0 && s_is_ws (value[value_size - 1]))
        value_size--;

    if (s_key_is (key, key_size, "user-agent"))
        s_on_user_agent (p, value, value_size);
    else if (s_key_is (key, key_size, "allow"))
        s_on_group_record (p, false, true, value, value_size);
    else if (s_key_is (key, key_size, "disallow"))
        s_on_group_record (p, false, false, value, value_size);
    else if (s_key_is (key, key_size, "crawl-delay"))
        s_on_group_record (p, true, false, value, value_size);
    else if (s_key_is (key, key_size, "sitemap"))
        s_add_sitemap (self, value, value_size);
    //  else: unknown record, ignored (RFC 9309 2.2.4)
}

zc_robots_matcher_t *
zc_robots_parse (const char *body, size_t size, const char *user_agent_token)
{
    zc_robots_matcher_t *self = s_new ();
    s_parser_t p = {.token = user_agent_token ? user_agent_token : "",
                    .specific_delay_ms = -1,
                    .star_delay_ms = -1};
    p.token_size = strlen (p.token);
    if (!body)
        size = 0;
    if (size > ZC_ROBOTS_MAX_BYTES)
        size = ZC_ROBOTS_MAX_BYTES;
    size_t pos = 0;
    if (size >= 3 && memcmp (body, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < size) {
        size_t end = pos;
        while (end < size && body[end] != '\r' && body[end] != '\n')
            end++;
        s_parse_line (&p, self, body + pos, end - pos);
        if (end < size && body[end] == '\r' && end + 1 < size && body[end + 1] == '\n')
            end++;
        pos = end + 1;
    }
    if (p.found_specific) {
        self->rules = p.specific;
        self->crawl_delay_ms = p.specific_delay_ms;
        s_rule_list_free (&p.star);
    } else {
        self->rules = p.star;
        self->crawl_delay_ms = p.star_delay_ms;
        s_rule_list_free (&p.specific);
    }
    s_export (self);
    return self;
}

//  ---------------------------------------------------------------------
//  Matching

//  True if PATTERN (SIZE bytes, normalised, maybe ending in '$') matches
//  PATH (normalised) from its start. Greedy '*' with backtracking to the
//  last star: O(size * strlen (path)) worst case, no allocation.
static bool
s_pattern_matches (const char *pattern, size_t size, const char *path, size_t path_size)
{
    bool anchored = size > 0 && pattern[size - 1] == '$';
    if (anchored)
        size--;
    size_t pi = 0, si = 0;
    size_t star_pi = SIZE_MAX, star_si = 0;
    while (true) {
        if (pi == size) {
            if (!anchored || si == path_size)
                return true;
        } else if (pattern[pi] == '*') {
            star_pi = pi++;
            star_si = si;
            continue;
        } else if (si < path_size && pattern[pi] == path[si]) {
            pi++;
            si++;
            continue;
        }
        //  Mismatch (or anchored end not reached): let the last '*' eat one more
        if (star_pi == SIZE_MAX || star_si >= path_size)
            return false;
        pi = star_pi + 1;
        si = ++star_si;
    }
}

static bool
s_allowed_normalised (const zc_robots_matcher_t *self, const char *path, size_t path_size)
{
    if (path_size == strlen ("/robots.txt") && memcmp (path, "/robots.txt", path_size) == 0)
        return true;
    bool matched = false, allow = true;
    size_t best = 0;
    for (size_t i = 0; i < self->rules.count; i++) {
        const s_rule_t *rule = &self->rules.items[i];
        //  Only a longer match, or an Allow of the same length, can change the outcome
        if (matched && (rule->size < best || (rule->size == best && (allow || !rule->allow))))
            continue;
        if (!s_pattern_matches (rule->pattern, rule->size, path, path_size))
            continue;
        allow = rule->allow;
        matched = true;
        best = rule->size;
    }
    return allow;
}

bool
zc_robots_allowed (const zc_robots_matcher_t *self, const char *path_and_query)
{
    if (!self || self->rules.count == 0)
        return true;
    if (!path_and_query)
        path_and_query = "";
    //  "" counts as "/", and "?q" as "/?q"
    bool add_slash = path_and_query[0] != '/';
    size_t size = strlen (path_and_query);
    size_t need = 3 * size + 2;
    char stack[S_PATH_STACK_BYTES];
    char *buf = need <= sizeof stack ? stack : zc_malloc (need);
    size_t n = 0;
    if (add_slash)
        buf[n++] = '/';
    n += s_normalise (path_and_query, size, buf + n);
    bool allowed = s_allowed_normalised (self, buf, n);
    if (buf != stack)
        free (buf);
    return allowed;
}

bool
zc_robots_allowed_url (const zc_robots_matcher_t *self, const char *url)
{
    if (!url)
        return zc_robots_allowed (self, "/");
    const char *p = strstr (url, "://");
    p = p ? p + 3 : url;
    p += strcspn (p, "/?#");
    size_t size = strcspn (p, "#");
    if (size == strlen (p))
        return zc_robots_allowed (self, p);
    char stack[S_PATH_STACK_BYTES];
    char *copy = size < sizeof stack ? stack : zc_malloc (size + 1);
    memcpy (copy, p, size);
    copy[size] = '\0';
    bool allowed = zc_robots_allowed (self, copy);
    if (copy != stack)
        free (copy);
    return allowed;
}

int64_t
zc_robots_crawl_delay_ms (const zc_robots_matcher_t *self)
{
    return self ? self->crawl_delay_ms : -1;
}

const zc_robots_rule_t *
zc_robots_rules (const zc_robots_matcher_t *self, size_t *count)
{
    if (count)
        *count = self ? self->rules.count : 0;
    return self ? self->exported : NULL;
}

const char *const *
zc_robots_sitemaps (const zc_robots_matcher_t *self, size_t *count)
{
    if (count)
        *count = self ? self->sitemap_count : 0;
    return self ? (const char *const *)self->sitemaps : NULL;
}
