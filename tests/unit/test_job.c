/*
 * Unit tests for coordinator/job: a full job file becomes the right spec, defaults apply, shards
 * are planned from the rate, and each kind of error gives "job.toml:LINE: key: what" and no
 * spec.
 */
#include "common/err.h"
#include "coordinator/job.h"
#include "common/pairs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* The names of a list joined with commas (in a static buffer), to compare with a default. */
static const char *names_text(const scan_names_t *l)
{
    static char buf[SCAN_SPEC_MAX_NAMES * SCAN_SPEC_NAME_LEN];
    buf[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            strcat(buf, ",");
        strcat(buf, l->v[i]);
    }
    return buf;
}

static job_spec_t *parse(const char *text, char *err, size_t errlen)
{
    return job_parse(text, strlen(text), "job.toml", err, errlen);
}

static void test_full_file(void **state)
{
    (void)state;
    const char *text = "# a lab job\n"
                       "name = \"lab\"\n"
                       "targets = [\"198.18.1.0/24\", \"198.18.2.1-198.18.2.10\"]\n"
                       "exclude = \"198.18.1.0/28\"\n"
                       "allow_reserved = [\"198.18.0.0/15\"]\n"
                       "ports = [22, \"80,443\", \"8000-8009\"]\n"
                       "rate = 5000\n"
                       "seed = 1234\n"
                       "handshakes = [\"wait\", \"http\"]\n"
                       "fallback = [\"redis\", \"mqtt\"]\n"
                       "timeout_ms = 3000\n"
                       "retransmit_ms = 500\n"
                       "acking_firewall_probes = 2\n"
                       "report_all = true\n"
                       "shards = 7\n"
                       "[vantage]\n"
                       "min_workers = 2\n"
                       "verify = true\n"
                       "compare = 3\n";
    char err[512] = "";
    job_spec_t *j = parse(text, err, sizeof err);
    assert_non_null(j);
    assert_string_equal(j->name, "lab");
    assert_int_equal(j->n_targets, 2);
    assert_string_equal(j->targets[1], "198.18.2.1-198.18.2.10");
    assert_int_equal(j->n_exclude, 1);
    assert_int_equal(j->n_allow_reserved, 1);
    assert_string_equal(j->ports_text, "22,80,443,8000-8009");
    assert_int_equal(j->ports.n, 13);
    assert_int_equal(j->ports.ports[0], 22);
    assert_int_equal(j->ports.ports[12], 8009);
    assert_int_equal(targets_count(j->set), 256 - 16 + 10);
    assert_false(targets_contains(j->set, 0xC612010F)); /* excluded 198.18.1.15 */
    assert_true(targets_contains(j->set, 0xC6120110));
    assert_int_equal(j->size, (256 - 16 + 10) * 13);
    assert_int_equal(j->rate, 5000);
    assert_true(j->have_seed);
    assert_int_equal(j->seed, 1234);
    assert_int_equal(j->handshakes.n, 2);
    assert_string_equal(j->handshakes.v[0], "wait");
    assert_string_equal(j->handshakes.v[1], "http");
    assert_int_equal(j->fallback.n, 2);
    assert_string_equal(j->fallback.v[0], "redis");
    assert_string_equal(j->fallback.v[1], "mqtt");
    assert_int_equal(j->timeout_ms, 3000);
    assert_int_equal(j->retransmit_ms, 500);
    assert_int_equal(j->acking_firewall_probes, 2);
    assert_true(j->report_all);
    assert_int_equal(j->shards, 7);
    assert_int_equal(j->min_workers, 2);
    assert_true(j->verify);
    assert_int_equal(j->compare, 3);

    perm_params_t p;
    assert_int_equal(job_plan(j, 99, 1, &p, err, sizeof err), LZR_OK);
    assert_int_equal(j->seed, 1234); /* the file's seed wins */
    assert_int_equal(j->shards, 7);
    assert_int_equal(p.size, j->size);
    job_destroy(&j);
    assert_null(j);
}

/* IPv6 entries join the job's IPv6 set: the size counts both families; a prefix larger than
 * /112 names its line, key and the limit; an IPv6-only job needs no IPv4 target. */
