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
// repositories on one machine the objects are copied as they are: each is read from `odb`
// (which checks it against its id: libgit2's strict hash verification is on by default),
// compressed with zlib and appended to the pack; the pack's index (version 2) is written here
// too, from the ids, offsets and CRCs already at hand, where libgit2's indexer would inflate and
// hash every object a second time (40% of the transfer). Both files are written under temporary
// names and renamed into `pack_dir` (the pack first: readers find packs by their index), after
// an fsync of each when `durable` is set, and then of the folder.
#include <arpa/inet.h>
#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
  git_oid id;
  uint32_t crc;
  uint64_t offset;
} kb_pack_entry;

typedef struct {
  int fd;
  mbedtls_sha1_context sha1;
  uint64_t offset;
} kb_hashed_file;

static inline int kb_pack_fail(const char *what) {
  git_error_set_str(GIT_ERROR_OS, what);
  return -1;
}

static inline int kb_hashed_write(kb_hashed_file *file, const void *data, size_t size) {
  if (KB_SHA1_UPDATE(&file->sha1, (const unsigned char *)data, size) != 0) return kb_pack_fail("SHA-1 of the pack failed");
  const unsigned char *p = (const unsigned char *)data;
  size_t left = size;
  while (left > 0) {
    ssize_t n = write(file->fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return kb_pack_fail("could not write the pack");
    p += n;
    left -= (size_t)n;
  }
  file->offset += size;
  return 0;
}

static inline int kb_pack_entry_order(const void *a, const void *b) {
  return git_oid_cmp(&((const kb_pack_entry *)a)->id, &((const kb_pack_entry *)b)->id);
}

/// Returns 0, or a libgit2 error code with libgit2's last error set. `ids` must be distinct.
static inline int kb_write_pack(git_odb *odb, const git_oid *ids, size_t count, const char *pack_dir, int durable) {
  char pack_tmp[4096], idx_tmp[4096], final_name[4200];
  if (snprintf(pack_tmp, sizeof pack_tmp, "%s/tmp_kb_pack_XXXXXX", pack_dir) >= (int)sizeof pack_tmp ||
      snprintf(idx_tmp, sizeof idx_tmp, "%s/tmp_kb_idx_XXXXXX", pack_dir) >= (int)sizeof idx_tmp)
    return kb_pack_fail("the pack folder's path is too long");
  kb_pack_entry *entries = calloc(count ? count : 1, sizeof *entries);
  if (!entries) { git_error_set_oom(); return -1; }
  unsigned char *buffer = NULL;
  size_t capacity = 0;
  int error = -1;
  kb_hashed_file pack = {-1}, idx = {-1};
  mbedtls_sha1_init(&pack.sha1);
  mbedtls_sha1_init(&idx.sha1);
  if ((pack.fd = mkstemp(pack_tmp)) < 0) { pack_tmp[0] = 0; error = kb_pack_fail("could not create the pack"); goto done; }
  if ((idx.fd = mkstemp(idx_tmp)) < 0) { idx_tmp[0] = 0; error = kb_pack_fail("could not create the pack index"); goto done; }
  if (KB_SHA1_STARTS(&pack.sha1) != 0 || KB_SHA1_STARTS(&idx.sha1) != 0) { error = kb_pack_fail("SHA-1 failed"); goto done; }

  // The pack: header, entries, SHA-1 of it all.
  unsigned char header[12] = {'P', 'A', 'C', 'K'};
  uint32_t version = htonl(2), n = htonl((uint32_t)count);
  memcpy(header + 4, &version, 4);
  memcpy(header + 8, &n, 4);
  if ((error = kb_hashed_write(&pack, header, sizeof header)) < 0) goto done;
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
      if (!(buffer = malloc(capacity))) { git_odb_object_free(object); git_error_set_oom(); error = -1; goto done; }
    }
    uLongf compressed = capacity;
    int z = compress2(buffer, &compressed, git_odb_object_data(object), (uLong)size, Z_BEST_SPEED);
    git_odb_object_free(object);
    if (z != Z_OK) { git_error_set_str(GIT_ERROR_ZLIB, "could not compress an object for the pack"); error = -1; goto done; }
    entries[i].id = ids[i];
    entries[i].offset = pack.offset;
    entries[i].crc = (uint32_t)crc32(crc32(0L, entry, (uInt)used), buffer, (uInt)compressed);
    if ((error = kb_hashed_write(&pack, entry, used)) < 0) goto done;
    if ((error = kb_hashed_write(&pack, buffer, compressed)) < 0) goto done;
  }
  unsigned char pack_sum[20];
  if (KB_SHA1_FINISH(&pack.sha1, pack_sum) != 0) { error = kb_pack_fail("SHA-1 of the pack failed"); goto done; }
  {
    ssize_t w = write(pack.fd, pack_sum, 20);
    if (w != 20) { error = kb_pack_fail("could not write the pack"); goto done; }
  }

  // The index, version 2: magic, version, fan-out, ids, CRCs, offsets, the pack's SHA-1, its own.
  qsort(entries, count, sizeof *entries, kb_pack_entry_order);
  unsigned char idx_header[8] = {0xff, 't', 'O', 'c', 0, 0, 0, 2};
  if ((error = kb_hashed_write(&idx, idx_header, 8)) < 0) goto done;
  {
    uint32_t fanout[256];
    size_t at = 0;
    for (int b = 0; b < 256; b++) {
      while (at < count && entries[at].id.id[0] == b) at++;
      fanout[b] = htonl((uint32_t)at);
    }
    if ((error = kb_hashed_write(&idx, fanout, sizeof fanout)) < 0) goto done;
  }
  for (size_t i = 0; i < count; i++)
    if ((error = kb_hashed_write(&idx, entries[i].id.id, 20)) < 0) goto done;
  for (size_t i = 0; i < count; i++) {
    uint32_t crc = htonl(entries[i].crc);
    if ((error = kb_hashed_write(&idx, &crc, 4)) < 0) goto done;
  }
  uint32_t large = 0;  // offsets past 2 GiB go to a table of 8-byte offsets
  for (size_t i = 0; i < count; i++) {
    uint32_t offset = entries[i].offset < 0x80000000u ? htonl((uint32_t)entries[i].offset) : htonl(0x80000000u | large++);
    if ((error = kb_hashed_write(&idx, &offset, 4)) < 0) goto done;
  }
  for (size_t i = 0; i < count; i++) {
    if (entries[i].offset < 0x80000000u) continue;
    uint32_t words[2] = {htonl((uint32_t)(entries[i].offset >> 32)), htonl((uint32_t)entries[i].offset)};
    if ((error = kb_hashed_write(&idx, words, 8)) < 0) goto done;
  }
  if ((error = kb_hashed_write(&idx, pack_sum, 20)) < 0) goto done;
  {
    unsigned char idx_sum[20];
    if (KB_SHA1_FINISH(&idx.sha1, idx_sum) != 0) { error = kb_pack_fail("SHA-1 of the pack index failed"); goto done; }
    if (write(idx.fd, idx_sum, 20) != 20) { error = kb_pack_fail("could not write the pack index"); goto done; }
  }

  // Durable, read-only, then in place: the pack first, its index last.
  if (durable && (fsync(pack.fd) != 0 || fsync(idx.fd) != 0)) { error = kb_pack_fail("could not sync the pack"); goto done; }
  if (fchmod(pack.fd, 0444) != 0 || fchmod(idx.fd, 0444) != 0) { error = kb_pack_fail("could not set the pack's mode"); goto done; }
  close(pack.fd);
  close(idx.fd);
  pack.fd = idx.fd = -1;
  char hex[GIT_OID_HEXSZ + 1];
  git_oid sum_id;
  git_oid_fromraw(&sum_id, pack_sum);
  git_oid_tostr(hex, sizeof hex, &sum_id);
  snprintf(final_name, sizeof final_name, "%s/pack-%s.pack", pack_dir, hex);
  if (rename(pack_tmp, final_name) != 0) { error = kb_pack_fail("could not move the pack into place"); goto done; }
  pack_tmp[0] = 0;
  snprintf(final_name, sizeof final_name, "%s/pack-%s.idx", pack_dir, hex);
  if (rename(idx_tmp, final_name) != 0) { error = kb_pack_fail("could not move the pack index into place"); goto done; }
  idx_tmp[0] = 0;
  if (durable) {
    int dir = open(pack_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0 || fsync(dir) != 0) { if (dir >= 0) close(dir); error = kb_pack_fail("could not sync the pack folder"); goto done; }
    close(dir);
  }
  error = 0;
done:
  if (pack.fd >= 0) close(pack.fd);
  if (idx.fd >= 0) close(idx.fd);
  if (pack_tmp[0]) unlink(pack_tmp);
  if (idx_tmp[0]) unlink(idx_tmp);
  free(buffer);
  free(entries);
  mbedtls_sha1_free(&pack.sha1);
  mbedtls_sha1_free(&idx.sha1);
  return error;
}
