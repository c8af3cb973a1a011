#ifndef CZLIB_H
#define CZLIB_H

#include <zlib.h>

/// deflateInit2 and inflateInit2 are macros (they pass the library's version and the
/// stream size); Swift cannot import them.
static inline int czlib_deflate_init(z_streamp stream, int level, int windowBits) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}

static inline int czlib_inflate_init(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

#endif
