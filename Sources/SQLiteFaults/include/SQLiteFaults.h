#ifndef LEARNSYNC_SQLITE_FAULTS_H
#define LEARNSYNC_SQLITE_FAULTS_H

// A fault-injecting SQLite VFS for tests: it wraps the default VFS and, for files under one
// folder, fails a chosen write, sync or truncate as a full disk or an I/O error does. Every other
// file passes through untouched, so it can be the process's default VFS while other tests run.

#include <stdint.h>

/// The kind of failure an armed fault injects.
typedef enum {
    /// ENOSPC: the chosen operation writes half its bytes and fails with SQLITE_FULL, and so does
    /// every later write, sync and truncate under the folder until disarmed (the disk stays full).
    SQLiteFaultDiskFull = 0,
    /// EIO: the chosen operation writes half its bytes and fails with SQLITE_IOERR_WRITE (or
    /// _FSYNC, _TRUNCATE); later operations succeed.
    SQLiteFaultIOError = 1,
} SQLiteFaultKind;

/// Registers the VFS "learnsync-faults" as the default, wrapping the one that was. Idempotent.
/// Returns SQLITE_OK (0) or SQLite's error code.
int sqlite_faults_install(void);

/// Arms a fault for files whose path starts with `folder`: the `failAt`-th write, sync or truncate
/// (counted from 1) under it fails as `kind` describes. `failAt` 0 injects nothing and only counts.
/// Resets the count. Files opened before arming are covered too.
void sqlite_faults_arm(const char *folder, int64_t failAt, SQLiteFaultKind kind);

/// Stops injecting; the count is kept for `sqlite_faults_count`.
void sqlite_faults_disarm(void);

/// Writes, syncs and truncates seen under the folder since arming.
int64_t sqlite_faults_count(void);

/// Operations that were failed since arming.
int64_t sqlite_faults_injected(void);

#endif
