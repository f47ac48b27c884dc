// poppler-glib and cairo, from Debian's libpoppler-glib-dev and libcairo2-dev: shared documents
// are rendered page by page with poppler into cairo surfaces, watermarked, and written back as
// PDF by cairo. Rendition (C) uses them; this module carries the link flags and headers.
#include <poppler.h>
#include <cairo.h>
#include <cairo-pdf.h>
