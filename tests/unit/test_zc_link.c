/*  Unit tests for zc_link: the node side of HELLO / WELCOME / HEARTBEAT,
    against a ROUTER in the test playing the broker. Time is driven
    explicitly through now_ms; the only waits are polls with deadlines.
*/
#include "zc_link.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct {
    zsock_t *router; //  the fake broker
    zc_link_t *link;
    zframe_t *rid; //  the link's routing id, once seen
    char endpoint[256];
} fixture_t;

static const zc_hello_t s_hello = {.id = "fetcher-test-1-abcd",
                                   .role = "fetcher",
                                   .version = "0.1.0",
                                   .capacity = 64,
                                   .endpoint = ""};

static void
s_fixture_init (fixture_t *f, bool tcp, const char *name)
{
    memset (f, 0, sizeof *f);
    f->router = zsock_new (ZMQ_ROUTER);
    assert_non_null (f->router);
    zsock_set_linger (f->router, 0);
    if (tcp) {
        int port = zsock_bind (f->router, "tcp://127.0.0.1:*");
        assert_true (port > 0);
        snprintf (f->endpoint, sizeof f->endpoint, "tcp://127.0.0.1:%d", port);
    } else {
        //  A name per test: a closed socket's inproc name is released
        //  asynchronously by libzmq's reaper.
        snprintf (f->endpoint, sizeof f->endpoint, "inproc://test_zc_link_%s", name);
        assert_int_equal (zsock_bind (f->router, "%s", f->endpoint), 0);
    }
    f->link = zc_link_new (f->endpoint, &s_hello);
    assert_non_null (f->link);
}

static void
s_fixture_destroy (fixture_t *f)
{
    zc_link_destroy (&f->link);
    assert_null (f->link);
    zframe_destroy (&f->rid);
    zsock_destroy (&f->router);
}

//  Waits up to TIMEOUT_MS for a readable SOCK.
static bool
s_wait (zsock_t *sock, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (sock, NULL);
    assert_non_null (poller);
    bool ready = zpoller_wait (poller, timeout_ms) != NULL;
    zpoller_destroy (&poller);
    return ready;
}

//  The fake broker receives one message from the link; NULL if none within
//  TIMEOUT_MS. Remembers the routing id.
static zc_msg_t *
s_broker_recv (fixture_t *f, int timeout_ms)
{
    if (!s_wait (f->router, timeout_ms))
        return NULL;
    zmsg_t *zmsg = zmsg_recv (f->router);
    assert_non_null (zmsg);
    zframe_t *rid = zmsg_pop (zmsg);
    assert_non_null (rid);
    zframe_destroy (&f->rid);
    f->rid = rid;
    zc_msg_decode_status_t status;
    zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
    assert_non_null (msg);
    return msg;
}

//  Expects exactly one message of TYPE from the link, and returns it.
static zc_msg_t *
s_broker_expect (fixture_t *f, zc_msg_type_t type)
{
    zc_msg_t *msg = s_broker_recv (f, 5000);
    if (!msg)
        fail_msg ("expected %s from the link, got nothing", zc_msg_type_str (type));
    if (msg->type != type)
        fail_msg ("expected %s from the link, got %s", zc_msg_type_str (type),
                  zc_msg_type_str (msg->type));
    return msg;
}

//  Nothing more queued towards the broker. Messages travel in order, so a
//  short poll after the link's last send is enough.
static void
s_broker_expect_none (fixture_t *f)
{
    zc_msg_t *msg = s_broker_recv (f, 50);
    if (msg)
        fail_msg ("unexpected %s from the link", zc_msg_type_str (msg->type));
}

static void
s_expect_hello (fixture_t *f)
{
    zc_msg_t *msg = s_broker_expect (f, ZC_MSG_HELLO);
    assert_string_equal (msg->hello.id, s_hello.id);
    assert_string_equal (msg->hello.role, "fetcher");
    assert_string_equal (msg->hello.version, "0.1.0");
    assert_int_equal (msg->hello.capacity, 64);
    assert_string_equal (msg->hello.endpoint, "");
    zc_msg_destroy (&msg);
}

//  The fake broker sends MSG; the link side receives it and feeds it to
//  zc_link_handle at NOW_MS.
static zc_link_event_t
s_broker_send (fixture_t *f, const zc_msg_t *msg, int64_t now_ms)
{
    assert_non_null (f->rid);
    assert_int_equal (zc_msg_send (msg, f->router, f->rid), 0);
    zsock_t *dealer = zc_link_socket (f->link);
    assert_true (s_wait (dealer, 5000));
    zmsg_t *zmsg = zmsg_recv (dealer);
    zc_msg_t *decoded = zc_msg_decode (&zmsg, NULL);
    assert_non_null (decoded);
    zc_link_event_t event = zc_link_handle (f->link, decoded, now_ms);
    zc_msg_destroy (&decoded);
    return event;
}

