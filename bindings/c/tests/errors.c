/* librfb's error paths from C, with no server: every failure is a status code with a message,
 * never a crash or an unwinding Rust panic. Also the keysym functions and the stand-alone
 * decoders. Run by tests/c_api.rs (also under valgrind); prints "ok" and exits 0 when every
 * check passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfb.h"

static int failures = 0;

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                       \
        }                                                                     \
    } while (0)

static void feed(RfbClient *c, const char *bytes, size_t len, RfbStatus want) {
    RfbStatus s = rfb_client_feed(c, (const uint8_t *)bytes, len);
    if (s != want)
        fprintf(stderr, "feed: status %d (want %d): %s\n", s, want, rfb_client_error_message(c));
    CHECK(s == want);
}

int main(void) {
    /* A panic inside the library comes back as a status with a message. */
    CHECK(rfb_selftest_internal_error() == RFB_STATUS_PANIC);
    CHECK(strstr(rfb_last_error_message(), "internal error") != NULL);

    /* NULL and wrong handles are refused. */
    uint8_t byte = 0;
    CHECK(rfb_client_feed(NULL, &byte, 1) == RFB_STATUS_NULL_ARGUMENT);
    CHECK(strstr(rfb_last_error_message(), "NULL") != NULL);
    RfbDecoder *d = rfb_decoder_new(NULL, 4, 2);
    CHECK(d != NULL);
    CHECK(rfb_client_feed((RfbClient *)d, &byte, 1) == RFB_STATUS_INVALID_HANDLE);
    CHECK(rfb_decoder_begin((RfbDecoder *)"not a handle, just some text....", 0, 0, 0, 1, 1) ==
          RFB_STATUS_INVALID_HANDLE);
    CHECK(rfb_client_is_connected(NULL) == false);
    rfb_client_free(NULL);

    /* Sending before the handshake is misuse; the client stays usable. */
    RfbClient *c = rfb_client_new(NULL, 0);
    CHECK(c != NULL);
    CHECK(rfb_client_send_key(c, 0x61, true) == RFB_STATUS_MISUSE);
    CHECK(strlen(rfb_client_error_message(c)) > 0);
    CHECK(rfb_client_type_text(c, NULL, NULL) == RFB_STATUS_NULL_ARGUMENT);
    CHECK(rfb_client_type_text(c, "\xff\xfe", NULL) == RFB_STATUS_INVALID_ARGUMENT);
    CHECK(rfb_client_transmit_consume(c, 1) == RFB_STATUS_INVALID_ARGUMENT);

    /* A server that refuses: version, then zero security types and a reason. */
    feed(c, "RFB 003.008\n", 12, RFB_STATUS_OK);
    const uint8_t *out;
    size_t len;
    CHECK(rfb_client_transmit_peek(c, &out, &len) == RFB_STATUS_OK);
    CHECK(len == 12 && memcmp(out, "RFB 003.008\n", 12) == 0);
    CHECK(rfb_client_transmit_consume(c, len) == RFB_STATUS_OK);
    feed(c, "\0\0\0\0\x07go away", 12, RFB_STATUS_REFUSED);
    CHECK(strstr(rfb_client_error_message(c), "go away") != NULL);
    RfbEvent ev;
    int disconnected = 0;
    while (rfb_client_poll_event(c, &ev) == RFB_STATUS_OK && ev.kind != RFB_EVENT_KIND_NONE)
        if (ev.kind == RFB_EVENT_KIND_DISCONNECTED) disconnected = strstr(ev.text, "go away") != NULL;
    CHECK(disconnected);
    /* Later calls keep reporting the failure. */
    feed(c, "x", 1, RFB_STATUS_REFUSED);
    rfb_client_free(c);

    /* Garbage where the version should be is a protocol error, not a crash. */
    c = rfb_client_new(NULL, 0);
    feed(c, "HTTP/1.1 400 Bad Request\r\n", 26, RFB_STATUS_PROTOCOL);
    rfb_client_free(c);

    /* A handshake deadline on the caller's clock. */
    RfbClientOptions o;
    rfb_client_options_default(&o);
    o.handshake_timeout_ms = 1000;
    c = rfb_client_new(&o, 5000);
    uint64_t at = 0;
    CHECK(rfb_client_next_timeout(c, &at) == RFB_STATUS_OK && at == 6000);
    CHECK(rfb_client_handle_timeout(c, 5999) == RFB_STATUS_OK);
    CHECK(rfb_client_handle_timeout(c, 6000) == RFB_STATUS_TIMEOUT);
    rfb_client_free(c);

    /* Keysyms. */
    CHECK(rfb_keysym_from_char('a') == 0x61);
    CHECK(rfb_keysym_from_char(0xe9) == 0xe9);          /* é */
    CHECK(rfb_keysym_from_char(0x20ac) == 0x20ac);      /* € is EuroSign */
    CHECK(rfb_keysym_from_char(0x1f600) == 0x101f600);  /* emoji: Unicode keysym */
    CHECK(rfb_keysym_from_char(0xd800) == 0);           /* a surrogate is no character */
    CHECK(rfb_char_from_keysym(0x6c1) == 0x430);        /* Cyrillic_a */
    CHECK(rfb_char_from_keysym(0xffe1) == 0);           /* Shift_L types no character */
    CHECK(rfb_keysym_from_name("Return") == 0xff0d);
    CHECK(rfb_keysym_from_name("no such key") == 0);
    CHECK(rfb_keysym_from_name(NULL) == 0);
    char name[32];
    size_t n = 0;
    CHECK(rfb_name_of_keysym(0xff0d, name, sizeof name, &n) == RFB_STATUS_OK);
    CHECK(n == 6 && strcmp(name, "Return") == 0);
    CHECK(rfb_name_of_keysym(0xff0d, name, 3, &n) == RFB_STATUS_BUFFER_TOO_SMALL && n == 6);
    CHECK(rfb_xt_scancode("KeyA") == 0x1e);
    CHECK(rfb_xt_scancode("ArrowUp") == 0xe048);
    CHECK(rfb_xt_scancode("NoSuchCode") == 0);
    CHECK(rfb_keysym_from_dom("a", "KeyA", 0) == 0x61);
    CHECK(rfb_keysym_from_dom("Enter", "Enter", 0) == 0xff0d);
    CHECK(rfb_keysym_from_dom("Shift", "ShiftRight", 2) == 0xffe2);

    /* The decoders alone: a Raw rectangle of RGBX pixels, fed in two pieces. */
    const uint8_t raw[] = {1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0};
    size_t used = 0;
    bool done = false;
    CHECK(rfb_decoder_begin(d, 0, 1, 1, 3, 1) == RFB_STATUS_OK);
    CHECK(rfb_decoder_feed(d, raw, 5, &used, &done) == RFB_STATUS_OK && !done);
    CHECK(rfb_decoder_feed(d, raw + used, sizeof raw - used, &used, &done) == RFB_STATUS_OK && done);
    RfbFramebuffer fb;
    CHECK(rfb_decoder_framebuffer(d, &fb) == RFB_STATUS_OK);
    CHECK(fb.width == 4 && fb.height == 2 && fb.stride == 16 && fb.layout == RFB_LAYOUT_RGBA8);
    const uint8_t *px = fb.data + fb.stride + 4; /* (1,1) */
    CHECK(px[0] == 1 && px[1] == 2 && px[2] == 3 && px[3] == 255);
    CHECK(px[8] == 7 && px[9] == 8 && px[10] == 9);
    /* A rectangle outside the framebuffer is refused before any pixel is read. */
    CHECK(rfb_decoder_begin(d, 0, 3, 1, 2, 1) == RFB_STATUS_PROTOCOL);
    CHECK(strlen(rfb_decoder_error_message(d)) > 0);
    CHECK(rfb_decoder_begin(d, 0x7fff0000, 0, 0, 1, 1) == RFB_STATUS_PROTOCOL); /* unknown */
    rfb_decoder_free(d);

    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
