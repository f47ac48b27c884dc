// PDFProbe: opens a PDF with qpdf (no repair), resolves every object and decodes every stream
// within a budget, and hands the object graph to Swift as qpdf's JSON (version 2). The rules
// (what counts as active content) are Swift's: DossierCore/Documents/PDFPolicy.swift.
#ifndef DOSSIER_PDF_PROBE_H
#define DOSSIER_PDF_PROBE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    DOSSIER_PDF_OK = 0,
    /// qpdf could not open the file: not a PDF it can read without repairing it.
    DOSSIER_PDF_UNREADABLE = 1,
    /// Encrypted, with or without a password.
    DOSSIER_PDF_ENCRYPTED = 2,
    /// qpdf warned while reading: the file is damaged and a reader would have to repair it.
    DOSSIER_PDF_DAMAGED = 3,
    /// Over the object, page or decoded-bytes budget.
    DOSSIER_PDF_TOO_COMPLEX = 4,
    /// A stream whose filters fail, or that uses a filter nobody can decode.
    DOSSIER_PDF_UNDECODABLE = 5,
} dossier_pdf_status;

typedef struct {
    size_t max_objects;
    size_t max_pages;
    unsigned long long max_decoded_bytes;
} dossier_pdf_limits;

typedef struct {
    dossier_pdf_status status;
    /// What went wrong, in qpdf's words or ours (NUL-terminated).
    char message[512];
    size_t objects;
    size_t pages;
    unsigned long long decoded_bytes;
    /// `{"trailer": …, "objects": {"1 0": …, …}}`, qpdf JSON v2 without stream data; malloc'ed,
    /// set only when status is DOSSIER_PDF_OK. Release with dossier_pdf_probe_release.
    char *json;
    size_t json_length;
} dossier_pdf_probe;

/// Probes the PDF at `path`. Never throws; every outcome is in `out`.
void dossier_pdf_probe_file(const char *path, dossier_pdf_limits limits, dossier_pdf_probe *out);

void dossier_pdf_probe_release(dossier_pdf_probe *probe);

#ifdef __cplusplus
}
#endif

#endif