static zc_link_event_t
s_welcome (fixture_t *f, uint64_t epoch, const char *results, uint32_t heartbeat_ms, int64_t now_ms)
{
    zc_msg_t msg = {.type = ZC_MSG_WELCOME,
                    .welcome = {.epoch = epoch, .results = results, .heartbeat_ms = heartbeat_ms}};
    return s_broker_send (f, &msg, now_ms);
}

static zc_link_event_t
s_broker_heartbeat (fixture_t *f, uint64_t epoch, int64_t now_ms)
{
    zc_msg_t msg = {.type = ZC_MSG_HEARTBEAT, .heartbeat = {.epoch = epoch, .node = "broker"}};
    return s_broker_send (f, &msg, now_ms);
}

static void
test_registration (void **state)
{
    (void)state;
    fixture_t f;
    s_fixture_init (&f, false, "registration");
    zc_link_t *link = f.link;
    assert_false (zc_link_registered (link));
    assert_int_equal (zc_link_epoch (link), 0);
    assert_null (zc_link_results_endpoint (link));
    assert_int_equal (zc_link_heartbeat_ms (link), 1000);
    assert_string_equal (zc_link_node_id (link), s_hello.id);
    assert_non_null (zc_link_socket (link));

    //  Nothing is sent before the first tick; HELLO on the first tick.
    s_broker_expect_none (&f);
    zc_link_tick (link, 10000, NULL);
    s_expect_hello (&f);
    //  Retried at most once a second while unregistered.
    zc_link_tick (link, 10500, NULL);
    zc_link_tick (link, 10999, NULL);
    s_broker_expect_none (&f);
    zc_link_tick (link, 11000, NULL);
    s_expect_hello (&f);

    //  WELCOME registers.
    assert_int_equal (s_welcome (&f, 77, "inproc://results", 200, 11100), ZC_LINK_WELCOMED);
    assert_true (zc_link_registered (link));
    assert_int_equal (zc_link_epoch (link), 77);
    assert_string_equal (zc_link_results_endpoint (link), "inproc://results");
    assert_int_equal (zc_link_heartbeat_ms (link), 200);

    //  A duplicate WELCOME in the same epoch (answer to the retried HELLO)
    //  does not ask the owner to re-announce.
    assert_int_equal (s_welcome (&f, 77, "inproc://results", 200, 11110), ZC_LINK_CONSUMED);
    assert_true (zc_link_registered (link));

    //  No HELLO once registered; heartbeats every 200 ms with our counters.
    zc_heartbeat_t counters = {
        .epoch = 999, .node = "ignored", .decode_errors = 4, .in_flight = 12, .done = 345};
    zc_link_tick (link, 11200, &counters);
    s_broker_expect_none (&f);
    zc_link_tick (link, 11300, &counters);
    zc_msg_t *msg = s_broker_expect (&f, ZC_MSG_HEARTBEAT);
    assert_int_equal (msg->heartbeat.epoch, 77);
    assert_string_equal (msg->heartbeat.node, s_hello.id);
    assert_int_equal (msg->heartbeat.decode_errors, 4);
    assert_int_equal (msg->heartbeat.in_flight, 12);
    assert_int_equal (msg->heartbeat.done, 345);
    zc_msg_destroy (&msg);
    zc_link_tick (link, 11450, &counters);
    s_broker_expect_none (&f);
    zc_link_tick (link, 11500, NULL); //  NULL counters: zeros
    msg = s_broker_expect (&f, ZC_MSG_HEARTBEAT);
    assert_int_equal (msg->heartbeat.epoch, 77);
    assert_int_equal (msg->heartbeat.done, 0);
    zc_msg_destroy (&msg);

    //  Other messages pass through to the owner but still prove liveness.
    zc_msg_t jobs = {.type = ZC_MSG_JOBS};
    assert_int_equal (s_broker_send (&f, &jobs, 11600), ZC_LINK_PASS);
    //  A broker heartbeat in our epoch is consumed and keeps us registered.
    assert_int_equal (s_broker_heartbeat (&f, 77, 11700), ZC_LINK_CONSUMED);
    assert_true (zc_link_registered (link));

    //  Silence: dead after 5 intervals (5 * 200 ms) since the last message.
    zc_link_tick (link, 12699, NULL);
    msg = s_broker_expect (&f, ZC_MSG_HEARTBEAT);
    zc_msg_destroy (&msg);
    assert_true (zc_link_registered (link));
    zc_link_tick (link, 12700, NULL);
    assert_false (zc_link_registered (link));
    s_expect_hello (&f);
    s_broker_expect_none (&f);
    assert_int_equal (zc_link_epoch (link), 77); //  until told otherwise
    //  Unregistered: no heartbeats, HELLO once a second.
    zc_link_tick (link, 13000, NULL);
    s_broker_expect_none (&f);
    zc_link_tick (link, 13700, NULL);
    s_expect_hello (&f);

    //  The same broker answers: registered again, owner must re-announce.
    assert_int_equal (s_welcome (&f, 77, "inproc://results", 200, 13800), ZC_LINK_WELCOMED);
    assert_true (zc_link_registered (link));

    s_fixture_destroy (&f);
}

