/*
 * coord: the coordinator's event loop. One thread polls the worker socket and the control
 * socket with a short timeout; between messages it runs the scheduler (expire leases, start
 * waiting jobs, hand shards to idle workers, finish jobs). Worker sessions live in memory and
 * are rebuilt from Hello messages after a restart; jobs, shards, leases and results live in the
 * store. Bad input from the network is counted and dropped, never trusted: a message from an
 * unknown session gets a non-fatal Refuse, which tells a worker to register again.
 */
#include "coordinator/coord_int.h"

#include "common/clock.h"
#include "common/err.h"
#include "common/keys.h"
#include "common/log.h"

#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *coord_control_endpoint(const char *db_path, char *buf, size_t cap)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", db_path);
    char *dir = dirname(tmp);
    char abs[4096];
    if (!realpath(dir, abs))
        snprintf(abs, sizeof abs, "%s", dir);
    snprintf(buf, cap, "ipc://%s/%s", abs, COORD_CONTROL_NAME);
    return buf;
}

/* A worker refused by the authenticator never reaches on_hello; the socket monitor is the only
 * place the coordinator learns of it. */
static void on_monitor_event(coord_t *c)
{
    zmsg_t *msg = zmsg_recv(c->monitor);
    if (!msg)
        return;
    zframe_t *f = zmsg_first(msg);
    if (f && zframe_size(f) >= 6) {
        uint16_t event;
        memcpy(&event, zframe_data(f), 2);
        /* A refused peer retries several times a second: one line a minute says how many. */
        uint64_t more;
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            c->refused++;
        else
            c->malformed++;
        /* Counted either way; the next line, or the scheduler's summary, says how many. */
        bool log_now = ratelimit_allow(&c->refused_log, clock_wall_us(), &more);
        if (log_now && event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            log_warn("refused a worker whose key is not in %s/workers/ (%llu refused so far; %llu "
                     "refusals in the last minute not logged)",
                     c->opt->keys_dir ? c->opt->keys_dir : "?", (unsigned long long)c->refused,
                     (unsigned long long)more);
        else if (log_now)
            log_warn("a worker connection failed its handshake (event 0x%x; %llu refusals in the "
                     "last minute not logged)",
                     event, (unsigned long long)more);
    }
    zmsg_destroy(&msg);
}

/* ---- setup ------------------------------------------------------------------------------- */

static int setup_curve(coord_t *c, char *err, size_t errlen)
{
    char wdir[4096];
    c->cert = keys_load_coordinator(c->opt->keys_dir, err, errlen);
    if (!c->cert)
        return LZR_EINVAL;
    if (keys_workers_dir(c->opt->keys_dir, wdir, sizeof wdir, err, errlen) != LZR_OK)
        return LZR_EINVAL;
    c->auth = zactor_new(zauth, NULL);
    if (!c->auth) {
        snprintf(err, errlen, "cannot start the ZAP authenticator");
        return LZR_ESYS;
    }
    zstr_sendx(c->auth, "CURVE", wdir, NULL);
    zsock_wait(c->auth);
    zcert_apply(c->cert, c->workers);
    zsock_set_curve_server(c->workers, 1);
    zsock_set_zap_domain(c->workers, "lzr");
    char mon[64];
    snprintf(mon, sizeof mon, "inproc://lzr-coord-monitor-%p", (void *)c);
    if (zmq_socket_monitor(zsock_resolve(c->workers), mon,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0)
        c->monitor = zsock_new_pair(mon);
    return LZR_OK;
}

/* Opens the store and binds both sockets (the control endpoint's path into ctl). LZR_OK, or a
 * negative code with a message in err; what was made is freed by coord_free either way. */
static int coord_open(coord_t *c, char *ctl, size_t ctl_cap, char *err, size_t errlen)
{
    const coord_options_t *opt = c->opt;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise");
        return LZR_ESYS;
    }
    c->store = store_open(opt->db_path, err, errlen);
    if (!c->store)
        return LZR_EDB;
    c->workers = zsock_new(ZMQ_ROUTER);
    c->control = zsock_new(ZMQ_ROUTER);
    if (!c->workers || !c->control) {
        snprintf(err, errlen, "cannot create sockets");
        return LZR_ESYS;
    }
    zsock_set_maxmsgsize(c->workers, LZR_WIRE_MAX_BYTES + 1024);
    zsock_set_maxmsgsize(c->control, LZR_WIRE_MAX_BYTES + 1024);
    zsock_set_router_handover(c->workers, 1);
    zsock_set_sndtimeo(c->workers, 0);
    zsock_set_sndtimeo(c->control, 1000);
    if (opt->keys_dir) {
        int rc = setup_curve(c, err, errlen);
        if (rc)
            return rc;
    } else {
        log_warn("no --keys: worker traffic is neither encrypted nor authenticated");
    }
    if (zsock_bind(c->workers, "%s", opt->listen) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", opt->listen, zmq_strerror(zmq_errno()));
        return LZR_ESYS;
    }
    if (opt->control)
        snprintf(ctl, ctl_cap, "%s", opt->control);
    else
        coord_control_endpoint(opt->db_path, ctl, ctl_cap);
    if (strncmp(ctl, "ipc://", 6) == 0)
        unlink(ctl + 6); /* a stale socket from a killed coordinator */
    if (zsock_bind(c->control, "%s", ctl) < 0) {
        snprintf(err, errlen, "cannot bind the control endpoint %s: %s", ctl,
                 zmq_strerror(zmq_errno()));
        return LZR_ESYS;
    }
    if (strncmp(ctl, "ipc://", 6) == 0)
        chmod(ctl + 6, 0600);
    if (opt->metrics)
        return coord_metrics_setup(c, err, errlen);
    return LZR_OK;
}

/* Jobs that were running resume; leases held before the restart get one lease timeout for
 * their workers to come back and claim them. */
static void coord_resume(coord_t *c)
{
    db_wrote(c, store_leases_extend(c->store, clock_wall_us() + c->lease_timeout_us),
             "lease extension at start");
    uint64_t *ids;
    size_t n;
    if (store_job_ids(c->store, "running", &ids, &n) == LZR_OK) {
        for (size_t i = 0; i < n; i++)
            log_info("resuming job %llu", (unsigned long long)ids[i]);
        free(ids);
    }
}

/* Once a minute at most: how many peers the authenticator refused that were not logged. */
static void log_refusals(coord_t *c, uint64_t t)
{
    if (c->refused_log.suppressed && t - c->refused_log.last_us >= RATELIMIT_US) {
        log_warn("%llu more peers refused in the last minute (%llu keys refused so far)",
                 (unsigned long long)c->refused_log.suppressed, (unsigned long long)c->refused);
        c->refused_log.suppressed = 0;
        c->refused_log.last_us = t;
    }
}

/* The loop: messages as they come, a scheduling pass four times a second, until *stop or the
 * database is lost (then LZR_EDB with the reason in err). */
static int coord_loop(coord_t *c, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    zpoller_t *poller = zpoller_new(c->workers, c->control, NULL);
    if (c->monitor)
        zpoller_add(poller, c->monitor);
    uint64_t last_tick = 0;
    int rc = LZR_OK;
    while (!*stop) {
        void *which = zpoller_wait(poller, 200);
        if (which == c->workers) {
            /* Drain a burst of worker messages before the next scheduling pass. */
            for (int i = 0; i < 256 && (zsock_events(c->workers) & ZMQ_POLLIN); i++)
                worker_on_message(c);
            held_flush(c);
        } else if (which == c->control) {
            control_on_message(c);
        } else if (c->monitor && which == c->monitor) {
            on_monitor_event(c);
        } else if (zpoller_terminated(poller) && !zpoller_expired(poller)) {
            break;
        }
        uint64_t t = clock_wall_us();
        if (t - last_tick >= 250000) {
            sched_run(c);
            coord_metrics_publish(c, t);
            last_tick = t;
            log_refusals(c, t);
        }
        if (c->db_lost) {
            snprintf(err, errlen, "%s", c->db_err);
            rc = LZR_EDB;
            break;
        }
    }
    zpoller_destroy(&poller);
    return rc;
}

static void coord_free(coord_t *c)
{
    if (c->monitor && c->workers)
        zmq_socket_monitor(zsock_resolve(c->workers), NULL, 0);
    zsock_destroy(&c->monitor);
    zsock_destroy(&c->workers);
    zsock_destroy(&c->control);
    metrics_stop(&c->metrics);
    free(c->snap);
    zactor_destroy(&c->auth);
    zcert_destroy(&c->cert);
    for (size_t i = 0; i < c->n_jobs; i++)
        jobrt_free(&c->jobs[i]);
    free(c->jobs);
    verify_job_free(&c->verify);
    store_close(&c->store);
    free(c);
}

int coord_serve(const coord_options_t *opt, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    coord_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return LZR_ENOMEM;
    }
    c->opt = opt;
    c->lease_timeout_us = (uint64_t)opt->lease_timeout_ms * 1000u;
    char ctl[4200];
    int rc = coord_open(c, ctl, sizeof ctl, err, errlen);
    if (rc == LZR_OK) {
        coord_resume(c);
        log_info("listening for workers on %s, control on %s, database %s", opt->listen, ctl,
                 opt->db_path);
        rc = coord_loop(c, stop, err, errlen);
        log_info("stopping");
        if (strncmp(ctl, "ipc://", 6) == 0)
            unlink(ctl + 6);
    }
    coord_free(c);
    return rc;
}
