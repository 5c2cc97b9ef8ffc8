/* screenshot [-s TYPES] [-u USER] [-t TARGET] [-c CA.pem] [-f SHA256] [-n NAME] [-A]
 *            HOST PORT OUT.ppm [PASSWORD]
 *
 * Connects to a VNC server over a plain POSIX socket, waits until every pixel of the screen
 * has arrived and writes it as a binary PPM. librfb does the protocol; this file does the
 * I/O: read from the socket and feed librfb, send what librfb queued, act on its events.
 *
 * Security: -s accepted types in order ("x509vnc,vncauth"), -u username, -t xvp target,
 * -c CA certificate file (PEM), -f pinned SHA-256 fingerprint, -n the name the certificate
 * must carry (default HOST). A certificate nothing trusts ends with exit status 3 and its
 * fingerprint on stderr: pass it with -f to trust it (trust on first use). With -A the
 * program asks instead: it prints the fingerprint and reads "yes" from stdin to go on.
 *
 * Build: gcc -Wall -Werror -Ibindings/c/include bindings/c/examples/screenshot.c \
 *            -Ltarget/release -lrfb -o screenshot
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rfb.h"

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int dial(const char *host, const char *port) {
    struct addrinfo hints = {0}, *res, *ai;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "screenshot: %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        if (fd >= 0) close(fd);
        fd = -1;
    }
    if (fd < 0) fprintf(stderr, "screenshot: connect to %s:%s: %s\n", host, port, strerror(errno));
    freeaddrinfo(res);
    return fd;
}

/* Writes everything librfb has queued for the server. */
static int flush(RfbClient *c, int fd) {
    const uint8_t *data;
    size_t len;
    while (rfb_client_transmit_peek(c, &data, &len) == RFB_STATUS_OK && len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        rfb_client_transmit_consume(c, (size_t)n);
    }
    return 0;
}

static int write_ppm(const char *path, const RfbFramebuffer *fb) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fprintf(f, "P6\n%u %u\n255\n", fb->width, fb->height);
    for (uint32_t y = 0; y < fb->height; y++) {
        const uint8_t *row = fb->data + (size_t)y * fb->stride;
        for (uint32_t x = 0; x < fb->width; x++) fwrite(row + 4 * x, 1, 3, f); /* drop alpha */
    }
    return fclose(f);
}

/* The whole file as a NUL-terminated string (NULL on failure), for the CA PEM. */
static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!buf) buf = calloc(1, 1);
    else buf[len] = 0;
    return buf;
}

