// The pack writer declared in include/CGitPack.h (which says why kb writes its own packs).
#include "CGitPack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
  unsigned char id[20];
  uint32_t crc;
  uint64_t offset;
} entry_t;

typedef struct {
  int fd;
  mbedtls_sha1_context sha1;
  uint64_t offset;
  kbpack_error *error;
} hashed_file;

static int fail(kbpack_error *error, const char *what) {
  if (error) snprintf(error->message, sizeof error->message, "%s", what);
  return -1;
}

static int hashed_write(hashed_file *file, const void *data, size_t size) {
  if (KB_SHA1_UPDATE(&file->sha1, (const unsigned char *)data, size) != 0) return fail(file->error, "SHA-1 of the pack failed");
  const unsigned char *p = (const unsigned char *)data;
  size_t left = size;
  while (left > 0) {
    ssize_t n = write(file->fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(file->error, "could not write the pack");
    p += n;
    left -= (size_t)n;
  }
  file->offset += size;
  return 0;
}

static int write_all(int fd, const void *data, size_t size) {
  const unsigned char *p = (const unsigned char *)data;
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    size -= (size_t)n;
  }
  return 0;
}

static int entry_order(const void *a, const void *b) {
  return memcmp(((const entry_t *)a)->id, ((const entry_t *)b)->id, 20);
}

