#include "image_probe.h"

#include <pthread.h>
#include <string.h>
#include <vips/vips.h>

static pthread_once_t started = PTHREAD_ONCE_INIT;
static int start_failed = 0;

static void start(void) {
    if (VIPS_INIT("dossier") != 0) {
        start_failed = 1;
        return;
    }
    // Only the loaders named below run; nothing is cached between files (they are private).
    vips_block_untrusted_set(TRUE);
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_concurrency_set(1);
}

static void fail(dossier_image_result *out, dossier_image_status status, const char *fallback) {
    const char *detail = vips_error_buffer();
    out->status = status;
    const char *text = (detail != NULL && detail[0] != '\0') ? detail : fallback;
    strncpy(out->message, text, sizeof(out->message) - 1);
    out->message[sizeof(out->message) - 1] = '\0';
    // vips ends each message with a newline: keep the first line.
    char *newline = strchr(out->message, '\n');
    if (newline != NULL) *newline = '\0';
    vips_error_clear();
}

/// The loader of the format the bytes were recognised as, never one chosen by libvips.
static int load(const char *path, dossier_image_format format, VipsAccess access, gboolean memory, VipsImage **image) {
    switch (format) {
    case DOSSIER_IMAGE_JPEG:
        return vips_jpegload(path, image, "fail_on", VIPS_FAIL_ON_TRUNCATED, "access", access, "memory", memory, NULL);
    case DOSSIER_IMAGE_PNG:
        return vips_pngload(path, image, "fail_on", VIPS_FAIL_ON_TRUNCATED, "access", access, "memory", memory, NULL);
    case DOSSIER_IMAGE_WEBP:
        return vips_webpload(path, image, "fail_on", VIPS_FAIL_ON_TRUNCATED, "access", access, "memory", memory, NULL);
    }
    return -1;
}

static void append(dossier_image_result *out, const char *what) {
    if (strstr(out->removed, what) != NULL) return;
    if (out->removed[0] != '\0') strncat(out->removed, ",", sizeof(out->removed) - strlen(out->removed) - 1);
    strncat(out->removed, what, sizeof(out->removed) - strlen(out->removed) - 1);
}

static void list_metadata(VipsImage *image, dossier_image_result *out) {
    gchar **fields = vips_image_get_fields(image);
    for (gchar **field = fields; field != NULL && *field != NULL; field++) {
        if (strcmp(*field, "exif-data") == 0) append(out, "EXIF");
        else if (strcmp(*field, "xmp-data") == 0) append(out, "XMP");
        else if (strcmp(*field, "iptc-data") == 0) append(out, "IPTC");
        else if (strcmp(*field, "icc-profile-data") == 0) append(out, "ICC profile");
        else if (strncmp(*field, "png-comment-", 12) == 0) append(out, "text");
    }
    g_strfreev(fields);
}

static int carries_metadata(VipsImage *image) {
    int found = 0;
    gchar **fields = vips_image_get_fields(image);
    for (gchar **field = fields; field != NULL && *field != NULL; field++) {
        const char *name = *field;
        if (strcmp(name, "exif-data") == 0 || strncmp(name, "exif-ifd", 8) == 0 || strcmp(name, "xmp-data") == 0 ||
            strcmp(name, "iptc-data") == 0 || strcmp(name, "icc-profile-data") == 0 || strncmp(name, "png-comment-", 12) == 0 ||
            strcmp(name, "orientation") == 0) {
            found = 1;
        }
    }
    g_strfreev(fields);
    return found;
}

