#include "SQLiteFaults.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

// The state is shared by every connection of the process. `armed` is read without the lock on
// every operation, so files outside the folder cost one atomic load; the folder and the counters
// change only under `lock`.
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int armed = 0;
static char folder[4096];
static size_t folderLength = 0;
static int64_t failAt = 0;
static SQLiteFaultKind kind = SQLiteFaultDiskFull;
static int64_t seen = 0;
static int64_t injected = 0;
static int full = 0;

static sqlite3_vfs *real = NULL;
static sqlite3_vfs faults;

typedef struct {
    sqlite3_file base;
    sqlite3_file *real; // the wrapped file, allocated right after this struct
    char *path;         // owned; NULL for temporary files
} FaultFile;

enum Operation { opWrite, opSync, opTruncate };

/// Counts an operation on `file` and says which error to inject (SQLITE_OK for none).
static int decide(FaultFile *file, enum Operation op) {
    if (!atomic_load(&armed) || file->path == NULL) return SQLITE_OK;
    int result = SQLITE_OK;
    pthread_mutex_lock(&lock);
    if (atomic_load(&armed) && folderLength > 0 && strncmp(file->path, folder, folderLength) == 0) {
        seen += 1;
        if (full || (failAt > 0 && seen == failAt)) {
            if (kind == SQLiteFaultDiskFull) {
                full = 1;
                result = op == opSync ? SQLITE_IOERR_FSYNC : SQLITE_FULL;
            } else {
                result = op == opWrite ? SQLITE_IOERR_WRITE : op == opSync ? SQLITE_IOERR_FSYNC : SQLITE_IOERR_TRUNCATE;
            }
            injected += 1;
        }
    }
    pthread_mutex_unlock(&lock);
    return result;
}

static int faultClose(sqlite3_file *f) {
    FaultFile *file = (FaultFile *)f;
    int rc = file->real->pMethods ? file->real->pMethods->xClose(file->real) : SQLITE_OK;
    free(file->path);
    file->path = NULL;
    return rc;
}

static int faultRead(sqlite3_file *f, void *buffer, int amount, sqlite3_int64 offset) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xRead(file->real, buffer, amount, offset);
}

static int faultWrite(sqlite3_file *f, const void *buffer, int amount, sqlite3_int64 offset) {
    FaultFile *file = (FaultFile *)f;
    int fault = decide(file, opWrite);
    if (fault != SQLITE_OK) {
        // A torn write: the first half reaches the file, as a write cut short by ENOSPC or EIO can.
        if (amount > 1) file->real->pMethods->xWrite(file->real, buffer, amount / 2, offset);
        return fault;
    }
    return file->real->pMethods->xWrite(file->real, buffer, amount, offset);
}

static int faultTruncate(sqlite3_file *f, sqlite3_int64 size) {
    FaultFile *file = (FaultFile *)f;
    int fault = decide(file, opTruncate);
    return fault != SQLITE_OK ? fault : file->real->pMethods->xTruncate(file->real, size);
}

static int faultSync(sqlite3_file *f, int flags) {
    FaultFile *file = (FaultFile *)f;
    int fault = decide(file, opSync);
    return fault != SQLITE_OK ? fault : file->real->pMethods->xSync(file->real, flags);
}

static int faultFileSize(sqlite3_file *f, sqlite3_int64 *size) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xFileSize(file->real, size);
}

static int faultLock(sqlite3_file *f, int level) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xLock(file->real, level);
}

static int faultUnlock(sqlite3_file *f, int level) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xUnlock(file->real, level);
}

static int faultCheckReservedLock(sqlite3_file *f, int *out) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xCheckReservedLock(file->real, out);
}

static int faultFileControl(sqlite3_file *f, int op, void *argument) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xFileControl(file->real, op, argument);
}

static int faultSectorSize(sqlite3_file *f) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xSectorSize(file->real);
}

static int faultDeviceCharacteristics(sqlite3_file *f) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xDeviceCharacteristics(file->real);
}

static int faultShmMap(sqlite3_file *f, int region, int size, int extend, void volatile **out) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xShmMap(file->real, region, size, extend, out);
}

static int faultShmLock(sqlite3_file *f, int offset, int n, int flags) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xShmLock(file->real, offset, n, flags);
}

static void faultShmBarrier(sqlite3_file *f) {
    FaultFile *file = (FaultFile *)f;
    file->real->pMethods->xShmBarrier(file->real);
}

static int faultShmUnmap(sqlite3_file *f, int deleteFlag) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xShmUnmap(file->real, deleteFlag);
}

static int faultFetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **out) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xFetch(file->real, offset, amount, out);
}

static int faultUnfetch(sqlite3_file *f, sqlite3_int64 offset, void *pointer) {
    FaultFile *file = (FaultFile *)f;
    return file->real->pMethods->xUnfetch(file->real, offset, pointer);
}

