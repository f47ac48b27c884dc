#include "rendition.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <poppler.h>
#include <qrencode.h>
#include <vips/vips.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define A4_WIDTH 595.276
#define A4_HEIGHT 841.89
#define MARGIN 56.0
/// No raster side beyond this, whatever size a page declares (a 200 × 200 inch page).
#define MAX_RASTER_SIDE 5000

struct dossier_rendition {
    int fd;
    int failed_write;
    cairo_surface_t *surface;
    cairo_t *cr;
    int pages;
};

static void fail(char *error, size_t size, const char *format, ...) {
    if (!error || size == 0) return;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error, size, format, arguments);
    va_end(arguments);
}

static cairo_status_t write_all(void *closure, const unsigned char *data, unsigned int length) {
    dossier_rendition *rendition = closure;
    while (length > 0) {
        ssize_t written = write(rendition->fd, data, length);
        if (written < 0) {
            if (errno == EINTR) continue;
            rendition->failed_write = 1;
            return CAIRO_STATUS_WRITE_ERROR;
        }
        data += written;
        length -= (unsigned int)written;
    }
    return CAIRO_STATUS_SUCCESS;
}

int dossier_rendition_init(char *error, size_t error_size) {
    if (VIPS_INIT("dossier-render") != 0) {
        fail(error, error_size, "libvips does not start: %s", vips_error_buffer());
        return -1;
    }
    vips_block_untrusted_set(TRUE);
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    return 0;
}

dossier_rendition *dossier_rendition_begin(int fd, char *error, size_t error_size) {
    dossier_rendition *rendition = calloc(1, sizeof *rendition);
    if (!rendition) {
        fail(error, error_size, "out of memory");
        return NULL;
    }
    rendition->fd = fd;
    rendition->surface = cairo_pdf_surface_create_for_stream(write_all, rendition, A4_WIDTH, A4_HEIGHT);
    if (cairo_surface_status(rendition->surface) != CAIRO_STATUS_SUCCESS) {
        fail(error, error_size, "cairo: %s", cairo_status_to_string(cairo_surface_status(rendition->surface)));
        cairo_surface_destroy(rendition->surface);
        free(rendition);
        return NULL;
    }
    cairo_pdf_surface_restrict_to_version(rendition->surface, CAIRO_PDF_VERSION_1_5);
    cairo_pdf_surface_set_metadata(rendition->surface, CAIRO_PDF_METADATA_CREATOR, "Dossier");
    rendition->cr = cairo_create(rendition->surface);
    return rendition;
}

static void select_font(cairo_t *cr, int bold) {
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
}

/// The watermark tiled over a width × height area, in rows turned 30°, every other row shifted
/// by half a step: no band of the page is left without it.
static void draw_tiles(cairo_t *cr, double width, double height, const char *text) {
    if (!text || !*text) return;
    double longer = width > height ? width : height;
    double size = longer / 55.0;
    cairo_save(cr);
    select_font(cr, 1);
    cairo_set_font_size(cr, size);
    cairo_text_extents_t extents;
    cairo_text_extents(cr, text, &extents);
    double step_x = extents.x_advance + size * 4;
    double step_y = size * 5;
    double reach = hypot(width, height) / 2 + step_x;
    cairo_translate(cr, width / 2, height / 2);
    cairo_rotate(cr, -M_PI / 6);
    cairo_set_source_rgba(cr, 0.70, 0.08, 0.08, 0.33);
    int row = 0;
    for (double y = -reach; y < reach; y += step_y, row++) {
        double shift = (row % 2) ? step_x / 2 : 0;
        for (double x = -reach - shift; x < reach; x += step_x) {
            cairo_move_to(cr, x, y);
            // Outlines, not text: on a page of text (a cover), the tiles stay out of what a reader
            // extracts; on a raster they are burnt in anyway.
            cairo_text_path(cr, text);
        }
        cairo_fill(cr);
    }
    cairo_restore(cr);
}

