// The table's bytes, included by the assembler (the target's folder is on the include path,
// see Package.swift). Changing word-vectors.bin alone may not rebuild this file: touch it too.
#include "word_vectors.h"

__asm__(
  ".section .rodata\n"
  ".balign 16\n"
  "kb_word_vectors_start:\n"
  ".incbin \"word-vectors.bin\"\n"
  "kb_word_vectors_end:\n"
  ".previous\n");

extern const unsigned char kb_word_vectors_start[];
extern const unsigned char kb_word_vectors_end[];

const unsigned char *kb_word_vectors(size_t *size) {
  *size = (size_t)(kb_word_vectors_end - kb_word_vectors_start);
  return kb_word_vectors_start;
}
