// The semantic model's two inner loops, each with an AVX2 + FMA (+ F16C) version chosen at run
// time: the binary is built for baseline x86-64, where Swift's SIMD types compile to 4-lane SSE.
#include "word_vectors.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define KB_X86 1
#endif

static inline int nibble(unsigned b) { return (int)((b ^ 8u) & 15u) - 8; }

void kb_add_nibbles_portable(const uint8_t *row, size_t dims, float scale, float *sum) {
  for (size_t j = 0; j < dims / 2; j++) {
    sum[2 * j] += scale * (float)nibble(row[j] & 15u);
    sum[2 * j + 1] += scale * (float)nibble(row[j] >> 4);
  }
}

// binary16 conversions after Fabian Giesen's public-domain float_to_half_fast3_rtne and
// half_to_float: round to nearest even, subnormals, infinities and NaN kept.
void kb_to_f16(const float *in, uint16_t *out, size_t n) {
  const uint32_t f32infty = 255u << 23, f16max = (127u + 16) << 23;
  const uint32_t denorm_magic_bits = ((127u - 15) + (23 - 10) + 1) << 23;
  float denorm_magic;
  memcpy(&denorm_magic, &denorm_magic_bits, 4);
  for (size_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &in[i], 4);
    uint32_t sign = u & 0x80000000u;
    u ^= sign;
    uint16_t o;
    if (u >= f16max) {
      o = u > f32infty ? 0x7e00 : 0x7c00;
    } else if (u < (113u << 23)) {
      float f;
      memcpy(&f, &u, 4);
      f += denorm_magic;
      memcpy(&u, &f, 4);
      o = (uint16_t)(u - denorm_magic_bits);
    } else {
      uint32_t odd = (u >> 13) & 1;
      u += ((uint32_t)(15 - 127) << 23) + 0xfff;
      u += odd;
      o = (uint16_t)(u >> 13);
    }
    out[i] = o | (uint16_t)(sign >> 16);
  }
}

float kb_from_f16(uint16_t h) {
  const uint32_t shifted_exp = 0x7c00u << 13;
  uint32_t o = (uint32_t)(h & 0x7fffu) << 13;
  uint32_t exp = shifted_exp & o;
  o += (127u - 15) << 23;
  float f;
  if (exp == shifted_exp) {
    o += (128u - 16) << 23;  // infinity or NaN
    memcpy(&f, &o, 4);
  } else if (exp == 0) {
    o += 1u << 23;  // zero or subnormal
    const uint32_t magic_bits = 113u << 23;
    float magic;
    memcpy(&magic, &magic_bits, 4);
    memcpy(&f, &o, 4);
    f -= magic;
  } else {
    memcpy(&f, &o, 4);
  }
  uint32_t bits;
  memcpy(&bits, &f, 4);
  bits |= (uint32_t)(h & 0x8000u) << 16;
  memcpy(&f, &bits, 4);
  return f;
}

void kb_dots_f16_portable(const uint16_t *rows, size_t count, size_t dims, const float *query, float *out) {
  for (size_t i = 0; i < count; i++) {
    const uint16_t *r = rows + i * dims;
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t j = 0;
    for (; j + 4 <= dims; j += 4) {
      s0 += kb_from_f16(r[j]) * query[j];
      s1 += kb_from_f16(r[j + 1]) * query[j + 1];
      s2 += kb_from_f16(r[j + 2]) * query[j + 2];
      s3 += kb_from_f16(r[j + 3]) * query[j + 3];
    }
    for (; j < dims; j++) s0 += kb_from_f16(r[j]) * query[j];
    out[i] = (s0 + s1) + (s2 + s3);
  }
}

#ifdef KB_X86
__attribute__((target("avx2,fma")))
static void add_nibbles_avx2(const uint8_t *row, size_t dims, float scale, float *sum) {
  const __m128i mask = _mm_set1_epi8(15), eight = _mm_set1_epi8(8);
  const __m256 s = _mm256_set1_ps(scale);
  size_t j = 0;
  // 16 bytes = 32 dimensions a step: split the nibbles, sign-extend ((x ^ 8) - 8), interleave.
  for (; j + 16 <= dims / 2; j += 16) {
    __m128i b = _mm_loadu_si128((const __m128i *)(row + j));
    __m128i lo = _mm_sub_epi8(_mm_xor_si128(_mm_and_si128(b, mask), eight), eight);
    __m128i hi = _mm_sub_epi8(_mm_xor_si128(_mm_and_si128(_mm_srli_epi16(b, 4), mask), eight), eight);
    __m128i d0 = _mm_unpacklo_epi8(lo, hi);  // dimensions 0…15 of the step
    __m128i d1 = _mm_unpackhi_epi8(lo, hi);  // 16…31
    __m128i parts[4] = {d0, _mm_srli_si128(d0, 8), d1, _mm_srli_si128(d1, 8)};
    float *out = sum + 2 * j;
    for (int k = 0; k < 4; k++) {
      __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(parts[k]));
      _mm256_storeu_ps(out + 8 * k, _mm256_fmadd_ps(v, s, _mm256_loadu_ps(out + 8 * k)));
    }
  }
  if (j < dims / 2) kb_add_nibbles_portable(row + j, dims - 2 * j, scale, sum + 2 * j);
}

__attribute__((target("avx2,fma,f16c")))
static void dots_f16_avx2(const uint16_t *rows, size_t count, size_t dims, const float *query, float *out) {
  for (size_t i = 0; i < count; i++) {
    const uint16_t *r = rows + i * dims;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= dims; j += 16) {
      a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(r + j))), _mm256_loadu_ps(query + j), a0);
      a1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(r + j + 8))), _mm256_loadu_ps(query + j + 8), a1);
    }
    __m256 a = _mm256_add_ps(a0, a1);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    float sum = _mm_cvtss_f32(h);
    for (; j < dims; j++) sum += kb_from_f16(r[j]) * query[j];
    out[i] = sum;
  }
}

static int has_avx2(void) {
  static int known = -1;  // a benign race: every thread computes the same answer
  if (known < 0) known = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return known;
}

static int has_f16c(void) {
  static int known = -1;
  if (known < 0) known = has_avx2() && __builtin_cpu_supports("f16c");
  return known;
}
#endif

void kb_add_nibbles(const uint8_t *row, size_t dims, float scale, float *sum) {
#ifdef KB_X86
  if (has_avx2()) {
    add_nibbles_avx2(row, dims, scale, sum);
    return;
  }
#endif
  kb_add_nibbles_portable(row, dims, scale, sum);
}

void kb_dots_f16(const uint16_t *rows, size_t count, size_t dims, const float *query, float *out) {
#ifdef KB_X86
  if (has_f16c()) {
    dots_f16_avx2(rows, count, dims, query, out);
    return;
  }
#endif
  kb_dots_f16_portable(rows, count, dims, query, out);
}