static void test_ipv6_targets(void **state)
{
    (void)state;
    char err[512] = "";
    job_spec_t *j = parse("targets = [\"198.18.4.0/30\",\n"
                          "  \"2001:2::1:0/126, 2001:2::9\"]\n"
                          "exclude = \"2001:2::1:3\"\n"
                          "allow_reserved = [\"198.18.0.0/15\", \"2001:2::/48\"]\n"
                          "ports = \"80,443\"\n",
                          err, sizeof err);
    assert_non_null(j);
    assert_int_equal(targets_count(j->set), 4);
    assert_int_equal(targets6_count(j->set6), 4); /* ::1:0-::1:2 and ::9 */
    assert_int_equal(job_addresses(j), 8);
    assert_int_equal(j->size, 16);
    job_destroy(&j);

    j = parse("targets = \"2001:2::5\"\nallow_reserved = \"2001:2::/48\"\nports = \"80\"\n", err,
              sizeof err);
    assert_non_null(j);
    assert_int_equal(j->size, 1);
    job_destroy(&j);

    assert_null(parse("ports = \"80\"\nallow_reserved = \"2001:2::/48\"\n"
                      "targets = [\"198.18.4.1\",\n  \"2001:2::/64\"]\n",
                      err, sizeof err));
    assert_non_null(strstr(err, "job.toml:4: targets: "));
    assert_non_null(strstr(err, "/112"));
    /* Reserved without the lift, named. */
    assert_null(parse("ports = \"80\"\ntargets = \"2001:2::5\"\n", err, sizeof err));
    assert_non_null(strstr(err, "targets"));
    assert_non_null(strstr(err, "2001:2::5"));
}

static void test_defaults_and_plan(void **state)
{
    (void)state;
    char err[512] = "";
    job_spec_t *j =
        parse("targets = \"1.0.0.0/16\"\nports = \"80\"\nrate = 1000\n", err, sizeof err);
    assert_non_null(j);
    assert_string_equal(j->name, "job");
    assert_string_equal(names_text(&j->handshakes), HANDSHAKE_DEFAULT_LIST);
    assert_string_equal(names_text(&j->handshakes), "wait,tls,http,dns,pptp");
    assert_string_equal(names_text(&j->fallback), "mqtt,redis,postgres");
    assert_int_equal(j->timeout_ms, SCAN_DEFAULT_TIMEOUT_MS);
    assert_int_equal(j->min_workers, 1);
    assert_int_equal(j->compare, 1);
    assert_false(j->have_seed);
    assert_false(j->report_all);
    perm_params_t p;
    assert_int_equal(job_plan(j, 77, 1, &p, err, sizeof err), LZR_OK);
    assert_true(j->have_seed);
    assert_int_equal(j->seed, 77);
    /* 65536 targets at 1000/s, 10 s per shard: ceil(65536 / 10000) = 7 shards. */
    assert_int_equal(j->shards, 7);
    job_destroy(&j);

    /* A job shorter than one shard's work still gives each connected worker a shard; an
     * explicit `shards` wins over the workers. */
    j = parse("targets = \"1.0.0.0/24\"\nports = \"80\"\n", err, sizeof err);
    assert_non_null(j);
    assert_int_equal(job_plan(j, 5, 1, &p, err, sizeof err), LZR_OK);
    assert_int_equal(j->shards, 1);
    job_destroy(&j);
    j = parse("targets = \"1.0.0.0/24\"\nports = \"80\"\n", err, sizeof err);
    assert_int_equal(job_plan(j, 5, 3, &p, err, sizeof err), LZR_OK);
    assert_int_equal(j->shards, 3);
    job_destroy(&j);
    j = parse("targets = \"1.0.0.0/24\"\nports = \"80\"\n[vantage]\nmin_workers = 2\n", err,
              sizeof err);
    assert_non_null(j);
    assert_int_equal(job_plan(j, 5, 0, &p, err, sizeof err), LZR_OK);
    assert_int_equal(j->shards, 2);
    job_destroy(&j);
    j = parse("targets = \"1.0.0.0/24\"\nports = \"80\"\nshards = 1\n", err, sizeof err);
    assert_int_equal(job_plan(j, 5, 4, &p, err, sizeof err), LZR_OK);
    assert_int_equal(j->shards, 1);
    job_destroy(&j);

    /* A tiny job is one shard, and asked-for shards are capped by the cycle length. */
    j = parse("targets = \"1.0.0.1\"\nports = \"80\"\nshards = 50\n", err, sizeof err);
    assert_non_null(j);
    assert_int_equal(job_plan(j, 1, 1, &p, err, sizeof err), LZR_OK);
    assert_true(j->shards <= perm_cycle_len(&p));
    assert_true(j->shards >= 1);
    job_destroy(&j);
}

