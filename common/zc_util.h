/*  zc_util — small helpers every role needs: aborting allocators, hashing,
    clocks, ready files and endpoint rewriting.
*/
#ifndef ZC_UTIL_H_INCLUDED
#define ZC_UTIL_H_INCLUDED

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ZC_VERSION "0.1.0"

//  strdup / strndup / malloc that abort the process on out-of-memory, as
//  czmq's allocator does. NULL input to zc_strdup returns NULL.
char *zc_strdup (const char *s);
char *zc_strndup (const char *s, size_t n);
void *zc_malloc (size_t size);

//  64-bit non-cryptographic hash (FNV-1a folded through a 64-bit mixer).
uint64_t zc_hash64 (const void *data, size_t size);

//  Wall clock, ms since 1970.
int64_t zc_now_ms (void);

//  Atomically writes OBJECT as JSON to PATH (temp file + rename), so a
//  reader polling for PATH never sees a partial file. Returns 0 or -1.
int zc_ready_file_write (const char *path, const json_t *object);

//  Returns a new node id "ROLE-HOSTNAME-PID-RANDOM". Caller frees.
char *zc_node_id_new (const char *role);

//  If ENDPOINT's host is a wildcard ("*", "0.0.0.0", "[::]"), returns a new
//  string with the host taken from PEER_ENDPOINT (e.g. the broker address a
//  node connected to); otherwise a copy of ENDPOINT. Caller frees.
char *zc_endpoint_rewrite_wildcard (const char *endpoint, const char *peer_endpoint);

//  True if a tcp ENDPOINT binds a wildcard host.
int zc_endpoint_is_wildcard (const char *endpoint);

//  Names the calling thread (first 15 bytes of NAME) so top -H, perf and
//  gdb tell the actors apart. Best effort: a failure is ignored.
void zc_thread_name (const char *name);

#endif
