// ImageProbe: decodes a JPEG, PNG or WebP with libvips under a pixel budget, turns the pixels
// upright by the EXIF orientation, and re-encodes them with no metadata at all.
#ifndef DOSSIER_IMAGE_PROBE_H
#define DOSSIER_IMAGE_PROBE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    DOSSIER_IMAGE_JPEG = 0,
    DOSSIER_IMAGE_PNG = 1,
    DOSSIER_IMAGE_WEBP = 2,
} dossier_image_format;

typedef enum {
    DOSSIER_IMAGE_OK = 0,
    /// The decoder refused the file (truncated, corrupt, not of the format).
    DOSSIER_IMAGE_UNDECODABLE = 1,
    /// More pixels than the budget (a decompression bomb or a needlessly huge picture).
    DOSSIER_IMAGE_TOO_LARGE = 2,
} dossier_image_status;

typedef struct {
    dossier_image_status status;
    char message[512];
    int width;
    int height;
    /// The EXIF orientation the file declared (1 when none), applied to the pixels.
    int orientation;
    /// The metadata blocks the file carried, which the re-encoding left out: a comma-separated
    /// list of "EXIF", "XMP", "IPTC", "ICC profile", "text".
    char removed[256];
    /// The format of the re-encoded picture: the input's, but for WebP, written as JPEG (PNG with
    /// transparency), since libvips 8.14.1's WebP writer adds an EXIF block whatever it is told.
    dossier_image_format output_format;
    /// The re-encoded picture; g_malloc'ed. Release with dossier_image_release.
    unsigned char *bytes;
    size_t length;
} dossier_image_result;

/// Decodes the picture at `path` as `format`, at most `max_pixels` pixels.
void dossier_image_reencode(const char *path, dossier_image_format format, unsigned long long max_pixels,
                            dossier_image_result *out);

void dossier_image_release(dossier_image_result *result);

#ifdef __cplusplus
}
#endif

#endif
