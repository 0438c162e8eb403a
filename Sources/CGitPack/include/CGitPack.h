#ifndef CGITPACK_H
#define CGITPACK_H

// A git pack of given objects, written without a delta search, with its index (version 2).
//
// Between two repositories on one machine kb copies objects as they are: libgit2's packbuilder
// looks for deltas between every pair of objects in a window of ten, which for the large trees
// of a big knowledge base costs 3-4 times the rest of a local transfer (560 ms against 170 ms
// for 183 objects at 100,000 documents), and its indexer inflates and hashes every object a
// second time (40% of the transfer). Here each object is compressed with zlib and appended to
// the pack, and the index is written from the ids, offsets and CRCs already at hand.
//
// The writer knows nothing of libgit2: a reader callback hands it each object (kb's reads it from
// libgit2's object database, which checks it against its id). Both files are written under
// temporary names in `pack_dir` and renamed into place (the pack first: readers find packs by
// their index), after an fsync of each when `durable` is set, and then of the folder. On any
// failure nothing is left behind.

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// git's object types, as a pack stores them.
enum {
  KBPACK_COMMIT = 1,
  KBPACK_TREE = 2,
  KBPACK_BLOB = 3,
  KBPACK_TAG = 4,
};

/// One object, as the reader hands it over.
typedef struct {
  int type;          // KBPACK_COMMIT, KBPACK_TREE, KBPACK_BLOB or KBPACK_TAG
  const void *data;  // its content (without git's "type size\0" header)
  size_t size;
} kbpack_object;

/// Fills `out` with object `index` (0 ..< count); `out->data` stays valid until `release` is
/// called for it. Returns 0, or a negative code, which stops the write and is returned by it.
typedef int (*kbpack_read_fn)(void *payload, size_t index, kbpack_object *out);
/// Called once for every object `read` returned 0 for, when the writer is done with it.
typedef void (*kbpack_release_fn)(void *payload, size_t index);

/// What went wrong, for people.
typedef struct {
  char message[256];
} kbpack_error;

/// Writes `count` objects into `pack_dir` as `pack-<sum>.pack` and `pack-<sum>.idx`, where
/// `<sum>` (40 hex digits and a NUL, in `name`) is the pack's SHA-1.
///
/// `ids` holds `count` distinct 20-byte object ids, one after the other: the index maps each to
/// the object `read` returns for the same position (the writer does not hash the contents).
/// Returns 0; -1 with `error` set when the writer failed (I/O, zlib, memory, bad arguments);
/// or the negative code `read` returned. `name` and `error` may be NULL.
int kbpack_write(const unsigned char *ids, size_t count, kbpack_read_fn read, kbpack_release_fn release,
                 void *payload, const char *pack_dir, int durable, char name[41], kbpack_error *error);

#ifdef __cplusplus
}
#endif

#endif