/// The footer, as text of the PDF page (the raster carries the tiles): at most 7 pt, smaller
/// when needed to fit the page's width.
static void draw_footer(cairo_t *cr, double width, double height, const char *text) {
    // A page too small to carry it legibly (a strip) carries the tiles only.
    if (!text || !*text || width < 120 || height < 60) return;
    cairo_save(cr);
    select_font(cr, 0);
    cairo_set_font_size(cr, 7);
    cairo_text_extents_t extents;
    cairo_text_extents(cr, text, &extents);
    double available = width - 24;
    if (extents.x_advance > available && extents.x_advance > 0) {
        // Never below 3 pt: what does not fit then runs off the page's edge (the tiles carry it all).
        double size = 7 * available / extents.x_advance;
        cairo_set_font_size(cr, size < 3 ? 3 : size);
    }
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, 0, height - 14, width, 14);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.45, 0.05, 0.05);
    cairo_move_to(cr, 12, height - 5);
    cairo_show_text(cr, text);
    cairo_restore(cr);
}

/// The raster as JPEG (libvips), attached to the surface so that cairo embeds it as such.
static int attach_jpeg(cairo_surface_t *raster, char *error, size_t error_size) {
    cairo_surface_flush(raster);
    int width = cairo_image_surface_get_width(raster);
    int height = cairo_image_surface_get_height(raster);
    int stride = cairo_image_surface_get_stride(raster);
    const unsigned char *pixels = cairo_image_surface_get_data(raster);
    size_t size = (size_t)width * (size_t)height * 3;
    unsigned char *rgb = malloc(size);
    if (!rgb) {
        fail(error, error_size, "out of memory for a %dx%d page", width, height);
        return -1;
    }
    for (int y = 0; y < height; y++) {
        const uint32_t *row = (const uint32_t *)(pixels + (size_t)y * (size_t)stride);
        unsigned char *out = rgb + (size_t)y * (size_t)width * 3;
        for (int x = 0; x < width; x++) {
            uint32_t pixel = row[x];
            out[3 * x] = (pixel >> 16) & 0xff;
            out[3 * x + 1] = (pixel >> 8) & 0xff;
            out[3 * x + 2] = pixel & 0xff;
        }
    }
    VipsImage *image = vips_image_new_from_memory(rgb, size, width, height, 3, VIPS_FORMAT_UCHAR);
    if (!image) {
        free(rgb);
        fail(error, error_size, "libvips: %s", vips_error_buffer());
        vips_error_clear();
        return -1;
    }
    void *jpeg = NULL;
    size_t length = 0;
    int status = vips_jpegsave_buffer(image, &jpeg, &length, "Q", 80, "strip", TRUE, NULL);
    g_object_unref(image);
    free(rgb);
    if (status != 0) {
        fail(error, error_size, "libvips: %s", vips_error_buffer());
        vips_error_clear();
        return -1;
    }
    cairo_status_t attached = cairo_surface_set_mime_data(raster, CAIRO_MIME_TYPE_JPEG, jpeg, length, g_free, jpeg);
    if (attached != CAIRO_STATUS_SUCCESS) {
        g_free(jpeg);
        fail(error, error_size, "cairo: %s", cairo_status_to_string(attached));
        return -1;
    }
    return 0;
}

/// One page of the output: the watermarked raster over width × height points, and the footer.
static int emit_raster_page(dossier_rendition *rendition, cairo_surface_t *raster, double width, double height,
                            const dossier_mark *mark, char *error, size_t error_size) {
    if (attach_jpeg(raster, error, error_size) != 0) return -1;
    cairo_t *cr = rendition->cr;
    cairo_pdf_surface_set_size(rendition->surface, width, height);
    cairo_save(cr);
    cairo_scale(cr, width / cairo_image_surface_get_width(raster), height / cairo_image_surface_get_height(raster));
    cairo_set_source_surface(cr, raster, 0, 0);
    cairo_paint(cr);
    cairo_restore(cr);
    draw_footer(cr, width, height, mark ? mark->footer : NULL);
    cairo_show_page(cr);
    rendition->pages++;
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        fail(error, error_size, "cairo: %s", cairo_status_to_string(cairo_status(cr)));
        return -1;
    }
    return rendition->failed_write ? (fail(error, error_size, "the output could not be written"), -1) : 0;
}

