// Rendition: what a recipient of a shared file receives, made with real libraries. Each page of
// a PDF is rendered by poppler into a raster, the recipient's watermark is tiled across it with
// cairo, and the raster (JPEG-compressed by libvips) becomes the page of a new PDF written by
// cairo: no text, vector or layer of the original survives, so the watermark cannot be lifted
// off. A picture is treated alike. Cover and certificate pages are laid out with cairo, with a
// QR code from libqrencode. Runs in dossier-render, a process of its own under limits.
#ifndef DOSSIER_RENDITION_H
#define DOSSIER_RENDITION_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dossier_rendition dossier_rendition;

/// The watermark: `tile` repeated across every page, `footer` printed once at its foot, also as
/// text (what a reader extracts from the page).
typedef struct {
    const char *tile;
    const char *footer;
} dossier_mark;

/// Starts a PDF written to the file descriptor `fd`. NULL on failure (message in `error`).
dossier_rendition *dossier_rendition_begin(int fd, char *error, size_t error_size);

/// What a call returns for a document with more pages than it may have.
#define DOSSIER_RENDITION_TOO_LARGE (-2)

/// Adds every page of a PDF, rendered at `dpi` and watermarked. Returns
/// DOSSIER_RENDITION_TOO_LARGE past `max_pages`.
int dossier_rendition_add_pdf(dossier_rendition *rendition, const unsigned char *bytes, size_t size,
                              const dossier_mark *mark, double dpi, int max_pages, char *error, size_t error_size);

/// Adds a picture (JPEG or PNG) as one page, its longer side at most `max_side` pixels.
int dossier_rendition_add_image(dossier_rendition *rendition, const unsigned char *bytes, size_t size,
                                const dossier_mark *mark, int max_side, char *error, size_t error_size);

/// Adds an A4 page of text: a title, lines (wrapped), and when `qr_text` is not NULL its QR code
/// with `qr_caption` under it. `mark` may be NULL.
int dossier_rendition_add_text_page(dossier_rendition *rendition, const char *title, const char *const *lines, size_t count,
                                    const char *qr_text, const char *qr_caption, const dossier_mark *mark,
                                    char *error, size_t error_size);

/// Pages added so far.
int dossier_rendition_page_count(const dossier_rendition *rendition);

/// Finishes the PDF and frees everything; returns 0 when all of it was written.
int dossier_rendition_end(dossier_rendition *rendition, char *error, size_t error_size);

/// Initialises libvips once per process (untrusted loaders blocked). 0 on success.
int dossier_rendition_init(char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