void dossier_image_reencode(const char *path, dossier_image_format format, unsigned long long max_pixels,
                            dossier_image_result *out) {
    memset(out, 0, sizeof(*out));
    pthread_once(&started, start);
    if (start_failed) {
        fail(out, DOSSIER_IMAGE_UNDECODABLE, "libvips did not start");
        return;
    }
    VipsImage *image = NULL;
    // The header first (nothing decoded yet): the pixel budget and the orientation.
    if (load(path, format, VIPS_ACCESS_SEQUENTIAL, FALSE, &image) != 0) {
        fail(out, DOSSIER_IMAGE_UNDECODABLE, "the picture cannot be decoded");
        return;
    }
    out->width = vips_image_get_width(image);
    out->height = vips_image_get_height(image);
    if ((unsigned long long)out->width * (unsigned long long)out->height > max_pixels) {
        g_object_unref(image);
        out->status = DOSSIER_IMAGE_TOO_LARGE;
        snprintf(out->message, sizeof(out->message), "%d × %d pixels", out->width, out->height);
        return;
    }
    out->orientation = vips_image_get_orientation(image);
    list_metadata(image, out);
    if (out->orientation > 1) {
        // Turning it needs the pixels in any order: decoded into memory (never a temporary
        // file, which would hold the picture in clear), within the budget above.
        g_object_unref(image);
        image = NULL;
        if (load(path, format, VIPS_ACCESS_RANDOM, TRUE, &image) != 0) {
            fail(out, DOSSIER_IMAGE_UNDECODABLE, "the picture cannot be decoded");
            return;
        }
    }
    VipsImage *upright = NULL;
    if (vips_autorot(image, &upright, NULL) != 0) {
        g_object_unref(image);
        fail(out, DOSSIER_IMAGE_UNDECODABLE, "the picture cannot be turned upright");
        return;
    }
    g_object_unref(image);
    // Every metadata field off a private copy: libvips 8.14.1's webpsave ignores `strip` (fixed
    // in 8.14.2, not in Debian 12), and EXIF is rebuilt from the exif-ifd* fields if only
    // exif-data goes. Built-in header fields cannot be removed and are left.
    VipsImage *bare = NULL;
    if (vips_copy(upright, &bare, NULL) != 0) {
        g_object_unref(upright);
        fail(out, DOSSIER_IMAGE_UNDECODABLE, "the picture cannot be decoded");
        return;
    }
    g_object_unref(upright);
    upright = bare;
    gchar **fields = vips_image_get_fields(upright);
    for (gchar **field = fields; field != NULL && *field != NULL; field++) {
        (void)vips_image_remove(upright, *field);
    }
    g_strfreev(fields);
    void *buffer = NULL;
    size_t length = 0;
    int written;
    // strip: no EXIF, XMP, IPTC, ICC, comments or thumbnails in what is kept.
    dossier_image_format target = format;
    if (format == DOSSIER_IMAGE_WEBP) target = vips_image_hasalpha(upright) ? DOSSIER_IMAGE_PNG : DOSSIER_IMAGE_JPEG;
    out->output_format = target;
    switch (target) {
    case DOSSIER_IMAGE_JPEG:
        written = vips_image_write_to_buffer(upright, ".jpg", &buffer, &length, "Q", 90, "strip", TRUE, NULL);
        break;
    default:
        written = vips_image_write_to_buffer(upright, ".png", &buffer, &length, "strip", TRUE, NULL);
        break;
    }
    g_object_unref(upright);
    if (written != 0) {
        g_free(buffer);
        fail(out, DOSSIER_IMAGE_UNDECODABLE, "the picture cannot be decoded");
        return;
    }
    // Fail closed: what was written is read back, and any metadata left is a refusal.
    VipsImage *check = vips_image_new_from_buffer(buffer, length, "", NULL);
    if (check == NULL || carries_metadata(check)) {
        if (check != NULL) g_object_unref(check);
        g_free(buffer);
        fail(out, DOSSIER_IMAGE_UNDECODABLE, "its metadata cannot be removed");
        return;
    }
    g_object_unref(check);
    out->bytes = buffer;
    out->length = length;
    out->status = DOSSIER_IMAGE_OK;
}

void dossier_image_release(dossier_image_result *result) {
    g_free(result->bytes);
    result->bytes = NULL;
    result->length = 0;
}
