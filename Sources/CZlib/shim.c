// The module is CZlib.h; SwiftPM wants one source file in a C target.