int dossier_rendition_add_pdf(dossier_rendition *rendition, const unsigned char *bytes, size_t size,
                              const dossier_mark *mark, double dpi, int max_pages, char *error, size_t error_size) {
    GBytes *data = g_bytes_new_static(bytes, size);
    GError *problem = NULL;
    PopplerDocument *document = poppler_document_new_from_bytes(data, NULL, &problem);
    g_bytes_unref(data);
    if (!document) {
        fail(error, error_size, "poppler does not open the PDF: %s", problem ? problem->message : "unknown error");
        if (problem) g_error_free(problem);
        return -1;
    }
    int count = poppler_document_get_n_pages(document);
    if (count < 1 || count > max_pages) {
        fail(error, error_size, "the PDF has %d pages; at most %d fit", count, max_pages);
        g_object_unref(document);
        return count < 1 ? -1 : DOSSIER_RENDITION_TOO_LARGE;
    }
    int status = 0;
    for (int index = 0; index < count && status == 0; index++) {
        PopplerPage *page = poppler_document_get_page(document, index);
        if (!page) {
            fail(error, error_size, "poppler does not open page %d", index + 1);
            status = -1;
            break;
        }
        double width = 0, height = 0;
        poppler_page_get_size(page, &width, &height);
        if (!(width >= 1 && height >= 1 && width <= 14400 && height <= 14400)) {
            fail(error, error_size, "page %d has an impossible size", index + 1);
            g_object_unref(page);
            status = -1;
            break;
        }
        double scale = dpi / 72.0;
        double longer = (width > height ? width : height) * scale;
        if (longer > MAX_RASTER_SIDE) scale *= MAX_RASTER_SIDE / longer;
        int pixels_x = (int)ceil(width * scale), pixels_y = (int)ceil(height * scale);
        cairo_surface_t *raster = cairo_image_surface_create(CAIRO_FORMAT_RGB24, pixels_x, pixels_y);
        if (cairo_surface_status(raster) != CAIRO_STATUS_SUCCESS) {
            fail(error, error_size, "page %d: no memory for a %dx%d raster", index + 1, pixels_x, pixels_y);
            cairo_surface_destroy(raster);
            g_object_unref(page);
            status = -1;
            break;
        }
        cairo_t *cr = cairo_create(raster);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_paint(cr);
        cairo_save(cr);
        cairo_scale(cr, scale, scale);
        poppler_page_render_for_printing(page, cr);
        cairo_restore(cr);
        draw_tiles(cr, pixels_x, pixels_y, mark ? mark->tile : NULL);
        if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
            fail(error, error_size, "page %d does not render: %s", index + 1, cairo_status_to_string(cairo_status(cr)));
            status = -1;
        }
        cairo_destroy(cr);
        g_object_unref(page);
        if (status == 0) status = emit_raster_page(rendition, raster, width, height, mark, error, error_size);
        cairo_surface_destroy(raster);
    }
    g_object_unref(document);
    return status;
}

