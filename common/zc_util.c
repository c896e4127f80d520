/*  zc_util — see zc_util.h. Kept deliberately small: anything with a real
    idea of its own gets its own module.
*/
#include "zc_util.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <unistd.h>

static void
s_out_of_memory (void)
{
    fprintf (stderr, "zcrawl: out of memory\n");
    abort ();
}

char *
zc_strdup (const char *s)
{
    if (!s)
        return NULL;
    char *copy = strdup (s);
    if (!copy)
        s_out_of_memory ();
    return copy;
}

char *
zc_strndup (const char *s, size_t n)
{
    char *copy = strndup (s, n);
    if (!copy)
        s_out_of_memory ();
    return copy;
}

void *
zc_malloc (size_t size)
{
    void *p = malloc (size ? size : 1);
    if (!p)
        s_out_of_memory ();
    return p;
}

uint64_t
zc_hash64 (const void *data, size_t size)
{
    //  FNV-1a over the bytes, then the splitmix64 finaliser so that the low
    //  bits (used by open-addressing tables) are well mixed.
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

int64_t
zc_now_ms (void)
{
    struct timeval tv;
    gettimeofday (&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int
zc_ready_file_write (const char *path, const json_t *object)
{
    char tmp[4096];
    if (snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid ()) >= (int)sizeof tmp)
        return -1;
    if (json_dump_file (object, tmp, JSON_INDENT (2)) != 0) {
        zsys_error ("zc_util: cannot write ready file %s", tmp);
        return -1;
    }
    if (rename (tmp, path) != 0) {
        zsys_error ("zc_util: cannot rename %s to %s: %s", tmp, path, strerror (errno));
        unlink (tmp);
        return -1;
    }
    return 0;
}

char *
zc_node_id_new (const char *role)
{
    char host[256] = "host";
    if (gethostname (host, sizeof host - 1) != 0)
        snprintf (host, sizeof host, "host");
    host[sizeof host - 1] = 0;
    char *id = zsys_sprintf ("%s-%s-%d-%04x", role, host, (int)getpid (), randof (0x10000));
    if (!id)
        s_out_of_memory ();
    return id;
}

//  Splits "tcp://HOST:PORT" into the host span; returns 0 or -1.
static int
s_endpoint_host (const char *endpoint, const char **host, size_t *host_len)
{
    const char *prefix = "tcp://";
    if (strncmp (endpoint, prefix, strlen (prefix)) != 0)
        return -1;
    const char *start = endpoint + strlen (prefix);
    const char *colon = strrchr (start, ':');
    if (!colon || colon == start)
        return -1;
    *host = start;
    *host_len = (size_t)(colon - start);
    return 0;
}

int
zc_endpoint_is_wildcard (const char *endpoint)
{
    const char *host;
    size_t len;
    if (s_endpoint_host (endpoint, &host, &len) != 0)
        return 0;
    return (len == 1 && host[0] == '*') || (len == 7 && memcmp (host, "0.0.0.0", 7) == 0) ||
           (len == 4 && memcmp (host, "[::]", 4) == 0);
}

char *
zc_endpoint_rewrite_wildcard (const char *endpoint, const char *peer_endpoint)
{
    const char *peer_host, *host;
    size_t peer_len, len;
    if (!zc_endpoint_is_wildcard (endpoint) ||
        s_endpoint_host (peer_endpoint, &peer_host, &peer_len) != 0 ||
        s_endpoint_host (endpoint, &host, &len) != 0)
        return zc_strdup (endpoint);
    char *rewritten = zsys_sprintf ("tcp://%.*s%s", (int)peer_len, peer_host, host + len);
    if (!rewritten)
        s_out_of_memory ();
    return rewritten;
}

void
zc_thread_name (const char *name)
{
    char short_name[16];
    snprintf (short_name, sizeof short_name, "%s", name);
    (void)prctl (PR_SET_NAME, short_name, 0, 0, 0);
}