/* Each case: a file, and the exact beginning of the message it must produce. */
static const struct {
    const char *text;
    const char *msg;
} bad_files[] = {
    {"targets = \"1.0.0.1\"\nports = \"80\"\nbogus = 1\n", "job.toml:3: bogus: unknown key"},
    {"targets = \"1.0.0.1\"\nports = \"80\"\n[vantage]\nmin_workerz = 2\n",
     "job.toml:4: vantage.min_workerz: unknown key"},
    {"targets = \"1.0.0.1\"\nports = \"80\"\nrate = \"fast\"\n",
     "job.toml:3: rate: expected type integer, got string"},
    {"targets = \"1.0.0.1\"\nports = \"80\"\nrate = 0\n",
     "job.toml:3: rate: 0 is out of range (1-100000000)"},
    /* The bound of the scan spec, the same as lzr-worker scan's flag. */
    {"targets = \"1.0.0.1\"\nports = \"80\"\nacking_firewall_probes = 65\n",
     "job.toml:3: acking_firewall_probes: 65 is out of range (0-64)"},
    {"targets = \"1.0.0.1\"\nports = \"80,70000\"\n", "job.toml:2: ports: "},
    {"targets = \"1.0.0.1\"\nports = [\n  80,\n  0,\n]\n",
     "job.toml:4: ports: \"0\" is not a port (1-65535)"},
    {"ports = \"80\"\n", "job.toml: targets: required key is missing"},
    {"targets = \"1.0.0.1\"\n", "job.toml: ports: required key is missing"},
    {"ports = \"80\"\ntargets = [\"1.0.0.1\", \"1.0.0.0/33\"]\n", "job.toml:2: targets: "},
    {"ports = \"80\"\ntargets = \"198.18.0.0/24\"\n", "job.toml:2: targets: "},
    {"ports = \"80\"\ntargets = \"1.0.0.0/30\"\nexclude = \"1.0.0.0/24\"\n",
     "job.toml:2: targets: "},
    {"ports = \"80\"\ntargets = []\n", "job.toml:2: targets: the list is empty"},
    {"ports = \"80\"\ntargets = [\"1.0.0.1\", 5]\n",
     "job.toml:2: targets: entry 2 is of type integer, not a string"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\ntimeout_ms = 100\nretransmit_ms = 200\n",
     "job.toml:4: retransmit_ms: 200 is longer than timeout_ms (100)"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nhandshakes = \"http,,tls\"\n",
     "job.toml:3: handshakes: "},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nhandshakes = [\"http\", \"nosuch\"]\n",
     "job.toml:3: handshakes: \"nosuch\" is not a handshake lzr knows"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nhandshakes = []\n",
     "job.toml:3: handshakes: the list is empty"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nhandshakes = \"wait,ftp\"\n",
     "job.toml:3: handshakes: \"ftp\" is a fingerprint only: lzr names it in replies but has no "
     "probe to send"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nfallback = [\"mqtt\",\n  \"ssl\"]\n",
     "job.toml:3: fallback: \"ssl\" is a fingerprint only"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nhandshakes = \"http,tls,http\"\n",
     "job.toml:3: handshakes: \"http\" is listed twice"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nfallback = \"mqtt,nosuch\"\n",
     "job.toml:3: fallback: \"nosuch\" is not a handshake lzr knows"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\n\nfallback = [\"mqtt\", 7]\n",
     "job.toml:4: fallback: entry 2 is of type integer"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nfallback = \"mqtt,redis,postgres,amqp,stomp\"\n",
     "job.toml:3: fallback: more than 4 handshakes"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nfallback = \"redis,,mqtt\"\n",
     "job.toml:3: fallback: empty name"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nfallback = \"redis,redis\"\n",
     "job.toml:3: fallback: \"redis\" is listed twice"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nfallback = true\n",
     "job.toml:3: fallback: expected a string"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nname = \"\"\n", "job.toml:3: name: must be"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nshards = 0\n", "job.toml:3: shards: 0 is out"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\n[vantage]\nverify = 1\n",
     "job.toml:4: vantage.verify: expected type boolean"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\n[vantage]\ncompare = 17\n",
     "job.toml:4: vantage.compare"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nseed = -1\n", "job.toml:3: seed: -1 is out"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nrate = 1.5\n", "job.toml:3:"},
    {"ports = \"80\"\ntargets = \"1.0.0.1\"\nports = \"81\"\n", "job.toml:3:"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        char err[512] = "";
        job_spec_t *j = parse(bad_files[i].text, err, sizeof err);
        if (j || strncmp(err, bad_files[i].msg, strlen(bad_files[i].msg)) != 0)
            fail_msg("case %zu: got %s \"%s\", want \"%s…\"", i, j ? "a spec and" : "", err,
                     bad_files[i].msg);
    }
}

/* fallback = "" or [] turns the tier off; a string and a list give the same text. */
static void test_fallback_off(void **state)
{
    (void)state;
    const char *texts[] = {"ports = \"80\"\ntargets = \"1.0.0.1\"\nfallback = \"\"\n",
                           "ports = \"80\"\ntargets = \"1.0.0.1\"\nfallback = []\n"};
    for (size_t i = 0; i < 2; i++) {
        char err[512] = "";
        job_spec_t *j = parse(texts[i], err, sizeof err);
        assert_non_null(j);
        assert_int_equal(j->fallback.n, 0);
        job_destroy(&j);
    }
    char err[512] = "";
    job_spec_t *j =
        parse("ports = \"80\"\ntargets = \"1.0.0.1\"\nfallback = \"postgres\"\n", err, sizeof err);
    assert_non_null(j);
    assert_string_equal(names_text(&j->fallback), "postgres");
    assert_string_equal(names_text(&j->handshakes), HANDSHAKE_DEFAULT_LIST); /* untouched */
    job_destroy(&j);
}

static void test_reserved_lifted(void **state)
{
    (void)state;
    char err[512] = "";
    job_spec_t *j = parse("ports = \"80\"\ntargets = \"198.18.0.0/24\"\n"
                          "allow_reserved = \"198.18.0.0/15\"\n",
                          err, sizeof err);
    assert_non_null(j);
    assert_int_equal(targets_count(j->set), 256);
    job_destroy(&j);
}

static void test_load_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/lzr-job-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/scan.toml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("targets = \"1.1.0.0/24\"\nports = \"80\"\nrat = 5\n", f);
    fclose(f);
    char err[512] = "";
    char *text = NULL;
    assert_null(job_load(path, &text, err, sizeof err));
    assert_null(text);
    assert_non_null(strstr(err, "scan.toml:3: rat: unknown key"));

    f = fopen(path, "w");
    fputs("targets = \"1.1.0.0/24\"\nports = \"80\"\n", f);
    fclose(f);
    job_spec_t *j = job_load(path, &text, err, sizeof err);
    assert_non_null(j);
    assert_non_null(text);
    assert_string_equal(text, "targets = \"1.1.0.0/24\"\nports = \"80\"\n");
    free(text);
    job_destroy(&j);
    assert_null(job_load("/nonexistent/x.toml", NULL, err, sizeof err));
    assert_non_null(strstr(err, "No such file"));
    assert_null(job_load(dir, NULL, err, sizeof err));
    assert_non_null(strstr(err, "not a regular file"));

    /* Exactly 1 MiB loads (a comment pads the file); one byte more does not. */
    const char *body = "targets = \"1.1.0.0/24\"\nports = \"80\"\n#";
    for (size_t extra = 0; extra <= 1; extra++) {
        f = fopen(path, "w");
        fputs(body, f);
        for (size_t i = strlen(body); i < JOB_MAX_FILE_BYTES - 1 + extra; i++)
            fputc('x', f);
        fputc('\n', f);
        fclose(f);
        j = job_load(path, NULL, err, sizeof err);
        if (extra == 0) {
            assert_non_null(j);
            job_destroy(&j);
        } else {
            assert_null(j);
            assert_non_null(strstr(err, "larger than 1 MiB"));
        }
    }
    unlink(path);
    rmdir(dir);
}

static void put(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* blocklist_file and allowlist_file are read by job_load, stored in the text as [files], and
 * the coordinator's job_parse of that text gives the same set. */
static void test_list_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/lzr-job-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], err[1024] = "";
    snprintf(path, sizeof path, "%s/scan.toml", dir);
    put(dir, "block.conf", "# opt-outs\n198.18.1.0/28 # a customer\n\n198.18.1.200\n");
    put(dir, "allow.conf", "198.18.1.0/25\n");
    put(dir, "scan.toml",
        "targets = \"198.18.1.0/24\"\nports = \"80\"\n"
        "allow_reserved = \"198.18.0.0/15\"\nblocklist_file = \"block.conf\"\n"
        "allowlist_file = \"allow.conf\"\n[vantage]\nmin_workers = 1\n");
    char *text = NULL;
    job_spec_t *j = job_load(path, &text, err, sizeof err);
    assert_non_null(j);
    assert_non_null(strstr(text, "[files]"));
    assert_int_equal(j->n_blocklist, 2);
    assert_int_equal(targets_count(j->set), 128 - 16);
    assert_false(targets_contains(j->set, 0xC612010F));
    assert_false(targets_contains(j->set, 0xC6120180));
    job_destroy(&j);
    /* The stored text no longer needs the files. */
    put(dir, "block.conf", "garbage\n");
    j = job_parse(text, strlen(text), "scan.toml", err, sizeof err);
    assert_non_null(j);
    assert_int_equal(targets_count(j->set), 128 - 16);
    job_destroy(&j);
    free(text);
    text = NULL;

    /* A bad line names the job key and the list file's line and value. */
    put(dir, "block.conf", "198.18.1.0/28\n198.18.1.300\n");
    assert_null(job_load(path, &text, err, sizeof err));
    assert_non_null(strstr(err, "scan.toml:4: blocklist_file: "));
    assert_non_null(strstr(err, "block.conf:2: \"198.18.1.300\": 300 is not an octet"));
    put(dir, "block.conf", "\n");
    char allow[300];
    snprintf(allow, sizeof allow, "%s/allow.conf", dir);
    unlink(allow);
    assert_null(job_load(path, &text, err, sizeof err));
    assert_non_null(strstr(err, "scan.toml:5: allowlist_file: "));
    assert_non_null(strstr(err, "allow.conf: No such file"));

    /* Alone, the allowlist is the targets; an empty blocklist is fine. */
    put(dir, "allow.conf", "198.18.2.0/30\n");
    put(dir, "scan.toml",
        "ports = \"80\"\nallow_reserved = \"198.18.0.0/15\"\n"
        "allowlist_file = \"allow.conf\"\nblocklist_file = \"block.conf\"\n");
    j = job_load(path, &text, err, sizeof err);
    assert_non_null(j);
    assert_int_equal(targets_count(j->set), 4);
    job_destroy(&j);
    free(text);
    text = NULL;

    /* [files] is the submitter's to write, and a named file without it is an error. */
    assert_null(parse("targets = \"1.1.1.0/24\"\nports = \"80\"\nblocklist_file = \"x\"\n", err,
                      sizeof err));
    assert_non_null(strstr(err, "job.toml:3: blocklist_file: the file's entries are missing"));
    put(dir, "scan.toml", "targets = \"1.1.1.0/24\"\nports = \"80\"\n[files]\nblocklist = []\n");
    assert_null(job_load(path, &text, err, sizeof err));
    assert_non_null(strstr(err, "scan.toml:3: files: this table is written by"));
    char p2[300];
    snprintf(p2, sizeof p2, "%s/block.conf", dir);
    unlink(p2);
    snprintf(p2, sizeof p2, "%s/allow.conf", dir);
    unlink(p2);
    unlink(path);
    rmdir(dir);
}

