// libvips, from Debian's libvips-dev: decodes and re-encodes every uploaded picture.
// ImageProbe (C) wraps its variadic calls; this module carries the link flags and headers.
#include <vips/vips.h>
