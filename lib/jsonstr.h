#ifndef NOVM_JSONSTR_H
#define NOVM_JSONSTR_H

#include <stdio.h>

/* Writes `s` as a JSON string literal (quotes and escapes included). */
void json_write_string(FILE *out, const char *s);

#endif
