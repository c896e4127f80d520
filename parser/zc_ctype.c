/*  zc_ctype — Content-Type parsing and HTML sniffing. See zc_ctype.h.

    Header values are untrusted: nothing here allocates, every copy is
    bounded, and an implausible charset name is dropped rather than handed
    to iconv.
*/
#include "zc_ctype.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool
s_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

//  Copies [start, end) trimmed into OUT (ZC_CTYPE_MAX_BYTES + 1), optionally
//  lowercased; an over-long value gives "".
static void
s_copy_trimmed (const char *start, const char *end, char *out, bool lower)
{
    while (start < end && s_is_space (*start))
        start++;
    while (end > start && s_is_space (end[-1]))
        end--;
    size_t len = (size_t)(end - start);
    if (len > ZC_CTYPE_MAX_BYTES)
        len = 0;
    for (size_t i = 0; i < len; i++)
        out[i] = lower ? (char)tolower ((unsigned char)start[i]) : start[i];
    out[len] = 0;
}

//  Charset names are tokens: letters, digits and "-_.:+" (IANA registry).
static bool
s_plausible_charset (const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum ((unsigned char)*s) && !strchr ("-_.:+", *s))
            return false;
    return true;
}

void
zc_ctype_parse (const char *content_type, char *mime, char *charset)
{
    mime[0] = 0;
    charset[0] = 0;
    if (!content_type)
        return;
    const char *semi = strchr (content_type, ';');
    const char *end = semi ? semi : content_type + strlen (content_type);
    s_copy_trimmed (content_type, end, mime, true);
    //  Parameters: ; name=value ; name="value"
    while (semi) {
        const char *param = semi + 1;
        semi = strchr (param, ';');
        const char *param_end = semi ? semi : param + strlen (param);
        const char *eq = memchr (param, '=', (size_t)(param_end - param));
        if (!eq)
            continue;
        char name[ZC_CTYPE_MAX_BYTES + 1];
        s_copy_trimmed (param, eq, name, true);
        if (strcmp (name, "charset") != 0)
            continue;
        const char *value = eq + 1;
        const char *value_end = param_end;
        while (value < value_end && s_is_space (*value))
            value++;
        while (value_end > value && s_is_space (value_end[-1]))
            value_end--;
        if (value_end - value >= 2 && *value == '"' && value_end[-1] == '"') {
            value++;
            value_end--;
        }
        s_copy_trimmed (value, value_end, charset, false);
        if (!s_plausible_charset (charset))
            charset[0] = 0;
        return;
    }
}

bool
zc_ctype_is_html (const char *mime)
{
    return strcmp (mime, "text/html") == 0 || strcmp (mime, "application/xhtml+xml") == 0;
}

//  WHATWG MIME Sniffing 7.1 HTML patterns; each must be followed by a
//  tag-terminating byte (space or '>'; we also accept other whitespace).
static const char *const s_html_patterns[] = {
    "<!doctype html", "<html", "<head",  "<script", "<iframe", "<h1",   "<div", "<font",
    "<table",         "<a",    "<style", "<title",  "<b",      "<body", "<br",  "<p",
    "<!--",
};

bool
zc_ctype_sniff_html (const char *body, size_t size)
{
    const unsigned char *p = (const unsigned char *)body;
    size_t i = 0;
    if (size >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        i = 3;
    while (i < size && s_is_space ((char)p[i]))
        i++;
    for (size_t k = 0; k < sizeof s_html_patterns / sizeof s_html_patterns[0]; k++) {
        const char *pattern = s_html_patterns[k];
        size_t len = strlen (pattern);
        if (size - i <= len || strncasecmp ((const char *)p + i, pattern, len) != 0)
            continue;
        char next = (char)p[i + len];
        if (next == '>' || s_is_space (next) || strcmp (pattern, "<!--") == 0)
            return true;
    }
    return false;
}