static void
test_new_epoch (void **state)
{
    (void)state;
    fixture_t f;
    s_fixture_init (&f, false, "new_epoch");
    zc_link_tick (f.link, 0, NULL);
    s_expect_hello (&f);
    assert_int_equal (s_welcome (&f, 5, "inproc://r1", 1000, 100), ZC_LINK_WELCOMED);

    //  A broker heartbeat from another epoch: the broker restarted. HELLO at
    //  once, without waiting for a tick.
    assert_int_equal (s_broker_heartbeat (&f, 6, 200), ZC_LINK_CONSUMED);
    assert_false (zc_link_registered (f.link));
    s_expect_hello (&f);
    //  No second HELLO within the second.
    zc_link_tick (f.link, 300, NULL);
    s_broker_expect_none (&f);
    //  A late heartbeat while unregistered changes nothing.
    assert_int_equal (s_broker_heartbeat (&f, 6, 350), ZC_LINK_CONSUMED);
    s_broker_expect_none (&f);

    assert_int_equal (s_welcome (&f, 6, "inproc://r2", 500, 400), ZC_LINK_WELCOMED);
    assert_true (zc_link_registered (f.link));
    assert_int_equal (zc_link_epoch (f.link), 6);
    assert_string_equal (zc_link_results_endpoint (f.link), "inproc://r2");
    assert_int_equal (zc_link_heartbeat_ms (f.link), 500);

    //  A WELCOME with a new epoch while registered is also a re-announce.
    assert_int_equal (s_welcome (&f, 7, "inproc://r3", 500, 500), ZC_LINK_WELCOMED);
    assert_int_equal (zc_link_epoch (f.link), 7);
    assert_true (zc_link_registered (f.link));
    s_broker_expect_none (&f);

    //  Epoch 0 is how a broker says "I do not know you" (it declared us dead,
    //  or lost us): register again at once.
    assert_int_equal (s_broker_heartbeat (&f, 0, 600), ZC_LINK_CONSUMED);
    assert_false (zc_link_registered (f.link));
    s_expect_hello (&f);
    assert_int_equal (s_welcome (&f, 7, "inproc://r3", 500, 700), ZC_LINK_WELCOMED);
    assert_true (zc_link_registered (f.link));

    s_fixture_destroy (&f);
}

static void
test_wildcard_results (void **state)
{
    (void)state;
    fixture_t f;
    s_fixture_init (&f, true, "tcp");
    zc_link_tick (f.link, 0, NULL);
    s_expect_hello (&f);

    assert_int_equal (s_welcome (&f, 1, "tcp://*:5558", 1000, 10), ZC_LINK_WELCOMED);
    assert_string_equal (zc_link_results_endpoint (f.link), "tcp://127.0.0.1:5558");
    //  Same epoch: consumed, but the endpoint is still updated.
    assert_int_equal (s_welcome (&f, 1, "tcp://0.0.0.0:6000", 1000, 20), ZC_LINK_CONSUMED);
    assert_string_equal (zc_link_results_endpoint (f.link), "tcp://127.0.0.1:6000");
    assert_int_equal (s_welcome (&f, 2, "tcp://10.1.2.3:5558", 1000, 30), ZC_LINK_WELCOMED);
    assert_string_equal (zc_link_results_endpoint (f.link), "tcp://10.1.2.3:5558");

    s_fixture_destroy (&f);
}

static void
test_bad_endpoint (void **state)
{
    (void)state;
    assert_null (zc_link_new ("bogus://nowhere", &s_hello));
    assert_null (zc_link_new ("tcp://", &s_hello));
    zc_link_t *none = NULL;
    zc_link_destroy (&none);

    //  NULL strings in HELLO are sent as "".
    zc_hello_t sparse = {.role = "parser", .capacity = 2};
    zc_link_t *link = zc_link_new ("inproc://test_zc_link_sparse", &sparse);
    assert_non_null (link);
    assert_string_equal (zc_link_node_id (link), "");
    zc_link_destroy (&link);
}

int
main (void)
{
    zsys_init ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_registration),
        cmocka_unit_test (test_new_epoch),
        cmocka_unit_test (test_wildcard_results),
        cmocka_unit_test (test_bad_endpoint),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