int dossier_rendition_add_image(dossier_rendition *rendition, const unsigned char *bytes, size_t size,
                                const dossier_mark *mark, int max_side, char *error, size_t error_size) {
    VipsImage *loaded = vips_image_new_from_buffer(bytes, size, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (!loaded) {
        fail(error, error_size, "libvips does not open the picture: %s", vips_error_buffer());
        vips_error_clear();
        return -1;
    }
    VipsImage *steps[5] = {NULL};
    VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
    int status = vips_thumbnail_image(loaded, &steps[0], max_side, "height", max_side, "size", VIPS_SIZE_DOWN, NULL);
    if (status == 0) status = vips_colourspace(steps[0], &steps[1], VIPS_INTERPRETATION_sRGB, NULL);
    if (status == 0) {
        if (vips_image_hasalpha(steps[1])) {
            status = vips_flatten(steps[1], &steps[2], "background", white, NULL);
        } else {
            status = vips_copy(steps[1], &steps[2], NULL);
        }
    }
    if (status == 0) status = vips_cast_uchar(steps[2], &steps[3], NULL);
    vips_area_unref(VIPS_AREA(white));
    g_object_unref(loaded);
    size_t length = 0;
    unsigned char *rgb = NULL;
    int width = 0, height = 0, bands = 0;
    if (status == 0) {
        width = vips_image_get_width(steps[3]);
        height = vips_image_get_height(steps[3]);
        bands = vips_image_get_bands(steps[3]);
        rgb = vips_image_write_to_memory(steps[3], &length);
    }
    for (int i = 0; i < 5; i++) {
        if (steps[i]) g_object_unref(steps[i]);
    }
    if (status != 0 || !rgb || bands < 3 || length < (size_t)width * (size_t)height * (size_t)bands) {
        fail(error, error_size, "libvips does not decode the picture: %s", vips_error_buffer());
        vips_error_clear();
        g_free(rgb);
        return -1;
    }
    cairo_surface_t *raster = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    if (cairo_surface_status(raster) != CAIRO_STATUS_SUCCESS) {
        fail(error, error_size, "no memory for a %dx%d picture", width, height);
        cairo_surface_destroy(raster);
        g_free(rgb);
        return -1;
    }
    cairo_surface_flush(raster);
    unsigned char *pixels = cairo_image_surface_get_data(raster);
    int stride = cairo_image_surface_get_stride(raster);
    for (int y = 0; y < height; y++) {
        uint32_t *row = (uint32_t *)(pixels + (size_t)y * (size_t)stride);
        const unsigned char *in = rgb + (size_t)y * (size_t)width * (size_t)bands;
        for (int x = 0; x < width; x++) {
            const unsigned char *p = in + (size_t)x * (size_t)bands;
            row[x] = 0xff000000u | ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | (uint32_t)p[2];
        }
    }
    g_free(rgb);
    cairo_surface_mark_dirty(raster);
    cairo_t *cr = cairo_create(raster);
    draw_tiles(cr, width, height, mark ? mark->tile : NULL);
    cairo_destroy(cr);
    // On an A4 page of the picture's orientation, as large as fits.
    double page_width = width > height ? A4_HEIGHT : A4_WIDTH;
    double page_height = width > height ? A4_WIDTH : A4_HEIGHT;
    double fit = fmin(page_width / width, page_height / height);
    status = emit_raster_page(rendition, raster, width * fit, height * fit, mark, error, error_size);
    cairo_surface_destroy(raster);
    return status;
}

/// Splits `text` into lines no wider than `width` at the current font, breaking between words
/// (a word wider than a line stands alone on its own). Calls `draw` for each line.
static void wrap(cairo_t *cr, const char *text, double width, void (*draw)(cairo_t *, const char *, void *), void *context) {
    size_t length = strlen(text);
    char *line = malloc(length + 1);
    if (!line) return;
    size_t start = 0;
    while (start < length) {
        size_t best = 0;
        size_t end = start;
        // Grow the line word by word while it fits.
        while (end < length) {
            size_t next = end;
            while (next < length && text[next] == ' ') next++;
            while (next < length && text[next] != ' ') next++;
            memcpy(line, text + start, next - start);
            line[next - start] = 0;
            cairo_text_extents_t extents;
            cairo_text_extents(cr, line, &extents);
            if (extents.x_advance > width && best > 0) break;
            best = next - start;
            end = next;
            if (extents.x_advance > width) break;
        }
        memcpy(line, text + start, best);
        line[best] = 0;
        draw(cr, line, context);
        start += best;
        while (start < length && text[start] == ' ') start++;
    }
    free(line);
}

struct text_cursor {
    dossier_rendition *rendition;
    double y;
    double line_height;
    const dossier_mark *mark;
};

static void start_text_page(struct text_cursor *cursor) {
    cairo_pdf_surface_set_size(cursor->rendition->surface, A4_WIDTH, A4_HEIGHT);
    if (cursor->mark) draw_tiles(cursor->rendition->cr, A4_WIDTH, A4_HEIGHT, cursor->mark->tile);
    cursor->y = MARGIN + 24;
}

static void finish_text_page(struct text_cursor *cursor) {
    if (cursor->mark) draw_footer(cursor->rendition->cr, A4_WIDTH, A4_HEIGHT, cursor->mark->footer);
    cairo_show_page(cursor->rendition->cr);
    cursor->rendition->pages++;
}

static void draw_line(cairo_t *cr, const char *line, void *context) {
    struct text_cursor *cursor = context;
    if (cursor->y > A4_HEIGHT - MARGIN) {
        finish_text_page(cursor);
        start_text_page(cursor);
    }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_move_to(cr, MARGIN, cursor->y);
    cairo_show_text(cr, line);
    cursor->y += cursor->line_height;
}

int dossier_rendition_add_text_page(dossier_rendition *rendition, const char *title, const char *const *lines, size_t count,
                                    const char *qr_text, const char *qr_caption, const dossier_mark *mark,
                                    char *error, size_t error_size) {
    cairo_t *cr = rendition->cr;
    struct text_cursor cursor = {rendition, 0, 0, mark};
    start_text_page(&cursor);
    double width = A4_WIDTH - 2 * MARGIN;
    select_font(cr, 1);
    cairo_set_font_size(cr, 18);
    cursor.line_height = 24;
    wrap(cr, title ? title : "", width, draw_line, &cursor);
    cursor.y += 10;
    select_font(cr, 0);
    cairo_set_font_size(cr, 11);
    cursor.line_height = 16;
    for (size_t i = 0; i < count; i++) {
        if (!lines[i] || !*lines[i]) {
            cursor.y += 8;
            continue;
        }
        wrap(cr, lines[i], width, draw_line, &cursor);
    }
    if (qr_text) {
        QRcode *code = QRcode_encodeString(qr_text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
        if (!code) {
            fail(error, error_size, "libqrencode could not encode the address (%s)", strerror(errno));
            return -1;
        }
        double side = 130;
        double module = side / (code->width + 8);
        if (cursor.y + 16 + side + 24 > A4_HEIGHT - MARGIN) {
            finish_text_page(&cursor);
            start_text_page(&cursor);
        }
        double left = MARGIN, top = cursor.y + 8;
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_rectangle(cr, left, top, side, side);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        for (int y = 0; y < code->width; y++) {
            for (int x = 0; x < code->width; x++) {
                if (code->data[y * code->width + x] & 1) {
                    cairo_rectangle(cr, left + (x + 4) * module, top + (y + 4) * module, module, module);
                }
            }
        }
        cairo_fill(cr);
        QRcode_free(code);
        cursor.y = top + side + 14;
        if (qr_caption) {
            cairo_set_font_size(cr, 9);
            cursor.line_height = 12;
            wrap(cr, qr_caption, width, draw_line, &cursor);
        }
    }
    finish_text_page(&cursor);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        fail(error, error_size, "cairo: %s", cairo_status_to_string(cairo_status(cr)));
        return -1;
    }
    return rendition->failed_write ? (fail(error, error_size, "the output could not be written"), -1) : 0;
}

int dossier_rendition_page_count(const dossier_rendition *rendition) {
    return rendition ? rendition->pages : 0;
}

int dossier_rendition_end(dossier_rendition *rendition, char *error, size_t error_size) {
    if (!rendition) return -1;
    cairo_destroy(rendition->cr);
    cairo_surface_finish(rendition->surface);
    cairo_status_t status = cairo_surface_status(rendition->surface);
    cairo_surface_destroy(rendition->surface);
    int failed = rendition->failed_write || status != CAIRO_STATUS_SUCCESS || rendition->pages == 0;
    if (failed) {
        fail(error, error_size, rendition->pages == 0 ? "nothing to render" : "the PDF could not be finished: %s",
             cairo_status_to_string(status));
    }
    free(rendition);
    return failed ? -1 : 0;
}
