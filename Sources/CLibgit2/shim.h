#include <git2.h>
#include <git2/sys/merge.h>
#include <git2/sys/repository.h>

// git_libgit2_opts is variadic, which Swift cannot call: one helper per option used.
static inline int kb_git_enable_fsync_gitdir(int enabled) {
  return git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, enabled);
}
static inline int kb_git_set_ssl_cert_locations(const char *file, const char *path) {
  return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, path);
}
static inline int kb_git_enable_strict_object_creation(int enabled) {
  return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, enabled);
}

// --- A pack of given objects, written without a delta search -------------------------------
// libgit2's packbuilder looks for deltas between every pair of objects in a window of ten,
// which for the large trees of a big knowledge base costs 3-4 times the rest of a local
// transfer (e.g. 560 ms against 170 ms for 183 objects at 100,000 documents). Between two
// repositories on one machine the objects are copied as they are: each is read from `odb`,
// compressed with zlib and streamed through libgit2's indexer, which checks every object and
// writes the pack and its index into `pack_dir` (fsynced when libgit2's fsync is on).
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <mbedtls/sha1.h>
#include <mbedtls/version.h>

#if MBEDTLS_VERSION_MAJOR >= 3
#define KB_SHA1_STARTS mbedtls_sha1_starts
#define KB_SHA1_UPDATE mbedtls_sha1_update
#define KB_SHA1_FINISH mbedtls_sha1_finish
#else
#define KB_SHA1_STARTS mbedtls_sha1_starts_ret
#define KB_SHA1_UPDATE mbedtls_sha1_update_ret
#define KB_SHA1_FINISH mbedtls_sha1_finish_ret
#endif

typedef struct {
  git_indexer *indexer;
  mbedtls_sha1_context sha1;  // the pack's trailer is the SHA-1 of everything before it
  git_indexer_progress progress;
} kb_pack_sink;

static inline int kb_pack_put(kb_pack_sink *sink, const void *data, size_t size) {
  if (KB_SHA1_UPDATE(&sink->sha1, (const unsigned char *)data, size) != 0) {
    git_error_set_str(GIT_ERROR_INTERNAL, "SHA-1 of the pack failed");
    return -1;
  }
  return git_indexer_append(sink->indexer, data, size, &sink->progress);
}

/// Returns 0, or a libgit2 error code with libgit2's last error set.
static inline int kb_write_pack(git_odb *odb, const git_oid *ids, size_t count, const char *pack_dir) {
  kb_pack_sink sink;
  memset(&sink, 0, sizeof sink);
  git_indexer_options options = GIT_INDEXER_OPTIONS_INIT;
  int error = git_indexer_new(&sink.indexer, pack_dir, 0, NULL, &options);
  if (error < 0) return error;
  mbedtls_sha1_init(&sink.sha1);
  unsigned char *buffer = NULL;
  size_t capacity = 0;
  if (KB_SHA1_STARTS(&sink.sha1) != 0) {
    git_error_set_str(GIT_ERROR_INTERNAL, "SHA-1 of the pack failed");
    error = -1;
    goto done;
  }
  unsigned char header[12] = {'P', 'A', 'C', 'K'};
  uint32_t version = htonl(2), n = htonl((uint32_t)count);
  memcpy(header + 4, &version, 4);
  memcpy(header + 8, &n, 4);
  if ((error = kb_pack_put(&sink, header, sizeof header)) < 0) goto done;
  for (size_t i = 0; i < count; i++) {
    git_odb_object *object;
    if ((error = git_odb_read(&object, odb, &ids[i])) < 0) goto done;
    size_t size = git_odb_object_size(object);
    // Entry header: type in bits 4-6 of the first byte, then the size, 4 bits then 7 a byte.
    unsigned char entry[16];
    int used = 0;
    size_t rest = size >> 4;
    unsigned char byte = (unsigned char)((git_odb_object_type(object) << 4) | (size & 15));
    while (rest) {
      entry[used++] = byte | 0x80;
      byte = rest & 0x7f;
      rest >>= 7;
    }
    entry[used++] = byte;
    uLong bound = compressBound((uLong)size);
    if (bound > capacity) {
      free(buffer);
      capacity = bound;
      buffer = malloc(capacity);
      if (!buffer) {
        git_odb_object_free(object);
        git_error_set_oom();
        error = -1;
        goto done;
      }
    }
    uLongf compressed = capacity;
    int z = compress2(buffer, &compressed, git_odb_object_data(object), (uLong)size, Z_BEST_SPEED);
    git_odb_object_free(object);
    if (z != Z_OK) {
      git_error_set_str(GIT_ERROR_ZLIB, "could not compress an object for the pack");
      error = -1;
      goto done;
    }
    if ((error = kb_pack_put(&sink, entry, used)) < 0) goto done;
    if ((error = kb_pack_put(&sink, buffer, compressed)) < 0) goto done;
  }
  unsigned char trailer[20];
  if (KB_SHA1_FINISH(&sink.sha1, trailer) != 0) {
    git_error_set_str(GIT_ERROR_INTERNAL, "SHA-1 of the pack failed");
    error = -1;
    goto done;
  }
  if ((error = git_indexer_append(sink.indexer, trailer, sizeof trailer, &sink.progress)) < 0) goto done;
  error = git_indexer_commit(sink.indexer, &sink.progress);
done:
  free(buffer);
  mbedtls_sha1_free(&sink.sha1);
  git_indexer_free(sink.indexer);
  return error;
}
