/* type_text HOST PORT TEXT [PASSWORD]
 *
 * Connects to a VNC server, types TEXT (UTF-8, any script: librfb maps each character to an
 * X keysym, with Shift where needed) and leaves once the server has processed the keys: it
 * asks for a full (non-incremental) update after the keys and waits for it, and a server
 * handles a client's messages in order.
 *
 * Build: gcc -Wall -Werror -Ibindings/c/include bindings/c/examples/type_text.c \
 *            -Ltarget/release -lrfb -o type_text
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
        fprintf(stderr, "type_text: %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        if (fd >= 0) close(fd);
        fd = -1;
    }
    if (fd < 0) fprintf(stderr, "type_text: connect to %s:%s: %s\n", host, port, strerror(errno));
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

/* Pixels of the screen covered by the last update's rectangles. */
static size_t update_area(RfbClient *c, const RfbEvent *ev) {
    size_t area = 0;
    for (uint32_t i = 0; i < ev->count; i++) {
        RfbRect r;
        if (rfb_client_damage_rect(c, i, &r) == RFB_STATUS_OK) area += (size_t)r.width * r.height;
    }
    return area;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: type_text HOST PORT TEXT [PASSWORD]\n");
        return 2;
    }
    const char *password = argc == 5 ? argv[4] : NULL;
    int fd = dial(argv[1], argv[2]);
    if (fd < 0) return 1;
    RfbClient *c = rfb_client_new(NULL, now_ms());
    if (!c) {
        fprintf(stderr, "type_text: %s\n", rfb_last_error_message());
        return 1;
    }

    int status = 1;
    size_t screen = 0; /* pixels on screen, known once connected */
    int typed = 0;
    uint64_t deadline = now_ms() + 60000;
    uint8_t buf[65536];
    for (;;) {
        RfbEvent ev;
        int finished = 0;
        while (rfb_client_poll_event(c, &ev) == RFB_STATUS_OK && ev.kind != RFB_EVENT_KIND_NONE) {
            if (ev.kind == RFB_EVENT_KIND_CREDENTIALS_REQUIRED) {
                if (!password) {
                    fprintf(stderr, "type_text: the server wants a password\n");
                    goto out;
                }
                if (rfb_client_supply_credentials(c, NULL, password) != RFB_STATUS_OK) goto fail;
            } else if (ev.kind == RFB_EVENT_KIND_CONNECTED || ev.kind == RFB_EVENT_KIND_RESIZED) {
                screen = (size_t)ev.width * ev.height;
            } else if (ev.kind == RFB_EVENT_KIND_FRAMEBUFFER_UPDATED && !typed) {
                size_t skipped = 0;
                if (rfb_client_type_text(c, argv[3], &skipped) != RFB_STATUS_OK) goto fail;
                if (skipped) fprintf(stderr, "type_text: %zu characters have no keysym\n", skipped);
                if (rfb_client_request_update(c, false) != RFB_STATUS_OK) goto fail;
                typed = 1;
            } else if (ev.kind == RFB_EVENT_KIND_FRAMEBUFFER_UPDATED && update_area(c, &ev) >= screen) {
                finished = 1; /* the answer to the full request sent after the keys */
            } else if (ev.kind == RFB_EVENT_KIND_DISCONNECTED) {
                fprintf(stderr, "type_text: disconnected: %s\n", ev.text);
                goto out;
            }
        }
        if (flush(c, fd) < 0) {
            fprintf(stderr, "type_text: write: %s\n", strerror(errno));
            goto out;
        }
        if (finished) break;
        uint64_t now = now_ms();
        if (now >= deadline) {
            fprintf(stderr, "type_text: timed out\n");
            goto out;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR) goto out;
        if (p.revents) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                fprintf(stderr, "type_text: the connection ended\n");
                goto out;
            }
            if (rfb_client_feed(c, buf, (size_t)n) != RFB_STATUS_OK) goto fail;
        }
    }
    status = 0;
    goto out;
fail:
    fprintf(stderr, "type_text: %s\n", rfb_client_error_message(c));
out:
    rfb_client_free(c);
    close(fd);
    return status;
}
