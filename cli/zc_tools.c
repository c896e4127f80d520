/*  zc_tools — `zcrawl robots` and `zcrawl url`; see zc_tools.h. */
#include "zc_tools.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zc_robots.h"
#include "zc_url.h"

static int
s_usage (const char *usage)
{
    fprintf (stderr, "usage: %s\n", usage);
    return 2;
}

static bool
s_wants_help (int argc, char **argv)
{
    return argc == 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0);
}

//  Reads at most ZC_ROBOTS_MAX_BYTES of PATH (more is never parsed).
static char *
s_read_robots (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *body = malloc (ZC_ROBOTS_MAX_BYTES);
    if (!body)
        abort ();
    *size = fread (body, 1, ZC_ROBOTS_MAX_BYTES, file);
    bool failed = ferror (file);
    fclose (file);
    if (failed) {
        free (body);
        return NULL;
    }
    return body;
}

int
zc_tools_robots_main (int argc, char **argv)
{
    const char *usage = "zcrawl robots ROBOTS_FILE USER_AGENT URL\n\n"
                        "Prints 'allowed' (exit 0) or 'disallowed' (exit 1): whether URL may be\n"
                        "crawled by USER_AGENT under the robots.txt in ROBOTS_FILE (RFC 9309).";
    if (s_wants_help (argc, argv)) {
        printf ("usage: %s\n", usage);
        return 0;
    }
    if (argc != 4)
        return s_usage (usage);
    char token[128];
    if (zc_robots_product_token (argv[2], token, sizeof token) != 0) {
        fprintf (stderr, "zcrawl robots: '%s' has no product token ([A-Za-z_-]+)\n", argv[2]);
        return 2;
    }
    zc_url_status_t status;
    char *url = zc_url_canonical (argv[3], &status);
    if (!url) {
        fprintf (stderr, "zcrawl robots: bad URL '%s': %s\n", argv[3], zc_url_status_str (status));
        return 2;
    }
    size_t size = 0;
    char *body = s_read_robots (argv[1], &size);
    if (!body) {
        fprintf (stderr, "zcrawl robots: cannot read %s: %s\n", argv[1], strerror (errno));
        free (url);
        return 2;
    }
    zc_robots_matcher_t *robots = zc_robots_parse (body, size, token);
    bool allowed = zc_robots_allowed_url (robots, url);
    printf ("%s\n", allowed ? "allowed" : "disallowed");
    zc_robots_destroy (&robots);
    free (body);
    free (url);
    return allowed ? 0 : 1;
}

int
zc_tools_url_main (int argc, char **argv)
{
    const char *usage = "zcrawl url BASE HREF\n\n"
                        "Prints the canonical absolute URL zcrawl would enqueue for a link HREF\n"
                        "found on the page BASE, or why it would not (exit 1).";
    if (s_wants_help (argc, argv)) {
        printf ("usage: %s\n", usage);
        return 0;
    }
    if (argc != 3)
        return s_usage (usage);
    zc_url_status_t status;
    zc_url_base_t *base = zc_url_base_new (argv[1], &status);
    if (!base) {
        fprintf (stderr, "zcrawl url: bad BASE '%s': %s\n", argv[1], zc_url_status_str (status));
        return 2;
    }
    char *url = zc_url_base_resolve (base, argv[2], &status);
    zc_url_base_destroy (&base);
    if (!url) {
        fprintf (stderr, "zcrawl url: '%s' is not crawlable: %s\n", argv[2],
                 zc_url_status_str (status));
        return 1;
    }
    printf ("%s\n", url);
    free (url);
    return 0;
}