/* targets_file: addresses in any of common/input's line forms, read at submission and stored as
 * [files] targets; they join targets; a line with a port or a bad line names file and line. */
static void test_targets_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/lzr-job-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], list[300], err[1024] = "";
    snprintf(path, sizeof path, "%s/scan.toml", dir);
    snprintf(list, sizeof list, "%s/hosts.csv", dir);
    put(dir, "hosts.csv", "saddr,classification\n198.18.5.1,synack\n198.18.5.9,synack\n");
    put(dir, "scan.toml",
        "targets = \"198.18.6.0/30\"\ntargets_file = \"hosts.csv\"\nports = \"80,443\"\n"
        "allow_reserved = \"198.18.0.0/15\"\n");
    char *text = NULL;
    job_spec_t *j = job_load(path, &text, err, sizeof err);
    assert_non_null(j);
    assert_int_equal(j->n_target_list, 2);
    assert_int_equal(targets_count(j->set), 4 + 2);
    assert_true(targets_contains(j->set, 0xC6120509));
    assert_int_equal(j->size, 6 * 2);
    job_destroy(&j);
    put(dir, "hosts.csv", "garbage\n"); /* the stored text stands alone */
    j = job_parse(text, strlen(text), "scan.toml", err, sizeof err);
    assert_non_null(j);
    assert_int_equal(targets_count(j->set), 6);
    job_destroy(&j);
    free(text);
    text = NULL;
    assert_null(job_load(path, &text, err, sizeof err));
    assert_non_null(strstr(err, "scan.toml:2: targets_file: "));
    assert_non_null(strstr(err, "hosts.csv:1: \"garbage\""));
    put(dir, "hosts.csv", "198.18.5.1\n198.18.5.2:80\n");
    assert_null(job_load(path, &text, err, sizeof err));
    assert_non_null(strstr(err, "targets_file: a list of (address, port) pairs cannot be "
                                "combined with targets"));
    put(dir, "hosts.csv", "# nothing\n");
    assert_null(job_load(path, &text, err, sizeof err));
    assert_non_null(strstr(err, "hosts.csv: lists no target"));
    /* An IPv6 hitlist: its addresses join the job's IPv6 set, in any line form without a
     * port; an IPv6 line with a port, or IPv6 lines in a list of IPv4 pairs, are refused. */
    put(dir, "hosts.csv", "198.18.5.1\n2001:2:0:16::10\n# c\n2001:0002:0:16:0:0:0:20\n");
    put(dir, "scan.toml",
        "targets_file = \"hosts.csv\"\nports = \"80,443\"\n"
        "allow_reserved = [\"198.18.0.0/15\", \"2001:2::/48\"]\n");
    j = job_load(path, &text, err, sizeof err);
    assert_non_null(j);
    assert_int_equal(targets_count(j->set), 1);
    assert_int_equal(targets6_count(j->set6), 2);
    assert_int_equal(j->size, 3 * 2);
    assert_non_null(strstr(text, "\"2001:2:0:16::20\""));
    job_destroy(&j);
    j = job_parse(text, strlen(text), "scan.toml", err, sizeof err); /* the stored text */
    assert_non_null(j);
    assert_int_equal(targets6_count(j->set6), 2);
    job_destroy(&j);
    free(text);
    text = NULL;
    put(dir, "hosts.csv", "198.18.5.1\n[2001:2:0:16::10]:443\n");
    assert_null(job_load(path, &text, err, sizeof err));
    assert_non_null(strstr(err, "hosts.csv:2: a job's (address, port) pairs take IPv4"));
    put(dir, "hosts.csv", "198.18.5.1:80\n2001:2:0:16::10\n");
    assert_null(job_load(path, &text, err, sizeof err));
    assert_non_null(strstr(err, "targets_file: \"2001:2:0:16::10\": a list of (address, port) "
                                "pairs takes IPv4 addresses only"));
    /* Alone, the list is the targets. */
    put(dir, "hosts.csv", "198.18.5.1\n");
    put(dir, "scan.toml",
        "targets_file = \"hosts.csv\"\nports = \"80\"\nallow_reserved = \"198.18.0.0/15\"\n");
    j = job_load(path, &text, err, sizeof err);
    assert_non_null(j);
    assert_int_equal(targets_count(j->set), 1);
    job_destroy(&j);
    free(text);
    unlink(list);
    unlink(path);
    rmdir(dir);
}