static const sqlite3_io_methods methods = {
    3,
    faultClose, faultRead, faultWrite, faultTruncate, faultSync, faultFileSize,
    faultLock, faultUnlock, faultCheckReservedLock, faultFileControl, faultSectorSize, faultDeviceCharacteristics,
    faultShmMap, faultShmLock, faultShmBarrier, faultShmUnmap,
    faultFetch, faultUnfetch,
};

static int faultOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *outFlags) {
    (void)vfs;
    FaultFile *file = (FaultFile *)f;
    file->real = (sqlite3_file *)(file + 1);
    file->path = NULL;
    file->base.pMethods = NULL;
    int rc = real->xOpen(real, name, file->real, flags, outFlags);
    if (file->real->pMethods == NULL) return rc;
    // The wrapped methods must offer what the real file offers: version 3 (WAL's shared memory
    // and memory-mapped reads) of the unix VFS.
    if (file->real->pMethods->iVersion < 3) {
        file->real->pMethods->xClose(file->real);
        return SQLITE_CANTOPEN;
    }
    if (name != NULL) file->path = strdup(name);
    file->base.pMethods = &methods;
    return rc;
}

static int faultDelete(sqlite3_vfs *vfs, const char *name, int syncDirectory) {
    (void)vfs;
    return real->xDelete(real, name, syncDirectory);
}

static int faultAccess(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    return real->xAccess(real, name, flags, out);
}

static int faultFullPathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return real->xFullPathname(real, name, size, out);
}

static void *faultDlOpen(sqlite3_vfs *vfs, const char *name) { (void)vfs; return real->xDlOpen(real, name); }
static void faultDlError(sqlite3_vfs *vfs, int size, char *out) { (void)vfs; real->xDlError(real, size, out); }
static void (*faultDlSym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    (void)vfs;
    return real->xDlSym(real, handle, symbol);
}
static void faultDlClose(sqlite3_vfs *vfs, void *handle) { (void)vfs; real->xDlClose(real, handle); }
static int faultRandomness(sqlite3_vfs *vfs, int size, char *out) { (void)vfs; return real->xRandomness(real, size, out); }
static int faultSleep(sqlite3_vfs *vfs, int micros) { (void)vfs; return real->xSleep(real, micros); }
static int faultCurrentTime(sqlite3_vfs *vfs, double *out) { (void)vfs; return real->xCurrentTime(real, out); }
static int faultGetLastError(sqlite3_vfs *vfs, int size, char *out) { (void)vfs; return real->xGetLastError(real, size, out); }
static int faultCurrentTimeInt64(sqlite3_vfs *vfs, sqlite3_int64 *out) { (void)vfs; return real->xCurrentTimeInt64(real, out); }
static int faultSetSystemCall(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr call) {
    (void)vfs;
    return real->xSetSystemCall(real, name, call);
}
static sqlite3_syscall_ptr faultGetSystemCall(sqlite3_vfs *vfs, const char *name) { (void)vfs; return real->xGetSystemCall(real, name); }
static const char *faultNextSystemCall(sqlite3_vfs *vfs, const char *name) { (void)vfs; return real->xNextSystemCall(real, name); }

int sqlite_faults_install(void) {
    pthread_mutex_lock(&lock);
    int rc = SQLITE_OK;
    if (real == NULL) {
        sqlite3_vfs *base = sqlite3_vfs_find(NULL);
        if (base == NULL || base->iVersion < 3) {
            rc = SQLITE_ERROR;
        } else {
            real = base;
            faults = (sqlite3_vfs){
                3, (int)sizeof(FaultFile) + base->szOsFile, base->mxPathname, NULL, "learnsync-faults", NULL,
                faultOpen, faultDelete, faultAccess, faultFullPathname,
                faultDlOpen, faultDlError, faultDlSym, faultDlClose,
                faultRandomness, faultSleep, faultCurrentTime, faultGetLastError,
                faultCurrentTimeInt64, faultSetSystemCall, faultGetSystemCall, faultNextSystemCall,
            };
            rc = sqlite3_vfs_register(&faults, 1);
            if (rc != SQLITE_OK) real = NULL;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

void sqlite_faults_arm(const char *path, int64_t at, SQLiteFaultKind faultKind) {
    pthread_mutex_lock(&lock);
    size_t length = strlen(path);
    if (length >= sizeof(folder)) length = sizeof(folder) - 1;
    memcpy(folder, path, length);
    folder[length] = 0;
    folderLength = length;
    failAt = at;
    kind = faultKind;
    seen = 0;
    injected = 0;
    full = 0;
    atomic_store(&armed, 1);
    pthread_mutex_unlock(&lock);
}

void sqlite_faults_disarm(void) {
    pthread_mutex_lock(&lock);
    atomic_store(&armed, 0);
    full = 0;
    pthread_mutex_unlock(&lock);
}

int64_t sqlite_faults_count(void) {
    pthread_mutex_lock(&lock);
    int64_t count = seen;
    pthread_mutex_unlock(&lock);
    return count;
}

int64_t sqlite_faults_injected(void) {
    pthread_mutex_lock(&lock);
    int64_t count = injected;
    pthread_mutex_unlock(&lock);
    return count;
}
