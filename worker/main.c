/*
 * lzr-worker: the scanning process. `lzr-worker scan …` scans on its own; `lzr-worker
 * --coordinator tcp://HOST:7411 …` joins a cluster and scans the shards the coordinator hands
 * it; `lzr-worker handshakes` lists the probes it knows.
 */
#include "common/log.h"
#include "lzr_version.h"
#include "worker/agent_cli.h"
#include "worker/handshakes/registry.h"
#include "worker/scan.h"
#include "worker/verify_cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: lzr-worker scan [--iface IF] [--source-ip IP] --targets CIDR --ports LIST ...\n"
            "       lzr-worker --coordinator tcp://HOST:7411 --iface IF --scan-ip IP ...\n"
            "       lzr-worker verify --scan-ip IP --fresh-ip IP --trigger-ip IP --targets "
            "IP:PORT ...\n"
            "       lzr-worker handshakes\n"
            "       lzr-worker --version\n"
            "Run `lzr-worker scan --help` for the scan options; see docs/worker.md.\n");
}

int main(int argc, char **argv)
{
    log_init("lzr-worker", LOG_LVL_INFO, false);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--coordinator") == 0)
            return agent_main(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "scan") == 0)
        return scan_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "verify") == 0)
        return verify_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "handshakes") == 0) {
        handshake_print_table(stdout);
        printf(
            "\ndefault handshakes: %s, then up to 2 of the port's own protocols\n"
            "fallback tier:      %s (at most %d per target; only for a target that held one\n"
            "                    connection open and closed another; --fallback, --no-fallback)\n",
            HANDSHAKE_DEFAULT_LIST, HANDSHAKE_DEFAULT_FALLBACK, HANDSHAKE_MAX_FALLBACK);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("lzr-worker %s\n", LZR_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