/* A targets_file that names ports is a list of pairs: port-less lines stand for each of the
 * job's ports, excluded addresses go, repeats count once, the job's size is the pairs and its
 * ports theirs; the stored text gives the same pairs back, and report_all is refused. */
static void test_targets_file_pairs(void **state)
{
    (void)state;
    char dir[] = "/tmp/lzr-job-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], list[300], err[1024] = "";
    snprintf(path, sizeof path, "%s/scan.toml", dir);
    snprintf(list, sizeof list, "%s/pairs.txt", dir);
    put(dir, "pairs.txt",
        "198.18.5.1:22\n198.18.5.1,8080\n198.18.5.2\n198.18.5.3:443\n198.18.5.1:22\n"
        "198.18.5.9:80\n");
    put(dir, "scan.toml",
        "targets_file = \"pairs.txt\"\nports = \"80,443\"\nexclude = \"198.18.5.9\"\n"
        "allow_reserved = \"198.18.0.0/15\"\n");
    char *text = NULL;
    job_spec_t *j = job_load(path, &text, err, sizeof err);
    if (!j)
        fail_msg("%s", err);
    /* 5.1:22, 5.1:8080, 5.2:80, 5.2:443, 5.3:443; 5.9 is excluded. */
    uint64_t want[] = {pair_key(0xC6120501, 22), pair_key(0xC6120501, 8080),
                       pair_key(0xC6120502, 80), pair_key(0xC6120502, 443),
                       pair_key(0xC6120503, 443)};
    assert_int_equal(j->n_pairs, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(j->pairs[i], want[i]);
    assert_int_equal(j->size, 5);
    assert_int_equal(j->probes, 5);
    assert_string_equal(j->ports_text, "22,80,443,8080");
    assert_int_equal(targets_count(j->set), 3);
    job_destroy(&j);
    j = job_parse(text, strlen(text), "scan.toml", err, sizeof err); /* after a restart */
    assert_non_null(j);
    assert_int_equal(j->n_pairs, 5);
    assert_int_equal(j->pairs[4], want[4]);
    perm_params_t perm;
    assert_int_equal(job_plan(j, 1, 2, &perm, err, sizeof err), LZR_OK);
    assert_int_equal(perm.size, 5);
    job_destroy(&j);
    free(text);
    text = NULL;
    /* Without ports, a port-less line has nothing to stand for. */
    put(dir, "scan.toml", "targets_file = \"pairs.txt\"\nallow_reserved = \"198.18.0.0/15\"\n");
    assert_null(job_load(path, &text, err, sizeof err));
    assert_non_null(strstr(err, "targets_file: a line without a port needs the job's ports"));
    put(dir, "pairs.txt", "198.18.5.1:22\n");
    j = job_load(path, &text, err, sizeof err);
    assert_non_null(j);
    assert_int_equal(j->n_pairs, 1);
    assert_string_equal(j->ports_text, "22");
    job_destroy(&j);
    free(text);
    text = NULL;
    put(dir, "scan.toml",
        "targets_file = \"pairs.txt\"\nreport_all = true\nallow_reserved = \"198.18.0.0/15\"\n");
    assert_null(job_load(path, &text, err, sizeof err));
    assert_non_null(strstr(err, "report_all: a list of (address, port) pairs has no silent"));
    unlink(list);
    unlink(path);
    rmdir(dir);
}

/* cooldown_ms: checked like every timing key. */
static void test_cooldown(void **state)
{
    (void)state;
    char err[512] = "";
    job_spec_t *j =
        parse("targets = \"1.1.1.0/24\"\nports = \"80\"\ncooldown_ms = 2500\n", err, sizeof err);
    assert_non_null(j);
    assert_int_equal(j->cooldown_ms, 2500);
    job_destroy(&j);
    j = parse("targets = \"1.1.1.0/24\"\nports = \"80\"\n", err, sizeof err);
    assert_int_equal(j->cooldown_ms, 0);
    job_destroy(&j);
    assert_null(
        parse("targets = \"1.1.1.0/24\"\nports = \"80\"\ncooldown_ms = 0\n", err, sizeof err));
    assert_string_equal(err, "job.toml:3: cooldown_ms: 0 is out of range (1-3600000)");
}

/* Walks shard i of j's plan and counts its elements. */
static uint64_t shard_elements(const job_spec_t *j, const perm_params_t *p, uint32_t i)
{
    uint64_t b, e, el, n = 0;
    perm_split_range(j->span, i, j->shards, &b, &e);
    perm_iter_t it;
    perm_iter_init(&it, p, b, e);
    while (perm_next(&it, &el))
        n++;
    return n;
}

/* max_targets and max_runtime: parsed as written, a count or a percentage bounds the probes,
 * and the plan's shards together hold exactly that many pairs — the first ones of the
 * permutation, so the same seed gives the same sample. */
static void test_bounds(void **state)
{
    (void)state;
    /* Each value and the share of the job's size it bounds to, in ten-thousandths (0: a count). */
    const struct {
        const char *value;
        uint64_t count, share;
    } cases[] = {
        {"1000", 1000, 0},   {"\"1000\"", 1000, 0},  {"\"10%\"", 0, 1000},
        {"\"0.5%\"", 0, 50}, {"\"100%\"", 0, 10000}, {"99999999", 99999999, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char text[256], err[512] = "";
        snprintf(text, sizeof text,
                 "targets = \"1.1.0.0/16\"\nports = \"80,443\"\nexclude = \"1.1.100.0/24\"\n"
                 "max_targets = %s\nmax_runtime = 30\nrate = 100\n",
                 cases[k].value);
        job_spec_t *j = parse(text, err, sizeof err);
        assert_non_null(j);
        assert_int_equal(j->size, 2 * targets_count(j->set));
        uint64_t want = cases[k].count ? cases[k].count : (j->size * cases[k].share + 9999) / 10000;
        if (want > j->size)
            want = j->size;
        assert_int_equal(j->probes, want);
        assert_int_equal(j->max_runtime_s, 30);
        perm_params_t p;
        assert_int_equal(job_plan(j, 77, 2, &p, err, sizeof err), LZR_OK);
        assert_true(j->span <= perm_cycle_len(&p));
        /* About JOB_SHARD_SECONDS of the bounded work each, not of the whole set. */
        uint64_t per = 100 * JOB_SHARD_SECONDS;
        uint64_t shards = (want + per - 1) / per;
        assert_int_equal(j->shards, shards < 2 ? 2 : shards);
        uint64_t total = 0;
        for (uint32_t i = 0; i < j->shards; i++)
            total += shard_elements(j, &p, i);
        assert_int_equal(total, want);
        /* The sample is the permutation's prefix: the first `want` elements of a full walk. */
        perm_iter_t it;
        uint64_t el, n = 0;
        perm_iter_init(&it, &p, 0, perm_cycle_len(&p));
        while (n < want && perm_next(&it, &el))
            n++;
        assert_int_equal(it.pos, want < j->size ? j->span : it.pos);
        job_destroy(&j);
    }
    char err[512] = "";
    job_spec_t *j = parse("targets = \"1.1.1.0/24\"\nports = \"80\"\n", err, sizeof err);
    assert_non_null(j);
    assert_int_equal(j->probes, 256);
    assert_int_equal(j->max_runtime_s, 0);
    assert_null(j->max_targets[0] ? j : NULL);
    job_destroy(&j);

    const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"max_targets = 0", "job.toml:3: max_targets: 0: the number of targets must be above 0"},
        {"max_targets = \"0%\"", "job.toml:3: max_targets: \"0%\": a percentage must be above 0"},
        {"max_targets = \"101%\"", "job.toml:3: max_targets: \"101%\": a percentage must be"},
        {"max_targets = \"ten\"",
         "job.toml:3: max_targets: \"ten\" is not a number of targets (N) or a percentage"},
        {"max_targets = true", "job.toml:3: max_targets: expected a number of (address, port)"},
        {"max_targets = \"\"", "job.toml:3: max_targets: \"\" is not a bound"},
        {"max_runtime = 0", "job.toml:3: max_runtime: 0 is out of range (1-31622400)"},
        {"max_runtime = \"1h\"", "job.toml:3: max_runtime: expected type integer, got string"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char text[256];
        snprintf(text, sizeof text, "targets = \"1.1.1.0/24\"\nports = \"80\"\n%s\n", bad[k].text);
        err[0] = '\0';
        assert_null(parse(text, err, sizeof err));
        if (strncmp(err, bad[k].msg, strlen(bad[k].msg)) != 0)
            fail_msg("%s: got \"%s\", want \"%s…\"", bad[k].text, err, bad[k].msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file),       cmocka_unit_test(test_defaults_and_plan),
        cmocka_unit_test(test_ipv6_targets),    cmocka_unit_test(test_errors),
        cmocka_unit_test(test_reserved_lifted), cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_fallback_off),    cmocka_unit_test(test_list_files),
        cmocka_unit_test(test_targets_file),    cmocka_unit_test(test_targets_file_pairs),
        cmocka_unit_test(test_cooldown),        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
