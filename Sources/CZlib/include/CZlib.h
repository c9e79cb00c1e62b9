#ifndef LEARNSYNC_CZLIB_H
#define LEARNSYNC_CZLIB_H

// The system zlib (Debian: zlib1g-dev; part of the SDK on Apple platforms), with its
// initialisation macros as functions Swift can call.
#include <zlib.h>

static inline int CZlib_deflateInit2(z_streamp stream, int level, int windowBits) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}

static inline int CZlib_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

#endif