int kbpack_write(const unsigned char *ids, size_t count, kbpack_read_fn read, kbpack_release_fn release,
                 void *payload, const char *pack_dir, int durable, char name[41], kbpack_error *error) {
  if (error) error->message[0] = 0;
  if (name) name[0] = 0;
  if ((count > 0 && (!ids || !read)) || !pack_dir) return fail(error, "no objects, reader or pack folder given");
  if (count > 0xffffffffu) return fail(error, "too many objects for one pack");
  char pack_tmp[4096], idx_tmp[4096], final_name[4200];
  if (snprintf(pack_tmp, sizeof pack_tmp, "%s/tmp_kb_pack_XXXXXX", pack_dir) >= (int)sizeof pack_tmp ||
      snprintf(idx_tmp, sizeof idx_tmp, "%s/tmp_kb_idx_XXXXXX", pack_dir) >= (int)sizeof idx_tmp)
    return fail(error, "the pack folder's path is too long");
  entry_t *entries = calloc(count ? count : 1, sizeof *entries);
  if (!entries) return fail(error, "out of memory");
  unsigned char *buffer = NULL;
  size_t capacity = 0;
  int result = -1;
  hashed_file pack = {-1}, idx = {-1};
  pack.error = idx.error = error;
  mbedtls_sha1_init(&pack.sha1);
  mbedtls_sha1_init(&idx.sha1);
  if ((pack.fd = mkstemp(pack_tmp)) < 0) { pack_tmp[0] = 0; result = fail(error, "could not create the pack"); goto done; }
  if ((idx.fd = mkstemp(idx_tmp)) < 0) { idx_tmp[0] = 0; result = fail(error, "could not create the pack index"); goto done; }
  if (KB_SHA1_STARTS(&pack.sha1) != 0 || KB_SHA1_STARTS(&idx.sha1) != 0) { result = fail(error, "SHA-1 failed"); goto done; }

  // The pack: header, entries, SHA-1 of it all.
  unsigned char header[12] = {'P', 'A', 'C', 'K'};
  uint32_t version = htonl(2), n = htonl((uint32_t)count);
  memcpy(header + 4, &version, 4);
  memcpy(header + 8, &n, 4);
  if ((result = hashed_write(&pack, header, sizeof header)) < 0) goto done;
  for (size_t i = 0; i < count; i++) {
    kbpack_object object = {0};
    if ((result = read(payload, i, &object)) < 0) {
      if (error && !error->message[0]) snprintf(error->message, sizeof error->message, "could not read object %zu", i);
      goto done;
    }
    size_t size = object.size;
    int type = object.type;
    if (type < KBPACK_COMMIT || type > KBPACK_TAG || (size > 0 && !object.data)) {
      if (release) release(payload, i);
      result = fail(error, "an object with no git type or no content");
      goto done;
    }
    uLong bound = compressBound((uLong)size);
    if (bound > capacity) {
      free(buffer);
      buffer = malloc(bound);
      capacity = buffer ? bound : 0;
    }
    uLongf compressed = capacity;
    int z = buffer ? compress2(buffer, &compressed, (const Bytef *)(size ? object.data : ""), (uLong)size, Z_BEST_SPEED)
                   : Z_MEM_ERROR;
    if (release) release(payload, i);
    if (z == Z_MEM_ERROR) { result = fail(error, "out of memory"); goto done; }
    if (z != Z_OK) { result = fail(error, "could not compress an object for the pack"); goto done; }
    // Entry header: type in bits 4-6 of the first byte, then the size, 4 bits then 7 a byte.
    unsigned char entry[16];
    int used = 0;
    size_t rest = size >> 4;
    unsigned char byte = (unsigned char)((type << 4) | (size & 15));
    while (rest) {
      entry[used++] = byte | 0x80;
      byte = rest & 0x7f;
      rest >>= 7;
    }
    entry[used++] = byte;
    memcpy(entries[i].id, ids + 20 * i, 20);
    entries[i].offset = pack.offset;
    entries[i].crc = (uint32_t)crc32(crc32(0L, entry, (uInt)used), buffer, (uInt)compressed);
    if ((result = hashed_write(&pack, entry, used)) < 0) goto done;
    if ((result = hashed_write(&pack, buffer, compressed)) < 0) goto done;
  }
  unsigned char pack_sum[20];
  if (KB_SHA1_FINISH(&pack.sha1, pack_sum) != 0) { result = fail(error, "SHA-1 of the pack failed"); goto done; }
  if (write_all(pack.fd, pack_sum, 20) != 0) { result = fail(error, "could not write the pack"); goto done; }

  // The index, version 2: magic, version, fan-out, ids, CRCs, offsets, the pack's SHA-1, its own.
  qsort(entries, count, sizeof *entries, entry_order);
  for (size_t i = 1; i < count; i++)
    if (memcmp(entries[i - 1].id, entries[i].id, 20) == 0) { result = fail(error, "an object id is given twice"); goto done; }
  unsigned char idx_header[8] = {0xff, 't', 'O', 'c', 0, 0, 0, 2};
  if ((result = hashed_write(&idx, idx_header, 8)) < 0) goto done;
  {
    uint32_t fanout[256];
    size_t at = 0;
    for (int b = 0; b < 256; b++) {
      while (at < count && entries[at].id[0] == b) at++;
      fanout[b] = htonl((uint32_t)at);
    }
    if ((result = hashed_write(&idx, fanout, sizeof fanout)) < 0) goto done;
  }
  for (size_t i = 0; i < count; i++)
    if ((result = hashed_write(&idx, entries[i].id, 20)) < 0) goto done;
  for (size_t i = 0; i < count; i++) {
    uint32_t crc = htonl(entries[i].crc);
    if ((result = hashed_write(&idx, &crc, 4)) < 0) goto done;
  }
  uint32_t large = 0;  // offsets past 2 GiB go to a table of 8-byte offsets
  for (size_t i = 0; i < count; i++) {
    uint32_t offset = entries[i].offset < 0x80000000u ? htonl((uint32_t)entries[i].offset) : htonl(0x80000000u | large++);
    if ((result = hashed_write(&idx, &offset, 4)) < 0) goto done;
  }
  for (size_t i = 0; i < count; i++) {
    if (entries[i].offset < 0x80000000u) continue;
    uint32_t words[2] = {htonl((uint32_t)(entries[i].offset >> 32)), htonl((uint32_t)entries[i].offset)};
    if ((result = hashed_write(&idx, words, 8)) < 0) goto done;
  }
  if ((result = hashed_write(&idx, pack_sum, 20)) < 0) goto done;
  {
    unsigned char idx_sum[20];
    if (KB_SHA1_FINISH(&idx.sha1, idx_sum) != 0) { result = fail(error, "SHA-1 of the pack index failed"); goto done; }
    if (write_all(idx.fd, idx_sum, 20) != 0) { result = fail(error, "could not write the pack index"); goto done; }
  }

  // Durable, read-only, then in place: the pack first, its index last.
  if (durable && (fsync(pack.fd) != 0 || fsync(idx.fd) != 0)) { result = fail(error, "could not sync the pack"); goto done; }
  if (fchmod(pack.fd, 0444) != 0 || fchmod(idx.fd, 0444) != 0) { result = fail(error, "could not set the pack's mode"); goto done; }
  close(pack.fd);
  close(idx.fd);
  pack.fd = idx.fd = -1;
  char hex[41];
  for (int i = 0; i < 20; i++) snprintf(hex + 2 * i, 3, "%02x", pack_sum[i]);
  snprintf(final_name, sizeof final_name, "%s/pack-%s.pack", pack_dir, hex);
  if (rename(pack_tmp, final_name) != 0) { result = fail(error, "could not move the pack into place"); goto done; }
  pack_tmp[0] = 0;
  snprintf(final_name, sizeof final_name, "%s/pack-%s.idx", pack_dir, hex);
  if (rename(idx_tmp, final_name) != 0) {
    // Not readable without its index: take the pack away again.
    snprintf(final_name, sizeof final_name, "%s/pack-%s.pack", pack_dir, hex);
    unlink(final_name);
    result = fail(error, "could not move the pack index into place");
    goto done;
  }
  idx_tmp[0] = 0;
  if (durable) {
    int dir = open(pack_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0 || fsync(dir) != 0) { if (dir >= 0) close(dir); result = fail(error, "could not sync the pack folder"); goto done; }
    close(dir);
  }
  if (name) memcpy(name, hex, 41);
  result = 0;
done:
  if (pack.fd >= 0) close(pack.fd);
  if (idx.fd >= 0) close(idx.fd);
  if (pack_tmp[0]) unlink(pack_tmp);
  if (idx_tmp[0]) unlink(idx_tmp);
  free(buffer);
  free(entries);
  mbedtls_sha1_free(&pack.sha1);
  mbedtls_sha1_free(&idx.sha1);
  return result;
}