int main(int argc, char **argv) {
    const char *user = NULL, *target = NULL, *ca_path = NULL;
    RfbClientOptions opts;
    rfb_client_options_default(&opts);
    opts.handshake_timeout_ms = 30000;
    int opt;
    while ((opt = getopt(argc, argv, "s:u:t:c:f:n:A")) != -1) {
        switch (opt) {
        case 's': opts.security_types = optarg; break;
        case 'u': user = optarg; break;
        case 't': target = optarg; break;
        case 'c': ca_path = optarg; break;
        case 'f': opts.tls_fingerprint = optarg; break;
        case 'n': opts.tls_server_name = optarg; break;
        case 'A': opts.ask_server_verification = true; break;
        default: argc = 0; /* usage below */
        }
    }
    argv += optind;
    argc -= optind;
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: screenshot [-s TYPES] [-u USER] [-t TARGET] [-c CA.pem] "
                        "[-f SHA256] [-n NAME] [-A] HOST PORT OUT.ppm [PASSWORD]\n");
        return 2;
    }
    const char *password = argc == 4 ? argv[3] : NULL;
    char *ca_pem = NULL;
    if (ca_path) {
        ca_pem = read_file(ca_path);
        if (!ca_pem) {
            fprintf(stderr, "screenshot: %s: %s\n", ca_path, strerror(errno));
            return 1;
        }
        opts.tls_ca_pem = ca_pem;
        if (!opts.tls_server_name) opts.tls_server_name = argv[0];
    }
    int fd = dial(argv[0], argv[1]);
    if (fd < 0) {
        free(ca_pem);
        return 1;
    }

    RfbClient *c = rfb_client_new(&opts, now_ms());
    free(ca_pem); /* librfb keeps what it needs */
    if (!c) {
        fprintf(stderr, "screenshot: %s\n", rfb_last_error_message());
        close(fd);
        return 1;
    }

    int status = 1;
    uint8_t *covered = NULL; /* one flag per pixel: has it arrived yet? */
    size_t missing = 0, width = 0;
    uint64_t deadline = now_ms() + 60000;
    uint8_t buf[65536];
    for (;;) {
        RfbEvent ev;
        while (rfb_client_poll_event(c, &ev) == RFB_STATUS_OK && ev.kind != RFB_EVENT_KIND_NONE) {
            if (ev.kind == RFB_EVENT_KIND_CREDENTIALS_REQUIRED) {
                /* flags: bit 0 username, bit 1 password, bit 2 target */
                if ((ev.flags & 2) && !password) {
                    fprintf(stderr, "screenshot: the server wants a password\n");
                    goto out;
                }
                if ((ev.flags & 1) && !user) {
                    fprintf(stderr, "screenshot: the server wants a username (-u)\n");
                    goto out;
                }
                if (rfb_client_supply_credentials_target(c, user, password, target) != RFB_STATUS_OK)
                    goto fail;
            } else if (ev.kind == RFB_EVENT_KIND_SERVER_VERIFICATION) {
                /* flags: 0 TLS certificate, 1 RSA key (RA2) */
                fprintf(stderr, "screenshot: the server's %s has SHA-256 fingerprint %s\n"
                        "screenshot: trust it? (yes/no)\n",
                        ev.flags == 1 ? "RSA key" : "certificate", ev.text);
                char answer[16] = "";
                if (fgets(answer, sizeof answer, stdin) && strncmp(answer, "yes", 3) == 0) {
                    if (rfb_client_approve_server(c) != RFB_STATUS_OK) goto fail;
                } else {
                    rfb_client_reject_server(c);
                    fprintf(stderr, "screenshot: %s\n", rfb_client_error_message(c));
                    status = 3;
                    goto out;
                }
            } else if (ev.kind == RFB_EVENT_KIND_CONNECTED || ev.kind == RFB_EVENT_KIND_RESIZED) {
                free(covered);
                width = ev.width;
                missing = (size_t)ev.width * ev.height;
                covered = calloc(missing ? missing : 1, 1);
                if (!covered) goto out;
            } else if (ev.kind == RFB_EVENT_KIND_FRAMEBUFFER_UPDATED && covered) {
                for (uint32_t i = 0; i < ev.count; i++) {
                    RfbRect r;
                    if (rfb_client_damage_rect(c, i, &r) != RFB_STATUS_OK) goto fail;
                    for (size_t y = r.y; y < (size_t)r.y + r.height; y++)
                        for (size_t x = r.x; x < (size_t)r.x + r.width; x++)
                            if (!covered[y * width + x]) covered[y * width + x] = 1, missing--;
                }
            } else if (ev.kind == RFB_EVENT_KIND_DISCONNECTED) {
                fprintf(stderr, "screenshot: disconnected: %s\n", ev.text);
                goto out;
            }
        }
        if (covered && missing == 0) break;
        if (flush(c, fd) < 0) {
            fprintf(stderr, "screenshot: write: %s\n", strerror(errno));
            goto out;
        }
        uint64_t now = now_ms();
        if (now >= deadline) {
            fprintf(stderr, "screenshot: timed out\n");
            goto out;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR) goto out;
        if (p.revents) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                fprintf(stderr, "screenshot: read: %s\n", strerror(errno));
                goto out;
            }
            RfbStatus s = n == 0 ? rfb_client_handle_eof(c) : rfb_client_feed(c, buf, (size_t)n);
            if (s == RFB_STATUS_CERTIFICATE_REJECTED) {
                fprintf(stderr, "screenshot: %s\n", rfb_client_error_message(c));
                fprintf(stderr, "screenshot: to trust this certificate: -f %s\n",
                        rfb_client_rejected_fingerprint(c));
                status = 3;
                goto out;
            }
            if (s != RFB_STATUS_OK) goto fail;
            if (n == 0) {
                fprintf(stderr, "screenshot: the server closed the connection\n");
                goto out;
            }
        }
        if (rfb_client_handle_timeout(c, now_ms()) != RFB_STATUS_OK) goto fail;
    }

    RfbFramebuffer fb;
    if (rfb_client_framebuffer(c, &fb) != RFB_STATUS_OK) goto fail;
    if (write_ppm(argv[2], &fb) != 0) {
        fprintf(stderr, "screenshot: %s: %s\n", argv[2], strerror(errno));
        goto out;
    }
    status = 0;
    goto out;
fail:
    fprintf(stderr, "screenshot: %s\n", rfb_client_error_message(c));
out:
    free(covered);
    rfb_client_free(c);
    close(fd);
    return status;
}
