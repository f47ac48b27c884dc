// qpdf, from Debian's libqpdf-dev: the PDF library the inspector opens every PDF with.
// PDFProbe (C++) uses its C++ API; this module only carries the link flags and the headers.
#include <qpdf/qpdf-c.h>
