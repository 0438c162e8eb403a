#ifndef KB_WORD_VECTORS_H
#define KB_WORD_VECTORS_H
#include <stddef.h>
#include <stdint.h>

/// The static word-vector table built by scripts/word-vectors (its docstring gives the layout),
/// linked into the binary: no file to find and no model at run time. Returns its first byte
/// (16-byte aligned) and stores its length in `size`.
const unsigned char *kb_word_vectors(size_t *size);

/// sum[j] += scale × value[j] for the `dims` 4-bit two's-complement values packed two a byte in
/// `row` (the even dimension in the low nibble).
void kb_add_nibbles(const uint8_t *row, size_t dims, float scale, float *sum);

/// out[i] = rows[i] · query for `count` rows of `dims` half-precision floats (IEEE binary16).
void kb_dots_f16(const uint16_t *rows, size_t count, size_t dims, const float *query, float *out);

/// Floats to half precision, rounded to nearest even (the same on every processor).
void kb_to_f16(const float *in, uint16_t *out, size_t n);

/// A half-precision float's value (exact).
float kb_from_f16(uint16_t h);

/// The portable loops behind kb_add_nibbles and kb_dots_f16 (what other processors run), for
/// tests that compare them with the vectorized ones.
void kb_add_nibbles_portable(const uint8_t *row, size_t dims, float scale, float *sum);
void kb_dots_f16_portable(const uint16_t *rows, size_t count, size_t dims, const float *query, float *out);

#endif
